"""Scenarios as JSON: a documented, versioned format checked by a shipped JSON Schema.

`scenario_to_dict` and `scenario_from_dict` are shared with the workbook format
(data/scenario_xlsx.py), which reads a workbook into the same dictionary. Reading checks
the schema first, then builds the planner dataclasses and runs the domain's validation,
collecting every problem with its location before refusing the file as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import (
    ApheresisCapacity,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    Patient,
    PatientStatus,
    ProcessStep,
    Product,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    Site,
    StaffMember,
    StaffNeed,
    Storage,
    Trial,
    ValidationError,
    Ward,
    Window,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaError

FORMAT_VERSION = 1
#: Largest JSON file read, in bytes (documented in docs/scenario-format.md).
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Problems collected before giving up on a file.
MAX_PROBLEMS = 1000

Path_ = tuple[str | int, ...]
#: Turns a path inside the scenario dictionary into a place in the file.
Locator = Callable[[Path_], str]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (in the file's own terms) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScenarioFileError(ValidationError):
    """A scenario file cannot be imported; every problem found is listed."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line: the file and how many problems it has (or the only problem)."""
        if len(self.problems) == 1:
            return self.lines()[0]
        n = len(self.problems)
        more = "or more " if n >= MAX_PROBLEMS else ""
        return f"{self.file}: {n} {more}problems; nothing was imported"

    def lines(self) -> list[str]:
        """Each problem as one line naming the file."""
        return [f"{self.file}: {p}" if p.where else f"{self.file}: {p.message}" for p in self]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)


def json_path(path: Path_) -> str:
    """A path as JSONPath text: $.products[1].steps[0].duration_hours."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def show(value: object, limit: int = 60) -> str:
    """A value as the user wrote it, JSON-quoted and shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Schema ---------------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package."""
    text = resources.files("data").joinpath("schema/scenario.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    # Imported here: jsonschema takes a tenth of a second that other commands need not pay.
    from jsonschema import Draft202012Validator

    # Local $refs inlined: resolving them per item made checking a long roster 3x slower.
    defs = schema()["$defs"]
    return Draft202012Validator(_inline(schema(), defs))


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with every local "#/$defs/..." reference replaced by its definition."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline(defs[node["$ref"].removeprefix("#/$defs/")], defs)
            return {**target, **{k: _inline(v, defs) for k, v in node.items() if k != "$ref"}}
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
_PATTERN_WORDS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$": (
        "a code: 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit"
    ),
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date YYYY-MM-DD",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?$": (
        "a date and time YYYY-MM-DDTHH:MM"
    ),
}


def _schema_problems(error: SchemaError) -> list[tuple[Path_, str]]:
    """One schema error in the user's words, at the path it concerns."""
    path: Path_ = tuple(error.absolute_path)
    kind, expected, found = error.validator, error.validator_value, error.instance
    if kind == "type":
        words = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_WORDS.get(w, w) for w in words)
        return [(path, f"expected {wanted}, found {show(found)}")]
    if kind == "required" and isinstance(found, dict):
        return [((*path, key), "missing") for key in expected if key not in found]
    if kind == "additionalProperties" and isinstance(found, dict):
        known = error.schema.get("properties", {})
        return [
            ((*path, key), f"unknown key (expected one of: {', '.join(known)})")
            for key in found
            if key not in known
        ]
    if kind == "enum":
        return [(path, f"expected one of {', '.join(map(str, expected))}, found {show(found)}")]
    if kind == "const":
        return [(path, f"expected {show(expected)}, found {show(found)}")]
    if kind == "pattern":
        return [(path, f"expected {_PATTERN_WORDS.get(expected, expected)}, found {show(found)}")]
    limits = {
        "minimum": "at least {}",
        "maximum": "at most {}",
        "exclusiveMaximum": "less than {}",
        "exclusiveMinimum": "more than {}",
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "minItems": "at least {} items",
        "maxItems": "at most {} items",
    }
    if kind in limits:
        shown = f"{len(found)} items" if isinstance(found, list) else show(found)
        return [(path, f"expected {limits[kind].format(expected)}, found {shown}")]
    return [(path, error.message)]


