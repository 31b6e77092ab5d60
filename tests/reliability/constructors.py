"""Hostile arguments to every validated constructor of the domain (hypothesis strategies)
and the check every case must pass; shared by tests/planner/test_hostile_constructors.py
and scripts/reliability.py.

A case takes a valid object found in the rich test scenario (or made here, for the classes
a scenario does not hold), replaces one to three of its fields by hostile values (wrong
kinds, NaN and infinities, negative and huge numbers, empty, long, unicode and control
text, dates far off or with a time zone, duplicates, dangling codes) and builds it again.
It must either raise ValidationError with a readable message naming the field, or give a
valid object; a valid object is put back into the scenario in place of the original,
which must in turn be refused cleanly or be valid and come back equal from the scenario
JSON writer and reader.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from data.scenario_json import scenario_from_dict, scenario_to_dict
from planner import (
    Assignment,
    Kpis,
    PatientSchedule,
    Plan,
    ResourceType,
    Scenario,
    SolverInfo,
    SolveSettings,
    ValidationError,
)
from planner.replan import Pin, Replan
from tests.factories import START, rich_scenario

BASE = rich_scenario()
T0 = datetime(2027, 1, 4, 8)

#: Objects of the classes a scenario does not hold.
OUTSIDE = (
    Assignment("P1", "CART", "seed", ResourceType.CLEANROOM, "CR1", T0, T0 + timedelta(hours=6)),
    PatientSchedule(
        "P1", "CART", START, T0, T0 + timedelta(days=4), START + timedelta(days=6),
        START + timedelta(days=7), START + timedelta(days=10), START + timedelta(days=10),
        START + timedelta(days=13), 2,
    ),
    SolveSettings(),
    Pin("P1", "seed"),
    Replan(
        Plan("rich", T0.replace(tzinfo=UTC), (), (), (), Kpis(0, 0, None, None, 0),
             SolverInfo("OPTIMAL", "cp-sat", 0.0, 0.0, 0.0, SolveSettings())),
        START, 7, (Pin("P1"),), 1,
    ),
)  # fmt: skip


def _objects(node: object) -> list[object]:
    """Every validated dataclass object inside node, node included, depth first."""
    out: list[object] = []
    if is_dataclass(node) and not isinstance(node, type):
        out.append(node)
        for f in fields(node):
            out.extend(_objects(getattr(node, f.name)))
    elif isinstance(node, tuple):
        for item in node:
            out.extend(_objects(item))
    return out


def _samples() -> dict[str, list[object]]:
    """A few objects of every class, by class name (at most 4 each, roster entries too)."""
    found: dict[str, list[object]] = {}
    for obj in [*_objects(BASE), *OUTSIDE]:
        same = found.setdefault(type(obj).__name__, [])
        if len(same) < 4 and obj not in same:
            same.append(obj)
    return found


SAMPLES = _samples()
TARGETS = sorted(SAMPLES)

# Hostile values ---------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_odd_text = st.sampled_from(
    ["", " ", "  CR1 ", "CR1\n", "a\tb", "\x00", "\u202eRTL", "é😀", "x" * 41, "y" * 250,
     "z" * 1200, "None", "NaN", "=1+1", "CART", "CR1", "OP1", "seed", "TR-1", "DL1", "P1"]
)  # fmt: skip
_numbers = st.one_of(
    st.integers(-3, 30),
    st.sampled_from([-(2**70), -(10**9), 10**5, 10**5 + 1, 10**9, 2**31, 2**63, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.5, -0.0, 1e308]),
)
_days = st.one_of(
    st.dates(),
    st.dates(START - timedelta(days=30), START + timedelta(days=90)),
    st.sampled_from([date.min, date.max, date(1900, 2, 28), date(2200, 1, 1)]),
)
_moments = st.one_of(
    st.datetimes(),
    st.datetimes(T0 - timedelta(days=10), T0 + timedelta(days=60)),
    st.datetimes(T0, T0 + timedelta(days=5), timezones=st.just(UTC)),
    st.sampled_from([datetime.min, datetime.max]),
)
_scalars = st.one_of(
    st.none(), st.booleans(), _numbers, _text, _odd_text, _days, _moments,
    st.sampled_from([b"bytes", object(), {"a": 1}, {1, 2}, ["CART"], (), [], ("CART", "CART")]),
)  # fmt: skip


def _enum_texts(value: object) -> st.SearchStrategy[object]:
    """Texts naming members of value's enumeration, and ones that do not."""
    members = [str(m.value) for m in type(value)]  # type: ignore[attr-defined]
    return st.sampled_from([*members, *(m.upper() for m in members), "unknown"])


#: Every value of every field in the samples, by field name: swapping them in gives
#: values of the right kind that may still clash (dangling codes, dates out of order).
_FOUND: dict[str, list[object]] = {}
for _objs in SAMPLES.values():
    for _obj in _objs:
        for _f in fields(_obj):  # type: ignore[arg-type]
            _seen = _FOUND.setdefault(_f.name, [])
            if getattr(_obj, _f.name) not in _seen:
                _seen.append(getattr(_obj, _f.name))


