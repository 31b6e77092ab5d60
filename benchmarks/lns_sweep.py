"""Compare CP-SAT parameters for the LNS sub-solves on a generated centre.

Runs `solver.lns.improve` from the planner's greedy start with the same total budget once
per variant (extra SatParameters in text format merged over the planner's), and prints
the objective reached, patients, priority weight, lateness, steps and improving steps.
Deterministic: a variant's figures repeat exactly. Usage:

    .venv/bin/python benchmarks/lns_sweep.py M-over --budget 1.5 --seed 1
"""

from __future__ import annotations

import argparse
import time

from ortools.sat.python import cp_model

from data.generator import CLASSES, generate
from planner import SolveSettings
from solver import lns
from solver.greedy import greedy
from solver.instance import compile_instance
from solver.params import Search, search_parameters

#: Name -> extra parameters; "portfolio" is the interleaved search of the full model.
VARIANTS = {
    "one-worker": "",
    "portfolio": "interleave_search:true num_workers:2 interleave_batch_size:1",
    "portfolio-lin0": "interleave_search:true num_workers:2 interleave_batch_size:1 "
    "linearization_level:0",
    "portfolio-no-fixed": "interleave_search:true num_workers:2 interleave_batch_size:1 "
    'ignore_subsolvers:"fixed"',
    "portfolio-no-lp": "interleave_search:true num_workers:2 interleave_batch_size:1 "
    'ignore_subsolvers:"default_lp"',
}


def main() -> None:
    """Run every variant and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(CLASSES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1.5)
    parser.add_argument(
        "--step-budget", type=float, help="deterministic time per sub-solve (default: planner's)"
    )
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()
    instance = compile_instance(generate(args.size, args.seed))
    start = greedy(instance).booking.chains
    if args.step_budget is not None:
        lns.STEP_BUDGET = lns.SMALL_STEP_BUDGET = args.step_budget
    for name in args.variants:

        def parameters(
            settings: SolveSettings, budget: float, search: Search, extra: str
        ) -> cp_model.SatParameters:
            params = search_parameters(settings, budget, search)
            params.merge_text_format(extra)
            return params

        lns.search_parameters = lambda s, b, search="portfolio", e=VARIANTS[name]: parameters(  # type: ignore[misc]
            s, b, search, e
        )
        began = time.monotonic()
        result = lns.improve(instance, start, args.budget, settings=SolveSettings(seed=args.seed))
        weight = sum(instance.jobs[c.job].weight for c in result.chains)
        late = sum(c.lateness(instance) for c in result.chains)
        print(
            f"{args.size} {name:20} objective {result.value} patients {len(result.chains)} "
            f"weight {weight} late {late} d, steps {len(result.steps)} "
            f"({sum(s.improved for s in result.steps)} improved), "
            f"{time.monotonic() - began:.0f} s wall",
            flush=True,
        )


if __name__ == "__main__":
    main()
