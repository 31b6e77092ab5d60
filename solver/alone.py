"""CP-SAT alone on the planner's model: the benchmark's reference for what the planner adds.

The same variables, constraints and objective as `solve`'s full model (`ChainModel`), solved
by CP-SAT's default portfolio on `workers` threads for a wall-clock time, with no greedy
start, no redundant cumulatives, no LNS and no re-insertion. Not reproducible (wall time),
and not meant for planning: `bench --methods cp-sat-alone` compares it with the planner at
equal time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ortools.sat.python import cp_model

from planner import Plan, Scenario, SolveSettings
from planner.plan import MAX_SEED
from solver.api import in_process, info_of
from solver.chain import ChainTimes, trivial_bound
from solver.extract import build_plan
from solver.instance import compile_instance
from solver.model import ChainModel


def solve_alone(scenario: Scenario, seconds: float, *, seed: int = 0, workers: int = 2) -> Plan:
    """Plan the scenario by CP-SAT alone within `seconds` of wall time (the model's build
    included); a plan with no one scheduled if CP-SAT finds nothing in time."""
    started = time.monotonic()
    instance = compile_instance(scenario)
    chain_model = ChainModel(instance)
    chain_model.require(in_process(instance))  # as in `solve`: started chains go on
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed % MAX_SEED
    solver.parameters.catch_sigint_signal = False
    solver.parameters.max_time_in_seconds = max(0.1, seconds - (time.monotonic() - started))
    status = solver.solve(chain_model.model)
    chains: list[ChainTimes] = []
    bound = float(trivial_bound(instance))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chains = chain_model.chains(solver.value)
        bound = min(bound, float(solver.best_objective_bound))
    settings = SolveSettings(
        deterministic=False,
        time_limit_s=seconds,
        seed=seed % MAX_SEED,
        workers=workers,
        use_greedy_hint=False,
    )
    info = info_of(
        instance,
        chains,
        engine="cp-sat-alone",
        bound=bound,
        started=started,
        settings=settings,
        status="OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE",
        cp_sat_status=solver.status_name(status),
    )
    return build_plan(instance, chains, info, datetime.now(UTC))
