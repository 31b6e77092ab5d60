"""Hostile arguments to every validated domain constructor (hypothesis, seeded): each case
is a valid object or a ValidationError in plain words naming the field, never another
exception; a valid object put into a scenario is refused cleanly or survives the scenario
JSON writer and reader unchanged. scripts/reliability.py runs more cases."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from planner import (
    ApheresisCapacity,
    Cohort,
    DoneStep,
    Holiday,
    Patient,
    ProcessStep,
    Product,
    Site,
    SolveSettings,
    StaffMember,
    StaffNeed,
    ValidationError,
    Ward,
    Window,
)
from planner.resources import Role
from tests.factories import START, product, tiny_scenario
from tests.reliability.constructors import TARGETS, constructor_campaign, readable_problem

#: Cases per run: about 20 per class, a few seconds in all.
CASES = 460


def test_every_constructor_gives_a_valid_object_or_a_readable_refusal() -> None:
    stats = constructor_campaign(CASES, seed=2026)
    assert stats.problems == []
    assert set(stats.targets()) == set(TARGETS)
    for target in TARGETS:  # both outcomes were reached for every class
        assert stats.of(target, "refused") > 0, target
    assert sum(stats.of(t, "valid") for t in TARGETS) > CASES // 10


def test_the_campaign_sees_a_crash_and_an_unreadable_message() -> None:
    """The checks can fail: a message dumping a repr or naming no field is caught."""
    assert (
        readable_problem("Site 'X': day start hour must be a whole number.", ["day_start_hour"])
        is None
    )
    assert readable_problem("'<' not supported between 'NoneType' and 'int'", []) is not None
    assert readable_problem("Unknown staff role None.", []) is not None
    assert readable_problem("Ward 'W': beds must be 0 or more.", ["name"]) is not None


T0 = datetime(2027, 1, 4, 8)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        # Each of these raised TypeError, AttributeError or ValueError from a comparison or
        # a format before the fields' kinds were checked.
        (lambda: Site("KS", "Site", day_start_hour="8"), "day start hour must be a whole number"),
        (lambda: Site("KS", "Site", day_end_hour=None), "day end hour must be a whole number"),
        (lambda: StaffNeed(Role.OPERATOR, 1.5, 6), "count must be a whole number"),
        (lambda: StaffNeed("boss", 1, 6), "role must be one of operator"),
        (lambda: Window(T0, None), "end must be a date and time"),
        (lambda: Window(T0, START), "end must be a date and time"),
        (lambda: DoneStep("seed", T0, T0.replace(hour=9, tzinfo=UTC)), "without a time zone"),
        (lambda: Patient("P1", "CART", START, T0, START), "earliest apheresis must be a date"),
        (lambda: Holiday(START, 7), "name must be text"),
        (lambda: StaffMember("OP1", Role.OPERATOR), "roles must be a list (got operator)"),
        (lambda: StaffMember("OP1", (Role.OPERATOR,), "CART"), "trained products must be a list"),
        (lambda: ApheresisCapacity(5), "slots per weekday must be a list"),
        (lambda: SolveSettings(workers=True), "workers must be a whole number"),
        (lambda: Cohort("C1", math.nan), "cap must be a whole number (got nan)"),
        (lambda: tiny_scenario(name=None), "Scenario: name must be text (got nothing)"),
        (lambda: tiny_scenario(ward=object()), "ward must be a ward"),
        (
            lambda: tiny_scenario(horizon_end=date(2027, 1, 1).isoformat()),
            "horizon end must be a date",
        ),
    ],
)
def test_wrong_kinds_are_refused_naming_the_field(build, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        build()
    assert words.lower() in str(refused.value).lower()
    assert readable_problem(str(refused.value), []) is None


@pytest.mark.parametrize(
    ("build", "words"),
    [
        # Each of these was a valid object the scenario file reader (or the database's
        # 32-bit integer columns) refused once written.
        (lambda: Ward("W1", "Ward", 10**10), "beds must be 0 to 100000"),
        (lambda: Site("KS", "x" * 201), "name must be at most 200 characters"),
        (lambda: Site("KS", "Site", country="Sweden, EU"), None),
        (lambda: Site("KS", "Site", country="Kingdom of Sweden"), "country must be at most 10"),
        (lambda: Holiday(date(1, 1, 1), "Year one"), "years 1901-2199"),
        (lambda: Holiday(START, "Line\nbreak"), "control characters"),
        (lambda: ProcessStep("s", "S", 10**6), "duration hours must be 1 to 100000"),
        (lambda: product(inpatient_days=10**5), "in-patient days must be 0 to 10000"),
        (lambda: DoneStep("seed", T0, T0.replace(hour=9), "R" * 41), "resource code"),
        (
            lambda: tiny_scenario(priority_weights=tuple((p, 10**7) for p in range(1, 10))),
            "weight must be 0 to 1000000",
        ),
        (
            lambda: tiny_scenario(priority_weights=((0, 5), *((p, 5) for p in range(1, 10)))),
            "priorities are 1-9",
        ),
    ],
)
def test_values_no_file_or_database_can_hold_are_refused(build, words: str | None) -> None:
    if words is None:
        build()
        return
    with pytest.raises(ValidationError) as refused:
        build()
    assert words.lower() in str(refused.value).lower()


def test_enumeration_text_and_lists_become_members_and_tuples() -> None:
    """Text naming a member is the member; a list is kept as a tuple (objects stay hashable)."""
    need = StaffNeed("operator", 1, 6)  # type: ignore[arg-type]
    assert need.role is Role.OPERATOR
    member = StaffMember("OP1", ["operator", "qp"], ["CART"])  # type: ignore[arg-type]
    assert member.roles == (Role.OPERATOR, Role.QP) and member.trained_products == ("CART",)
    assert hash(member) == hash(StaffMember("OP1", (Role.OPERATOR, Role.QP), ("CART",)))
    assert isinstance(Product("X", "X", [ProcessStep("s", "S", 1)]).steps, tuple)  # type: ignore[arg-type]
