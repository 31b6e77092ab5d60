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
    """Document order: list items by index, keys in the order the format lists them."""
    order = _key_order()
    return tuple(
        (0, p, "") if isinstance(p, int) else (1, order.get(p, len(order)), p) for p in path
    )


@cache
def _key_order() -> dict[str, int]:
    """Every key of the format, numbered in the order the schema first lists it."""
    order: dict[str, int] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in node.get("properties", {}):
                order.setdefault(key, len(order))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema())
    return order


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
        "priority_weights": [
            {"priority": p, "weight": w, "lateness_weight": s.lateness_weight(p)}
            for p, w in s.priority_weights
        ],
        "frozen_days": s.frozen_days,
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
                "shelf_life_from_step": p.shelf_life_from_step,
                "ld_before_release": p.ld_before_release,
                "infusion_any_day": p.infusion_any_day,
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
                        "escalation_gate_days": c.escalation_gate_days,
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
                "enrolled_on": p.enrolled_on.isoformat() if p.enrolled_on else None,
                "infused_on": p.infused_on.isoformat() if p.infused_on else None,
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

    def resolve(self, code: str) -> str:
        """The known code a reference means (itself if unknown: reported by check)."""
        if code in self.exact:
            return code
        return self.folded.get(code.casefold(), code)

    def check(self, b: _Builder, code: object, path: Path_) -> str | None:
        """The known code a reference means, or None with a problem at path."""
        if not isinstance(code, str):
            return None
        resolved = self.resolve(code)
        if resolved in self.exact:
            return resolved
        known = sorted(self.exact)
        listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
        b.fail(
            path,
            f"expected a {self.kind} code from {self.where} ({listed or 'none defined'}), "
            f"found {show(code)}",
        )
        return None


def _objects(node: object, key: str) -> list[tuple[int, dict[str, Any]]]:
    """The objects listed under key, with their index; whatever else is there is skipped."""
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _defined(
    b: _Builder, kind: str, where: str, path: Path_, items: list[tuple[int, dict[str, Any]]]
) -> _Codes:
    """The codes of these objects, each repeat reported where it repeats."""
    first: dict[str, int] = {}
    for i, item in items:
        code = item.get("code")
        if not isinstance(code, str):
            continue
        if code in first:
            b.fail(
                (*path, i, "code"),
                f"duplicate {kind} code {show(code)} (also at {b.locate((*path, first[code]))})",
            )
        else:
            first[code] = i
    return _Codes(kind, where, list(first))


def _check_references(b: _Builder, d: object) -> None:
    """Repeated codes and references to codes not defined, read as far as the data allows.

    Runs even on a dictionary that fails the schema, so that these problems are reported
    together with the schema's; everything of the wrong shape is skipped.
    """
    products_in = _objects(d, "products")
    products = _defined(b, "product", "the products", ("products",), products_in)
    cleanrooms_in = _objects(d, "cleanrooms")
    rooms = _defined(b, "cleanroom", "the cleanrooms", ("cleanrooms",), cleanrooms_in)
    devices_in = _objects(d, "devices")
    _defined(b, "device", "the devices", ("devices",), devices_in)
    staff_in = _objects(d, "staff")
    staff = _defined(b, "staff", "the staff", ("staff",), staff_in)
    shifts = _defined(b, "shift", "the shift codes", ("shift_codes",), _objects(d, "shift_codes"))
    trials_in = _objects(d, "trials")
    trials = _defined(b, "trial", "the trials", ("trials",), trials_in)
    patients_in = _objects(d, "patients")
    _defined(b, "patient", "the patients", ("patients",), patients_in)

    def each(codes: _Codes, obj: dict[str, Any], key: str, path: Path_) -> None:
        value = obj.get(key)
        if isinstance(value, list):
            for j, code in enumerate(value):
                codes.check(b, code, (*path, key, j))

    steps_of: dict[str, set[str]] = {}
    for i, p in products_in:
        steps = _defined(
            b, "step", "the product's steps", ("products", i, "steps"), _objects(p, "steps")
        )
        if isinstance(p.get("code"), str):
            steps_of.setdefault(p["code"], steps.exact)
    for i, r in cleanrooms_in:
        each(products, r, "products", ("cleanrooms", i))
    for i, v in devices_in:
        each(rooms, v, "room_codes", ("devices", i))
        each(products, v, "products", ("devices", i))
    for i, m in staff_in:
        each(products, m, "trained_products", ("staff", i))
    seen_roster: dict[tuple[str, object], int] = {}
    for i, e in _objects(d, "roster"):
        path: Path_ = ("roster", i)
        member = staff.check(b, e.get("staff_code"), (*path, "staff_code"))
        shifts.check(b, e.get("shift_code"), (*path, "shift_code"))
        day = e.get("day")
        if member is None or not isinstance(day, str):
            continue
        if (member, day) in seen_roster:
            b.fail(
                (*path, "day"),
                f"staff member {show(member)} is rostered twice on {day} (also at "
                f"{b.locate(('roster', seen_roster[(member, day)]))})",
            )
        else:
            seen_roster[(member, day)] = i
    cohorts_of: dict[str, _Codes] = {}
    for i, t in trials_in:
        products.check(b, t.get("product_code"), ("trials", i, "product_code"))
        cohorts = _defined(
            b, "cohort", "the trial's cohorts", ("trials", i, "cohorts"), _objects(t, "cohorts")
        )
        if isinstance(t.get("code"), str):
            cohorts_of.setdefault(t["code"], cohorts)
    for i, p in patients_in:
        path = ("patients", i)
        product = products.check(b, p.get("product_code"), (*path, "product_code"))
        trial = p.get("trial_code")
        if trial is not None:
            trial = trials.check(b, trial, (*path, "trial_code"))
            if trial is not None and trial in cohorts_of and p.get("cohort_code") is not None:
                cohorts_of[trial].check(b, p.get("cohort_code"), (*path, "cohort_code"))
        if product is None:
            continue
        allowed = steps_of.get(product, set()) | {"apheresis"}
        for j, done in _objects(p, "done_steps"):
            step = done.get("step_code")
            if isinstance(step, str) and step not in allowed:
                b.fail(
                    (*path, "done_steps", j, "step_code"),
                    f"expected a step of product {show(product)} "
                    f"({', '.join(sorted(allowed))}), found {show(step)}",
                )
    seen_priority: set[int] = set()
    for i, w in _objects(d, "priority_weights"):
        priority = w.get("priority")
        if not isinstance(priority, int):
            continue
        if priority in seen_priority:
            b.fail(("priority_weights", i, "priority"), f"priority {priority} appears twice")
        seen_priority.add(priority)


