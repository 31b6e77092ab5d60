"""Benchmark: roster import and weekly-plan export at a regional hub's size.

Generates the L centre (600 patients, 52 weeks; data/generator.py), writes its roster as
a staffing office's matrix workbook (people down, one column per day, shift codes in the
cells), imports and merges it, and exports the weekly plan of its greedy plan for four
weeks and for the whole year. Targets (issue 11): a year's roster for 60 people (about
22,000 cells) in under 2 s; the weekly plan of a 600-patient year in under 5 s. Usage:

    .venv/bin/python benchmarks/io_bench.py [--seed 1] [--repeat 3] [--people 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from openpyxl import Workbook

from data.excel_export import write_plan_workbook
from data.generator import generate
from data.roster_import import read_roster
from planner import Scenario, SolveSettings
from planner.imports import merge_roster
from solver import solve


def matrix_roster(path: Path, scenario: Scenario, people: int) -> int:
    """Write the first `people` staff's roster as a matrix; return the number of cells."""
    days = scenario.days()
    staff = [s.code for s in scenario.staff[:people]]
    shift = {(e.staff_code, e.day): e.shift_code for e in scenario.roster}
    wb = Workbook()
    ws = wb.active
    ws.title = "Schema"
    ws.append([f"Roster {days[0]} to {days[-1]}"])
    ws.append(["Name", *days])
    for code in staff:
        ws.append([code, *(shift.get((code, d), "") for d in days)])
    wb.save(path)
    return len(staff) * len(days)


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst seconds of `repeat` runs."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), max(times)


def main() -> None:
    """Print the import and export benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--people", type=int, default=60)
    args = parser.parse_args()
    scenario = generate("L", args.seed)
    if len(scenario.staff) < args.people:
        parser.error(f"the L centre has {len(scenario.staff)} staff, fewer than --people")
    plan = solve(scenario, SolveSettings(), cancel=lambda: True)  # the greedy plan: fast
    rows: list[tuple[str, str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "roster.xlsx"
        cells = matrix_roster(book, scenario, args.people)

        def roster_import() -> None:
            merge_roster(scenario, read_roster(book, scenario))

        size = f"{args.people} people x {len(scenario.days())} days = {cells:,} cells"
        rows.append(
            ("roster import (read + merge)", size, *timed(roster_import, args.repeat), "< 2 s")
        )
        out = Path(folder) / "plan.xlsx"
        start = scenario.horizon_start
        for label, end in (
            ("4 weeks", start + timedelta(weeks=4) - timedelta(days=1)),
            ("whole year", scenario.horizon_end),
        ):

            def export(end: object = end) -> None:
                write_plan_workbook(out, scenario, plan, start, end)  # type: ignore[arg-type]

            what = f"{plan.kpis.scheduled} of {plan.kpis.total} patients planned, {label}"
            rows.append(("weekly plan export", what, *timed(export, args.repeat), "< 5 s"))
    header = f"{'task':<30} {'size':<46} {'median s':>9} {'max s':>7}  target"
    print(f"L centre, seed {args.seed}; {args.repeat} runs each")
    print(header)
    print("-" * len(header))
    for task, what, median, worst, target in rows:
        print(f"{task:<30} {what:<46} {median:>9.2f} {worst:>7.2f}  {target}")


if __name__ == "__main__":
    main()
