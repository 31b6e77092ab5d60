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


def test_with_moves_the_referral_comes_first_and_the_fewest_patients_move() -> None:
    """One room, three planned patients with wide windows: moving no one the referral waits
    three weeks; with moves it is collected on the first day and one patient moves, by the
    days the answer says; nobody is dropped."""
    from solver import earliest_slot_with_moves

    wide = tuple(patient(f"P{i}", window_days=40) for i in (1, 2, 3))
    s = tiny_scenario(days=70, frozen_days=0, patients=wide)
    plan = solve(s, SolveSettings(deterministic_time=1.0))
    referral = Referral("CART", START)
    still = earliest_slot(s, plan, referral, "test")
    moves = earliest_slot_with_moves(s, plan, referral, START)
    assert still.apheresis_day is not None and moves.apheresis_day is not None
    assert moves.apheresis_day == START < still.apheresis_day
    (moved,) = moves.moved
    before = plan.schedule_of(moved[0])
    assert before is not None and moved[1] > 0 and moved[2] > 0
    assert "moves      1 patient(s):" in moves.describe()


def test_with_moves_keeps_frozen_steps() -> None:
    """The same centre with a 14-day frozen window: the patient collected on the first day
    cannot move, so with moves the referral is not collected then."""
    from solver import earliest_slot_with_moves

    wide = tuple(patient(f"P{i}", window_days=40) for i in (1, 2, 3))
    s = tiny_scenario(days=70, frozen_days=14, patients=wide)
    plan = solve(s, SolveSettings(deterministic_time=1.0))
    moves = earliest_slot_with_moves(s, plan, Referral("CART", START), START)
    first = min(plan.schedules, key=lambda x: x.apheresis_day)
    assert moves.apheresis_day is not None and moves.apheresis_day > first.apheresis_day
    assert first.patient_code not in {code for code, _a, _i in moves.moved}


def test_the_offered_slot_is_bookable_with_everyone_kept() -> None:
    """Booking the referral on the offered apheresis day, with every planned patient
    pinned, schedules it by the offered infusion day; the checker finds nothing."""
    from planner.checks import check_plan
    from planner.replan import Pin, Replan
    from tests.factories import with_patients

    scenario = tiny_scenario(n_patients=3)
    fast = SolveSettings(deterministic_time=0.5)
    plan = solve(scenario, fast)
    offer = earliest_slot(scenario, plan, Referral("CART", START), "plan #1")
    assert offer.found and offer.apheresis_day is not None and offer.infusion_day is not None
    new = patient("NEW", (offer.apheresis_day - START).days, window_days=0)
    booked_in = with_patients(scenario, *scenario.patients, new)
    pins = tuple(Pin(s.patient_code) for s in plan.schedules)
    booked = solve(booked_in, fast, replan=Replan(plan, START, 0, pins))
    schedule = booked.schedule_of("NEW")
    assert schedule is not None and schedule.apheresis_day == offer.apheresis_day
    assert schedule.infusion_day <= offer.infusion_day
    assert [s for s in booked.schedules if s.patient_code != "NEW"] == list(plan.schedules)
    assert check_plan(booked_in, booked) == []
