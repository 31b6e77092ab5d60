"""The solver's public entry point."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from importlib import metadata

from ortools.sat.python import cp_model

from planner import DoneStepConflict, Plan, Scenario, SolveProgress, SolverInfo, SolveSettings
from planner.plan import CP_SAT_NOT_RUN
from planner.replan import Replan
from planner.sanity import never_feasible
from solver import stability
from solver.chain import ChainTimes, objective, objective_levels, trivial_bound
from solver.extract import build_plan, explain
from solver.greedy import Failure, greedy
from solver.instance import Instance, compile_instance
from solver.model import ChainModel
from solver.repair import reinsert
from solver.slot import with_competition_named
from solver.staffing import Preferred, assign_staff

ProgressHook = Callable[[SolveProgress], None]
CancelHook = Callable[[], bool]


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution and keeps the best chains seen."""

    def __init__(
        self, chain_model: ChainModel, started: float, on_progress: ProgressHook | None
    ) -> None:
        super().__init__()
        self.chain_model = chain_model
        self.started = started
        self.on_progress = on_progress
        self.best: list[ChainTimes] | None = None

    def on_solution_callback(self) -> None:
        self.best = self.chain_model.chains(self.value)
        if self.on_progress is not None:
            self.on_progress(
                SolveProgress(
                    phase="cp-sat",
                    elapsed_s=time.monotonic() - self.started,
                    objective=self.objective_value,
                    bound=self.best_objective_bound,
                    scheduled=len(self.best),
                )
            )


