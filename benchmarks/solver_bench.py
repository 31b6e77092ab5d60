"""Benchmark: CP-SAT plan vs first-come-first-served booking on synthetic demand.

Runs the demo centre's resources against N synthetic referrals spread over the horizon and
prints one table row per size. Usage:

    .venv/bin/python benchmarks/solver_bench.py [--sizes 30 60 120 240] [--det-time 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from datetime import timedelta

from data.demo import build_demo_scenario
from planner import Patient, Scenario, SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.chain import ChainTimes
from solver.greedy import Booking, fcfs_order
from solver.instance import compile_instance


def synthetic(base: Scenario, n: int, seed: int) -> Scenario:
    """The base centre with n referrals spread evenly (with noise) over its horizon."""
    rng = random.Random(seed)
    span = (base.horizon_end - base.horizon_start).days - 30
    products = [p.code for p in base.products]
    patients = []
    for i in range(n):
        referral = base.horizon_start + timedelta(days=int(rng.random() * span))
        earliest = referral + timedelta(days=rng.randint(7, 21))
        patients.append(
            Patient(
                code=f"S{i:04d}",
                product_code=rng.choice(products),
                referral_date=referral,
                earliest_apheresis=earliest,
                latest_apheresis=earliest + timedelta(days=rng.randint(14, 35)),
                needed_infusion=earliest + timedelta(days=rng.randint(28, 45)),
                priority=rng.choice((1, 2, 3, 3, 3, 4, 5)),
            )
        )
    return replace(base, name=f"synthetic-{n}", patients=tuple(patients), trials=())


def fcfs(scenario: Scenario) -> tuple[int, int, list[int]]:
    """Plain first-come-first-served booking: patients, priority weight and vein-to-vein days."""
    instance = compile_instance(scenario)
    booking = Booking(instance)
    chains: list[ChainTimes] = []
    for job in fcfs_order(instance):
        result = booking.insert(job)
        if isinstance(result, ChainTimes):
            chains.append(result)
    weight = sum(instance.jobs[c.job].weight for c in chains)
    return len(chains), weight, [c.vein_to_vein() for c in chains]


def plan_weight(scenario: Scenario, codes: set[str]) -> int:
    """Priority weight of the scheduled patients (what the objective maximises first)."""
    return sum(
        scenario.weight(scenario.effective_priority(p))
        for p in scenario.patients
        if p.code in codes
    )


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 60, 120, 240])
    parser.add_argument("--det-time", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = build_demo_scenario()
    header = (
        f"{'patients':>8} {'fcfs sched':>10} {'fcfs wt':>7} {'fcfs v2v':>8} {'plan sched':>10} "
        f"{'plan wt':>7} {'plan v2v':>8} {'late d':>6} {'engine':>14} {'status':>9} "
        f"{'wall s':>7} {'valid':>5}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        scenario = synthetic(base, n, args.seed)
        fcfs_count, fcfs_weight, fcfs_v2v = fcfs(scenario)
        started = time.monotonic()
        plan = solve(scenario, SolveSettings(deterministic_time=args.det_time, seed=args.seed))
        wall = time.monotonic() - started
        v2v = [s.vein_to_vein_days for s in plan.schedules]
        valid = "yes" if not check_plan(scenario, plan) else "NO"
        weight = plan_weight(scenario, {s.patient_code for s in plan.schedules})
        print(
            f"{n:>8} {fcfs_count:>10} {fcfs_weight:>7} {statistics.median(fcfs_v2v or [0]):>8.1f} "
            f"{plan.kpis.scheduled:>10} {weight:>7} {statistics.median(v2v or [0]):>8.1f} "
            f"{plan.kpis.total_lateness_days:>6} {plan.solver.engine:>14} "
            f"{plan.solver.status:>9} {wall:>7.1f} {valid:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()
