"""Earliest slot: a new referral booked around a plan without moving anyone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from planner import ResourceType, SolveSettings
from planner.slot import Referral
from solver import earliest_slot, solve
from solver.extract import build_plan
from solver.instance import compile_instance
from solver.slot import chains_from_plan
from tests.factories import START, patient, tiny_scenario


def test_a_plan_reads_back_into_the_same_chains() -> None:
    """build_plan(chains_from_plan(plan)) gives the plan's own rows and milestones back."""
    scenario = tiny_scenario(n_patients=4)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    instance = compile_instance(scenario)
    chains = chains_from_plan(instance, plan)
    assert len(chains) == len(plan.schedules) > 0
    again = build_plan(instance, chains, plan.solver, plan.created)
    unnamed = tuple(a for a in plan.assignments if a.resource_type is not ResourceType.STAFF)
    assert again.assignments == unnamed
    assert again.schedules == plan.schedules


def test_an_empty_centre_offers_the_first_day_a_whole_chain_fits() -> None:
    """No one booked: the offer is the first apheresis day from which the chain can run.

    Checked against the solver: a patient held to any earlier day cannot be planned.
    """
    scenario = replace(tiny_scenario(), patients=())
    saturday = START + timedelta(days=5)
    offer = earliest_slot(scenario, None, Referral("CART", saturday), "empty")
    assert offer.found and offer.apheresis_day is not None
    assert offer.infusion_day is not None and offer.release_day is not None
    assert offer.apheresis_day < offer.release_day <= offer.infusion_day
    assert offer.room == "CR1" and "moving no one" in offer.describe() and offer.proved
    day = saturday
    while day <= offer.apheresis_day:
        held = patient("X", (day - START).days, window_days=0)
        plan = solve(replace(scenario, patients=(held,)), SolveSettings(deterministic_time=0.2))
        assert plan.kpis.scheduled == (1 if day == offer.apheresis_day else 0), day
        day += timedelta(days=1)


def test_the_slot_waits_for_the_room_the_plan_holds() -> None:
    """One room busy with a planned patient: the referral's manufacturing comes after it."""
    scenario = tiny_scenario(n_patients=1)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    busy_until = max(a.end for a in plan.assignments if a.resource_type is ResourceType.CLEANROOM)
    alone = earliest_slot(replace(scenario, patients=()), None, Referral("CART", START), "")
    offer = earliest_slot(scenario, plan, Referral("CART", START), "plan #1")
    assert alone.apheresis_day is not None and offer.apheresis_day is not None
    assert offer.apheresis_day > alone.apheresis_day
    # The referral's first room step cannot start before the planned batch and changeover end.
    assert offer.apheresis_day >= (busy_until + timedelta(hours=8)).date() - timedelta(days=1)
    later = earliest_slot(scenario, plan, Referral("CART", offer.apheresis_day), "plan #1")
    assert later.apheresis_day == offer.apheresis_day  # asking from the slot gives the slot
    assert plan.schedules == solve(scenario, SolveSettings(deterministic_time=0.5)).schedules


def test_no_slot_says_why() -> None:
    """A room that runs no such product: no slot, and the reason names manufacturing."""
    scenario = tiny_scenario(n_patients=0, days=20)
    scenario = replace(scenario, patients=(patient("P1"),))
    offer = earliest_slot(scenario, None, Referral("CART", scenario.horizon_end), "x")
    assert not offer.found and offer.reason
    assert "none within the horizon" in offer.describe()
    assert offer.vein_to_vein_days is None
