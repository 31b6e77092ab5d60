"""Staffed steps start inside their people's shifts, and pooled plans stay nameable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st
from openpyxl import load_workbook

from data.excel_export import write_plan_workbook
from planner import (
    Plan,
    Product,
    ResourceType,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    SolveSettings,
    StaffMember,
    StaffNeed,
)
from planner.checks import check_plan
from planner.replan import Replan
from solver import solve
from solver.greedy import Booking
from solver.instance import compile_instance
from solver.stability import attach, fits, prepare
from solver.staffing import assign_staff
from tests.factories import START, patient, product, tiny_scenario, with_patients

FAST = SolveSettings(deterministic_time=2.0)
ENGINES = pytest.mark.parametrize("cancel", [None, lambda: True], ids=["cp-sat", "greedy"])
DAY = ShiftCode("D", "Day 08-16", 8, 8)
LATE = ShiftCode("E", "Late 14-22", 14, 8)


def _weekdays(days: int = 28) -> list:
    return [
        START + timedelta(days=d) for d in range(days) if (START + timedelta(days=d)).weekday() < 5
    ]


def _centre(staff: dict[StaffMember, ShiftCode], **overrides: object) -> Scenario:
    """The tiny centre (working day 08-16) with each person on one shift every weekday."""
    roster = tuple(
        RosterEntry(person.code, day, shift.code)
        for person, shift in staff.items()
        for day in _weekdays()
    )
    base = tiny_scenario()
    codes = {s.code: s for s in (*base.shift_codes, *staff.values())}
    fields: dict[str, object] = dict(
        staff=tuple(staff),
        roster=roster,
        shift_codes=tuple(codes.values()),
        products=(product(), product("TIL")),
    )
    fields.update(overrides)
    return replace(base, **fields)  # type: ignore[arg-type]


def _staffed(plan: Plan) -> list:
    return [a for a in plan.assignments if a.resource_type is ResourceType.STAFF_POOL]


@ENGINES
def test_a_step_only_a_late_shift_can_staff_starts_in_it(
    cancel: Callable[[], bool] | None,
) -> None:
    """Only OP2, on the late shift 14-22, is trained on CART (OP1 works 08-16): seeding and
    harvest start at 14:00 and OP2 is named on both. At the working day's start no one
    could take them, and the patient was left out for want of staff."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("TIL",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    s = _centre({op1: DAY, op2: LATE}, patients=(patient("P1"),))
    plan = solve(s, FAST, cancel=cancel)
    assert check_plan(s, plan) == []
    assert plan.kpis.scheduled == 1
    assert {a.start.hour for a in _staffed(plan)} == {14}
    named = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF]
    assert sorted((a.step_code, a.resource_code) for a in named) == [
        ("harvest", "OP2"),
        ("seed", "OP2"),
    ]


def test_a_replan_keeps_late_steps_at_their_published_hour() -> None:
    """Re-planning with an urgent newcomer: P1's published chain still fits as it was (its
    steps at 14:00 start at the late slot), so the greedy floor may book it unchanged, and
    a frozen window keeps them at 14:00 in the plan."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("TIL",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    s = _centre({op1: DAY, op2: LATE}, patients=(patient("P1"),))
    published = solve(s, FAST)
    changed = with_patients(s, patient("P0", window_days=0, priority=1), *s.patients)
    loose = Replan(published, START, 0)
    prepared = prepare(changed, loose)
    instance = compile_instance(prepared.scenario)
    attach(instance, loose, prepared)
    p1 = next(j for j in instance.jobs if j.code == "P1")
    assert p1.published is not None
    assert fits(Booking(instance), p1, p1.published)
    plan = solve(changed, FAST, replan=Replan(published, START, 14))
    assert check_plan(changed, plan) == []
    kept = [a for a in _staffed(plan) if a.patient_code == "P1"]
    assert kept == [a for a in _staffed(published) if a.patient_code == "P1"]
    assert {a.start.hour for a in kept} == {14}


def test_the_weekly_plan_shows_the_late_start(tmp_path: Path) -> None:
    """The workbook's cleanroom grid shows seeding at its real hours and who does it."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("TIL",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    s = _centre({op1: DAY, op2: LATE}, patients=(patient("P1"),))
    plan = solve(s, FAST, cancel=lambda: True)
    seed = next(a for a in _staffed(plan) if a.step_code == "seed")
    book = load_workbook(write_plan_workbook(tmp_path / "plan.xlsx", s, plan))
    texts = [str(c.value) for row in book["Cleanrooms"].iter_rows() for c in row]
    assert any("seed 14:00–20:00 · OP2" in t for t in texts), seed


