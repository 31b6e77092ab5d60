"""The independent plan checker: a valid plan passes, and each single break is reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from planner import (
    ApheresisCapacity,
    Assignment,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    Patient,
    PatientSchedule,
    PatientStatus,
    Plan,
    ProcessStep,
    Product,
    ResourceType,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    SolverInfo,
    SolveSettings,
    StaffMember,
    Storage,
    Trial,
    Ward,
    Window,
    compute_kpis,
)
from planner.checks import changeovers, check_plan
from tests.factories import START, patient
from tests.factories import product as calendar_product
from tests.factories import tiny_scenario as calendar_scenario

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CLEANROOM, STAFF, BED = ResourceType.CLEANROOM, ResourceType.STAFF_POOL, ResourceType.BED
APHERESIS, NONE = ResourceType.APHERESIS, ResourceType.NONE


def product(*args: Any, **kwargs: Any) -> Product:
    """The factory product, infused any day unless told: the hand-made plans here move days
    around to break one rule at a time; the clinical calendar has tests of its own."""
    kwargs.setdefault("infusion_any_day", True)
    return calendar_product(*args, **kwargs)


#: Day shifts 08-22: the hand-made plans seed in the afternoon too, and someone's shift
#: must cover each staffed step (the working day, and so the pooled hours, stay 08-16).
LONG_DAY = (ShiftCode("D", "Day 08-22", 8, 14), ShiftCode("L", "Leave", 0, 0, False, True))


def tiny_scenario(*args: Any, **kwargs: Any) -> Scenario:
    """tiny_scenario with the any-day product above and long day shifts, unless given."""
    kwargs.setdefault("products", (product(),))
    kwargs.setdefault("shift_codes", LONG_DAY)
    return calendar_scenario(*args, **kwargs)


def at(day: int, hour: int = 0) -> datetime:
    """Local time on 2027-01-<day> at an hour."""
    return datetime(2027, 1, day, hour)


def chain(
    code: str, aph: datetime, seed: datetime, harvest: datetime, infusion: date
) -> tuple[tuple[Assignment, ...], PatientSchedule]:
    """Rows and milestones of one CART patient of tiny_scenario(), as the solver writes them.

    Apheresis 6 h, seed 6 h (room + operator), expand 72 h, hold until harvest, harvest 6 h
    (room + operator), 8 h changeover, QC release 2 days, lymphodepletion, 3 bed-days.
    """
    made = harvest + 6 * HOUR
    release = made.date() + 2 * DAY
    midnight = datetime.combine(infusion, time())

    def a(step: str, kind: ResourceType, res: str, start: datetime, end: datetime) -> Assignment:
        return Assignment(code, "CART", step, kind, res, start, end)

    rows = (
        a("apheresis", APHERESIS, "apheresis", aph, aph + 6 * HOUR),
        a("seed", CLEANROOM, "CR1", seed, seed + 6 * HOUR),
        a("seed", STAFF, "operator:CART", seed, seed + 6 * HOUR),
        a("expand", CLEANROOM, "CR1", seed + 6 * HOUR, seed + 78 * HOUR),
        a("hold", CLEANROOM, "CR1", seed + 78 * HOUR, harvest),
        a("harvest", CLEANROOM, "CR1", harvest, made),
        a("harvest", STAFF, "operator:CART", harvest, made),
        a("changeover", CLEANROOM, "CR1", made, made + 8 * HOUR),
        a("qc_release", NONE, "", made, datetime.combine(release, time(8))),
        a("lymphodepletion", NONE, "", midnight - 3 * DAY + 8 * HOUR, midnight),
        a("inpatient", BED, "W1", midnight, midnight + 3 * DAY),
        a("infusion", NONE, "", midnight + 8 * HOUR, midnight + 10 * HOUR),
    )
    schedule = PatientSchedule(
        code,
        "CART",
        aph.date(),
        seed,
        made,
        release,
        infusion - 3 * DAY,
        infusion,
        infusion,
        infusion + 2 * DAY,
    )
    return rows, schedule


def plan_of(scenario: Scenario, *chains: tuple[tuple[Assignment, ...], PatientSchedule]) -> Plan:
    """A plan made of these patient chains."""
    rows = tuple(r for c in chains for r in c[0])
    schedules = tuple(c[1] for c in chains)
    return Plan(
        scenario.name,
        datetime(2027, 1, 1),
        rows,
        schedules,
        (),
        compute_kpis(scenario, schedules, rows),
        SolverInfo("OPTIMAL", "hand", 0.0, 0.0, 0.0, SolveSettings()),
    )


# P1 collected Wednesday 6 January, P2 a week later: one room, one slot a day, 2 beds.
# Lymphodepletion (3 days) starts on the day of release.
P1 = chain("P1", at(6, 8), at(7, 8), at(11, 8), date(2027, 1, 16))
P2 = chain("P2", at(13, 8), at(14, 8), at(18, 8), date(2027, 1, 23))


def valid_plan(scenario: Scenario | None = None) -> tuple[Scenario, Plan]:
    """tiny_scenario(2) (or the given one) and a hand-made plan that keeps every rule."""
    s = scenario or tiny_scenario(2)
    return s, plan_of(s, P1, P2)


def edit(
    plan: Plan, match: Callable[[Assignment], bool], change: Callable[[Assignment], Assignment]
) -> Plan:
    """The plan with change applied to every assignment that matches."""
    rows = tuple(change(a) if match(a) else a for a in plan.assignments)
    return replace(plan, assignments=rows)


def shift(delta: timedelta) -> Callable[[Assignment], Assignment]:
    """Move an assignment by delta, keeping its length."""
    return lambda a: replace(a, start=a.start + delta, end=a.end + delta)


def of(
    patient_code: str, step: str | None = None, kind: ResourceType | None = None
) -> Callable[[Assignment], bool]:
    """Match assignments of a patient (and step, and resource kind)."""
    return lambda a: (
        a.patient_code == patient_code
        and step in (None, a.step_code)
        and kind in (None, a.resource_type)
    )


def only_problem(scenario: Scenario, plan: Plan, *words: str) -> str:
    """The single violation of the plan, checked to contain every word."""
    problems = check_plan(scenario, plan)
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])
    return problems[0]


def test_valid_plan_has_no_violations() -> None:
    """The unbroken hand-made plan passes the check."""
    s, plan = valid_plan()
    assert check_plan(s, plan) == []


def test_two_patients_overlapping_in_one_room_are_reported() -> None:
    """P2 moved six days earlier shares CR1 with P1: the room and both patients are named."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2"), shift(-6 * DAY))
    only_problem(s, broken, "CR1", "P1", "P2", "2027-01-08 08:00")


