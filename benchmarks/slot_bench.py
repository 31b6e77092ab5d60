"""Benchmark: how long `slot` takes to answer on the demo centre around its plan.

Plans the demo once (deterministic time 3), then asks for the earliest slot of each
product from several dates and prints one row per product. Usage:

    .venv/bin/python benchmarks/slot_bench.py [--det-time 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from data.demo import build_demo_scenario
from planner import SolveSettings
from planner.slot import Referral
from solver import earliest_slot, solve


def main() -> None:
    """Print the slot benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--det-time", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = build_demo_scenario()
    plan = solve(scenario, SolveSettings(deterministic_time=args.det_time))
    starts = [scenario.horizon_start + timedelta(weeks=w) for w in (1, 6, 12)]
    asked = ", ".join(str(s) for s in starts)
    print(f"demo: {plan.kpis.scheduled}/{plan.kpis.total} scheduled; slots asked from {asked}")
    header = f"{'product':<8} {'asks':>5} {'found':>6} {'median s':>9} {'max s':>7}  first slot"
    print(header)
    print("-" * len(header))
    for product in scenario.products:
        times, found, first = [], 0, ""
        for start in starts:
            for _ in range(args.repeat):
                began = time.perf_counter()
                offer = earliest_slot(scenario, plan, Referral(product.code, start), "bench")
                times.append(time.perf_counter() - began)
            found += offer.found
            if not first and offer.apheresis_day is not None:
                first = f"{start} -> {offer.apheresis_day} (infusion {offer.infusion_day})"
        print(
            f"{product.code:<8} {len(starts):>5} {found:>6} {statistics.median(times):>9.3f} "
            f"{max(times):>7.3f}  {first or '-'}"
        )


if __name__ == "__main__":
    main()
