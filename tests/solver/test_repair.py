"""Re-insertion after solving: only improvements, never a fixed patient moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from planner import Cleanroom, DoneStep, Grade, PatientStatus, SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.chain import ChainTimes, objective
from solver.greedy import Booking, greedy, rebook
from solver.instance import Instance, compile_instance
from solver.repair import collect_later, reinsert, swap_in
from tests.factories import START, gated_trial, patient, tiny_scenario


def _late_copy(chains: list[ChainTimes], index: int, days: int) -> list[ChainTimes]:
    """The chains with one job re-booked `days` later than it could be (others held)."""
    instance = _instance()
    others = [c for c in chains if c.job != index]
    job = replace(instance.jobs[index], earliest_day=instance.jobs[index].earliest_day + days)
    found = rebook(instance, others).insert(job)
    assert isinstance(found, ChainTimes)
    return sorted([*others, found], key=lambda c: c.job)


def _instance() -> Instance:
    """Three patients with 40-day apheresis windows in one room over 90 days."""
    s = tiny_scenario(3, days=90)
    return compile_instance(
        replace(
            s,
            patients=tuple(
                replace(p, latest_apheresis=p.latest_apheresis + timedelta(days=20))
                for p in s.patients
            ),
        )
    )


def test_a_patient_booked_later_than_needed_is_moved_earlier() -> None:
    instance = _instance()
    best = greedy(instance).booking.chains
    late = _late_copy(best, 0, 30)
    repair = reinsert(instance, late)
    moved = next(c for c in repair.chains if c.job == 0)
    assert moved.apheresis_day < next(c for c in late if c.job == 0).apheresis_day
    assert objective(instance, repair.chains) > objective(instance, late)
    assert repair.moved == (instance.jobs[0].code,)
    assert "moved 1 earlier (P1)" in str(repair.describe())


def test_a_kept_patient_is_not_moved() -> None:
    instance = _instance()
    late = _late_copy(greedy(instance).booking.chains, 0, 30)
    repair = reinsert(instance, late, keep=frozenset({0}))
    kept = next(c for c in late if c.job == 0)
    assert kept in repair.chains
    assert objective(instance, repair.chains) >= objective(instance, late)


def test_an_unscheduled_patient_that_fits_is_added() -> None:
    instance = _instance()
    chains = [c for c in greedy(instance).booking.chains if c.job != 1]
    repair = reinsert(instance, chains)
    assert sorted(c.job for c in repair.chains) == [0, 1, 2]
    assert repair.added == (instance.jobs[1].code,)


def test_a_plan_that_cannot_improve_comes_back_unchanged() -> None:
    instance = _instance()
    chains = sorted(greedy(instance).booking.chains, key=lambda c: c.job)
    repair = reinsert(instance, chains)
    assert objective(instance, repair.chains) >= objective(instance, chains)
    if repair.describe() is None:
        assert repair.chains == chains


def test_a_stop_request_returns_at_once_with_the_input() -> None:
    instance = _instance()
    late = _late_copy(greedy(instance).booking.chains, 0, 30)
    assert reinsert(instance, late, stop=lambda: True).chains == late


def test_the_result_books_without_conflict() -> None:
    """Every chain of the repaired plan fits a fresh booking in the repaired order."""
    instance = _instance()
    repair = reinsert(instance, _late_copy(greedy(instance).booking.chains, 0, 30))
    booking = Booking(instance)
    for chain in repair.chains:
        job = instance.jobs[chain.job]
        placed = booking.insert(replace(job, earliest_day=chain.apheresis_day))
        assert isinstance(placed, ChainTimes)


def test_a_patient_in_process_is_never_moved() -> None:
    """P1, collected already, is infused a week later than it could be: the pass leaves it,
    though moving it would raise the objective (re-planning a started chain is not its job)."""
    collected = DoneStep("apheresis", datetime(2027, 1, 4, 8), datetime(2027, 1, 4, 14), "APH")
    p1 = patient(
        "P1",
        earliest_apheresis=START,
        latest_apheresis=START,
        status=PatientStatus.IN_PROCESS,
        done_steps=(collected,),
    )
    instance = compile_instance(tiny_scenario(patients=(p1,)))
    (chain,) = greedy(instance).booking.chains
    late = replace(chain, infusion_day=chain.infusion_day + 7)
    repair = reinsert(instance, [late])
    assert repair.chains == [late]
    assert repair.describe() is None


def test_an_equally_good_place_is_not_a_move() -> None:
    """P1 booked in the second of two rooms, at the best times: re-inserting it would take
    the first room at the same times, which is no gain, so nothing moves."""
    rooms = (
        Cleanroom("CR1", "Room 1", Grade.B, ("CART",)),
        Cleanroom("CR2", "Room 2", Grade.B, ("CART",)),
    )
    instance = compile_instance(tiny_scenario(1, cleanrooms=rooms))
    (chain,) = greedy(instance).booking.chains
    assert chain.room == 0
    second_room = replace(chain, room=1)
    repair = reinsert(instance, [second_room])
    assert repair.chains == [second_room]
    assert repair.describe() is None


def _gated() -> Instance:
    """P2 in cohort DL1 referred first; P1 in DL2, whose first infusion waits 20 days after
    DL1's: booked at its earliest apheresis, P1's cells wait for the gate."""
    return compile_instance(
        tiny_scenario(
            days=90,
            trials=(gated_trial(),),
            patients=(
                patient("P1", 1, window_days=40, trial_code="T1", cohort_code="DL2"),
                patient("P2", 0, window_days=40, trial_code="T1", cohort_code="DL1"),
            ),
        )
    )


def test_cells_waiting_for_a_gate_are_collected_later() -> None:
    """Collected later, P1 infuses on the same day (or earlier) with a shorter vein-to-vein;
    no infusion moves later, the objective is no worse, and the plan books without
    conflict."""
    instance = _gated()
    start = greedy(instance).booking.chains
    assert len(start) == 2
    before = {c.job: c for c in start}
    later = collect_later(instance, start)
    after = {c.job: c for c in later.chains}
    assert later.moved[0] == "P1"  # the longest vein-to-vein goes first
    assert after[0].apheresis_day > before[0].apheresis_day
    assert after[0].vein_to_vein() < before[0].vein_to_vein() - 10
    assert all(after[j].infusion_day <= before[j].infusion_day for j in before)
    assert objective(instance, later.chains) >= objective(instance, start)
    booking = Booking(instance)
    for chain in sorted(later.chains, key=lambda c: c.infusion_day):
        day = chain.apheresis_day
        job = replace(instance.jobs[chain.job], earliest_day=day, latest_day=day)
        placed = booking.insert(job)
        assert isinstance(placed, ChainTimes) and placed.infusion_day <= chain.infusion_day


def test_solve_returns_gated_cells_collected_late() -> None:
    """Through `solve`: P1 waits for its gate uncollected (its vein-to-vein as short as
    P2's), and the plan passes the independent check."""
    scenario = _gated().scenario
    plan = solve(scenario, SolveSettings(deterministic_time=1.0))
    assert check_plan(scenario, plan) == []
    p1, p2 = plan.schedule_of("P1"), plan.schedule_of("P2")
    assert p1 is not None and p2 is not None
    assert p1.vein_to_vein_days == p2.vein_to_vein_days
    assert p1.infusion_day >= p2.infusion_day + timedelta(days=20)


def test_a_kept_patient_and_a_stop_request_leave_the_plan() -> None:
    """With P1 kept its chain comes back unchanged; a stop request changes nothing."""
    instance = _gated()
    start = greedy(instance).booking.chains
    kept = collect_later(instance, start, keep=frozenset({0}))
    assert next(c for c in kept.chains if c.job == 0) == next(c for c in start if c.job == 0)
    assert "P1" not in kept.moved
    stopped = collect_later(instance, start, stop=lambda: True)
    assert stopped.moved == () and stopped.chains == sorted(start, key=lambda c: c.job)


def _crowded(light_window: int) -> tuple[Instance, list[ChainTimes]]:
    """One room; a priority-5 patient (L) booked alone on the first day it can be, and a
    priority-1 patient (H) left out who can only be collected that day."""
    light = patient("L", window_days=light_window, priority=5)
    heavy = patient("H", window_days=1, priority=1)
    instance = compile_instance(tiny_scenario(patients=(light, heavy)))
    booking = Booking(instance)
    chain = booking.insert(instance.jobs[0])
    assert isinstance(chain, ChainTimes)
    assert not isinstance(booking.insert(instance.jobs[1]), ChainTimes)
    return instance, [chain]


def test_a_left_out_patient_takes_the_place_of_a_lighter_one() -> None:
    """Re-insertion cannot plan H (L holds its only day); the swap plans H in L's place,
    and L, who cannot be collected on any other day, is left out: more weight planned."""
    instance, chains = _crowded(light_window=1)
    assert reinsert(instance, chains).chains == chains
    swapped = swap_in(instance, chains)
    assert [c.job for c in swapped.chains] == [1]
    assert swapped.chains[0].apheresis_day == chains[0].apheresis_day
    assert objective(instance, swapped.chains) > objective(instance, chains)
    assert swapped.describe() == "Swapped after solving: planned H in place of L."


def test_the_patient_taken_out_is_planned_again_where_it_still_fits() -> None:
    instance, chains = _crowded(light_window=20)
    swapped = swap_in(instance, chains)
    days = {instance.jobs[c.job].code: c.apheresis_day for c in swapped.chains}
    assert days["H"] == chains[0].apheresis_day < days["L"]
    assert swapped.swaps == (("H", "L", True),)
    booking = Booking(instance)
    for chain in swapped.chains:
        placed = booking.insert(replace(instance.jobs[chain.job], earliest_day=chain.apheresis_day))
        assert placed == chain


def test_kept_patients_are_not_taken_out_and_a_stop_swaps_nothing() -> None:
    instance, chains = _crowded(light_window=20)
    assert swap_in(instance, chains, keep=frozenset({0})).chains == chains
    assert swap_in(instance, chains, stop=lambda: True).chains == chains
