"""The solver's public entry point."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from ortools.sat.python import cp_model

from planner import DoneStepConflict, Plan, Scenario, SolveProgress, SolverInfo, SolveSettings
from planner.plan import CP_SAT_LNS, CP_SAT_NOT_RUN
from planner.replan import Replan
from planner.sanity import never_feasible
from solver import stability
from solver.bound import relaxation_bound
from solver.chain import ChainTimes, objective, objective_levels, scheduled_scale, trivial_bound
from solver.extract import build_plan, explain
from solver.greedy import Failure, GreedyResult, greedy
from solver.hints import complete_hint
from solver.instance import Instance, compile_instance
from solver.lns import improve
from solver.model import ChainModel
from solver.params import Search, run_search, search_parameters
from solver.repair import collect_later, reinsert, swap_in
from solver.slot import with_competition_named
from solver.staffing import Preferred, assign_staff

ProgressHook = Callable[[SolveProgress], None]
CancelHook = Callable[[], bool]


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution and keeps the best chains seen."""

    def __init__(
        self,
        chain_model: ChainModel,
        started: float,
        on_progress: ProgressHook | None,
        bound_scale: int = 1,
    ) -> None:
        super().__init__()
        self.chain_model = chain_model
        self.started = started
        self.on_progress = on_progress
        #: What one unit of the search's bound is worth in the plan's objective.
        self.bound_scale = bound_scale
        self.best: list[ChainTimes] | None = None

    def on_solution_callback(self) -> None:
        self.best = self.chain_model.chains(self.value)
        if self.on_progress is not None:
            # The plan's objective, whatever the search maximises (the first level alone).
            self.on_progress(
                SolveProgress(
                    phase="cp-sat",
                    elapsed_s=time.monotonic() - self.started,
                    objective=float(objective(self.chain_model.instance, self.best)),
                    bound=self.best_objective_bound * self.bound_scale,
                    scheduled=len(self.best),
                )
            )