def schema_problems(data: object) -> list[tuple[Path_, str]]:
    """Everything the schema finds wrong with a scenario dictionary, in document order."""
    found: list[tuple[Path_, str]] = []
    for error in _validator().iter_errors(data):
        found.extend(_schema_problems(error))
        if len(found) >= MAX_PROBLEMS:
            break
    unique = list(dict.fromkeys(found))  # one error per missing key repeats the others
    return sorted(unique, key=lambda item: _sort_key(item[0]))


def _sort_key(path: Path_) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


# Scenario -> dictionary ---------------------------------------------------------------------


def _moment(value: datetime) -> str:
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")


def _windows(windows: Sequence[Window]) -> list[dict[str, Any]]:
    return [{"start": _moment(w.start), "end": _moment(w.end), "reason": w.reason} for w in windows]


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """A scenario as a JSON-ready dictionary, every field written out."""
    s = scenario
    return {
        "format_version": FORMAT_VERSION,
        "name": s.name,
        "horizon_start": s.horizon_start.isoformat(),
        "horizon_end": s.horizon_end.isoformat(),
        "site": {
            "code": s.site.code,
            "name": s.site.name,
            "country": s.site.country,
            "timezone": s.site.timezone,
            "day_start_hour": s.site.day_start_hour,
            "day_end_hour": s.site.day_end_hour,
        },
        "holidays": [{"day": h.day.isoformat(), "name": h.name} for h in s.holidays],
        "priority_weights": [{"priority": p, "weight": w} for p, w in s.priority_weights],
        "cleanrooms": [
            {
                "code": r.code,
                "name": r.name,
                "grade": r.grade.value,
                "products": list(r.products),
                "changeover_hours": r.changeover_hours,
                "downtime": _windows(r.downtime),
            }
            for r in s.cleanrooms
        ],
        "devices": [
            {
                "code": d.code,
                "name": d.name,
                "room_codes": list(d.room_codes),
                "products": list(d.products),
                "changeover_hours": d.changeover_hours,
                "downtime": _windows(d.downtime),
            }
            for d in s.devices
        ],
        "staff": [
            {
                "code": m.code,
                "roles": [r.value for r in m.roles],
                "trained_products": list(m.trained_products),
                "contracted_hours_per_week": m.contracted_hours_per_week,
            }
            for m in s.staff
        ],
        "shift_codes": [
            {
                "code": c.code,
                "name": c.name,
                "start_hour": c.start_hour,
                "hours": c.hours,
                "covers_day_work": c.covers_day_work,
                "is_leave": c.is_leave,
            }
            for c in s.shift_codes
        ],
        "roster": [
            {"staff_code": e.staff_code, "day": e.day.isoformat(), "shift_code": e.shift_code}
            for e in s.roster
        ],
        "ward": {
            "code": s.ward.code,
            "name": s.ward.name,
            "beds": s.ward.beds,
            "changes": [
                {
                    "start": c.start.isoformat(),
                    "end": c.end.isoformat(),
                    "beds": c.beds,
                    "reason": c.reason,
                }
                for c in s.ward.changes
            ],
        },
        "apheresis": {
            "slots_per_weekday": list(s.apheresis.slots_per_weekday),
            "exceptions": [{"day": d.isoformat(), "slots": n} for d, n in s.apheresis.exceptions],
        },
        "products": [
            {
                "code": p.code,
                "name": p.name,
                "steps": [
                    {
                        "code": st.code,
                        "name": st.name,
                        "duration_hours": st.duration_hours,
                        "needs_cleanroom": st.needs_cleanroom,
                        "needs_device": st.needs_device,
                        "staff": [
                            {
                                "role": n.role.value,
                                "count": n.count,
                                "hours": n.hours,
                                "product_trained": n.product_trained,
                            }
                            for n in st.staff
                        ],
                        "working_hours_only": st.working_hours_only,
                        "min_lag_hours": st.min_lag_hours,
                        "max_lag_hours": st.max_lag_hours,
                    }
                    for st in p.steps
                ],
                "storage": p.storage.value,
                "qc_release_days": p.qc_release_days,
                "fresh_shelf_days": p.fresh_shelf_days,
                "ld_days_before_infusion": p.ld_days_before_infusion,
                "inpatient_days": p.inpatient_days,
                "failure_probability": p.failure_probability,
                "apheresis_hours": p.apheresis_hours,
            }
            for p in s.products
        ],
        "trials": [
            {
                "code": t.code,
                "name": t.name,
                "product_code": t.product_code,
                "cohorts": [
                    {
                        "code": c.code,
                        "cap": c.cap,
                        "min_days_between_infusions": c.min_days_between_infusions,
                    }
                    for c in t.cohorts
                ],
                "enrolment_start": t.enrolment_start.isoformat(),
                "enrolment_end": t.enrolment_end.isoformat(),
                "priority": t.priority,
                "apheresis_within_days": t.apheresis_within_days,
            }
            for t in s.trials
        ],
        "patients": [
            {
                "code": p.code,
                "product_code": p.product_code,
                "referral_date": p.referral_date.isoformat(),
                "earliest_apheresis": p.earliest_apheresis.isoformat(),
                "latest_apheresis": p.latest_apheresis.isoformat(),
                "needed_infusion": p.needed_infusion.isoformat() if p.needed_infusion else None,
                "priority": p.priority,
                "trial_code": p.trial_code,
                "cohort_code": p.cohort_code,
                "status": p.status.value,
                "done_steps": [
                    {
                        "step_code": d.step_code,
                        "start": _moment(d.start),
                        "end": _moment(d.end),
                        "resource_code": d.resource_code,
                    }
                    for d in p.done_steps
                ],
            }
            for p in s.patients
        ],
    }


