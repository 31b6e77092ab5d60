"""Benchmark: how long `slot` takes to answer on the demo centre around its plan.

Plans the demo once (deterministic time 3), then asks for the earliest slot of each
product from several dates and prints one row per product, as the window asks it (in
process), then one row per product for the `atmp-planner slot` command as a user runs it
(a new process: Python, imports, opening the database, loading the plan). Usage:

    .venv/bin/python benchmarks/slot_bench.py [--det-time 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from data.db import open_database
from data.demo import build_demo_scenario
from data.repository import Repository
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
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        repo = Repository(open_database(url))
        repo.save_scenario(scenario)
        repo.save_plan(plan, current=True)
        print(f"\n`atmp-planner slot --product P --from {starts[0]}` in a new process")
        header = f"{'product':<8} {'runs':>5} {'median s':>9} {'max s':>7}"
        print(header)
        print("-" * len(header))
        for product in scenario.products:
            argv = [sys.executable, "-m", "atmp_planner", "--db", url, "slot"]
            argv += ["--product", product.code, "--from", str(starts[0])]
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True)
                times.append(time.perf_counter() - began)
            print(
                f"{product.code:<8} {args.repeat:>5} {statistics.median(times):>9.3f} "
                f"{max(times):>7.3f}"
            )


if __name__ == "__main__":
    main()
