"""Staffed steps start inside their people's shifts, and pooled plans stay nameable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
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


@st.composite
def rostered_centres(draw: st.DrawFn) -> Scenario:
    """2-4 operators trained on some of products A and B (B's harvest takes 8 h), a shift
    (or leave) each weekday of two weeks, 2-4 patients; contracted hours cover any roster
    (weekly hours are not part of the pooled guarantee)."""
    codes = [s.code for s in SHIFTS]
    people = []
    for k in range(draw(st.integers(2, 4))):
        trained = draw(st.sampled_from([("A",), ("B",), ("A", "B")]))
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
            product_code=draw(st.sampled_from(["A", "B"])),
        )
        for k in range(draw(st.integers(2, 4)))
    )
    base = tiny_scenario(days=21)
    room = replace(base.cleanrooms[0], products=("A", "B"))
    return replace(
        base,
        staff=tuple(people),
        roster=roster,
        shift_codes=SHIFTS,
        products=(product("A"), _longer_harvest(product("B"))),
        patients=patients,
        cleanrooms=(room, replace(room, code="CR2")),
        apheresis=replace(base.apheresis, slots_per_weekday=(2, 2, 2, 2, 2, 0, 0)),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=rostered_centres(), engine=st.sampled_from(["cp-sat", "greedy"]))
def test_every_pooled_plan_gets_every_need_named(scenario: Scenario, engine: str) -> None:
    """Whatever the roster (shifts starting 06:00-14:00, of 4-12 h, overlapping in time),
    every staffed step of the plan gets named people and the plan passes the checker."""
    cancel = (lambda: True) if engine == "greedy" else None
    plan = solve(scenario, SolveSettings(deterministic_time=0.5), cancel=cancel)
    assert assign_staff(scenario, plan.assignments).gaps == ()
    assert check_plan(scenario, plan) == []