# Dictionary -> scenario ---------------------------------------------------------------------


class _Builder:
    """Builds the dataclasses from a schema-valid dictionary, collecting every problem."""

    def __init__(self, locate: Locator) -> None:
        self.problems: list[tuple[Path_, str]] = []
        self.locate = locate

    def fail(self, path: Path_, message: str) -> None:
        self.problems.append((path, message))

    def make(self, path: Path_, factory: Callable[..., Any], **fields: Any) -> Any:
        """factory(**fields), or None with a problem at path if the domain refuses it."""
        try:
            return factory(**fields)
        except ValidationError as error:
            self.fail(path, str(error))
            return None

    def day(self, obj: Mapping[str, Any], key: str, path: Path_) -> date | None:
        text = obj.get(key)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail((*path, key), f"expected a real date YYYY-MM-DD, found {show(text)}")
            return None

    def moment(self, obj: Mapping[str, Any], key: str, path: Path_) -> datetime | None:
        text = obj[key]
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            self.fail((*path, key), f"expected a real date and time, found {show(text)}")
            return None

    def unique(self, kind: str, items: Sequence[Mapping[str, Any]], path: Path_) -> None:
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            code = item["code"]
            if code in first:
                self.fail(
                    (*path, i, "code"),
                    f"duplicate {kind} code {show(code)} (also at "
                    f"{self.locate((*path, first[code]))})",
                )
            else:
                first[code] = i

    def windows(self, items: Sequence[Mapping[str, Any]], path: Path_) -> tuple[Window, ...]:
        out = []
        for i, w in enumerate(items):
            start, end = self.moment(w, "start", (*path, i)), self.moment(w, "end", (*path, i))
            if start is not None and end is not None:
                window = self.make(
                    (*path, i), Window, start=start, end=end, reason=w.get("reason", "")
                )
                if window is not None:
                    out.append(window)
        return tuple(out)


def _optional(obj: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The keys present in obj, so that the dataclasses' own defaults apply to the rest."""
    return {k: obj[k] for k in keys if k in obj}


class _Codes:
    """Known codes of one kind; a reference differing only in case resolves to its code."""

    def __init__(self, kind: str, where: str, codes: Sequence[str]) -> None:
        self.kind, self.where = kind, where
        self.exact = set(codes)
        folded: dict[str, list[str]] = {}
        for code in codes:
            folded.setdefault(code.casefold(), []).append(code)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}

    def resolve(self, b: _Builder, code: str, path: Path_) -> str:
        if code in self.exact:
            return code
        if code.casefold() in self.folded:
            return self.folded[code.casefold()]
        known = sorted(self.exact)
        listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
        b.fail(
            path,
            f"expected a {self.kind} code from {self.where} ({listed or 'none defined'}), "
            f"found {show(code)}",
        )
        return code