def test_second_patient_starting_inside_the_changeover_is_reported() -> None:
    """P2 seeded at 15:00 the day P1's batch leaves CR1 at 14:00 (8 h changeover) is named.

    Operators work 08-22 here, so someone's shift covers P2's seeding from 15:00."""
    s = tiny_scenario(2)
    p2 = chain("P2", at(8, 10), at(11, 15), at(15, 8), date(2027, 1, 20))
    broken = plan_of(s, P1, p2)
    only_problem(s, broken, "CR1", "P1", "until 2027-01-11 22:00", "P2", "2027-01-11 15:00")


def test_changeover_itself_is_not_counted_as_work() -> None:
    """A changeover row overlapping the next patient is judged by the room's changeover hours."""
    s, plan = valid_plan()
    stretched = edit(
        plan,
        of("P1", "changeover"),
        lambda a: replace(a, end=a.end + 5 * DAY),
    )
    assert check_plan(s, stretched) == []


def test_room_used_during_downtime_is_reported() -> None:
    """P2 moved a week later, into CR1's requalification, is named with the downtime reason."""
    down = Window(at(24), at(27), "requalification")
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8, downtime=(down,))
    s, plan = valid_plan(tiny_scenario(2, cleanrooms=(room,)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P2"), shift(7 * DAY))
    only_problem(s, broken, "CR1", "P2", "requalification")


def test_room_not_approved_for_the_product_is_reported() -> None:
    """A room not approved for the patient's product is named with the patient."""
    room = Cleanroom("CR1", "Room 1", Grade.B, (), changeover_hours=8)
    s, plan = valid_plan(tiny_scenario(2, cleanrooms=(room,)))
    problems = check_plan(s, plan)
    assert "CR1 is not approved for P1's product." in problems
    assert "CR1 is not approved for P2's product." in problems


def test_unknown_room_is_reported() -> None:
    """An assignment to a room the scenario does not have is named."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", kind=CLEANROOM), lambda a: replace(a, resource_code="CR9"))
    only_problem(s, broken, "CR9", "not in the scenario")


def test_ward_over_its_beds_is_reported() -> None:
    """With one bed, P1 kept in until P2 arrives makes two in-patients on 23 January."""
    s, plan = valid_plan(tiny_scenario(2, ward=Ward("W1", "Ward", beds=1)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P1", kind=BED), lambda a: replace(a, end=at(24)))
    only_problem(s, broken, "Ward", "2 in-patients", "2027-01-23", "1 beds")


def test_ward_bed_changes_are_respected() -> None:
    """A closure of the ward on P2's bed days is reported on each of those days."""
    closure = BedChange(date(2027, 1, 23), date(2027, 1, 24), 0, "painting")
    s, plan = valid_plan(tiny_scenario(2, ward=Ward("W1", "Ward", 2, (closure,))))
    assert check_plan(s, plan) == [
        "Ward has 1 in-patients on 2027-01-23 but 0 beds.",
        "Ward has 1 in-patients on 2027-01-24 but 0 beds.",
    ]


def test_apheresis_over_the_days_slots_is_reported() -> None:
    """A second collection on P1's day, which has one slot, is reported with the date."""
    s, plan = valid_plan()
    extra = replace(plan.assignments[0], patient_code="P1")
    broken = replace(plan, assignments=(*plan.assignments, extra))
    only_problem(s, broken, "2 apheresis collections", "2027-01-06", "1 slots")


def test_apheresis_on_a_holiday_is_reported() -> None:
    """Moving P2's collection to a Monday that is a public holiday breaks its zero slots."""
    s, plan = valid_plan(tiny_scenario(2, holidays=(Holiday(date(2027, 1, 11), "Closed"),)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P2", "apheresis"), shift(-2 * DAY))
    only_problem(s, broken, "1 apheresis collections", "2027-01-11", "0 slots")


def test_staff_pool_over_rostered_hours_is_reported() -> None:
    """Three operators for P2's 6-hour seeding need 18 h; two on day shift give 16 h (and
    are two people, not three)."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", "seed", STAFF), lambda a: replace(a, quantity=3))
    problems = check_plan(s, broken)
    assert problems == [
        "Pool operator needs 18 h on 2027-01-14 but 16 h are rostered.",
        "Pool operator:CART needs 18 h on 2027-01-14 but 16 h are rostered.",
        "P2 seed needs 3 operator:CART for 6 h from 2027-01-14 08:00, but 2 rostered shifts "
        "cover it.",
    ]


def test_staff_not_trained_on_the_product_give_its_pool_no_hours() -> None:
    """OP2 is not trained on CART: P2 seeded the day P1 is needs 12 h of operator:CART,
    which OP1 alone (8 h) does not have, though the operators together (16 h) do."""
    base = tiny_scenario(2)
    staff = (base.staff[0], StaffMember("OP2", (Role.OPERATOR,), ()))
    s, plan = valid_plan(replace(base, staff=staff))
    assert check_plan(s, plan) == []
    same_day = edit(
        plan, of("P2", "seed", STAFF), lambda a: replace(a, start=at(7, 8), end=at(7, 14))
    )
    assert check_plan(s, same_day) == [
        "Pool operator:CART needs 12 h on 2027-01-07 but 8 h are rostered."
    ]


def test_a_need_longer_than_any_rostered_shift_is_reported() -> None:
    """P2's seeding needs one operator for 10 h: the pool has 16 h that day, but no one's
    8-hour shift covers the need, and two people cannot split it."""
    eight_hours = tuple(replace(c, hours=8) if c.code == "D" else c for c in LONG_DAY)
    s, plan = valid_plan(tiny_scenario(2, shift_codes=eight_hours))
    long = edit(plan, of("P2", "seed", STAFF), lambda a: replace(a, end=a.start + 10 * HOUR))
    only_problem(s, long, "P2 seed needs 1 operator:CART for 10 h", "0 rostered shifts cover it")


def test_staff_on_leave_give_no_hours() -> None:
    """With both operators on leave the day P2 is seeded, the pool has 0 h that day."""
    s = tiny_scenario(2)
    leave_day = date(2027, 1, 14)
    roster = tuple(
        RosterEntry(e.staff_code, e.day, "L") if e.day == leave_day else e for e in s.roster
    )
    s, plan = valid_plan(replace(s, roster=roster))
    problems = check_plan(s, plan)
    assert "Pool operator:CART needs 6 h on 2027-01-14 but 0 h are rostered." in problems


def test_step_starting_before_its_min_lag_is_reported() -> None:
    """With seeding at least 12 h after apheresis, P2 seeded 1 h after it is named."""
    steps = list(product().steps)
    steps[0] = replace(steps[0], min_lag_hours=12)
    s, plan = valid_plan(tiny_scenario(2, products=(product(steps=tuple(steps)),)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P2", "seed"), lambda a: replace(a, start=at(13, 15), end=at(13, 21)))
    only_problem(s, broken, "P2", "seed", "1 h after", "allowed 12-72 h")


def test_step_starting_after_its_max_lag_is_reported() -> None:
    """P2 harvested 49 h after expansion, beyond its 48 h maximum lag, is named."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", "harvest"), shift(DAY + 7 * HOUR))
    # Release moves a day later, so lymphodepletion and infusion do too.
    tail = ("lymphodepletion", "infusion", "inpatient")
    broken = edit(broken, lambda a: a.patient_code == "P2" and a.step_code in tail, shift(DAY))
    only_problem(s, broken, "P2", "harvest", "49 h after", "allowed 0-48 h")


def test_working_hours_step_starting_at_night_is_reported() -> None:
    """P2's seeding moved to 02:00 starts outside every operator's shift (08-22)."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", "seed"), shift(-6 * HOUR))
    assert "P2 step seed starts outside working hours." in check_plan(s, broken)


def test_staffed_step_may_start_in_a_shift_after_the_working_day() -> None:
    """Staffed steps run in their people's shifts, not the site's day (08-16): P2's seeding
    at 16:00 inside the 08-22 shifts passes; moved to 17:00, its 6 h run past 22:00, and
    the cover and named-staff checks, not the start hour, report it."""
    s, plan = valid_plan()

    def seeded_later(hours: int) -> Plan:
        later = edit(
            plan, lambda a: of("P2", "seed")(a) or of("P2", "expand")(a), shift(hours * HOUR)
        )
        return edit(later, of("P2", "hold"), lambda a: replace(a, start=a.start + hours * HOUR))

    assert check_plan(s, seeded_later(8)) == []
    only_problem(s, seeded_later(9), "P2 seed needs 1 operator:CART", "0 rostered shifts cover it")


def test_missing_step_is_reported() -> None:
    """A patient without a harvest row misses that step."""
    s, plan = valid_plan()
    rows = tuple(a for a in plan.assignments if not of("P2", "harvest")(a))
    assert check_plan(s, replace(plan, assignments=rows)) == ["P2 misses step harvest."]


def test_infusion_before_qc_release_is_reported() -> None:
    """P2 infused on 19 January, before its release on the 20th, is named."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", "infusion"), shift(-4 * DAY))
    only_problem(s, broken, "P2", "2027-01-19", "before release 2027-01-20")


