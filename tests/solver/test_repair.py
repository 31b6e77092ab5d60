"""Re-insertion after solving: only improvements, never a fixed patient moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from planner import Cleanroom, DoneStep, Grade, PatientStatus
from solver.chain import ChainTimes, objective
from solver.greedy import Booking, greedy, rebook
from solver.instance import Instance, compile_instance
from solver.repair import reinsert
from tests.factories import START, patient, tiny_scenario


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