def scenario_from_dict(
    data: object, locate: Locator = json_path, file: str = "scenario"
) -> Scenario:
    """Check a dictionary against the schema and the domain; the scenario, or every problem.

    Raises ScenarioFileError naming each problem by locate(path).
    """
    raw = schema_problems(data)
    if not raw:
        assert isinstance(data, dict)
        builder = _Builder(locate)
        scenario = _build(builder, data)
        raw = builder.problems
        if not raw and scenario is not None:
            return scenario
    raise ScenarioFileError(file, [Problem(locate(path), message) for path, message in raw])


def _build(b: _Builder, d: dict[str, Any]) -> Scenario | None:
    """The scenario from a schema-valid dictionary (None once any problem was recorded)."""
    products_in = d["products"]
    b.unique("product", products_in, ("products",))
    products = _Codes("product", "the products", [p["code"] for p in products_in])
    rooms = _Codes("cleanroom", "the cleanrooms", [r["code"] for r in d["cleanrooms"]])
    staff_codes = _Codes("staff", "the staff", [m["code"] for m in d["staff"]])
    shifts = _Codes("shift", "the shift codes", [c["code"] for c in d["shift_codes"]])

    def product_list(obj: Mapping[str, Any], key: str, path: Path_) -> tuple[str, ...]:
        return tuple(
            products.resolve(b, code, (*path, key, i)) for i, code in enumerate(obj.get(key, []))
        )

    site = b.make(("site",), Site, **d["site"])
    holidays = []
    for i, h in enumerate(d.get("holidays", [])):
        day = b.day(h, "day", ("holidays", i))
        if day is not None:
            holidays.append(Holiday(day, h["name"]))
    weights = d.get("priority_weights")
    if weights is not None:
        seen: dict[int, int] = {}
        for i, w in enumerate(weights):
            if w["priority"] in seen:
                b.fail(
                    ("priority_weights", i, "priority"), f"priority {w['priority']} appears twice"
                )
            seen[w["priority"]] = i

    b.unique("cleanroom", d["cleanrooms"], ("cleanrooms",))
    cleanrooms = []
    for i, r in enumerate(d["cleanrooms"]):
        path: Path_ = ("cleanrooms", i)
        room = b.make(
            path,
            Cleanroom,
            code=r["code"],
            name=r["name"],
            grade=Grade(r["grade"]),
            products=product_list(r, "products", path),
            downtime=b.windows(r.get("downtime", []), (*path, "downtime")),
            **_optional(r, "changeover_hours"),
        )
        cleanrooms.append(room)

    b.unique("device", d["devices"], ("devices",))
    devices = []
    for i, v in enumerate(d["devices"]):
        path = ("devices", i)
        devices.append(
            b.make(
                path,
                Device,
                code=v["code"],
                name=v["name"],
                room_codes=tuple(
                    rooms.resolve(b, code, (*path, "room_codes", j))
                    for j, code in enumerate(v["room_codes"])
                ),
                products=product_list(v, "products", path),
                downtime=b.windows(v.get("downtime", []), (*path, "downtime")),
                **_optional(v, "changeover_hours"),
            )
        )

    b.unique("staff", d["staff"], ("staff",))
    staff = []
    for i, m in enumerate(d["staff"]):
        path = ("staff", i)
        fields = _optional(m, "contracted_hours_per_week")
        if "contracted_hours_per_week" in fields:
            fields["contracted_hours_per_week"] = float(fields["contracted_hours_per_week"])
        staff.append(
            b.make(
                path,
                StaffMember,
                code=m["code"],
                roles=tuple(Role(r) for r in m["roles"]),
                trained_products=product_list(m, "trained_products", path),
                **fields,
            )
        )

    b.unique("shift", d["shift_codes"], ("shift_codes",))
    shift_codes = [
        b.make(("shift_codes", i), ShiftCode, **c) for i, c in enumerate(d["shift_codes"])
    ]

    roster = []
    seen_roster: dict[tuple[str, date], int] = {}
    for i, e in enumerate(d["roster"]):
        path = ("roster", i)
        member = staff_codes.resolve(b, e["staff_code"], (*path, "staff_code"))
        shift = shifts.resolve(b, e["shift_code"], (*path, "shift_code"))
        day = b.day(e, "day", path)
        if day is None:
            continue
        if (member, day) in seen_roster:
            b.fail(
                (*path, "day"),
                f"staff member {show(member)} is rostered twice on {day} (also at "
                f"{b.locate(('roster', seen_roster[(member, day)]))})",
            )
        seen_roster[(member, day)] = i
        roster.append(RosterEntry(member, day, shift))

    w = d["ward"]
    changes = []
    for i, c in enumerate(w.get("changes", [])):
        path = ("ward", "changes", i)
        start, end = b.day(c, "start", path), b.day(c, "end", path)
        if start is not None and end is not None:
            changes.append(
                b.make(
                    path, BedChange, start=start, end=end, beds=c["beds"], **_optional(c, "reason")
                )
            )
    if None in changes:
        return None
    ward = b.make(
        ("ward",), Ward, code=w["code"], name=w["name"], beds=w["beds"], changes=tuple(changes)
    )

    a = d["apheresis"]
    exceptions = []
    for i, x in enumerate(a.get("exceptions", [])):
        day = b.day(x, "day", ("apheresis", "exceptions", i))
        if day is not None:
            exceptions.append((day, x["slots"]))
    apheresis = b.make(
        ("apheresis",),
        ApheresisCapacity,
        slots_per_weekday=tuple(a["slots_per_weekday"]),
        exceptions=tuple(exceptions),
    )

    built_products = [_product(b, p, ("products", i)) for i, p in enumerate(products_in)]
    steps_of = {p["code"]: {s["code"] for s in p["steps"]} for p in products_in}

    b.unique("trial", d.get("trials", []), ("trials",))
    trials_in = d.get("trials", [])
    trial_codes = _Codes("trial", "the trials", [t["code"] for t in trials_in])
    trials = []
    cohorts_of: dict[str, _Codes] = {}
    for i, t in enumerate(trials_in):
        path = ("trials", i)
        cohorts = []
        for j, c in enumerate(t["cohorts"]):
            cohorts.append(b.make((*path, "cohorts", j), Cohort, **c))
        b.unique("cohort", t["cohorts"], (*path, "cohorts"))
        cohorts_of[t["code"]] = _Codes(
            "cohort", f"trial {t['code']}'s cohorts", [c["code"] for c in t["cohorts"]]
        )
        start, end = b.day(t, "enrolment_start", path), b.day(t, "enrolment_end", path)
        if start is None or end is None or None in cohorts:
            continue
        trials.append(
            b.make(
                path,
                Trial,
                code=t["code"],
                name=t["name"],
                product_code=products.resolve(b, t["product_code"], (*path, "product_code")),
                cohorts=tuple(cohorts),
                enrolment_start=start,
                enrolment_end=end,
                **_optional(t, "priority", "apheresis_within_days"),
            )
        )

    patients_in = d.get("patients", [])
    b.unique("patient", patients_in, ("patients",))
    patients = []
    for i, p in enumerate(patients_in):
        path = ("patients", i)
        product = products.resolve(b, p["product_code"], (*path, "product_code"))
        trial = p.get("trial_code")
        cohort = p.get("cohort_code")
        if trial is not None:
            trial = trial_codes.resolve(b, trial, (*path, "trial_code"))
            if cohort is not None and trial in cohorts_of:
                cohort = cohorts_of[trial].resolve(b, cohort, (*path, "cohort_code"))
        done = []
        for j, ds in enumerate(p.get("done_steps", [])):
            dpath = (*path, "done_steps", j)
            if ds["step_code"] not in steps_of.get(product, set()) | {"apheresis"}:
                known = ", ".join(sorted(steps_of.get(product, set()) | {"apheresis"}))
                b.fail(
                    (*dpath, "step_code"),
                    f"expected a step of product {show(product)} ({known}), "
                    f"found {show(ds['step_code'])}",
                )
            start, end = b.moment(ds, "start", dpath), b.moment(ds, "end", dpath)
            if start is not None and end is not None:
                done.append(
                    b.make(
                        dpath,
                        DoneStep,
                        step_code=ds["step_code"],
                        start=start,
                        end=end,
                        **_optional(ds, "resource_code"),
                    )
                )
        dates = [
            b.day(p, k, path) for k in ("referral_date", "earliest_apheresis", "latest_apheresis")
        ]
        needed = b.day(p, "needed_infusion", path)
        if None in dates or None in done:
            continue
        if p.get("needed_infusion") is not None and needed is None:
            continue
        status = PatientStatus(p["status"]) if "status" in p else PatientStatus.REFERRED
        patients.append(
            b.make(
                path,
                Patient,
                code=p["code"],
                product_code=product,
                referral_date=dates[0],
                earliest_apheresis=dates[1],
                latest_apheresis=dates[2],
                needed_infusion=needed,
                trial_code=trial,
                cohort_code=cohort,
                status=status,
                done_steps=tuple(done),
                **_optional(p, "priority"),
            )
        )

    horizon = [b.day(d, "horizon_start", ()), b.day(d, "horizon_end", ())]
    if b.problems or None in horizon:
        return None
    extra = {}
    if weights is not None:
        extra["priority_weights"] = tuple((w["priority"], w["weight"]) for w in weights)
    return b.make(
        (),
        Scenario,
        name=d["name"],
        site=site,
        horizon_start=horizon[0],
        horizon_end=horizon[1],
        cleanrooms=tuple(cleanrooms),
        devices=tuple(devices),
        staff=tuple(staff),
        shift_codes=tuple(shift_codes),
        roster=tuple(roster),
        ward=ward,
        apheresis=apheresis,
        products=tuple(built_products),
        trials=tuple(trials),
        patients=tuple(patients),
        holidays=tuple(holidays),
        **extra,
    )


