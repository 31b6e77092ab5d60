"""Referral lists: patients to add to a stored scenario, one row each, checked all at once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data.roster_import import (
    HEADER_SEARCH_ROWS,
    Formula,
    Grid,
    as_date,
    blank,
    load_grids,
    normal,
    place,
    show,
    text_of,
)
from data.scenario_json import MAX_PROBLEMS, Problem, ScenarioFileError
from planner import Patient, Scenario
from planner.imports import ReferralChange
from planner.validation import ValidationError

#: Each field and the headers taken to mean it (compared in folded case, _ and - as spaces).
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "patient", "patient code", "pseudonym", "id", "patient id"),
    "product": ("product", "product code", "produkt"),
    "trial": ("trial", "trial code", "study", "studie"),
    "cohort": ("cohort", "cohort code", "kohort", "dose level"),
    "referral": ("referral date", "referral", "referred", "remiss", "remissdatum"),
    "earliest": ("earliest apheresis", "apheresis from", "earliest"),
    "latest": ("latest apheresis", "apheresis by", "latest"),
    "needed": (
        "clinically needed date", "clinically needed", "needed", "needed infusion",
        "needed by", "infusion needed",
    ),
    "priority": ("priority", "prio", "prioritet"),
    "enrolled": ("enrolment date", "enrollment date", "enrolled", "enrolled on", "inklusion"),
}  # fmt: skip
REQUIRED = ("code", "referral", "earliest", "latest")


def referral_columns(grid: Grid) -> tuple[int, dict[str, int]] | None:
    """The header row and columns of a referral list, if the sheet is one."""
    for number in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        found: dict[str, int] = {}
        for index, value in enumerate(grid.rows[number - 1], start=1):
            if blank(value):
                continue
            for key, names in HEADERS.items():
                if key not in found and normal(value) in names:
                    found[key] = index
                    break
        if all(k in found for k in REQUIRED) and ("product" in found or "trial" in found):
            return number, found
    return None


def read_referrals(path: str | Path, scenario: Scenario) -> ReferralChange:
    """The patients a referral workbook adds; ScenarioFileError lists every problem."""
    return referrals_from_grids(load_grids(path), scenario, str(path))


def referrals_from_grids(grids: Sequence[Grid], scenario: Scenario, file: str) -> ReferralChange:
    """The first sheet laid out as a referral list, read and checked against the scenario."""
    problems: list[Problem] = []

    def fail(where: str, message: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(where, message))

    found = next(((g, c) for g in grids if (c := referral_columns(g)) is not None), None)
    if found is None:
        raise ScenarioFileError(
            file,
            [
                Problem(
                    "",
                    "no referral list found: expected a sheet headed code, product (or trial "
                    "and cohort), referral date, earliest apheresis, latest apheresis",
                )
            ],
        )
    grid, (header, at) = found
    heads = {i: str(v).strip() for i, v in enumerate(grid.rows[header - 1], 1) if not blank(v)}
    products = {p.code.casefold(): p.code for p in scenario.products}
    trials = {t.code.casefold(): t for t in scenario.trials}
    stored = {p.code.casefold(): p.code for p in scenario.patients}
    rows: dict[str, int] = {}
    patients: list[Patient] = []
    for number in range(header + 1, len(grid.rows) + 1):
        values = {k: grid.value(number, c) for k, c in at.items()}
        if all(blank(v) for v in values.values()):
            continue

        def where(key: str, number: int = number) -> str:
            return place(grid.title, number, at[key], heads.get(at[key], key))

        ok = True
        for key, value in values.items():
            if isinstance(value, Formula):
                fail(where(key), f"found {show(value)}; type the value itself")
                ok = False
        if not ok:
            continue
        for key in REQUIRED:
            if blank(values[key]):
                fail(where(key), "empty; expected a value")
                ok = False
        code = "" if blank(values["code"]) else text_of(values["code"])
        if code:
            if code.casefold() in stored:
                fail(
                    where("code"),
                    f"expected a new patient code, found {show(code)}: "
                    f"scenario {scenario.name!r} has patient {stored[code.casefold()]!r} already",
                )
                ok = False
            elif code.casefold() in rows:
                fail(
                    where("code"),
                    f"expected a new patient code, found {show(code)}: "
                    f"row {rows[code.casefold()]} has it already",
                )
                ok = False
            else:
                rows[code.casefold()] = number
        dates: dict[str, Any] = {}
        for key in ("referral", "earliest", "latest", "needed", "enrolled"):
            value = values.get(key)
            if blank(value):
                continue
            day = as_date(value)
            if day is None or not hasattr(day, "year"):
                fail(where(key), f"expected a date (YYYY-MM-DD or DD.MM.YYYY), found {show(value)}")
                ok = False
            else:
                dates[key] = day
        trial_code = cohort_code = None
        product_code = None
        if not blank(values.get("product")):
            product_code = products.get(text_of(values["product"]).casefold())
            if product_code is None:
                fail(
                    where("product"),
                    f"expected a product code of scenario {scenario.name!r} "
                    f"({', '.join(products.values())}), found {show(values['product'])}",
                )
                ok = False
        if not blank(values.get("trial")):
            trial = trials.get(text_of(values["trial"]).casefold())
            if trial is None:
                fail(
                    where("trial"),
                    f"expected a trial code of scenario {scenario.name!r} "
                    f"({', '.join(t.code for t in scenario.trials) or 'none'}), "
                    f"found {show(values['trial'])}",
                )
                ok = False
            else:
                trial_code = trial.code
                cohorts = {c.code.casefold(): c.code for c in trial.cohorts}
                cohort_value = values.get("cohort")
                if blank(cohort_value):
                    fail(
                        where("cohort") if "cohort" in at else place(grid.title, number),
                        f"empty; expected a cohort of trial {trial.code} "
                        f"({', '.join(cohorts.values())})",
                    )
                    ok = False
                else:
                    cohort_code = cohorts.get(text_of(cohort_value).casefold())
                    if cohort_code is None:
                        fail(
                            where("cohort"),
                            f"expected a cohort of trial {trial.code} "
                            f"({', '.join(cohorts.values())}), found {show(cohort_value)}",
                        )
                        ok = False
                if product_code is None and ok:
                    product_code = trial.product_code
                elif product_code is not None and product_code != trial.product_code:
                    fail(
                        where("product"),
                        f"expected {trial.product_code} (the product of trial {trial.code}) or "
                        f"blank, found {show(values['product'])}",
                    )
                    ok = False
        elif not blank(values.get("cohort")):
            fail(where("cohort"), "a cohort needs a trial; expected the trial column filled in")
            ok = False
        if product_code is None and ok:
            fail(
                where("product") if "product" in at else place(grid.title, number),
                "empty; expected a product code (or a trial and cohort)",
            )
            ok = False
        priority = 3
        if not blank(values.get("priority")):
            raw = values["priority"]
            text = text_of(raw)
            if text.isdigit() and 1 <= int(text) <= 9:
                priority = int(text)
            else:
                fail(
                    where("priority"), f"expected a priority 1-9 (1 most urgent), found {show(raw)}"
                )
                ok = False
        if not ok:
            continue
        assert product_code is not None
        try:
            patients.append(
                Patient(
                    code=code,
                    product_code=product_code,
                    referral_date=dates["referral"],
                    earliest_apheresis=dates["earliest"],
                    latest_apheresis=dates["latest"],
                    needed_infusion=dates.get("needed"),
                    enrolled_on=dates.get("enrolled"),
                    priority=priority,
                    trial_code=trial_code,
                    cohort_code=cohort_code,
                )
            )
        except ValidationError as error:
            fail(place(grid.title, number), str(error))
    if problems:
        raise ScenarioFileError(file, problems)
    return ReferralChange(grid.title, tuple(patients))
