"""Every domain class refuses invalid values with a message a coordinator understands."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner import (
    ApheresisCapacity,
    Assignment,
    BedChange,
    Cleanroom,
    Cohort,
    DoneStep,
    Grade,
    Patient,
    PatientStatus,
    ProcessStep,
    ResourceType,
    Role,
    ShiftCode,
    Site,
    SolveSettings,
    StaffMember,
    StaffNeed,
    Storage,
    Trial,
    ValidationError,
    Ward,
    Window,
)
from tests.factories import START, patient, product

T0 = datetime(2027, 1, 4, 8, 0)
SEED = ProcessStep(
    "seed", "Seeding", 6, staff=(StaffNeed(Role.OPERATOR, 1, 6),), working_hours_only=True
)
C1 = Cohort("C1", 3)


def refused(build: Callable[[], object]) -> str:
    """The ValidationError message raised by build()."""
    with pytest.raises(ValidationError) as info:
        build()
    return str(info.value)


def assert_mentions(message: str, *words: str) -> None:
    """Every word appears in the message (case-insensitive)."""
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


def trial(**overrides: Any) -> Trial:
    """A trial of CART with one cohort over the first 60 days."""
    fields: dict[str, Any] = dict(
        code="T1",
        name="Trial 1",
        product_code="CART",
        cohorts=(C1,),
        enrolment_start=START,
        enrolment_end=START + timedelta(days=60),
    )
    fields.update(overrides)
    return Trial(**fields)


# One row per rule: how to build the bad object, and the words its message must contain.
CASES: list[tuple[str, Callable[[], object], tuple[str, ...]]] = [
    (
        "window ends before start",
        lambda: Window(T0, T0 - timedelta(hours=1), "requalification"),
        ("requalification", "ends", "before it starts", "2027-01-04 07:00"),
    ),
    (
        "window of zero length",
        lambda: Window(T0, T0, "service"),
        ("service", "before it starts"),
    ),
    (
        "site day ends before it starts",
        lambda: Site("KS", "Karolinska", day_start_hour=16, day_end_hour=8),
        ("Site 'KS'", "working day", "16-8"),
    ),
    (
        "site day beyond 24 h",
        lambda: Site("KS", "Karolinska", day_start_hour=8, day_end_hour=25),
        ("Site 'KS'", "working day", "0-24"),
    ),
    (
        "cleanroom negative changeover",
        lambda: Cleanroom("CR1", "Room", Grade.B, ("CART",), changeover_hours=-1),
        ("Cleanroom 'CR1'", "changeover", "-1"),
    ),
    (
        "cleanroom product twice",
        lambda: Cleanroom("CR1", "Room", Grade.B, ("CART", "CART")),
        ("Cleanroom 'CR1'", "'CART'", "twice"),
    ),
    (
        "cleanroom unknown grade",
        lambda: Cleanroom("CR1", "Room", cast(Grade, "E"), ("CART",)),
        ("Cleanroom 'CR1'", "grade", "'E'"),
    ),
    (
        "staff member without roles",
        lambda: StaffMember("OP1", ()),
        ("Staff member 'OP1'", "role"),
    ),
    (
        "staff member role twice",
        lambda: StaffMember("OP1", (Role.QP, Role.QP)),
        ("Staff member 'OP1'", "role", "twice"),
    ),
    (
        "staff member zero contracted hours",
        lambda: StaffMember("OP1", (Role.OPERATOR,), contracted_hours_per_week=0),
        ("Staff member 'OP1'", "contracted hours", "1-60", "got 0"),
    ),
    (
        "staff member too many contracted hours",
        lambda: StaffMember("OP1", (Role.OPERATOR,), contracted_hours_per_week=61),
        ("Staff member 'OP1'", "contracted hours", "got 61"),
    ),
    (
        "shift both leave and day work",
        lambda: ShiftCode("L", "Leave", 0, 0, covers_day_work=True, is_leave=True),
        ("Shift 'L'", "leave", "working day"),
    ),
    (
        "shift starts at 24",
        lambda: ShiftCode("N", "Night", 24, 8),
        ("Shift 'N'", "start hour", "got 24"),
    ),
    (
        "shift longer than a day",
        lambda: ShiftCode("D", "Day", 8, 25),
        ("Shift 'D'", "length", "got 25"),
    ),
    (
        "ward negative beds",
        lambda: Ward("W1", "Ward", beds=-1),
        ("Ward 'W1'", "beds", "-1"),
    ),
    (
        "bed change ends before it starts",
        lambda: BedChange(date(2027, 1, 5), date(2027, 1, 4), 1, "painting"),
        ("painting", "ends before it starts"),
    ),
    (
        "apheresis six weekday values",
        lambda: ApheresisCapacity(cast(Any, (1, 1, 1, 1, 1, 0))),
        ("7 weekday values", "got 6"),
    ),
    (
        "apheresis negative weekday slots",
        lambda: ApheresisCapacity((1, 1, -1, 1, 1, 0, 0)),
        ("Apheresis slots", "-1"),
    ),
    (
        "apheresis negative exception",
        lambda: ApheresisCapacity((1, 1, 1, 1, 1, 0, 0), ((date(2027, 1, 6), -2),)),
        ("Apheresis slots", "2027-01-06", "-2"),
    ),
    (
        "staff need of zero people",
        lambda: StaffNeed(Role.OPERATOR, 0, 6),
        ("operator", "people", "more than 0", "got 0"),
    ),
    (
        "staff need of zero hours",
        lambda: StaffNeed(Role.QC_ANALYST, 1, 0),
        ("qc_analyst", "hours", "more than 0"),
    ),
    (
        "step max lag below min lag",
        lambda: ProcessStep("seed", "Seeding", 6, min_lag_hours=10, max_lag_hours=5),
        ("Step 'seed'", "maximum lag (5 h)", "minimum lag (10 h)"),
    ),
    (
        "step negative min lag",
        lambda: ProcessStep("seed", "Seeding", 6, min_lag_hours=-1),
        ("Step 'seed'", "minimum lag", "-1"),
    ),
    (
        "step zero duration",
        lambda: ProcessStep("seed", "Seeding", 0),
        ("Step 'seed'", "duration", "got 0"),
    ),
    (
        "staffed step not working-hours-only",
        lambda: ProcessStep("seed", "Seeding", 6, staff=(StaffNeed(Role.OPERATOR, 1, 6),)),
        ("Step 'seed'", "needs staff", "working-hours-only"),
    ),
    (
        "working-hours step longer than a day",
        lambda: ProcessStep("expand", "Expansion", 25, working_hours_only=True),
        ("Step 'expand'", "working-hours-only", "25 h", "longer than a day"),
    ),
    (
        "product without steps",
        lambda: product(steps=()),
        ("Product 'CART'", "at least one process step"),
    ),
    (
        "product step twice",
        lambda: product(steps=(SEED, SEED)),
        ("Product 'CART'", "step", "'seed'", "twice"),
    ),
    (
        "product failure probability of 1",
        lambda: product(failure_probability=1.0),
        ("Product 'CART'", "failure probability", "got 1.0"),
    ),
    (
        "product negative failure probability",
        lambda: product(failure_probability=-0.1),
        ("Product 'CART'", "failure probability"),
    ),
    (
        "fresh product QC longer than shelf life",
        lambda: product(storage=Storage.FRESH, qc_release_days=4, fresh_shelf_days=3),
        ("Product 'CART'", "fresh", "QC release (4 d)", "shelf life (3 d)"),
    ),
    (
        "shelf life from an unknown step",
        lambda: product(storage=Storage.FRESH, shelf_life_from_step="thaw"),
        ("Product 'CART'", "shelf life", "'thaw'"),
    ),
    (
        "cryopreserved product with lymphodepletion before release",
        lambda: product(ld_before_release=True),
        ("Product 'CART'", "cryopreserved", "lymphodepletion", "release"),
    ),
    (
        "product apheresis of 0 hours",
        lambda: product(apheresis_hours=0),
        ("Product 'CART'", "apheresis hours", "got 0"),
    ),
    (
        "cohort cap 0",
        lambda: Cohort("C1", 0),
        ("Cohort 'C1'", "cap", "got 0"),
    ),
    (
        "trial enrolment ends before it starts",
        lambda: trial(enrolment_end=START - timedelta(days=1)),
        ("Trial 'T1'", "enrolment", "2027-01-03", "2027-01-04"),
    ),
    (
        "trial without cohorts",
        lambda: trial(cohorts=()),
        ("Trial 'T1'", "at least one cohort"),
    ),
    (
        "trial cohort twice",
        lambda: trial(cohorts=(C1, C1)),
        ("Trial 'T1'", "cohort", "'C1'", "twice"),
    ),
    (
        "trial priority 0",
        lambda: trial(priority=0),
        ("Trial 'T1'", "priority", "1-9"),
    ),
    (
        "patient latest before earliest apheresis",
        lambda: patient("P1", latest_apheresis=START - timedelta(days=1)),
        ("Patient 'P1'", "latest apheresis (2027-01-03)", "earliest (2027-01-04)"),
    ),
    (
        "patient earliest apheresis before referral",
        lambda: patient("P1", referral_date=START + timedelta(days=1)),
        ("Patient 'P1'", "earliest apheresis", "before the referral (2027-01-05)"),
    ),
    (
        "patient on trial without cohort",
        lambda: patient("P1", trial_code="T1"),
        ("Patient 'P1'", "trial", "cohort"),
    ),
    (
        "patient in cohort without trial",
        lambda: patient("P1", cohort_code="C1"),
        ("Patient 'P1'", "trial", "cohort"),
    ),
    (
        "referred patient with done steps",
        lambda: patient(
            "P1",
            done_steps=(DoneStep("apheresis", T0, T0 + timedelta(hours=6)),),
        ),
        ("Patient 'P1'", "steps done", "'referred'"),
    ),
    (
        "patient priority 10",
        lambda: patient("P1", priority=10),
        ("Patient 'P1'", "priority", "1-9"),
    ),
    (
        "done step ends before it starts",
        lambda: DoneStep("seed", T0, T0 - timedelta(hours=1)),
        ("Done step 'seed'", "ends before it starts"),
    ),
    (
        "assignment ends before it starts",
        lambda: Assignment(
            "P1", "CART", "seed", ResourceType.CLEANROOM, "CR1", T0, T0 - timedelta(hours=1)
        ),
        ("'P1'", "'seed'", "ends before it starts"),
    ),
    (
        "assignment quantity 0",
        lambda: Assignment(
            "P1", "CART", "seed", ResourceType.CLEANROOM, "CR1", T0, T0 + timedelta(hours=1), 0
        ),
        ("quantity", "more than 0"),
    ),
]


@pytest.mark.parametrize(("build", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_object_is_refused_with_a_clear_message(
    build: Callable[[], object], words: tuple[str, ...]
) -> None:
    """Each bad value raises ValidationError whose message names the object and the problem."""
    assert_mentions(refused(build), *words)


def test_validation_error_is_a_value_error() -> None:
    """Callers catching ValueError also catch ValidationError."""
    assert issubclass(ValidationError, ValueError)


BOUNDARIES: list[tuple[str, Callable[[], object]]] = [
    ("site day 0-24 h", lambda: Site("KS", "Site", day_start_hour=0, day_end_hour=24)),
    ("cleanroom without changeover", lambda: Cleanroom("CR1", "R", Grade.A, (), 0)),
    ("60 contracted hours", lambda: StaffMember("OP1", (Role.QP,), (), 60)),
    ("leave shift not day work", lambda: ShiftCode("L", "Leave", 0, 0, False, True)),
    ("ward with 0 beds", lambda: Ward("W1", "Ward", 0)),
    ("apheresis all zero", lambda: ApheresisCapacity((0, 0, 0, 0, 0, 0, 0))),
    (
        "max lag equal to min lag",
        lambda: ProcessStep("s", "S", 6, min_lag_hours=5, max_lag_hours=5),
    ),
    ("24 h working-hours step", lambda: ProcessStep("s", "S", 24, working_hours_only=True)),
    ("failure probability 0", lambda: product(failure_probability=0.0)),
    (
        "fresh QC equal to shelf life",
        lambda: product(storage=Storage.FRESH, qc_release_days=3, fresh_shelf_days=3),
    ),
    (
        "fresh product, shelf life from harvest, lymphodepletion before release",
        lambda: product(
            storage=Storage.FRESH, shelf_life_from_step="harvest", ld_before_release=True
        ),
    ),
    ("cohort cap 1", lambda: Cohort("C1", 1)),
    ("one-day enrolment", lambda: trial(enrolment_end=START)),
    ("apheresis on referral day only", lambda: patient("P1", window_days=0)),
    (
        "in-process patient with done steps",
        lambda: patient(
            "P1",
            status=PatientStatus.IN_PROCESS,
            done_steps=(DoneStep("apheresis", T0, T0 + timedelta(hours=6)),),
        ),
    ),
]


@pytest.mark.parametrize("build", [b[1] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES])
def test_values_on_the_boundary_are_accepted(build: Callable[[], object]) -> None:
    """The limits themselves are valid: validation refuses only what lies beyond them."""
    assert build() is not None


# Codes ---------------------------------------------------------------------------------

CODE_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
CODE_CHARS = "abcXYZ019_.-"
# No newline here: trailing newlines have their own test below.
BAD_CHARS = " /#é\t:"


@pytest.mark.parametrize("code", ["", " ", "CR 1", "-CR1", ".CR1", "_CR1", "C" * 41, "CR/1", "Ré"])
def test_bad_cleanroom_code_is_refused(code: str) -> None:
    """Empty codes, spaces, bad first characters, odd characters and >40 chars are refused."""
    assert_mentions(refused(lambda: Cleanroom(code, "Room", Grade.B, ())), "Cleanroom code", "1-40")


@given(st.from_regex(CODE_RULE, fullmatch=True))
def test_any_code_following_the_rule_is_accepted(code: str) -> None:
    """Every 1-40 character code of letters, digits, '-', '_', '.' (alphanumeric first) is ok."""
    assert Ward(code, "Ward", 1).code == code


@given(st.text(alphabet=CODE_CHARS + BAD_CHARS, max_size=45))
def test_code_is_accepted_exactly_when_it_follows_the_rule(code: str) -> None:
    """A code is refused, naming it, exactly when it breaks the rule."""
    if CODE_RULE.fullmatch(code):
        assert Site(code, "Site").code == code
    else:
        assert_mentions(refused(lambda: Site(code, "Site")), "Site code", repr(code))


@pytest.mark.parametrize("code", ["P1\n", "CR1\n"])
def test_code_with_trailing_newline_is_refused(code: str) -> None:
    """A code ending in a newline (pasted from a spreadsheet cell) is refused."""
    refused(lambda: Patient(code, "CART", START, START, START))


def test_contracted_hours_below_one_are_refused() -> None:
    """Half an hour a week is outside the 1-60 hours the message promises."""
    refused(lambda: StaffMember("OP1", (Role.OPERATOR,), contracted_hours_per_week=0.5))


# Windows -------------------------------------------------------------------------------

MOMENTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31))


@given(MOMENTS, MOMENTS)
def test_window_is_valid_exactly_when_it_ends_after_it_starts(
    start: datetime, end: datetime
) -> None:
    """Any (start, end) with end <= start is refused; any with end > start is accepted."""
    if end > start:
        assert Window(start, end).end == end
    else:
        assert_mentions(refused(lambda: Window(start, end)), "before it starts")


@given(st.floats(min_value=-10, max_value=100, allow_nan=False))
def test_failure_probability_must_be_in_zero_to_one(probability: float) -> None:
    """A failure probability is accepted exactly when it lies in [0, 1)."""
    if 0 <= probability < 1:
        assert product(failure_probability=probability).failure_probability == probability
    else:
        assert_mentions(refused(lambda: product(failure_probability=probability)), "failure")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"deterministic_time": float("inf")}, "finite"),
        ({"deterministic_time": float("nan")}, "more than 0"),
        ({"time_limit_s": float("inf")}, "finite"),
        ({"seed": 2**31}, "32-bit"),
        ({"seed": -(2**31) - 1}, "32-bit"),
        ({"workers": 65}, "1-64"),
    ],
)
def test_solve_settings_refuse_endless_budgets_and_seeds_cp_sat_cannot_take(
    changes: dict[str, Any], words: str
) -> None:
    """A budget that never runs out, or a seed beyond 32 bits, is refused when made."""
    with pytest.raises(ValidationError, match=words):
        SolveSettings(**changes)


@pytest.mark.parametrize("seed", [-(2**31), 0, 2**31 - 1])
def test_solve_settings_take_every_32_bit_seed(seed: int) -> None:
    """The ends of the 32-bit range are seeds CP-SAT takes, so they stay allowed."""
    assert SolveSettings(seed=seed).seed == seed
