"""Named staff: rostered, qualified people on each pooled need, one place at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from planner import (
    Assignment,
    Plan,
    ResourceType,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    SolveSettings,
    StaffMember,
)
from planner.checks import check_plan
from solver import solve
from solver.staffing import assign_staff
from tests.factories import product, tiny_scenario

MONDAY, TUESDAY, SATURDAY, SUNDAY = (date(2027, 1, d) for d in (4, 5, 9, 10))


def _need(
    patient: str, day: date, hours: int = 6, count: int = 1, pool: str = "operator:CART"
) -> Assignment:
    start = datetime(day.year, day.month, day.day, 8)
    end = start.replace(hour=8 + hours)
    return Assignment(patient, "CART", "seed", ResourceType.STAFF_POOL, pool, start, end, count)


def _people(named: tuple[Assignment, ...], patient: str) -> list[str]:
    return sorted(a.resource_code for a in named if a.patient_code == patient)


def _centre(*staff: StaffMember, roster: tuple[RosterEntry, ...] | None = None) -> Scenario:
    """The tiny centre with these people, each on the day shift every day unless told."""
    days = [date(2027, 1, d) for d in range(4, 18)]
    if roster is None:
        roster = tuple(RosterEntry(s.code, d, "D") for s in staff for d in days)
    base = tiny_scenario()
    return replace(
        base,
        staff=staff,
        roster=roster,
        shift_codes=(*base.shift_codes, ShiftCode("N", "Night on call", 16, 16, False)),
        products=(product(), product("TIL")),
    )


OP1 = StaffMember("OP1", (Role.OPERATOR,), ("CART",))
OP2 = StaffMember("OP2", (Role.OPERATOR,), ("CART",))


def test_simultaneous_needs_get_different_people() -> None:
    """Two steps at the same hour: two different people, both rostered and trained."""
    scenario = _centre(OP1, OP2)
    staffing = assign_staff(scenario, [_need("P1", MONDAY), _need("P2", MONDAY)])
    assert staffing.gaps == ()
    assert {_people(staffing.named, "P1")[0], _people(staffing.named, "P2")[0]} == {"OP1", "OP2"}
    assert staffing.summary() == "Named staff for 2 of 2 staffed steps."


def test_need_of_two_people_names_two() -> None:
    staffing = assign_staff(_centre(OP1, OP2), [_need("P1", MONDAY, count=2)])
    assert _people(staffing.named, "P1") == ["OP1", "OP2"] and staffing.gaps == ()


@pytest.mark.parametrize(
    ("people", "roster_code", "words"),
    [
        ((StaffMember("OP1", (Role.OPERATOR,), ("TIL",)),), "D", "no operator trained on CART"),
        ((StaffMember("QC1", (Role.QC_ANALYST,), ("CART",)),), "D", "no operator trained"),
        ((OP1,), "L", "no operator trained on CART rostered then"),
        ((OP1,), "N", "no operator trained on CART rostered then"),
    ],
)
def test_nobody_suitable_leaves_a_gap_saying_why(
    people: tuple[StaffMember, ...], roster_code: str, words: str
) -> None:
    """Untrained, wrong role, on leave or on call: not named, and the gap says why."""
    roster = tuple(RosterEntry(p.code, MONDAY, roster_code) for p in people)
    staffing = assign_staff(_centre(*people, roster=roster), [_need("P1", MONDAY)])
    assert staffing.named == ()
    (gap,) = staffing.gaps
    assert gap.missing == 1 and words in gap.reason, gap.reason
    assert "P1 seed" in gap.describe() and "1 more operator CART" in gap.describe()


def test_a_step_longer_than_any_shift_cannot_be_split_between_people() -> None:
    """An 11-hour need on 8-hour shifts stays unnamed even with two people free."""
    staffing = assign_staff(_centre(OP1, OP2), [_need("P1", MONDAY, hours=11)])
    assert staffing.named == ()
    assert "takes 11 h" in staffing.gaps[0].reason and "longest 8 h" in staffing.gaps[0].reason


def test_busy_people_are_named_in_the_reason() -> None:
    """Three needs at once, two people: one gap naming who is on what."""
    staffing = assign_staff(
        _centre(OP1, OP2), [_need("P1", MONDAY), _need("P2", MONDAY), _need("P3", MONDAY)]
    )
    assert len(staffing.named) == 2
    (gap,) = staffing.gaps
    assert "OP1 (on P" in gap.reason and "OP2 (on P" in gap.reason


def test_contracted_weekly_hours_are_respected() -> None:
    """A person contracted for 8 h a week takes one 6-hour step of two."""
    part_time = StaffMember("OP1", (Role.OPERATOR,), ("CART",), contracted_hours_per_week=8)
    staffing = assign_staff(_centre(part_time), [_need("P1", MONDAY), _need("P2", TUESDAY)])
    assert len(staffing.named) == 1
    assert "at 6 of 8 h this week" in staffing.gaps[0].reason


def test_weekend_work_is_spread() -> None:
    """Two weekend needs and two people free both days: one each, not both for one."""
    staffing = assign_staff(_centre(OP1, OP2), [_need("P1", SATURDAY), _need("P2", SUNDAY)])
    assert sorted(a.resource_code for a in staffing.named) == ["OP1", "OP2"]


def test_naming_is_repeatable() -> None:
    scenario = _centre(OP1, OP2, StaffMember("OP3", (Role.OPERATOR,), ("CART",)))
    needs = [_need(f"P{i}", date(2027, 1, 4 + i % 7), count=1 + i % 2) for i in range(12)]
    assert assign_staff(scenario, needs, seed=3) == assign_staff(scenario, needs, seed=3)


def test_solve_names_people_for_every_need_and_the_checker_agrees() -> None:
    """A solved plan carries named rows beside its pool rows, and passes the checker."""
    scenario = tiny_scenario(n_patients=3)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    pools = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF_POOL]
    named = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF]
    assert pools and len(named) == sum(a.quantity for a in pools)
    assert any(n.startswith("Named staff for") for n in plan.notes)
    assert check_plan(scenario, plan) == []


@pytest.fixture(scope="module")
def planned() -> tuple[Scenario, Plan]:
    """The tiny centre and a solved plan of it with named staff."""
    scenario = tiny_scenario(n_patients=3)
    return scenario, solve(scenario, SolveSettings(deterministic_time=0.5))


def _broken(rows: tuple[Assignment, ...], change: str) -> tuple[Assignment, ...]:
    """The rows with one named assignment altered to break one rule."""
    named = [a for a in rows if a.resource_type is ResourceType.STAFF]
    first = named[0]
    others = tuple(a for a in rows if a is not first)
    if change == "stranger":
        return (*others, replace(first, resource_code="NOBODY"))
    if change == "off-shift":
        return (*others, replace(first, start=first.start.replace(hour=5)))
    if change == "twice":
        other = next(a for a in named if a.patient_code != first.patient_code)
        moved = replace(first, resource_code=other.resource_code)
        clash = replace(other, start=moved.start, end=moved.end)
        rest = tuple(a for a in others if a is not other)
        return (*rest, moved, clash)
    if change == "too-many":
        extra = "OP2" if first.resource_code == "OP1" else "OP1"
        return (*rows, replace(first, resource_code=extra))
    raise AssertionError(change)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("stranger", "no such person"),
        ("off-shift", "not rostered on a working shift"),
        ("twice", "at once"),
        ("too-many", "people named where 1 are needed"),
    ],
)
def test_checker_catches_broken_naming(
    planned: tuple[Scenario, Plan], change: str, words: str
) -> None:
    """Each way of naming wrongly is reported by the independent checker."""
    scenario, plan = planned
    assert check_plan(scenario, plan) == []
    broken = replace(plan, assignments=_broken(plan.assignments, change))
    problems = check_plan(scenario, broken)
    assert any(words in p for p in problems), problems


def test_checker_catches_unqualified_and_overworked(planned: tuple[Scenario, Plan]) -> None:
    """The same named plan against people untrained, or contracted for one hour a week."""
    scenario, plan = planned
    untrained = replace(
        scenario,
        products=(*scenario.products, product("TIL")),
        staff=tuple(replace(s, trained_products=("TIL",)) for s in scenario.staff),
    )
    assert any("not qualified" in p for p in check_plan(untrained, plan))
    short_week = replace(
        scenario, staff=tuple(replace(s, contracted_hours_per_week=1) for s in scenario.staff)
    )
    assert any("over the 1 h contracted" in p for p in check_plan(short_week, plan))


def test_checker_allows_exactly_the_contracted_hours(planned: tuple[Scenario, Plan]) -> None:
    """A person named for h hours in a week passes when contracted for h, not for h - 1."""
    scenario, plan = planned
    week: dict[tuple[str, int], float] = {}
    for a in plan.assignments:
        if a.resource_type is ResourceType.STAFF:
            key = (a.resource_code, a.start.isocalendar()[1])
            week[key] = week.get(key, 0) + (a.end - a.start).total_seconds() / 3600
    (code, _), most = max(week.items(), key=lambda kv: kv[1])

    def contracted(hours: float) -> Scenario:
        staff = tuple(
            replace(s, contracted_hours_per_week=hours) if s.code == code else s
            for s in scenario.staff
        )
        return replace(scenario, staff=staff)

    assert check_plan(contracted(most), plan) == []
    assert any(
        f"{code} works {most:g} h" in p and f"over the {most - 1:g} h contracted" in p
        for p in check_plan(contracted(most - 1), plan)
    )


def test_a_short_greedy_naming_is_completed_by_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the quick naming leaves needs unnamed, the whole week goes to CP-SAT."""
    from solver import staffing

    monkeypatch.setattr(staffing._Week, "greedy", lambda self: [[] for _ in self.needs])
    result = assign_staff(
        _centre(OP1, OP2), [_need("P1", MONDAY), _need("P2", MONDAY), _need("P3", TUESDAY)]
    )
    assert result.gaps == () and len(result.named) == 3


