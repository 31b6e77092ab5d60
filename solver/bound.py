"""A bound on the objective from a linear relaxation of the cleanrooms and devices.

CP-SAT's own bound on this model is close to trivial at the time level (each patient as
if alone) and on overloaded centres at the first level too. This relaxation keeps only
what makes patients wait for each other: every stay on a set of interchangeable cleanrooms
(devices) takes its hours out of the set's hours on each day it covers. A patient may
start its stay on any day its chain allows, in fractions; a day costs at least the
lateness and waiting of the earliest infusion a stay started that day can reach. Staff,
apheresis slots, beds and trial rules other than cohort caps are left out, so any plan
is a solution of the relaxation and its optimum bounds every plan's objective.

Solved by GLOP (OR-Tools' simplex), twice: most priority weight, then least lateness and
waiting at that weight.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.linear_solver import pywraplp

from solver.chain import earliest_infusion, scheduled_scale
from solver.instance import HOURS_PER_DAY, Instance, Job
from solver.model import earliest_starts, step_bounds

#: Slack on GLOP's optimum (its tolerances), kept on the side that weakens the bound.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class _Start:
    """A day a job's stay may start on: earliest and latest start hour, and the cost."""

    day: int
    first: int
    last: int
    cost: int


@dataclass(frozen=True)
class _Stay:
    """A job's stay in the relaxation: holders it may use, kind, the index of the step it
    starts at, least length (hours)."""

    holders: frozenset[int]
    devices: bool
    step: int
    length: int


@dataclass(frozen=True)
class _Choice:
    """One job's options: the stays counted against holders (none: only its cost counts)
    and the days they may start on."""

    job: Job
    stays: tuple[_Stay, ...]
    starts: tuple[_Start, ...]


def relaxation_bound(instance: Instance, stop: Callable[[], bool] | None = None) -> int | None:
    """An upper bound on the objective of every plan of the instance (None if the LP
    solver did not reach an optimum, or `stop` turned true while it was built)."""
    choices = []
    for job in instance.jobs:
        if stop is not None and stop():
            return None
        choice = _choice(instance, job)
        if choice is not None:
            choices.append(choice)
    if not choices:
        return 0
    lp = pywraplp.Solver.CreateSolver("GLOP")
    xs = [[lp.NumVar(0.0, 1.0, "") for _ in c.starts] for c in choices]
    for x in xs:
        _row(lp, [(v, 1.0) for v in x], 1.0)
    if not _capacity(lp, instance, choices, xs, stop):
        return None
    _cohort_caps(lp, instance, choices, xs)
    weights = [(v, float(c.job.weight)) for c, x in zip(choices, xs, strict=True) for v in x]
    _objective(lp, weights, maximise=True)
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    most = math.floor(lp.Objective().Value() * (1 + _TOLERANCE) + _TOLERANCE)
    scale = scheduled_scale(instance)
    lp.Add(lp.Sum([w * v for v, w in weights]) >= most)
    costs = [
        (v, float(s.cost))
        for c, x in zip(choices, xs, strict=True)
        for s, v in zip(c.starts, x, strict=True)
    ]
    _objective(lp, costs, maximise=False)
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return most * scale
    least = math.ceil(lp.Objective().Value() * (1 - _TOLERANCE) - _TOLERANCE)
    # A plan of less weight is worth at most (most - 1) * scale: scale outranks any cost.
    return most * scale - min(max(0, least), scale)


def _row(lp: pywraplp.Solver, terms: list[tuple[pywraplp.Variable, float]], upper: float) -> None:
    """sum(coefficient * variable) <= upper, set coefficient by coefficient (an
    expression of Python objects per term takes seconds on 2,000 patients)."""
    row = lp.Constraint(-lp.infinity(), upper)
    for var, coefficient in terms:
        row.SetCoefficient(var, coefficient)


def _objective(
    lp: pywraplp.Solver, terms: list[tuple[pywraplp.Variable, float]], *, maximise: bool
) -> None:
    """Make sum(coefficient * variable) the objective, in place of any before."""
    objective = lp.Objective()
    objective.Clear()
    for var, coefficient in terms:
        objective.SetCoefficient(var, coefficient)
    if maximise:
        objective.SetMaximization()
    else:
        objective.SetMinimization()