def _product(b: _Builder, p: Mapping[str, Any], path: Path_) -> Product | None:
    steps: list[ProcessStep | None] = []
    b.unique("step", p["steps"], (*path, "steps"))
    for i, s in enumerate(p["steps"]):
        spath = (*path, "steps", i)
        needs = tuple(
            b.make(
                (*spath, "staff", j),
                StaffNeed,
                role=Role(n["role"]),
                count=n["count"],
                hours=n["hours"],
                **_optional(n, "product_trained"),
            )
            for j, n in enumerate(s.get("staff", []))
        )
        fields = _optional(
            s,
            "needs_cleanroom",
            "needs_device",
            "working_hours_only",
            "min_lag_hours",
            "max_lag_hours",
        )
        if None in needs:
            steps.append(None)
            continue
        steps.append(
            b.make(
                spath,
                ProcessStep,
                code=s["code"],
                name=s["name"],
                duration_hours=s["duration_hours"],
                staff=needs,
                **fields,
            )
        )
    fields = _optional(
        p,
        "qc_release_days",
        "fresh_shelf_days",
        "ld_days_before_infusion",
        "inpatient_days",
        "apheresis_hours",
    )
    if "failure_probability" in p:
        fields["failure_probability"] = float(p["failure_probability"])
    if "storage" in p:
        fields["storage"] = Storage(p["storage"])
    if None in steps or any(None in s.staff for s in steps if s is not None):
        return None
    product: Product | None = b.make(
        path, Product, code=p["code"], name=p["name"], steps=tuple(steps), **fields
    )
    return product