def _near(current: object) -> st.SearchStrategy[object]:
    """Values of current's kind near it, or found in the same field elsewhere."""
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.integers(-2, 2 * current + 5)
    if isinstance(current, float):
        return st.floats(-1, 2 * current + 1)
    if isinstance(current, datetime):
        return st.integers(-72, 72).map(lambda h: current + timedelta(hours=h))
    if isinstance(current, date):
        return st.integers(-40, 40).map(lambda d: current + timedelta(days=d))
    return st.nothing()


@st.composite
def hostile_for(draw: st.DrawFn, current: object, name: str = "") -> object:
    """A hostile replacement for a field whose valid value is current."""
    if draw(st.integers(0, 2)) == 0:  # a value of the right kind
        found = _FOUND.get(name, [])
        options = [_near(current)] + ([st.sampled_from(found)] if found else [])
        value = draw(st.one_of(options))
        return value
    if isinstance(current, tuple) and current and draw(st.booleans()):
        items = list(current)
        how = draw(st.sampled_from(["duplicate", "drop", "junk item", "list"]))
        if how == "duplicate":
            items.append(draw(st.sampled_from(items)))
        elif how == "drop":
            items.pop(draw(st.integers(0, len(items) - 1)))
        elif how == "junk item":
            items[draw(st.integers(0, len(items) - 1))] = draw(_scalars)
        else:  # the items as a list, not a tuple
            return items
        return tuple(items)
    if hasattr(current, "value") and isinstance(current, str):  # an enumeration member
        return draw(st.one_of(_enum_texts(current), _scalars))
    return draw(_scalars)


# Readable messages ------------------------------------------------------------------------

