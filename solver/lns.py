"""Large-neighbourhood search over a whole plan: free some patients, re-plan them by CP-SAT.

Each step frees a group of patients (those around a time window, or sharing a cleanroom
or device in a window, with the unscheduled patients who could fit there), takes what the
others hold away from the centre's capacity (as `solver.slot` does for one referral),
and re-optimises the freed patients with CP-SAT from their current chains. A step is
kept only if the whole plan's objective (`solver.chain.objective`) improves. Sub-solves
have deterministic budgets and the neighbourhoods come from a seeded generator, so a run
repeats exactly. Several steps (the settings' workers) run at once on disjoint patients,
in an order fixed by the seed, not by which thread finishes first.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import NamedTuple

from ortools.sat.python import cp_model

from planner import SolveSettings
from planner.plan import MAX_SEED
from solver.chain import ChainTimes, objective
from solver.greedy import days_used, left_over, min_chain_days, rebook
from solver.hints import complete_hint
from solver.instance import Instance, Job
from solver.model import ChainModel
from solver.params import run_search, search_parameters
from solver.stability import fits

#: Patients freed per step at first; the size adapts to how the sub-solves end.
START_SIZE = 40
MIN_SIZE = 12
MAX_SIZE = 160
#: Deterministic time per sub-solve (seconds in wall-clock mode, in the same ratio). Up to
#: SMALL_CENTRE patients a group frees most of the centre, no second group lies apart in
#: time from it, so sub-solves run one at a time and each gets the longer budget; above
#: it, more and shorter sub-solves planned better (docs/benchmarks.md, 2026-12-08).
STEP_BUDGET = 0.1
SMALL_STEP_BUDGET = 0.25
SMALL_CENTRE = 60
SECONDS_PER_UNIT = 8.0
#: Charged per step on top of CP-SAT's own count, for building the sub-model, so the
#: budget bounds the number of steps even when sub-solves are instant.
STEP_OVERHEAD = 0.02


@dataclass(frozen=True)
class LnsStep:
    """What one step did: the neighbourhood, its size and whether the plan improved."""

    kind: str
    freed: int
    status: str
    improved: bool
    value: int


@dataclass
class LnsResult:
    """The best plan found, its objective and the steps taken."""

    chains: list[ChainTimes]
    value: int
    steps: list[LnsStep]
    used: float


def _reach(instance: Instance, jobs: Sequence[Job], chains: dict[int, ChainTimes]) -> int:
    """Last infusion day the freed jobs may take: their current one, or for an unscheduled
    job some weeks past its last apheresis day (a heuristic limit of the neighbourhood)."""
    last = 0
    for job in jobs:
        chain = chains.get(job.index)
        if chain is not None:
            last = max(last, chain.infusion_day)
        else:
            last = max(last, job.latest_day + 2 * min_chain_days(instance, job) + 14)
    return min(instance.days - 1, last)


class _Neighbourhoods:
    """Seeded choice of the patients to free."""

    def __init__(self, instance: Instance, seed: int, fixed: set[int]) -> None:
        self.instance = instance
        self.rng = random.Random(seed)
        self.free_jobs = [j for j in instance.jobs if j.index not in fixed and j.blocked is None]
        self.kinds = ("window", "holder", "late")

    def pick(
        self,
        step: int,
        chains: dict[int, ChainTimes],
        size: int,
        apart: Sequence[tuple[int, int]] = (),
    ) -> tuple[str, list[Job]]:
        """The kind of neighbourhood and the jobs to free (at most `size`), each of whose
        days (`days_used` of the job alone) lie on one side of each (first, last) in `apart`."""
        kind = self.kinds[step % len(self.kinds)]
        inst, rng = self.instance, self.rng

        def outside(day: int) -> bool:
            return not any(a <= day <= b for a, b in apart)

        late = [c for c in chains.values() if c.lateness(inst) > 0 and outside(c.infusion_day)]
        if kind == "late" and late:
            centre = rng.choice(sorted(late, key=lambda c: c.job)).infusion_day
        else:
            free = [d for d in range(inst.days) if outside(d)]
            if not free:
                return kind, []
            centre = free[rng.randrange(len(free))]
        holder: tuple[str, int] | None = None
        if kind == "holder":
            holder = self._holder(rng)

        def span(job: Job) -> tuple[int, int]:
            chain = chains.get(job.index)
            if chain is None:
                return job.earliest_day, min(inst.days - 1, job.latest_day + 30)
            return chain.apheresis_day, chain.infusion_day

        def uses(job: Job) -> bool:
            if holder is None:
                return True
            kind_, k = holder
            chain = chains.get(job.index)
            options = job.rooms if kind_ == "R" else job.devices
            if chain is None:
                return k in options
            return (chain.room if kind_ == "R" else chain.device) == k

        def distance(job: Job) -> int:
            first, last = span(job)
            return 0 if first <= centre <= last else min(abs(first - centre), abs(last - centre))

        def clear(job: Job) -> bool:
            first, last = days_used([job], _reach(inst, [job], chains))
            return all(last < a if centre < a else first > b for a, b in apart)

        candidates = [j for j in self.free_jobs if uses(j) and (not apart or clear(j))]
        # Nearest to the centre day first; ties by a seeded shuffle, not by patient code.
        rng.shuffle(candidates)
        candidates.sort(key=distance)
        return kind, candidates[:size]

    def _holder(self, rng: random.Random) -> tuple[str, int] | None:
        inst = self.instance
        holders = [("R", k) for k in range(len(inst.room_codes))] + [
            ("D", k) for k in range(len(inst.device_codes))
        ]
        return rng.choice(holders) if holders else None


def improve(
    instance: Instance,
    chains: list[ChainTimes],
    budget: float,
    *,
    settings: SolveSettings | None = None,
    fixed: set[int] | None = None,
    cancel: Callable[[], bool] | None = None,
    on_improve: Callable[[list[ChainTimes], int], None] | None = None,
) -> LnsResult:
    """Improve a feasible plan within a budget; never returns a worse one.

    The budget is deterministic time (wall seconds in the settings' wall-clock mode),
    summed over sub-solves. Up to `settings.workers` sub-solves run at once, one thread
    each, on disjoint groups of patients; their results are taken in the order they were
    started, and each next group is chosen once the oldest result is in, so the plan
    depends on the number of workers, never on the machine's cores or timing.
    Jobs in `fixed` keep their chains (patients with steps done: their steps are facts).
    on_improve is called with each better plan and its objective; cancel is polled between
    steps and during each sub-solve.
    """
    settings = settings or SolveSettings()
    step_budget = step_budget_of(instance, settings)
    best = {c.job: c for c in chains}
    value = objective(instance, chains)
    steps: list[LnsStep] = []
    hoods = _Neighbourhoods(instance, settings.seed, fixed or set())
    size, used, step = START_SIZE, 0.0, 0
    running: deque[_Running] = deque()  # oldest first
    version = 0
    with ThreadPoolExecutor(max_workers=settings.workers) as pool:
        while True:
            while (
                len(running) < settings.workers
                and used + sum(r.share for r in running) + STEP_OVERHEAD < budget
                and hoods.free_jobs
                and not (cancel is not None and cancel())
            ):
                step += 1
                used += STEP_OVERHEAD
                hood = _hood(instance, hoods, best, step, size, [r.hood.days for r in running])
                if hood is None:
                    if running:
                        break
                    continue
                share = min(step_budget, budget - used - sum(r.share for r in running))
                seed = (settings.seed + step) % MAX_SEED
                future = pool.submit(_sub_solve, hood, replace(settings, seed=seed), share, cancel)
                running.append(_Running(hood, future, version, share))
            if not running:
                break
            hood, future, began, _share = running.popleft()
            found, status, spent = future.result()
            used += spent
            improved = False
            if found is not None:
                new = [replace(c, job=hood.freed[c.job].index) for c in found]
                candidate = _merged(instance, best, began != version, hood.freed, new)
                better = value if candidate is None else objective(instance, candidate)
                if candidate is not None and better > value:
                    best = {c.job: c for c in candidate}
                    value, improved = better, True
                    version += 1
                    if on_improve is not None:
                        on_improve(sorted(best.values(), key=lambda c: c.job), value)
            steps.append(LnsStep(hood.kind, len(hood.freed), status, improved, value))
            # Grow the neighbourhood while sub-solves are proved optimal, shrink it otherwise.
            if status == "OPTIMAL":
                size = min(MAX_SIZE, size + max(1, size // 5))
            else:
                size = max(MIN_SIZE, size - max(1, size // 10))
    return LnsResult(sorted(best.values(), key=lambda c: c.job), value, steps, used)


def step_budget_of(instance: Instance, settings: SolveSettings) -> float:
    """One sub-solve's budget on this centre (deterministic time, or seconds)."""
    units = SMALL_STEP_BUDGET if len(instance.jobs) <= SMALL_CENTRE else STEP_BUDGET
    return units if settings.deterministic else units * SECONDS_PER_UNIT


@dataclass(frozen=True)
class _Hood:
    """A neighbourhood: its kind, the jobs freed, their sub-instance (what all others hold
    taken away), their current chains in it, and the last infusion day they may take."""

    kind: str
    freed: list[Job]
    sub: Instance
    start: list[ChainTimes]
    reach: int
    #: First and last day the freed jobs may use (`days_used`).
    days: tuple[int, int]


#: A sub-solve's chains (None if it found none), status and the budget it spent.
_Found = tuple[list[ChainTimes] | None, str, float]


class _Running(NamedTuple):
    """A sub-solve under way: its neighbourhood, its result to come, the version of the
    plan it started from (one more per improvement) and the budget it may spend."""

    hood: _Hood
    future: Future[_Found]
    version: int
    share: float


def _hood(
    instance: Instance,
    hoods: _Neighbourhoods,
    best: dict[int, ChainTimes],
    step: int,
    size: int,
    apart: Sequence[tuple[int, int]],
) -> _Hood | None:
    """Step `step`'s neighbourhood, each of its jobs' days apart from each range in
    `apart` (those of the sub-solves running), so that their results seldom collide (the
    group's days can still reach into a range where its jobs' ward stays differ; `_merged`
    books such a result again); None if it frees no one."""
    kind, freed = hoods.pick(step - 1, best, size, apart)
    if not freed:
        return None
    ids = {j.index for j in freed}
    kept = [c for j, c in sorted(best.items()) if j not in ids]
    reach = _reach(instance, freed, best)
    days = days_used(freed, reach)
    sub = left_over(instance, rebook(instance, kept), freed, days)
    start = [replace(best[j.index], job=k) for k, j in enumerate(freed) if j.index in best]
    return _Hood(kind, freed, sub, start, reach, days)


def _merged(
    instance: Instance,
    best: dict[int, ChainTimes],
    changed: bool,
    freed: Sequence[Job],
    new: list[ChainTimes],
) -> list[ChainTimes] | None:
    """The plan with the freed jobs' new chains, or None if they no longer fit.

    A sub-solve re-planned its jobs around the plan it started from; if another result
    has `changed` the plan since, its chains are booked again one by one against the
    plan as it now is (as a published chain is kept: stability.fits).
    """
    ids = {j.index for j in freed}
    kept = [c for j, c in sorted(best.items()) if j not in ids]
    if not changed:
        return kept + new
    booking = rebook(instance, kept)
    for chain in new:
        if not fits(booking, instance.jobs[chain.job], chain):
            return None
        booking.book(chain)
    return kept + new


def _sub_solve(
    hood: _Hood,
    settings: SolveSettings,
    budget: float,
    cancel: Callable[[], bool] | None,
) -> _Found:
    """Re-plan the neighbourhood's jobs from their current chains, infused by its reach."""
    chain_model = ChainModel(hood.sub)
    for jv in chain_model.jobs:
        chain_model.model.add(jv.infusion <= hood.reach)
    chain_model.hint(hood.start)
    complete_hint(chain_model.model, settings.seed)
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(search_parameters(settings, budget, "one-worker"))
    status, spent = run_search(solver, chain_model.model, settings, cancel)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, solver.status_name(status), spent
    return chain_model.chains(solver.value), solver.status_name(status), spent