@cache
def versions() -> str:
    """The versions that made a plan, recorded with it so it can be reproduced."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"atmp-planner {version('atmp-planner')}, ortools {version('ortools')}"


def _parameters(settings: SolveSettings) -> cp_model.SatParameters:
    params = cp_model.SatParameters()
    params.num_workers = settings.workers
    params.random_seed = settings.seed
    # Callers stop a search through `cancel`; CP-SAT's own Ctrl-C handler, installed from a
    # worker thread, aborts the process (std::bad_function_call) instead.
    params.catch_sigint_signal = False
    if settings.deterministic:
        # Deterministic time, not wall time, bounds the search so runs repeat exactly.
        params.max_deterministic_time = settings.deterministic_time
        # Interleaved search runs CP-SAT's LNS portfolio deterministically. With one worker
        # its tasks run one at a time on one thread (batch size 1).
        params.interleave_search = True
        if settings.workers == 1:
            params.num_workers = 2
            params.interleave_batch_size = 1
    else:
        params.max_time_in_seconds = settings.time_limit_s
    return params


def solve(
    scenario: Scenario,
    settings: SolveSettings | None = None,
    *,
    on_progress: ProgressHook | None = None,
    cancel: CancelHook | None = None,
    replan: Replan | None = None,
) -> Plan:
    """Plan every patient of the scenario; never worse than first-come-first-served booking.

    on_progress is called from the solving thread; cancel is polled and, when it returns
    True, the best plan found so far is returned. With replan, the plan is made against
    a published plan: its started, frozen and pinned steps are kept, and as few of its
    patients as possible move (solver/stability.py).
    """
    settings = settings or SolveSettings()
    started = time.monotonic()

    def report(phase: str, value: float | None = None, scheduled: int | None = None) -> None:
        if on_progress is not None:
            elapsed = time.monotonic() - started
            on_progress(SolveProgress(phase, elapsed, objective=value, scheduled=scheduled))

    report("compile")
    prepared = stability.prepare(scenario, replan)
    instance = compile_instance(prepared.scenario)
    stability.attach(instance, replan, prepared)
    base = greedy(instance)
    _keep_in_process(instance, base.failures, prepared, replan)
    stability.mark_kept(instance, base.booking.chains)
    report("greedy", float(base.objective), len(base.booking.chains))
    chains, engine = base.booking.chains, f"greedy-{base.order}"
    bound = float(trivial_bound(instance))
    cp_status, stopped = CP_SAT_NOT_RUN, False
    # Said first: what no plan can satisfy, so the reader fixes the input, not the plan.
    notes: list[str] = never_feasible(scenario)
    if instance.jobs and not (cancel is not None and cancel()):
        cp_chains, cp_status, cp_bound = _cp_sat(
            instance, settings, base.booking.chains, started, on_progress, cancel
        )
        cp_value = None if cp_chains is None else objective(instance, cp_chains)
        if cp_chains is not None and cp_value is not None and cp_value >= base.objective:
            chains, engine, bound = cp_chains, "cp-sat", cp_bound
            if cp_value == base.objective:
                notes.append("CP-SAT confirmed the greedy booking without improving it.")
        else:
            bound = cp_bound if cp_chains is not None else bound
            notes.append(
                "CP-SAT found nothing better than the greedy booking; kept the greedy plan."
            )
        stopped = cancel is not None and cancel()
    elif instance.jobs:
        stopped = True
    if stopped:
        notes.append("Stopped early on request: this is the best plan found so far.")
    else:
        report("repair", float(objective(instance, chains)), len(chains))
        repair = reinsert(instance, list(chains), stop=cancel)
        if repair.describe() is not None:
            chains = repair.chains
            engine += "+reinsert"
            notes.append(str(repair.describe()))
    value = float(objective(instance, chains))
    bound = max(bound, value)
    info = SolverInfo(
        status="OPTIMAL" if value >= bound else "FEASIBLE",
        engine=engine,
        objective=value,
        bound=bound,
        wall_time_s=round(time.monotonic() - started, 3),
        settings=settings,
        greedy_objective=float(base.objective),
        cp_sat_status=cp_status,
        stopped=stopped,
        versions=versions(),
        levels=objective_levels(instance, chains, bound),
    )
    report("extract", value, len(chains))
    plan = build_plan(instance, chains, info, datetime.now(UTC), tuple(notes))
    plan = with_competition_named(instance, plan)
    if replan is not None:
        extra = stability.notes(instance, replan, prepared, plan, chains)
        plan = replace(plan, notes=plan.notes + extra)
    report("staff", value, len(plan.schedules))
    plan = _name_staff(scenario, plan, settings, stability.kept_names(replan, prepared))
    report("done", value, len(plan.schedules))
    return plan


#: Gaps listed one by one in a plan's notes; the rest are counted.
_GAP_NOTES = 20


def _name_staff(
    scenario: Scenario, plan: Plan, settings: SolveSettings, prefer: Preferred | None = None
) -> Plan:
    """The plan with named people beside its staff-pool rows, and notes on any gaps."""
    staffing = assign_staff(scenario, plan.assignments, seed=settings.seed, prefer=prefer)
    if not staffing.needs:
        return plan
    notes = [staffing.summary()] + [g.describe() for g in staffing.gaps[:_GAP_NOTES]]
    if len(staffing.gaps) > _GAP_NOTES:
        notes.append(f"... and {len(staffing.gaps) - _GAP_NOTES} more unnamed needs.")
    assignments = sorted(
        plan.assignments + staffing.named,
        key=lambda a: (a.start, a.patient_code, a.step_code, a.resource_type, a.resource_code),
    )
    return replace(plan, assignments=tuple(assignments), notes=plan.notes + tuple(notes))


def _keep_in_process(
    instance: Instance,
    failures: dict[int, Failure],
    prepared: stability.Prepared | None = None,
    replan: Replan | None = None,
) -> None:
    """Patients with steps done (or kept from the published plan) stay in every plan; if
    one cannot go on, say so and stop."""
    for job in instance.jobs:
        if job.in_process and job.index in failures:
            last = max(job.done)
            step = "apheresis" if last == -1 else job.steps[last].code
            reason = explain(instance, job, failures[job.index])
            kept = None if prepared is None else prepared.fixed.get(job.code)
            if kept is not None and replan is not None:
                raise DoneStepConflict(
                    f"Patient '{job.code}' is kept as in {replan.name} up to step '{step}' "
                    f"({kept.why}) but the rest of its chain cannot be planned: "
                    f"{reason.detail} Unpin it, or re-plan with --fresh."
                )
            raise DoneStepConflict(
                f"Patient '{job.code}' is in process (done up to step '{step}') but the rest "
                f"of its chain cannot be planned: {reason.detail}"
            )


def _cp_sat(
    instance: Instance,
    settings: SolveSettings,
    hint: list[ChainTimes],
    started: float,
    on_progress: ProgressHook | None,
    cancel: CancelHook | None,
) -> tuple[list[ChainTimes] | None, str, float]:
    """Run CP-SAT from the greedy hint; returns its chains (None if none), status and bound."""
    chain_model = ChainModel(instance)
    if settings.use_greedy_hint:
        chain_model.hint(hint)
    chain_model.require({job.index for job in instance.jobs if job.in_process})
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(_parameters(settings))
    callback = _Progress(chain_model, started, on_progress)
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
        status = solver.solve(chain_model.model, callback)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    name = solver.status_name(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return chain_model.chains(solver.value), name, float(solver.best_objective_bound)
    return None, name, 0.0