def test_fresh_product_infused_after_shelf_life_is_reported() -> None:
    """A fresh product kept 5 days may be infused on day 5 after harvest, not on day 6."""
    fresh = product(storage=Storage.FRESH, fresh_shelf_days=5)
    s, plan = valid_plan(tiny_scenario(2, products=(fresh,)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P2", "infusion"), shift(DAY))
    only_problem(s, broken, "P2", "fresh", "shelf life")


def test_cryopreserved_product_has_no_shelf_limit() -> None:
    """A cryopreserved product may be infused weeks after harvest."""
    s, plan = valid_plan()
    late = edit(plan, of("P2", "infusion"), shift(20 * DAY))
    assert check_plan(s, late) == []


def test_fresh_shelf_life_counts_from_the_day_a_midnight_batch_was_made() -> None:
    """A fresh batch ending at 00:00 on the 12th was made on the 11th: 3 days end on the 14th."""
    step = ProcessStep("expand", "Expansion", 72)
    fresh = product(steps=(step,), storage=Storage.FRESH, qc_release_days=0, fresh_shelf_days=3)
    s = tiny_scenario(1, products=(fresh,))
    rows = (
        Assignment("P1", "CART", "apheresis", APHERESIS, "apheresis", at(6, 8), at(6, 14)),
        Assignment("P1", "CART", "expand", CLEANROOM, "CR1", at(9), at(12)),
        Assignment("P1", "CART", "infusion", NONE, "", at(15, 8), at(15, 10)),
    )
    plan = replace(valid_plan(s)[1], assignments=rows, schedules=())
    assert check_plan(s, edit(plan, of("P1", "infusion"), shift(DAY)))  # the 16th is caught
    assert any("shelf life" in p for p in check_plan(s, plan))


def test_fresh_shelf_life_counts_from_the_configured_step() -> None:
    """Kept 9 days from seeding: P2 infused 10 days after seeding is named, though only 6
    days after harvest."""
    fresh = product(storage=Storage.FRESH, fresh_shelf_days=9, shelf_life_from_step="seed")
    s, plan = valid_plan(tiny_scenario(2, products=(fresh,)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P2", "infusion"), shift(DAY))
    only_problem(s, broken, "P2", "fresh", "shelf life", "from step seed on 2027-01-14")


def test_lymphodepletion_before_apheresis_ends_is_reported() -> None:
    """P1's lymphodepletion moved to the morning of its apheresis day, 08:00, is named."""
    fresh = product(storage=Storage.FRESH, fresh_shelf_days=5, ld_before_release=True)
    s, plan = valid_plan(tiny_scenario(2, products=(fresh,)))
    assert check_plan(s, plan) == []
    broken = edit(plan, of("P1", "lymphodepletion"), lambda a: replace(a, start=at(6, 8)))
    only_problem(s, broken, "P1", "lymphodepletion", "before apheresis ends 2027-01-06 14:00")


def test_lymphodepletion_before_release_is_reported() -> None:
    """P2's lymphodepletion a day before its cryopreserved batch is released is named."""
    s, plan = valid_plan()
    broken = edit(plan, of("P2", "lymphodepletion"), shift(-DAY))
    only_problem(s, broken, "P2", "lymphodepletion", "2027-01-19", "before release 2027-01-20")


def test_lymphodepletion_before_release_passes_when_the_product_allows_it() -> None:
    """A fresh product allowing it may start lymphodepletion the day before release."""
    allowing = product(storage=Storage.FRESH, fresh_shelf_days=5, ld_before_release=True)
    waiting = replace(allowing, ld_before_release=False)
    early = edit(valid_plan()[1], of("P2", "lymphodepletion"), shift(-DAY))
    assert check_plan(tiny_scenario(2, products=(allowing,)), early) == []
    assert check_plan(tiny_scenario(2, products=(waiting,)), early) != []


# Steps already done --------------------------------------------------------------------


def done_as_planned(code: str, *steps: str) -> Patient:
    """Patient code of tiny_scenario() in process, these steps recorded as the plan has them."""
    rows = {a.step_code: a for a in (P1 if code == "P1" else P2)[0] if a.resource_type is not STAFF}
    done = tuple(
        DoneStep(step, rows[step].start, rows[step].end, rows[step].resource_code) for step in steps
    )
    return patient(code, status=PatientStatus.IN_PROCESS, done_steps=done)


def with_done(*patients: Patient, **overrides: object) -> Scenario:
    """tiny_scenario(2) with these patients in place of P1 and P2 of the same codes."""
    given = {p.code: p for p in patients}
    base = tiny_scenario(2, **overrides)
    return replace(base, patients=tuple(given.get(p.code, p) for p in base.patients))


def test_done_steps_kept_as_recorded_pass() -> None:
    """The valid plan passes when P1's apheresis and seeding are recorded as it has them."""
    s = with_done(done_as_planned("P1", "apheresis", "seed"))
    assert check_plan(s, valid_plan(s)[1]) == []


def test_a_moved_done_step_is_reported() -> None:
    """P1's seeding recorded at 09:30 but planned at 08:00 is named."""
    p1 = done_as_planned("P1", "apheresis", "seed")
    seed = replace(p1.done_steps[1], start=at(7, 9) + 30 * timedelta(minutes=1), end=at(7, 15))
    s = with_done(replace(p1, done_steps=(p1.done_steps[0], seed)))
    problems = check_plan(s, valid_plan(s)[1])
    assert any("P1's done step seed" in p and "not kept as recorded" in p for p in problems)


def test_a_done_step_planned_with_another_end_is_reported() -> None:
    """P1's seeding recorded as ending at 15:00 but planned to end at 14:00 is named,
    though its start is kept."""
    p1 = done_as_planned("P1", "apheresis", "seed")
    seed = replace(p1.done_steps[1], end=at(7, 15))
    s = with_done(replace(p1, done_steps=(p1.done_steps[0], seed)))
    problems = check_plan(s, valid_plan(s)[1])
    assert any("P1's done step seed" in p and "not kept as recorded" in p for p in problems)


def test_an_in_process_patient_left_out_is_reported() -> None:
    """A plan without P1, whose apheresis is done, names P1."""
    s = with_done(done_as_planned("P1", "apheresis"))
    plan = plan_of(s, P2)
    only_problem(s, plan, "P1", "not in the plan")


def test_done_collections_may_exceed_the_slots_but_planned_ones_may_not() -> None:
    """Collections done on a day without slots are facts; a planned one on it is named."""
    closed = tiny_scenario(2, apheresis=ApheresisCapacity((1, 1, 0, 1, 1, 0, 0)))
    both_done = with_done(
        done_as_planned("P1", "apheresis"),
        done_as_planned("P2", "apheresis"),
        apheresis=closed.apheresis,
    )
    assert check_plan(both_done, valid_plan(both_done)[1]) == []
    one_planned = with_done(done_as_planned("P1", "apheresis"), apheresis=closed.apheresis)
    only_problem(one_planned, valid_plan(one_planned)[1], "1 apheresis collections", "2027-01-13")


def test_done_staff_hours_may_exceed_the_roster_but_planned_ones_may_not() -> None:
    """With no operator on 7 January, P1's done seeding passes; P2 seeded that day is named."""
    base = tiny_scenario(2)
    roster = tuple(e for e in base.roster if e.day != date(2027, 1, 7))
    s = with_done(done_as_planned("P1", "apheresis", "seed"), roster=roster)
    plan = valid_plan(s)[1]
    assert check_plan(s, plan) == []
    p2_seed_same_day = edit(
        plan, of("P2", "seed", STAFF), lambda a: replace(a, start=at(7, 8), end=at(7, 14))
    )
    assert "Pool operator:CART needs 12 h on 2027-01-07 but 0 h are rostered." in check_plan(
        s, p2_seed_same_day
    )


def test_done_stays_may_overlap_downtime_but_planned_ones_may_not() -> None:
    """CR1 down while P1's done seeding ran passes; down during its planned expansion fails."""
    down = Window(at(7, 10), at(7, 12), "filter change")
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8, downtime=(down,))
    s = with_done(done_as_planned("P1", "apheresis", "seed"), cleanrooms=(room,))
    assert check_plan(s, valid_plan(s)[1]) == []
    later = replace(down, start=at(8, 10), end=at(8, 12))
    s_later = with_done(
        done_as_planned("P1", "apheresis", "seed"), cleanrooms=(replace(room, downtime=(later,)),)
    )
    only_problem(s_later, valid_plan(s_later)[1], "CR1", "P1", "filter change")
    # A stay wholly done may even run into downtime that outlasts it.
    past = replace(down, start=at(11, 10), end=at(11, 16))
    s_past = with_done(
        done_as_planned("P1", "apheresis", "seed", "expand", "harvest"),
        cleanrooms=(replace(room, downtime=(past,)),),
    )
    assert check_plan(s_past, valid_plan(s_past)[1]) == []


def test_a_planned_stay_inside_a_done_one_is_reported() -> None:
    """P2 planned into CR1 while P1's done harvest still holds it is named."""
    s = with_done(done_as_planned("P1", "apheresis", "seed", "expand", "harvest"))
    p2 = chain("P2", at(8, 10), at(11, 15), at(15, 8), date(2027, 1, 20))
    only_problem(s, plan_of(s, P1, p2), "CR1", "P1", "P2", "2027-01-11 15:00")


def test_the_lag_into_a_done_step_is_a_fact_but_the_lag_after_it_is_checked() -> None:
    """P1 seeded at 16:00, 74 h after apheresis: reported unless recorded as done; its
    expansion 25 h after the done seeding is still named."""
    late = chain("P1", at(6, 8), at(9, 16), at(14, 8), date(2027, 1, 19))
    rows = {a.step_code: a for a in late[0] if a.resource_type is not STAFF}
    done = tuple(
        DoneStep(step, rows[step].start, rows[step].end, rows[step].resource_code)
        for step in ("apheresis", "seed")
    )
    recorded = with_done(patient("P1", status=PatientStatus.IN_PROCESS, done_steps=done))
    plan = plan_of(recorded, late)
    assert check_plan(recorded, plan) == []
    assert any("seed starts 74 h after" in p for p in check_plan(tiny_scenario(2), plan))
    slow = edit(plan, of("P1", "expand"), shift(25 * HOUR))
    only_problem(recorded, slow, "P1", "expand", "25 h after", "allowed 0-24 h")


def trial_scenario(cap: int, stagger: int, *extra: object) -> Scenario:
    """tiny_scenario(2) with P1 and P2 (and maybe more patients) in cohort T1/C1."""
    t = Trial("T1", "Trial", "CART", (Cohort("C1", cap, stagger),), START, START + 60 * DAY)
    patients = (
        patient("P1", trial_code="T1", cohort_code="C1"),
        patient("P2", trial_code="T1", cohort_code="C1"),
        patient("P3", trial_code="T1", cohort_code="C1"),
        *extra,
    )
    return tiny_scenario(trials=(t,), patients=patients)


def test_cohort_over_its_cap_is_reported() -> None:
    """Scheduling a third patient in a cohort capped at two names the cohort."""
    s, plan = valid_plan(trial_scenario(2, 5))
    assert check_plan(s, plan) == []
    p3 = replace(P2[1], patient_code="P3", infusion_day=date(2027, 1, 29))
    broken = replace(plan, schedules=(*plan.schedules, p3))
    only_problem(s, broken, "Cohort T1/C1", "3 > 2")


def test_cohort_stagger_too_short_is_reported() -> None:
    """Infusions 3 days apart in a cohort needing 5 are named with both dates."""
    s, plan = valid_plan(trial_scenario(3, 5))
    assert check_plan(s, plan) == []
    early = replace(plan.schedules[1], infusion_day=date(2027, 1, 18))
    broken = replace(plan, schedules=(plan.schedules[0], early))
    only_problem(s, broken, "Cohort T1/C1", "2027-01-16", "2027-01-18", "5 days")


def test_cohort_cap_counts_patients_already_infused() -> None:
    """A cohort of cap 2 with one patient infused has room for one more, not two."""
    infused = patient("P4", trial_code="T1", cohort_code="C1", status=PatientStatus.INFUSED)
    s, plan = valid_plan(trial_scenario(2, 0, infused))
    assert any("Cohort T1/C1" in p for p in check_plan(s, plan))


def test_solver_plan_passes_the_checker() -> None:
    """The solver's plan of the tiny scenario is valid, and breaking it is caught."""
    from solver import solve

    s = tiny_scenario(2)
    plan = solve(s, SolveSettings(deterministic_time=5.0))
    assert check_plan(s, plan) == []
    infusion = next(a for a in plan.assignments if a.step_code == "infusion")
    broken = edit(plan, lambda a: a == infusion, shift(-10 * DAY))
    assert any(infusion.patient_code in p and "before release" in p for p in check_plan(s, broken))


def test_apheresis_slots_follow_the_weekday() -> None:
    """Slots only on Wednesdays fit both Wednesday collections; slots only on Thursdays do not."""
    wednesdays = tiny_scenario(2, apheresis=ApheresisCapacity((0, 0, 1, 0, 0, 0, 0)))
    assert check_plan(*valid_plan(wednesdays)) == []
    thursdays = tiny_scenario(2, apheresis=ApheresisCapacity((0, 0, 0, 1, 0, 0, 0)))
    assert check_plan(*valid_plan(thursdays)) == [
        "1 apheresis collections on 2027-01-06 but 0 slots.",
        "1 apheresis collections on 2027-01-13 but 0 slots.",
    ]


def test_changeovers_follow_each_stay_in_a_room() -> None:
    """Each patient's stay in a room is followed by one changeover of the room's hours."""
    s, plan = valid_plan()
    cleaning = changeovers(s, plan.assignments)
    room_rows = [a for a in plan.assignments if a.resource_type is ResourceType.CLEANROOM]
    assert {a.patient_code for a in cleaning} == {a.patient_code for a in room_rows}
    for c in cleaning:
        last_end = max(a.end for a in room_rows if a.patient_code == c.patient_code)
        assert c.start == last_end
        assert c.end - c.start == timedelta(hours=s.cleanrooms[0].changeover_hours)
        assert c.resource_type is ResourceType.CLEANROOM and c.step_code == "changeover"


def test_weekend_or_holiday_infusion_and_lymphodepletion_are_reported() -> None:
    """With the clinical calendar, infusion on a Saturday, or LD starting on a holiday, is named."""
    s = calendar_scenario(2, products=(calendar_product(),))
    _, plan = valid_plan(s)  # P1 is infused on Saturday 16 January
    problems = check_plan(s, plan)
    assert any("P1's infusion on Sat 2027-01-16" in p for p in problems), problems
    monday = edit(
        plan,
        lambda a: a.patient_code == "P1" and a.step_code in ("infusion", "inpatient"),
        shift(2 * DAY),
    )
    monday = edit(monday, of("P1", "lymphodepletion"), shift(2 * DAY))
    assert not any("P1's infusion" in p for p in check_plan(s, monday))
    holiday = replace(s, holidays=(Holiday(date(2027, 1, 15), "A holiday"),))
    assert any("P1's infusion on Mon 2027-01-18" in p for p in check_plan(holiday, monday))


def test_release_on_a_day_without_a_qp_is_reported() -> None:
    """With QPs in the staff list, a batch released on a day none works is named."""
    base = tiny_scenario(2)
    qp = StaffMember("QP1", (Role.QP,), ())
    weekdays = [d for d in base.days() if d.weekday() < 5 and d != date(2027, 1, 13)]
    s = replace(
        base,
        staff=(*base.staff, qp),
        roster=(*base.roster, *(RosterEntry("QP1", d, "D") for d in weekdays)),
    )
    _, plan = valid_plan(s)  # P1 released Wednesday 13 January, the QP's day off
    problems = check_plan(s, plan)
    assert any("P1's batch is released on Wed 2027-01-13, when no QP works" in p for p in problems)
    assert s.release_on(date(2027, 1, 13)) == date(2027, 1, 14)


def test_lymphodepletion_waits_for_the_qps_release_day_not_the_qc_ready_day() -> None:
    """P1's batch is ready on Wednesday 13 January, when no QP works: released Thursday,
    so lymphodepletion starting on the Wednesday is named (infusion on the 16th is not)."""
    base = tiny_scenario(2)
    qp = StaffMember("QP1", (Role.QP,), ())
    weekdays = [d for d in base.days() if d.weekday() < 5 and d != date(2027, 1, 13)]
    s = replace(
        base,
        staff=(*base.staff, qp),
        roster=(*base.roster, *(RosterEntry("QP1", d, "D") for d in weekdays)),
    )
    problems = check_plan(s, valid_plan(s)[1])
    assert any(
        "P1's lymphodepletion starts on 2027-01-13, before release 2027-01-14" in p
        for p in problems
    ), problems
    assert not any("P1 is infused" in p for p in problems)


def test_an_infused_patients_last_bed_day_counts() -> None:
    """One bed; P0 infused on 21 January lies in it 21-23: P2, admitted on the 23rd, is
    one in-patient too many that day only."""
    s = tiny_scenario(2, ward=Ward("W1", "Ward", beds=1))
    assert check_plan(s, valid_plan(s)[1]) == []
    infused = patient("P0", status=PatientStatus.INFUSED, infused_on=date(2027, 1, 21))
    crowded = replace(s, patients=(*s.patients, infused))
    only_problem(crowded, valid_plan(crowded)[1], "2 in-patients on 2027-01-23 but 1 beds")


def test_an_escalation_gate_of_exactly_the_days_between_passes() -> None:
    """P1 (dose level 1) infused on 16 January, P2 (level 2) on the 23rd: a gate of 7 days
    passes, one of 8 is named."""

    def gated(days: int) -> Scenario:
        t = Trial(
            "T1",
            "Trial",
            "CART",
            (Cohort("DL1", 3), Cohort("DL2", 3, escalation_gate_days=days)),
            START,
            START + 60 * DAY,
        )
        patients = (
            patient("P1", trial_code="T1", cohort_code="DL1"),
            patient("P2", trial_code="T1", cohort_code="DL2"),
        )
        return tiny_scenario(trials=(t,), patients=patients)

    assert check_plan(*valid_plan(gated(7))) == []
    only_problem(*valid_plan(gated(8)), "DL2's first infusion (2027-01-23)", "less than 8 days")


def test_a_device_used_while_its_room_is_down_is_reported() -> None:
    """DEV1 stands in CR2: P1's expansion on it while CR2 is fumigated is named, though
    DEV1 itself has no downtime; a device standing in two rooms is not tied to either."""
    fumigation = Window(at(8, 0), at(9, 0), "fumigation")
    cr2 = Cleanroom("CR2", "Room 2", Grade.B, ("CART",), downtime=(fumigation,))
    base = tiny_scenario(2)
    s = replace(
        base,
        cleanrooms=(*base.cleanrooms, cr2),
        devices=(Device("DEV1", "Closed system", ("CR2",), ("CART",)),),
    )
    expand = next(a for a in P1[0] if a.step_code == "expand" and a.resource_type is CLEANROOM)
    on_device = replace(expand, resource_type=ResourceType.DEVICE, resource_code="DEV1")
    plan = replace(valid_plan(s)[1], assignments=(*valid_plan(s)[1].assignments, on_device))
    only_problem(s, plan, "DEV1 holds P1 during downtime 'fumigation' of its room CR2")
    movable = replace(s, devices=(Device("DEV1", "Closed system", ("CR1", "CR2"), ("CART",)),))
    assert check_plan(movable, plan) == []


def test_infusion_or_cryopreserved_lymphodepletion_before_the_batch_is_made_is_reported() -> None:
    """QC releases the day P2's batch is made (0 days): infusing that day, or starting
    lymphodepletion that morning, before the batch exists, is named."""
    s = tiny_scenario(2, products=(product(qc_release_days=0),))
    made = datetime(2027, 1, 18, 14)  # P2's harvest ends
    same_day = edit(
        plan_of(s, P1, P2),
        of("P2", "infusion"),
        lambda a: replace(a, start=made.replace(hour=16), end=made.replace(hour=18)),
    )
    assert any("P2 is infused on 2027-01-18, not after" in p for p in check_plan(s, same_day))
    early_ld = edit(
        plan_of(s, P1, P2),
        of("P2", "lymphodepletion"),
        lambda a: replace(a, start=made.replace(hour=8)),
    )
    only_problem(s, early_ld, "P2's lymphodepletion starts 2027-01-18 08:00", "batch is made")