def _choice(instance: Instance, job: Job) -> _Choice | None:
    """A job's stays and start days with their costs (None: it cannot be planned)."""
    if job.blocked is not None:
        return None
    bounds = step_bounds(instance, job)
    if bounds is None:
        return None
    n = len(job.steps)
    if job.n_done == n:
        cost = _cost(instance, job, job.step_end(n - 1, 0))
        return None if cost is None else _Choice(job, (), (_Start(0, 0, 0, cost),))
    stays = _stays(job)
    first = stays[0].step if stays else job.n_done
    lo, hi = bounds[first]
    allowed = instance.start_hours(job)[first]
    step = job.steps[first]
    starts = []
    for day in range(lo // HOURS_PER_DAY, hi // HOURS_PER_DAY + 1):
        top = min(hi, HOURS_PER_DAY * day + HOURS_PER_DAY - 1)
        early = max(lo, HOURS_PER_DAY * day)
        late: int | None = top
        if step.working_hours_only:
            early_at = instance.first_start(step, early, allowed)
            late = instance.last_start(step, top, allowed)
            if early_at is None or late is None or early_at > top or late < early:
                continue
            early = early_at
        assert late is not None
        end = _earliest_end(instance, job, first, early)
        if end is None:
            continue
        cost = _cost(instance, job, end)
        if cost is not None:
            starts.append(_Start(day, early, late, cost))
    if not starts:
        return None
    if not stays:
        # Nothing it holds is counted: only its cheapest day matters.
        starts = [min(starts, key=lambda s: s.cost)]
    return _Choice(job, stays, tuple(starts))


def _stays(job: Job) -> tuple[_Stay, ...]:
    """The job's stays counted against holders: those not begun that start at its first
    held step (a later stay's start is not tied to the day the relaxation picks)."""
    spans = [
        s for s in (job.room_steps, job.device_steps) if s is not None and s[0] not in job.done
    ]
    if not spans:
        return ()
    first = min(s[0] for s in spans)
    stays = []
    for span, holders, devices in (
        (job.room_steps, job.rooms, False),
        (job.device_steps, job.devices, True),
    ):
        if span is None or span[0] != first or not holders:
            continue
        stays.append(_Stay(frozenset(holders), devices, first, job.min_stay_hours(span)))
    return tuple(stays)


def _earliest_end(instance: Instance, job: Job, first: int, start: int) -> int | None:
    """Earliest end hour of the chain's last step when step `first` starts at `start`."""
    rest = earliest_starts(instance, job, first + 1, start + job.steps[first].duration)
    if rest is None:
        return None
    return (rest[-1] if rest else start) + job.steps[-1].duration


def _cost(instance: Instance, job: Job, end: int) -> int | None:
    """Least lateness and waiting of a chain whose manufacturing ends at an hour (None:
    no infusion day is left in the horizon)."""
    day = earliest_infusion(instance, job, job.earliest_day, end)
    while day < instance.days and not instance.infusion_ok(job, day):
        day += 1
    if day >= instance.days:
        return None
    late = 0 if job.needed_day is None else max(0, day - job.needed_day)
    return job.lateness_weight * late + max(0, day - job.earliest_day)


def _capacity(
    lp: pywraplp.Solver,
    instance: Instance,
    choices: list[_Choice],
    xs: list[list[pywraplp.Variable]],
    stop: Callable[[], bool] | None,
) -> bool:
    """Per set of holders some job may use, and per day: the hours stays confined to the
    set cover that day stay within the set's hours not blocked. False if stopped."""
    for devices in (False, True):
        blocked = instance.device_blocked if devices else instance.room_blocked
        changeover = instance.device_changeover if devices else instance.room_changeover
        sets = {s.holders for c in choices for s in c.stays if s.devices is devices}
        for group in sorted(sets, key=sorted):
            if stop is not None and stop():
                return False
            rows: dict[int, list[tuple[pywraplp.Variable, float]]] = defaultdict(list)
            co = min(changeover[k] for k in group)
            for c, x in zip(choices, xs, strict=True):
                for stay in c.stays:
                    if stay.devices is devices and stay.holders <= group:
                        _cover(rows, c.starts, x, stay.length + co, instance.days)
            for day, terms in sorted(rows.items()):
                free = sum(HOURS_PER_DAY - _blocked_hours(blocked[k], day) for k in group)
                _row(lp, terms, free)
    return True


def _cover(
    rows: dict[int, list[tuple[pywraplp.Variable, float]]],
    starts: tuple[_Start, ...],
    x: list[pywraplp.Variable],
    length: int,
    days: int,
) -> None:
    """Add each start day's least hours on each day its stay covers (whatever hour of
    the day it starts at)."""
    for s, v in zip(starts, x, strict=True):
        day_end = HOURS_PER_DAY * (s.day + 1)
        rows[s.day].append((v, float(min(day_end - s.last, length))))
        day = s.day + 1
        while day < days and s.first + length > HOURS_PER_DAY * day:
            hours = min(HOURS_PER_DAY, s.first + length - HOURS_PER_DAY * day)
            rows[day].append((v, float(hours)))
            day += 1


def _blocked_hours(windows: tuple[tuple[int, int], ...], day: int) -> int:
    lo, hi = HOURS_PER_DAY * day, HOURS_PER_DAY * (day + 1)
    return sum(max(0, min(e, hi) - max(s, lo)) for s, e in windows)


def _cohort_caps(
    lp: pywraplp.Solver,
    instance: Instance,
    choices: list[_Choice],
    xs: list[list[pywraplp.Variable]],
) -> None:
    """A cohort takes at most its places left."""
    members: dict[tuple[str, str], list[pywraplp.Variable]] = defaultdict(list)
    for c, x in zip(choices, xs, strict=True):
        if c.job.cohort is not None:
            members[c.job.cohort].extend(x)
    for key, x in sorted(members.items()):
        left = max(0, instance.cohort_caps[key] - instance.cohort_used[key])
        _row(lp, [(v, 1.0) for v in x], left)
