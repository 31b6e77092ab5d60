"""Print CP-SAT's own search log for a generated centre, with the planner's parameters.

`SolveSettings` has no log switch, so this builds the planner's model (`ChainModel`, hinted
with the greedy booking, as `solver.solve` does) and runs CP-SAT with the same parameters
plus `log_search_progress`. For diagnosis only; it never changes the model. Usage:

    .venv/bin/python benchmarks/cp_sat_log.py M [--seed 1] [--det-time 3] [--ignore fixed]

`demo` instead of a class solves the demo centre.
"""

from __future__ import annotations

import argparse
import time

from ortools.sat.python import cp_model

from data.demo import build_demo_scenario
from data.generator import CLASSES, generate
from planner import SolveSettings
from solver.api import _parameters, in_process
from solver.chain import objective, scheduled_scale
from solver.greedy import greedy
from solver.hints import complete_hint
from solver.instance import compile_instance
from solver.model import ChainModel


def main() -> None:
    """Build, hint and solve one instance with CP-SAT's log on."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=[*sorted(CLASSES), "demo"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--det-time", type=float, default=SolveSettings().deterministic_time)
    parser.add_argument(
        "--ignore", nargs="*", default=None, help="subsolvers to leave out (default: as planned)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    scenario = build_demo_scenario() if args.size == "demo" else generate(args.size, args.seed)
    instance = compile_instance(scenario)
    base = greedy(instance)
    print(f"compile + greedy: {time.monotonic() - started:.1f} s, greedy {base.objective:,}")
    started = time.monotonic()
    chain_model = ChainModel(instance, group_holders=True)
    chain_model.hint(base.booking.chains)
    chain_model.require(in_process(instance))
    complete_hint(chain_model.model, SolveSettings().seed)
    print(f"model build: {time.monotonic() - started:.1f} s")
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(_parameters(SolveSettings(deterministic_time=args.det_time)))
    if args.ignore is not None:
        solver.parameters.ignore_subsolvers.clear()
        solver.parameters.ignore_subsolvers.extend(args.ignore)
    solver.parameters.log_search_progress = True
    status = solver.solve(chain_model.model)
    print(f"status {solver.status_name(status)}, wall {solver.wall_time:.1f} s")
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = objective(instance, chain_model.chains(solver.value))
        scale = scheduled_scale(instance)
        print(f"CP-SAT {value:,} vs greedy {base.objective:,} (one weight unit = {scale:,})")


if __name__ == "__main__":
    main()