def test_a_late_shift_is_its_own_slot_with_its_own_people() -> None:
    """The day shift's people count at 08:00, the late shift's at 14:00, each once."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("CART",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    instance = compile_instance(_centre({op1: DAY, op2: LATE}))
    monday = [s for s in instance.slots if s.day == 0]
    assert [(s.start, s.length) for s in monday] == [(8, 8), (14, 8)]
    every = next(g for g in instance.staff_groups if g.products is None)
    assert every.people[:2] == (1, 1)


@ENGINES
def test_a_person_on_a_long_shift_counts_in_one_slot_only(
    cancel: Callable[[], bool] | None,
) -> None:
    """OP1 works 08-20 (the working day too, so the pooled hours allow two 6-h steps a
    day) and is the only one trained on CART; OP2's shift from 12:00 opens a second slot.
    Two patients cannot both have OP1 the same day at 08:00 and 12:00 (08-14 and 12-18
    overlap): every need is named, no one twice at once."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("CART",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("TIL",))
    long_day = ShiftCode("D", "Day 08-20", 8, 12)
    noon = ShiftCode("M", "Noon 12-20", 12, 8)
    s = _centre(
        {op1: long_day, op2: noon},
        site=replace(tiny_scenario().site, day_end_hour=20),
        patients=(patient("P1", window_days=3), patient("P2", window_days=3)),
        apheresis=replace(tiny_scenario().apheresis, slots_per_weekday=(2, 2, 2, 2, 2, 0, 0)),
        cleanrooms=(
            tiny_scenario().cleanrooms[0],
            replace(tiny_scenario().cleanrooms[0], code="CR2"),
        ),
    )
    plan = solve(s, FAST, cancel=cancel)
    assert check_plan(s, plan) == []
    assert plan.kpis.scheduled == 2
    assert assign_staff(s, plan.assignments).gaps == ()


# Staffed steps start inside a slot ------------------------------------------------------


def _wash_after_seed(seed_hours: int = 6, max_lag: int | None = 0, code: str = "CART") -> Product:
    """The tiny product with a seeding of `seed_hours` and a 2-h staffed wash right after
    it (at most `max_lag` hours later)."""
    made = product(code)
    seed, expand, harvest = made.steps
    seed = replace(
        seed, duration_hours=seed_hours, staff=(StaffNeed(Role.OPERATOR, 1, seed_hours),)
    )
    wash = replace(
        seed,
        code="wash",
        name="Wash",
        duration_hours=2,
        staff=(StaffNeed(Role.OPERATOR, 1, 2),),
        min_lag_hours=0,
        max_lag_hours=max_lag,
    )
    return replace(made, steps=(seed, wash, expand, harvest))


def _step(plan: Plan, code: str) -> tuple[datetime, datetime]:
    """Start and end of a step (its room or device rows, not its staff)."""
    rows = [
        a
        for a in plan.assignments
        if a.step_code == code
        and a.resource_type not in (ResourceType.STAFF, ResourceType.STAFF_POOL)
    ]
    return min(a.start for a in rows), max(a.end for a in rows)