def _overlaps(a: Path_, b: Path_) -> bool:
    """Whether one path lies within the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def scenario_from_dict(
    data: object, locate: Locator = json_path, file: str = "scenario"
) -> Scenario:
    """Check a dictionary against the schema and the domain; the scenario, or every problem.

    Raises ScenarioFileError naming each problem by locate(path).
    """
    raw = schema_problems(data)
    builder = _Builder(locate)
    _check_references(builder, data)
    if not raw and isinstance(data, dict):
        # The domain's rules need well-formed data; references were checked either way.
        scenario = _build(builder, data)
        if not builder.problems and scenario is not None:
            return scenario
    # A reference the schema already found malformed is not reported twice.
    raw += [
        (path, message)
        for path, message in builder.problems
        if not any(_overlaps(path, bad) for bad, _ in raw)
    ]
    raw = sorted(dict.fromkeys(raw), key=lambda item: _sort_key(item[0]))
    raise ScenarioFileError(file, [Problem(locate(path), message) for path, message in raw])


def _build(b: _Builder, d: dict[str, Any]) -> Scenario | None:
    """The scenario from a schema-valid dictionary (None once any problem was recorded)."""
    products_in = d["products"]
    products = _Codes("product", "the products", [p["code"] for p in products_in])
    rooms = _Codes("cleanroom", "the cleanrooms", [r["code"] for r in d["cleanrooms"]])
    staff_codes = _Codes("staff", "the staff", [m["code"] for m in d["staff"]])
    shifts = _Codes("shift", "the shift codes", [c["code"] for c in d["shift_codes"]])

    def product_list(obj: Mapping[str, Any], key: str, path: Path_) -> tuple[str, ...]:
        return tuple(products.resolve(code) for code in obj.get(key, []))

    site = b.make(("site",), Site, **d["site"])
    holidays = []
    for i, h in enumerate(d.get("holidays", [])):
        day = b.day(h, "day", ("holidays", i))
        if day is not None:
            holidays.append(Holiday(day, h["name"]))
    weights = d.get("priority_weights")

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

    devices = []
    for i, v in enumerate(d["devices"]):
        path = ("devices", i)
        devices.append(
            b.make(
                path,
                Device,
                code=v["code"],
                name=v["name"],
                room_codes=tuple(rooms.resolve(code) for code in v["room_codes"]),
                products=product_list(v, "products", path),
                downtime=b.windows(v.get("downtime", []), (*path, "downtime")),
                **_optional(v, "changeover_hours"),
            )
        )

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

    shift_codes = [
        b.make(("shift_codes", i), ShiftCode, **c) for i, c in enumerate(d["shift_codes"])
    ]

    roster = []
    for i, e in enumerate(d["roster"]):
        day = b.day(e, "day", ("roster", i))
        if day is not None:
            member, shift = staff_codes.resolve(e["staff_code"]), shifts.resolve(e["shift_code"])
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

    trials_in = d.get("trials", [])
    trial_codes = _Codes("trial", "the trials", [t["code"] for t in trials_in])
    trials = []
    cohorts_of: dict[str, _Codes] = {}
    for i, t in enumerate(trials_in):
        path = ("trials", i)
        cohorts = []
        for j, c in enumerate(t["cohorts"]):
            cohorts.append(b.make((*path, "cohorts", j), Cohort, **c))
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
                product_code=products.resolve(t["product_code"]),
                cohorts=tuple(cohorts),
                enrolment_start=start,
                enrolment_end=end,
                **_optional(t, "priority", "apheresis_within_days"),
            )
        )

    patients_in = d.get("patients", [])
    patients = []
    for i, p in enumerate(patients_in):
        path = ("patients", i)
        product = products.resolve(p["product_code"])
        trial = p.get("trial_code")
        cohort = p.get("cohort_code")
        if trial is not None:
            trial = trial_codes.resolve(trial)
            if cohort is not None and trial in cohorts_of:
                cohort = cohorts_of[trial].resolve(cohort)
        done = []
        for j, ds in enumerate(p.get("done_steps", [])):
            dpath = (*path, "done_steps", j)
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
        optional_days = {
            k: b.day(p, k, path) for k in ("needed_infusion", "enrolled_on", "infused_on")
        }
        if None in dates or None in done:
            continue
        if any(p.get(k) is not None and v is None for k, v in optional_days.items()):
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
                needed_infusion=optional_days["needed_infusion"],
                enrolled_on=optional_days["enrolled_on"],
                infused_on=optional_days["infused_on"],
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
        late = [w for w in weights if w.get("lateness_weight") is not None]
        if late:
            extra["lateness_weights"] = tuple((w["priority"], w["lateness_weight"]) for w in late)
    if d.get("frozen_days") is not None:
        extra["frozen_days"] = d["frozen_days"]
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
        "shelf_life_from_step",
        "ld_before_release",
        "infusion_any_day",
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