@cache
def versions() -> str:
    """The versions that made a plan, recorded with it so it can be reproduced: the
    package's, its planning code's digest (`source_digest`) and OR-Tools'."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    here = Path(__file__).resolve().parent
    digest = source_digest(here.parent / package for package in ("planner", "solver"))
    return f"atmp-planner {version('atmp-planner')}, source {digest}, ortools {version('ortools')}"


def info_of(
    instance: Instance,
    chains: list[ChainTimes],
    *,
    engine: str,
    bound: float,
    started: float,
    settings: SolveSettings,
    status: str = "FEASIBLE",
    cp_sat_status: str = CP_SAT_NOT_RUN,
) -> SolverInfo:
    """What made chains found without `solve`'s search (a booking, CP-SAT alone): their
    objective as the greedy one, the bound raised to it, the time since `started`."""
    value = float(objective(instance, chains))
    bound = max(bound, value)
    return SolverInfo(
        status=status,
        engine=engine,
        objective=value,
        bound=bound,
        wall_time_s=round(time.monotonic() - started, 3),
        settings=settings,
        greedy_objective=value,
        cp_sat_status=cp_sat_status,
        versions=versions(),
        levels=objective_levels(instance, chains, bound),
    )


def source_digest(packages: Iterable[Path]) -> str:
    """The first 12 hex digits of the SHA-256 of the packages' Python sources (names and
    bytes, in name order). The package version does not move with every change to the
    planning code; this does, so a plan made by other code says so on `reproduce`."""
    sha = hashlib.sha256()
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            sha.update(path.relative_to(package.parent).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()[:12]


def _parameters(settings: SolveSettings) -> cp_model.SatParameters:
    """The full model's parameters at the settings' whole budget."""
    budget = settings.deterministic_time if settings.deterministic else settings.time_limit_s
    return search_parameters(settings, budget)


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
    base = greedy(
        instance,
        on_order=lambda best: report("greedy", float(best.objective), len(best.booking.chains)),
        stop=cancel,
    )
    _keep_in_process(instance, base.failures, prepared, replan)
    stability.mark_kept(instance, base.booking.chains)
    chains, engine = base.booking.chains, f"greedy-{base.order}"
    bound = float(trivial_bound(instance))
    cp_status, stopped = CP_SAT_NOT_RUN, False
    # Said first: what no plan can satisfy, so the reader fixes the input, not the plan.
    notes: list[str] = never_feasible(scenario)
    if instance.jobs and not (cancel is not None and cancel()):
        chains, engine, bound, cp_status, more = _search(
            instance, settings, base, started, on_progress, cancel
        )
        notes += more
        stopped = cancel is not None and cancel()
    elif instance.jobs:
        stopped = True
    if stopped:
        notes.append("Stopped early on request: this is the best plan found so far.")
    elif cp_status != "OPTIMAL":
        # A plan CP-SAT proved optimal leaves the re-insertion nothing to gain.
        report("repair", float(objective(instance, chains)), len(chains))
        swapped = swap_in(instance, list(chains), stop=cancel)
        if swapped.swaps:
            chains = swapped.chains
            engine += "+swap"
            notes.append(str(swapped.describe()))
        repair = reinsert(instance, list(chains), stop=cancel)
        if repair.describe() is not None:
            chains = repair.chains
            engine += "+reinsert"
            notes.append(str(repair.describe()))
    if not stopped:
        later = collect_later(instance, list(chains), stop=cancel)
        if later.moved:
            days = sum(c.vein_to_vein() for c in chains) - sum(
                c.vein_to_vein() for c in later.chains
            )
            chains = later.chains
            notes.append(
                f"Collected {len(later.moved)} patient(s) later for the same infusion day or "
                f"an earlier one: {days} vein-to-vein days fewer in all."
            )
    value = float(objective(instance, chains))
    if not stopped and bound > value:
        report("bound", value, len(chains))
        relaxed = relaxation_bound(instance, cancel)
        # Below a plan in hand it would be a bug (no test finds one): then it is not used.
        if relaxed is not None and relaxed >= value:
            bound = min(bound, float(relaxed))
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
    plan = with_competition_named(instance, plan, chains, settings.workers)
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


class FullModel(NamedTuple):
    """How centres of up to `patients` patients use the full model: the `share` of the
    budget it gets (LNS improves its plan with the rest), the search it runs and whether
    it maximises the priority weight planned alone (the objective's first level)."""

    patients: int
    share: float
    search: Search
    first_level: bool = False


#: By patients (the first that holds): a third of the budget on `core` up to 60; a third
#: on the first level alone up to 140; none above (LNS alone). Measured at 3 units
#: (docs/benchmarks.md): on the demo (60) `core` proved the first level at seeds 0-4 in
#: 27-31 s against 38-44 s on the whole budget's portfolio, its time level better at three
#: seeds, worse at two; the first level alone then LNS was faster (24-26 s) but later
#: (2,301-3,088 days against 2,055-2,196 at seeds 0-2).
#: On M (120) the first level alone proved 120 of 120 patients (1,556) in 0.27 units,
#: where half the budget on the whole objective reached 117 (1,526); on M-over (160) it
#: took 31 s for 1 unit and planned less weight than LNS alone (1,668 against 1,704).
FULL_MODEL = (
    FullModel(60, 1 / 3, "core"),
    FullModel(140, 1 / 3, "portfolio", first_level=True),
)
#: Budget below which LNS is not started (a sub-solve needs a few hundredths).
MIN_LNS_BUDGET = 0.05


def _search(
    instance: Instance,
    settings: SolveSettings,
    base: GreedyResult,
    started: float,
    on_progress: ProgressHook | None,
    cancel: CancelHook | None,
) -> tuple[list[ChainTimes], str, float, str, list[str]]:
    """Improve the greedy plan: the full model (small centres), then LNS; never worse.

    Returns the chains, the engine, the bound, CP-SAT's status on the full model and notes.
    """
    total = settings.deterministic_time if settings.deterministic else settings.time_limit_s
    chains, value = base.booking.chains, base.objective
    engine, bound = f"greedy-{base.order}", float(trivial_bound(instance))
    status, notes, spent = CP_SAT_NOT_RUN, [], 0.0
    full = next((f for f in FULL_MODEL if len(instance.jobs) <= f.patients), None)
    if full is not None:
        cp_chains, status, cp_bound, spent = _cp_sat(
            instance, settings, total * full.share, full, chains, started, on_progress, cancel
        )
        cp_value = None if cp_chains is None else objective(instance, cp_chains)
        if cp_chains is not None:
            bound = cp_bound
        if cp_chains is not None and cp_value is not None and cp_value >= value:
            chains, value, engine = cp_chains, cp_value, "cp-sat"
    left = total - spent
    if status != "OPTIMAL" and left >= MIN_LNS_BUDGET and not (cancel is not None and cancel()):

        def improved(better: list[ChainTimes], better_value: int) -> None:
            if on_progress is not None:
                on_progress(
                    SolveProgress(
                        phase="cp-sat",
                        elapsed_s=time.monotonic() - started,
                        objective=float(better_value),
                        bound=bound,
                        scheduled=len(better),
                    )
                )

        result = improve(
            instance,
            chains,
            left,
            settings=settings,
            fixed=in_process(instance),
            cancel=cancel,
            on_improve=improved,
        )
        if status == CP_SAT_NOT_RUN and result.steps:
            status = CP_SAT_LNS
        if result.value > value:
            chains, value, engine = result.chains, result.value, "cp-sat"
            better = sum(s.improved for s in result.steps)
            notes.append(
                f"Large-neighbourhood search improved the plan in {better} of "
                f"{len(result.steps)} steps."
            )
    if value == base.objective:
        notes.append(
            "CP-SAT found nothing better than the greedy booking; kept the greedy plan."
            if engine != "cp-sat"
            else "CP-SAT confirmed the greedy booking without improving it."
        )
    return chains, engine, bound, status, notes


def in_process(instance: Instance) -> set[int]:
    """Jobs that must stay in every plan: patients with steps done."""
    return {job.index for job in instance.jobs if job.in_process}


def _cp_sat(
    instance: Instance,
    settings: SolveSettings,
    budget: float,
    full: FullModel,
    hint: list[ChainTimes],
    started: float,
    on_progress: ProgressHook | None,
    cancel: CancelHook | None,
) -> tuple[list[ChainTimes] | None, str, float, float]:
    """Run CP-SAT on the full model from the greedy hint; returns its chains (None if
    none), status, bound on the whole objective and the budget spent (deterministic
    time, or seconds)."""
    chain_model = ChainModel(instance, group_holders=True)
    # Every level below the first costs, so a bound on the weight bounds the objective.
    bound_scale = scheduled_scale(instance) if full.first_level else 1
    if full.first_level:
        chain_model.model.clear_objective()
        chain_model.model.maximize(chain_model.scheduled_weight())
    if settings.use_greedy_hint:
        chain_model.hint(hint)
    chain_model.require(in_process(instance))
    if settings.use_greedy_hint:
        complete_hint(chain_model.model, settings.seed)
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(search_parameters(settings, budget, full.search))
    callback = _Progress(chain_model, started, on_progress, bound_scale)
    status, spent = run_search(solver, chain_model.model, settings, cancel, callback)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, name, 0.0, spent
    if full.first_level:
        name = "FEASIBLE"  # a proved first level is not a proved plan
    bound = float(solver.best_objective_bound * bound_scale)
    return chain_model.chains(solver.value), name, bound, spent


def model_size(scenario: Scenario) -> tuple[int, int]:
    """Variables and constraints of the whole centre's CP-SAT model (as the full model
    solves it; large centres are solved by sub-models of it)."""
    proto = ChainModel(compile_instance(scenario), group_holders=True).model.Proto()
    return len(proto.variables), len(proto.constraints)
