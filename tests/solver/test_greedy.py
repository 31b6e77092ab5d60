"""Constructive orders: each a permutation, meaningful ties, the best kept."""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
from dataclasses import replace

from data.generator import generate
from solver.chain import ChainTimes
from solver.greedy import (
    ORDERS,
    Booking,
    atc_order,
    book_in_order,
    edd_order,
    greedy,
    priority_order,
    rebook,
)
from solver.instance import compile_instance


def test_every_order_is_a_permutation_of_the_jobs() -> None:
    """Each order books every job exactly once."""
    instance = compile_instance(generate("S", 1))
    for order in ORDERS.values():
        assert sorted(j.index for j in order(instance)) == [j.index for j in instance.jobs]


def test_edd_puts_earlier_needed_days_first() -> None:
    """Earliest due date: needed days never decrease along the order."""
    instance = compile_instance(generate("S", 1))
    days = [j.needed_day for j in edd_order(instance) if j.needed_day is not None]
    assert days == sorted(days)


def test_priority_ties_are_broken_by_due_day_not_code() -> None:
    """Within one weight, the earlier needed day comes first."""
    instance = compile_instance(generate("S", 1))
    order = priority_order(instance)
    for a, b in itertools.pairwise(order):
        if a.weight == b.weight and a.needed_day is not None and b.needed_day is not None:
            assert a.needed_day <= b.needed_day


def test_atc_prefers_heavier_patients_at_equal_slack() -> None:
    """The apparent-tardiness-cost rule ranks the weightier of two like patients first."""
    instance = compile_instance(generate("S", 1))
    job = next(j for j in instance.jobs if j.needed_day is not None)
    light, heavy = replace(job, index=0, weight=4), replace(job, index=1, weight=50)
    twins = replace(instance, jobs=[light, heavy])
    assert [j.index for j in atc_order(twins)] == [1, 0]


def test_greedy_keeps_the_best_order() -> None:
    """The greedy result is at least as good as every single order, and repeatable."""
    instance = compile_instance(generate("M-over", 1))
    best = greedy(instance)
    for name, order in ORDERS.items():
        assert best.objective >= book_in_order(instance, order(instance), name).objective
    assert greedy(instance).booking.chains == best.booking.chains


def test_each_order_reports_the_best_booking_so_far_and_a_stop_ends_the_orders() -> None:
    """The first order's booking is heard at once (a whole plan); later reports never get
    worse; stopping after the first skips the rest and returns it."""
    from solver.greedy import GreedyResult
    from tests.factories import tiny_scenario

    instance = compile_instance(tiny_scenario(6))
    heard: list[GreedyResult] = []
    best = greedy(instance, on_order=heard.append)
    assert [r.objective for r in heard] == sorted(r.objective for r in heard)
    assert len(heard) == len(ORDERS) and heard[-1] is best
    heard.clear()
    first = greedy(compile_instance(tiny_scenario(6)), on_order=heard.append, stop=lambda: True)
    assert len(heard) == 1 and first.order == next(iter(ORDERS))
    assert len(first.booking.chains) > 0


def _held(booking: Booking) -> dict[str, object]:
    """What a booking holds (its instance aside)."""
    return {k: v for k, v in vars(booking).items() if k != "instance"}


def test_unbooking_a_chain_leaves_what_booking_the_others_holds() -> None:
    instance = compile_instance(generate("M", 1))
    chains = book_in_order(instance, ORDERS["fcfs"](instance), "fcfs").booking.chains
    whole = rebook(instance, chains)
    for chain in chains[::7]:
        booking = whole.copy()
        booking.unbook(chain)
        assert _held(booking) == _held(rebook(instance, [c for c in chains if c != chain]))
    assert _held(whole) == _held(rebook(instance, chains))  # the copies were its own


def test_steps_compiled_apart_are_equal_and_hash_alike() -> None:
    """Steps key the instance's memos: a step compiled again must find them."""
    first, second = (compile_instance(generate("S", 1)) for _ in range(2))
    for a, b in zip(first.jobs[0].steps, second.jobs[0].steps, strict=True):
        assert a is not b and a == b and hash(a) == hash(b)
    assert len({s for job in first.jobs for s in job.steps}) < sum(len(j.steps) for j in first.jobs)


def test_a_step_pickled_in_another_process_hashes_as_one_made_here() -> None:
    """Instances may travel to other processes (replications on all cores): a step
    unpickled here must find the memos keyed by an equal step made here, although string
    hashes differ between processes."""
    code = (
        "import pickle, sys; from data.generator import generate; "
        "from solver.instance import compile_instance; "
        "sys.stdout.buffer.write(pickle.dumps(compile_instance(generate('S', 1)).jobs[0].steps))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)
    theirs = pickle.loads(done.stdout)
    mine = compile_instance(generate("S", 1)).jobs[0].steps
    assert theirs == mine
    assert [hash(s) for s in theirs] == [hash(s) for s in mine]
    assert {s: i for i, s in enumerate(mine)}[theirs[0]] == 0


def test_a_day_gives_the_earliest_infusion_of_any_single_room_and_device() -> None:
    """On a crowded booking (M-over's best greedy plan, every third patient taken out),
    the chain a day gives each patient taken out infuses as early as the best of the
    patient restricted to each one of its rooms and devices in turn."""
    instance = compile_instance(generate("M-over", 1))
    chains = greedy(instance).booking.chains
    out = chains[::3]
    booking = rebook(instance, [c for c in chains if c not in out])
    tried = 0
    for chain in out:
        job = instance.jobs[chain.job]
        for day in range(chain.apheresis_day - 2, chain.apheresis_day + 5):
            found = booking.on_day(job, day)
            alone = [
                booking.on_day(
                    replace(job, rooms=(r,) if r >= 0 else (), devices=(d,) if d >= 0 else ()), day
                )
                for r, d in itertools.product(job.rooms or (-1,), job.devices or (-1,))
            ]
            days = [c.infusion_day for c in alone if isinstance(c, ChainTimes)]
            if not days:
                assert not isinstance(found, ChainTimes)
                continue
            tried += 1
            assert isinstance(found, ChainTimes) and found.infusion_day == min(days)
    assert tried > 100