def test_a_start_hour_names_its_slot() -> None:
    """With slots at 08:00 and 14:00 a step may start up to 2 h after a slot's start (half
    the 6-h gap, less one hour, so the hours never reach the next slot) while its need
    ends within the slot's shifts; the slot it takes its people from is the one it is in."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("CART",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    instance = compile_instance(
        _centre({op1: DAY, op2: LATE}, products=(_wash_after_seed(),), patients=(patient("P1"),))
    )
    morning, late = instance.slot_at(8), instance.slot_at(14)
    assert (morning, late) == (0, 1)
    assert morning is not None and late is not None
    step = {s.code: s for s in instance.jobs[0].steps}
    assert instance.slot_reach == 2
    assert instance.slot_span(step["wash"], morning) == (8, 10)
    assert instance.slot_span(step["seed"], late) == (14, 16)
    assert [instance.slot_of(step["wash"], h) for h in range(7, 18)] == [
        *(None, 0, 0, 0),
        *(None, None, None, 1, 1, 1, None),
    ]
    assert instance.first_start(step["wash"], 11) == 14
    assert instance.last_start(step["wash"], 12) == 10


def test_steps_start_inside_a_slot_at_the_hours_a_predecessor_brings_them_to() -> None:
    """Apheresis ends at 14:00: a 2-h seeding may start at the slot's start or at 14:00;
    the wash right after it at 08:00 or 10:00 (its span in the 08:00 slot is 08:00-14:00,
    but seeding ends at 10:00 or 16:00 only); after the expansion, which may end at any
    hour, the harvest may start at any hour of its span."""
    s = replace(tiny_scenario(1), products=(_wash_after_seed(seed_hours=2, max_lag=None),))
    instance = compile_instance(s)
    (job,) = instance.jobs
    seed, wash, expand, harvest = instance.start_hours(job)
    assert (seed, wash, expand, harvest) == (
        frozenset({8, 14}),
        frozenset({8, 10}),
        None,
        None,
    )
    monday = instance.slot_at(8)
    assert monday is not None
    span = instance.slot_span(job.steps[1], monday)
    assert span == (8, 14)
    assert instance.starts_in(job.steps[1], monday, *span, wash) == [(8, 8), (10, 10)]
    assert instance.starts_in(job.steps[1], monday, 9, 20, wash) == [(10, 10)]


@ENGINES
def test_a_tight_max_lag_after_a_step_ending_mid_shift_is_met_inside_the_shift(
    cancel: Callable[[], bool] | None,
) -> None:
    """Seeding takes 08:00-14:00 and the wash must follow within the hour, in the same
    day shift (08-16). Starting only at slot starts, no start was left for it (the next is
    08:00 the day after) and the patient was left out for want of staff; now the wash is
    at 14:00 and named to someone on the day shift."""
    s = replace(tiny_scenario(1), products=(_wash_after_seed(max_lag=1),))
    plan = solve(s, FAST, cancel=cancel)
    assert plan.kpis.scheduled == 1
    assert check_plan(s, plan) == []
    seed_start, seed_end = _step(plan, "seed")
    wash_start, _ = _step(plan, "wash")
    assert seed_start.hour == 8
    assert wash_start == seed_end  # 15:00 is in the lag but no predecessor ends then
    named = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF]
    assert {a.step_code for a in named} == {"seed", "wash", "harvest"}
    assert assign_staff(s, plan.assignments).gaps == ()


@ENGINES
def test_a_step_after_a_short_one_starts_when_it_ends_and_the_chain_is_shorter(
    cancel: Callable[[], bool] | None,
) -> None:
    """Apheresis ends at 14:00 on Monday 4 Jan; a 2-h seeding may start then (min lag 0),
    inside the day shift, and the harvest after 3 days' expansion goes on Friday (from
    08:00 to 10:00): infusion on Thursday 14 Jan, the first day whose lymphodepletion
    falls on a weekday. At slot starts only, seeding waited for Tuesday 08:00, the
    expansion ended at 10:00, after Friday's only start, and the harvest waited for the
    next week: infusion on Monday 18 Jan (measured on the code before)."""
    made = _wash_after_seed(seed_hours=2, max_lag=None)
    seed, _wash, expand, harvest = made.steps
    s = replace(tiny_scenario(1), products=(replace(made, steps=(seed, expand, harvest)),))
    plan = solve(s, FAST, cancel=cancel)
    assert plan.kpis.scheduled == 1
    assert check_plan(s, plan) == []
    (schedule,) = plan.schedules
    assert schedule.apheresis_day == START
    assert schedule.infusion_day == START + timedelta(days=10)
    if cancel is not None:  # the greedy starts each step as early as it can
        assert _step(plan, "seed")[0] == datetime.combine(START, time(14))


@ENGINES
def test_a_step_inside_the_late_slot_is_named_to_the_late_shift(
    cancel: Callable[[], bool] | None,
) -> None:
    """Only OP2 and OP3, on the late shift 14-22, are trained on CART: seeding 14:00-16:00,
    then the wash at once (max lag 0) at 16:00, two hours into the late slot; each takes
    one of the slot's two people. Both are named to late-shift people and the checker
    finds nothing; at slot starts only, the wash had no start."""
    op1 = StaffMember("OP1", (Role.OPERATOR,), ("TIL",))
    op2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))
    op3 = StaffMember("OP3", (Role.OPERATOR,), ("CART",))
    s = _centre(
        {op1: DAY, op2: LATE, op3: LATE},
        products=(_wash_after_seed(seed_hours=2), product("TIL")),
        patients=(patient("P1"),),
    )
    plan = solve(s, FAST, cancel=cancel)
    assert plan.kpis.scheduled == 1
    assert check_plan(s, plan) == []
    assert _step(plan, "wash")[0].hour == 16
    named = {
        (a.step_code, a.start.hour): a.resource_code
        for a in plan.assignments
        if a.resource_type is ResourceType.STAFF
    }
    assert named[("seed", 14)] in ("OP2", "OP3")
    assert named[("wash", 16)] in ("OP2", "OP3")
    assert assign_staff(s, plan.assignments).gaps == ()


def test_a_replan_books_a_published_step_inside_a_slot_in_that_slot() -> None:
    """A published wash at 14:00, inside the 08:00 slot, is read back into the slot its
    hour names: the published chain still fits as it was (the greedy may keep it), and
    booked, its seeding and wash take both of that slot's operators, leaving no one for
    another step there."""
    s = replace(tiny_scenario(1), products=(_wash_after_seed(max_lag=1),))
    published = solve(s, FAST, cancel=lambda: True)
    assert _step(published, "wash")[0].hour == 14
    replan = Replan(published, START, 0)
    prepared = prepare(s, replan)
    instance = compile_instance(prepared.scenario)
    attach(instance, replan, prepared)
    (p1,) = instance.jobs
    assert p1.published is not None
    booking = Booking(instance)
    assert fits(booking, p1, p1.published)
    booking.book(p1.published)
    wash = p1.steps[1]
    slot = instance.slot_of(wash, p1.published.starts[1])
    assert slot is not None and instance.slots[slot].start == p1.published.starts[1] - 6
    assert not booking.staff_fits(wash, slot)
    assert booking.staff_fits(wash, slot + 1)  # the next day's slot is free


# Pooled plans are always nameable ---------------------------------------------------------

SHIFTS = (
    ShiftCode("D", "Day 08-16", 8, 8),
    ShiftCode("E", "Early 06-14", 6, 8),
    ShiftCode("H", "Half 08-14", 8, 6),
    ShiftCode("M", "Late 12-20", 12, 8),
    ShiftCode("X", "Long 07-19", 7, 12),
    ShiftCode("T", "Short 14-18", 14, 4),
    ShiftCode("L", "Leave", 0, 0, False, True),
)


def _longer_harvest(made: Product) -> Product:
    """The product with an 8-hour harvest: longer than some shifts from its start."""
    seed, expand, harvest = made.steps
    long = replace(harvest, duration_hours=8, staff=(StaffNeed(Role.OPERATOR, 1, 8),))
    return replace(made, steps=(seed, expand, long))


#: Rosters drawn from every shift (slots at 08:00, 12:00 and 14:00: steps start at a
#: slot's start where two slots are 2 h apart), without the noon one (08:00 and 14:00:
#: up to 2 h into a slot) or with the day slot only (up to 10 h, as needs allow).
ROSTER_SHIFTS = ("DEHMXTL", "DEHXTL", "DEHXL")


@st.composite
def rostered_centres(draw: st.DrawFn) -> Scenario:
    """2-5 operators trained on some of products A, B and C (B's harvest takes 8 h; C's
    apheresis ends at 10:00 and is followed by a 3-h seeding and a 2-h wash at most 4 h
    later, which start inside a slot where they can), a shift (or leave) each weekday of
    two weeks, 2-4 patients; contracted hours cover any roster (weekly hours are not
    part of the pooled guarantee)."""
    codes = list(draw(st.sampled_from(ROSTER_SHIFTS)))
    people = []
    for k in range(draw(st.integers(2, 5))):
        trained = draw(st.sampled_from([("A",), ("B",), ("C",), ("A", "C"), ("B", "C")]))
        people.append(StaffMember(f"OP{k + 1}", (Role.OPERATOR,), trained, 60.0))
    roster = tuple(
        RosterEntry(p.code, day, draw(st.sampled_from(codes)))
        for p in people
        for day in _weekdays(14)
    )
    patients = tuple(
        patient(
            f"P{k + 1}",
            day_offset=draw(st.integers(0, 4)),
            window_days=draw(st.integers(0, 3)),
            product_code=draw(st.sampled_from(["A", "B", "C"])),
        )
        for k in range(draw(st.integers(2, 4)))
    )
    base = tiny_scenario(days=21)
    room = replace(base.cleanrooms[0], products=("A", "B", "C"))
    return replace(
        base,
        staff=tuple(people),
        roster=roster,
        shift_codes=SHIFTS,
        products=(
            product("A"),
            _longer_harvest(product("B")),
            replace(_wash_after_seed(seed_hours=3, max_lag=4, code="C"), apheresis_hours=2),
        ),
        patients=patients,
        cleanrooms=(room, replace(room, code="CR2")),
        apheresis=replace(base.apheresis, slots_per_weekday=(2, 2, 2, 2, 2, 0, 0)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=rostered_centres(), engine=st.sampled_from(["cp-sat", "greedy"]))
def test_every_pooled_plan_gets_every_need_named(scenario: Scenario, engine: str) -> None:
    """Whatever the roster (shifts starting 06:00-14:00, of 4-12 h, overlapping in time),
    every staffed step of the plan gets named people and the plan passes the checker,
    steps starting inside a slot included."""
    cancel = (lambda: True) if engine == "greedy" else None
    plan = solve(scenario, SolveSettings(deterministic_time=0.5), cancel=cancel)
    instance = compile_instance(scenario)
    inside = sum(instance.slot_at(instance.hour_of(a.start)) is None for a in _staffed(plan))
    event(f"a step starts inside a slot: {inside > 0}")
    target(float(inside))  # steers the search to rosters where they do
    assert assign_staff(scenario, plan.assignments).gaps == ()
    assert check_plan(scenario, plan) == []