#: Python words a coordinator should never read (outside quoted values).
_JARGON = re.compile(
    r"NoneType|Traceback|object at 0x|<class|<object|\bNone\b|\bTrue\b|\bFalse\b|"
    r"datetime\.|\bint\b|\bstr\b|\bfloat\b|\btuple\b|\bdict\b|Error\b|__"
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
#: Words a message may use for a field instead of the field's own name.
ALIASES: dict[str, tuple[str, ...]] = {
    "ld_days_before_infusion": ("lymphodepletion",),
    "inpatient_days": ("in-patient",),
    "qc_release_days": ("qc release",),
    "fresh_shelf_days": ("shelf life",),
    "day_start_hour": ("working day",),
    "day_end_hour": ("working day",),
    "start": ("start", "ends", "window"),
    "end": ("ends", "end", "window"),
    "horizon_start": ("horizon",),
    "horizon_end": ("horizon",),
    "enrolment_start": ("enrolment",),
    "enrolment_end": ("enrolment",),
    "slots_per_weekday": ("weekday",),
    "exceptions": ("slots on",),
    "storage": ("fresh", "cryo"),
    "ld_before_release": ("lymphodepletion",),
    "working_hours_only": ("working-hours-only",),
    "staff": ("staff", "working-hours-only"),
    "count": ("people",),
    "shelf_life_from_step": ("shelf life",),
    "is_leave": ("leave",),
    "covers_day_work": ("leave",),
    "failure_probability": ("failure probability",),
    "trial_code": ("trial",),
    "cohort_code": ("trial", "cohort"),
    "status": ("status", "steps done", "infusion date"),
    "done_steps": ("done step", "steps done"),
    "infused_on": ("infus",),
    "enrolled_on": ("enrol",),
    "referral_date": ("referral",),
    "apheresis_day": ("apheresis",),
    "infusion_day": ("infusion",),
    "deterministic_time": ("deterministic time",),
    "time_limit_s": ("time limit",),
    "changes": ("bed change",),
    "downtime": ("downtime",),
    "cohorts": ("cohort",),
    "min_days_between_infusions": ("days between infusions",),
    "room_codes": ("room",),
    "min_lag_hours": ("lag",),
    "max_lag_hours": ("lag",),
    "duration_hours": ("duration", "lasts"),
    "contracted_hours_per_week": ("contracted hours",),
    "priority_weights": ("weight",),
    "lateness_weights": ("weight",),
}


def readable_problem(message: str, named: list[str]) -> str | None:
    """What is wrong with a refusal's message (None: one or more sentences of plain words
    that name one of the fields changed)."""
    if not message or len(message) > 600 or "\n" in message or "\r" in message:
        return f"not one readable line: {message[:200]!r}"
    if not (message[0].isupper() or message[0].isdigit()) or message[-1] not in ".)":
        return f"not a sentence: {message!r}"
    jargon = _JARGON.search(_QUOTED.sub("", message))
    if jargon:
        return f"programmer's words ({jargon.group()}): {message!r}"
    if named:
        low = message.lower()
        words = [
            w
            for n in named
            for w in (n.replace("_", " "), n.removesuffix("_code"), *ALIASES.get(n, ()))
        ]
        if not any(w.lower().rstrip("s") in low for w in words):
            return f"names none of {named}: {message!r}"
    return None


# One case ---------------------------------------------------------------------------------


@dataclass
class InputStats:
    """Cases tried per target by outcome, and what went wrong."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def count(self, target: str, outcome: str) -> None:
        self.outcomes[(target, outcome)] += 1

    def targets(self) -> list[str]:
        return sorted({t for t, _ in self.outcomes})

    def of(self, target: str, outcome: str) -> int:
        return self.outcomes[(target, outcome)]

    def tried(self, target: str) -> int:
        return sum(n for (t, o), n in self.outcomes.items() if t == target and o != "tried")


def _substitute(node: Any, old: object, new: object) -> Any:
    """node with old (found by identity) replaced by new, every object on the way built
    again (and so validated again)."""
    if node is old:
        return new
    if isinstance(node, tuple):
        items = tuple(_substitute(item, old, new) for item in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for f in fields(node):
            value = getattr(node, f.name)
            swapped = _substitute(value, old, new)
            if swapped is not value:
                changes[f.name] = swapped
        return replace(node, **changes) if changes else node
    return node


def _round_trip_problem(scenario: Scenario, store: Store | None) -> str | None:
    """What goes wrong writing a valid scenario to JSON and reading it back, or storing it
    in a database and loading it (None: nothing)."""
    try:
        back = scenario_from_dict(scenario_to_dict(scenario))
    except Exception as error:
        return f"the scenario JSON reader refuses what the writer wrote: {error}"
    if back != scenario:
        return "the scenario JSON writer and reader changed it"
    if store is None:
        return None
    try:
        stored = store(scenario)
    except Exception as error:
        return f"the database refuses it: {type(error).__name__}: {str(error)[:300]}"
    return None if stored == scenario else "the database gives back another scenario"


#: Stores a valid scenario in a database and loads it back (the campaign's optional check).
Store = Callable[[Scenario], Scenario]


def run_constructor_case(
    target: str,
    original: object,
    changes: dict[str, object],
    stats: InputStats,
    store: Store | None = None,
) -> None:
    """Build original again with changes and check the outcome (see the module's docstring)."""
    named = sorted(changes)
    try:
        obj = replace(original, **changes)  # type: ignore[type-var]
    except ValidationError as error:
        stats.count(target, "refused")
        problem = readable_problem(str(error), named)
        if problem:
            stats.count(target, "unreadable")
            stats.problems.append(f"{target}: {problem}")
        return
    except Exception as error:  # a crash: what this campaign looks for
        stats.count(target, "crash")
        stats.problems.append(f"{target} {named}: {type(error).__name__}: {error}")
        return
    try:
        again = replace(obj)  # type: ignore[type-var]
        hash(obj)
        if again != obj:
            raise AssertionError("building it again gives another object")
        scenario = None
        if isinstance(obj, Scenario):
            scenario = obj
        elif any(original is o for o in _objects(BASE)):
            scenario = _substitute(BASE, original, obj)
    except ValidationError as error:  # valid alone, refused inside the scenario
        stats.count(target, "valid, refused in the scenario")
        problem = readable_problem(str(error), [])
        if problem:
            stats.count(target, "unreadable")
            stats.problems.append(f"{target} in scenario: {problem}")
        return
    except Exception as error:
        stats.count(target, "crash")
        stats.problems.append(f"{target} {named} valid, then {type(error).__name__}: {error}")
        return
    problem = None if scenario is None else _round_trip_problem(scenario, store)
    if problem:
        stats.count(target, "broken invariant")
        stats.problems.append(f"{target} {named}: {problem}")
    else:
        stats.count(target, "valid")


Case = tuple[str, object, dict[str, object]]


@st.composite
def cases(draw: st.DrawFn, target: str) -> Case:
    """One of the target class's valid objects and hostile values for one to three fields."""
    original = draw(st.sampled_from(SAMPLES[target]))
    names = [f.name for f in fields(original) if f.init]  # type: ignore[arg-type]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    return target, original, {n: draw(hostile_for(getattr(original, n), n)) for n in chosen}


def constructor_campaign(cases_wanted: int, seed: int, store: Store | None = None) -> InputStats:
    """About `cases_wanted` corrupted constructor calls drawn by hypothesis (seeded), the
    same number for every class; with store, every valid scenario is also stored in a
    database and must load back equal."""
    stats = InputStats()
    for target in TARGETS:

        @hypothesis_seed(seed)
        @settings(
            max_examples=max(1, cases_wanted // len(TARGETS)),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases(target))
        def campaign(case: Case) -> None:
            run_constructor_case(*case, stats, store)

        campaign()
    return stats
