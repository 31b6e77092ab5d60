"""Staff groups: a pooled plan never needs one person in two places (Hall's condition)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

import pytest

from planner import Plan, ResourceType, Role, Scenario, SolveSettings, StaffMember
from planner.checks import check_plan
from solver import solve
from solver.instance import compile_instance, step_group_people
from solver.staff_groups import staff_groups, staff_slots
from solver.staffing import assign_staff
from tests.factories import patient, product, tiny_scenario


def _two_products_one_person(any_day: bool = False) -> Scenario:
    """Products A and B; only OP1 is trained on either (on both), OP2 on neither.

    any_day: the products may be infused any day, so every day a chain waits costs."""
    base = tiny_scenario()
    room = replace(base.cleanrooms[0], products=("A", "B", "C"))
    staff = (
        StaffMember("OP1", (Role.OPERATOR,), ("A", "B")),
        StaffMember("OP2", (Role.OPERATOR,), ("C",)),
    )
    return replace(
        base,
        products=tuple(product(c, infusion_any_day=any_day) for c in "ABC"),
        staff=staff,
        cleanrooms=(room, replace(room, code="CR2")),
        patients=(patient("P1", product_code="A"), patient("P2", product_code="B")),
        apheresis=replace(base.apheresis, slots_per_weekday=(2, 2, 2, 2, 2, 0, 0)),
    )


def test_groups_count_a_person_trained_on_two_products_once() -> None:
    scenario = _two_products_one_person()
    instance = compile_instance(scenario)
    groups = {g.products: g for g in instance.staff_groups}
    monday = instance.slot_at(8)  # the working day's start on the horizon's first day
    assert monday == 0
    assert groups[frozenset({"A", "B"})].people[monday] == 1
    assert groups[frozenset({"C"})].people[monday] == 1
    assert groups[None].people[monday] == 2
    assert 5 not in {slot.day for slot in instance.slots}  # Saturday: nobody rostered


def test_groups_implied_by_another_are_left_out() -> None:
    """A set of products whose people are no fewer than those of a wider set's (or of the
    whole role's) in every slot needs no group of its own: A alone and B alone (OP1's,
    as A+B's), and A+B+C, A+C, B+C (both people, as the whole role's). Every set of
    products still keeps within some group that counts its needs on no more people."""
    scenario = _two_products_one_person()
    instance = compile_instance(scenario)
    operator = [g for g in instance.staff_groups if g.role is Role.OPERATOR]
    assert {g.products for g in operator} == {frozenset({"A", "B"}), frozenset({"C"}), None}
    _, members = staff_slots(scenario, instance.days)
    trained = {s.code: set(s.trained_products) for s in scenario.staff}
    for n in range(1, 4):
        for chosen in itertools.combinations("ABC", n):
            people = [sum(1 for code in slot if trained[code] & set(chosen)) for slot in members]
            assert any(
                (g.products is None or set(chosen) <= g.products)
                and all(a <= b for a, b in zip(g.people, people, strict=True))
                for g in operator
            ), chosen


def test_where_everyone_is_trained_on_everything_one_group_per_role_is_left() -> None:
    """The generated centres train every operator on every product: of the eight operator
    groups, the whole role's implies the rest."""
    from data.generator import generate

    instance = compile_instance(generate("S", 1))
    assert sorted(g.tag for g in instance.staff_groups) == [
        "operator:*",
        "qc_analyst:*",
        "qp:*",
    ]


def test_group_people_are_not_shared_with_an_instance_of_other_groups() -> None:
    """The memo of a step's group people is the instance's own: an instance replaced with
    other staff groups (as solver/lns.py makes) counts the step against its groups."""
    instance = compile_instance(_two_products_one_person())
    step = next(s for s in instance.jobs[0].steps if s.staff)
    assert step_group_people(instance, step)
    others = tuple(
        g for g in instance.staff_groups if not any(g.covers(*d.pool) for d in step.staff)
    )
    assert not step_group_people(replace(instance, staff_groups=others), step)
    assert step_group_people(instance, step)


def test_group_sets_stop_growing_past_the_exact_limit() -> None:
    products = {(Role.OPERATOR, f"P{i}") for i in range(8)} | {(Role.QP, None)}
    scenario = tiny_scenario()
    groups = staff_groups(scenario, staff_slots(scenario, 5)[1], products)
    operator = [g for g in groups if g.role is Role.OPERATOR]
    assert len(operator) == 8 + 1  # single products and the whole role
    assert [g.products for g in groups if g.role is Role.QP] == [None]


def _needs_per_day(plan: Plan) -> Counter[object]:
    return Counter(
        a.start.date()
        for a in plan.assignments
        if a.resource_type is ResourceType.STAFF_POOL and a.start.hour == 8
        for _ in range(a.quantity)
    )


@pytest.mark.parametrize("any_day", [False, True], ids=["clinical-days", "any-day"])
@pytest.mark.parametrize("engine", ["cp-sat", "greedy"])
def test_plans_never_need_the_one_person_twice_a_day(engine: str, any_day: bool) -> None:
    """The old pools let A and B both use OP1 on the same morning; now they take turns,
    even when (products infused any day) taking turns costs a day of waiting."""
    scenario = _two_products_one_person(any_day)
    cancel = (lambda: True) if engine == "greedy" else None
    plan = solve(scenario, SolveSettings(deterministic_time=0.5), cancel=cancel)
    assert plan.kpis.scheduled == 2
    assert max(_needs_per_day(plan).values()) == 1
    staffing = assign_staff(scenario, plan.assignments)
    assert staffing.gaps == ()
    assert check_plan(scenario, plan) == []
