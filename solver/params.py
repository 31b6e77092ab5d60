"""CP-SAT parameters of every search the planner runs (full model, LNS sub-models)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

from ortools.sat.python import cp_model

from planner import SolveSettings

#: What one CP-SAT search runs: CP-SAT's interleaved portfolio ("portfolio"); the same
#: with `core` as its only full-problem subsolver, beside CP-SAT's own LNS ("core"); or
#: one worker's default search ("one-worker", LNS sub-models).
Search = Literal["portfolio", "core", "one-worker"]


def search_parameters(
    settings: SolveSettings, budget: float, search: Search = "portfolio"
) -> cp_model.SatParameters:
    """Parameters for one search: `budget` is deterministic time, or seconds in wall-clock
    mode. Both modes run the same search; only what bounds it differs.

    "one-worker" (LNS sub-models): on M-over sub-models it improved 4 of 7 steps where
    the interleaved portfolio improved 1 (docs/benchmarks.md); LNS runs
    `settings.workers` sub-solves at once instead. "core" (the full model of small
    centres): on the demo `core` found the plans and proved the first level, while the
    other full-problem subsolvers took half the wall time (docs/benchmarks.md).
    """
    params = cp_model.SatParameters()
    params.random_seed = settings.seed
    # Callers stop a search through `cancel`; CP-SAT's own Ctrl-C handler, installed from a
    # worker thread, aborts the process (std::bad_function_call) instead.
    params.catch_sigint_signal = False
    if settings.deterministic:
        # Deterministic time, not wall time, bounds the search so runs repeat exactly.
        params.max_deterministic_time = max(0.001, budget)
    else:
        params.max_time_in_seconds = max(0.001, budget)
    # Interleaved search runs CP-SAT's LNS portfolio, its tasks one at a time on one thread
    # (batch size 1, below). In wall-clock mode too, so both modes search alike (without
    # it one worker runs a single default search and no LNS).
    if search == "one-worker":
        params.num_workers = 1
        return params
    params.interleave_search = True
    # The fixed-strategy worker took a third of the budget (and half the wall time) on
    # the demo while the core and LP workers found every better plan (docs/benchmarks.md).
    params.ignore_subsolvers.append("fixed")
    if search == "core":
        params.subsolvers.append("core")
    params.num_workers = max(2, settings.workers)
    # One task at a time, whatever the workers: CP-SAT gives a full-problem subsolver a
    # whole deterministic unit per task and counts it only when the batch ends, so two at
    # once overran the budget (M: 101 s for a 1.5-unit budget, against 28 s one at a
    # time). LNS (solver/lns.py) is what runs `workers` sub-solves at once.
    params.interleave_batch_size = 1
    return params


def run_search(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    settings: SolveSettings,
    cancel: Callable[[], bool] | None,
    callback: cp_model.CpSolverSolutionCallback | None = None,
) -> tuple[cp_model.CpSolverStatus, float]:
    """Solve, stopping the search when `cancel` turns true (polled every 0.1 s); return
    the status and the budget spent (deterministic time, or seconds)."""
    began = time.monotonic()
    done = threading.Event()
    watcher: threading.Thread | None = None
    if cancel is not None:

        def watch() -> None:
            while not done.wait(0.1):
                if cancel():
                    solver.stop_search()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    try:
        status = solver.solve(model, callback)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    spent = (
        float(solver.response_proto.deterministic_time)
        if settings.deterministic
        else time.monotonic() - began
    )
    return status, spent