# Files ----------------------------------------------------------------------------------------


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def read_scenario_json(path: str | Path) -> Scenario:
    """Read and validate a scenario from a JSON file; ScenarioFileError lists every problem."""
    source = Path(path)
    file = str(path)
    size = source.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ScenarioFileError(
            file, [Problem("", f"too large ({size:,} bytes; at most {MAX_JSON_BYTES:,} are read)")]
        )
    try:
        data = json.loads(source.read_bytes().decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise ScenarioFileError(file, [Problem("", f"not UTF-8 text ({error.reason})")]) from None
    except json.JSONDecodeError as error:
        raise ScenarioFileError(
            file,
            [
                Problem(
                    "", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
                )
            ],
        ) from None
    except RecursionError:
        raise ScenarioFileError(file, [Problem("", "not a scenario: nested too deeply")]) from None
    except ValueError as error:
        raise ScenarioFileError(file, [Problem("", f"not valid JSON: {error}")]) from None
    return scenario_from_dict(data, json_path, file)


def write_scenario_json(path: str | Path, scenario: Scenario) -> Path:
    """Write a scenario as JSON (UTF-8, sorted the way scenario_to_dict orders it)."""
    target = Path(path)
    text = json.dumps(scenario_to_dict(scenario), ensure_ascii=False, indent=2)
    target.write_text(text + "\n", encoding="utf-8")
    return target