def test_a_lopsided_weekend_is_evened_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete naming with one person on both weekend days is improved to one each."""
    from solver import staffing

    def everything_to_the_first(self: staffing._Week) -> list[list[int]]:
        return [cands[: n.count] for n, cands in zip(self.needs, self.candidates, strict=True)]

    monkeypatch.setattr(staffing._Week, "greedy", everything_to_the_first)
    result = assign_staff(_centre(OP1, OP2), [_need("P1", SATURDAY), _need("P2", SUNDAY)])
    assert sorted(a.resource_code for a in result.named) == ["OP1", "OP2"]


@pytest.mark.parametrize("quick_naming", [True, False])
def test_a_need_past_sunday_midnight_keeps_its_person_busy_next_week(
    monkeypatch: pytest.MonkeyPatch, quick_naming: bool
) -> None:
    """Weeks are named one by one: a Sunday-night need running into Monday still holds its
    person when Monday's needs are named (by the greedy, or by the model it falls to)."""
    from solver import staffing

    if not quick_naming:
        monkeypatch.setattr(staffing._Week, "greedy", lambda self: [[] for _ in self.needs])
    sunday = date(2027, 1, 10)
    night = ShiftCode("N", "Night", 21, 12)
    scenario = replace(
        _centre(OP1, roster=(RosterEntry("OP1", sunday, "N"),)),
        shift_codes=(*tiny_scenario().shift_codes, night),
    )
    late = replace(
        _need("P1", sunday), start=datetime(2027, 1, 10, 23), end=datetime(2027, 1, 11, 3)
    )
    early = replace(
        _need("P2", sunday), start=datetime(2027, 1, 11, 2), end=datetime(2027, 1, 11, 4)
    )
    staffing_ = assign_staff(scenario, [late, early])
    assert [a.patient_code for a in staffing_.named] == ["P1"]
    (gap,) = staffing_.gaps
    assert gap.row == early and "OP1 (on P1 seed)" in gap.reason, gap.reason
