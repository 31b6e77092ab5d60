"""A patient's chain as integer times, and the objective both solvers share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner import Storage
from planner.plan import ObjectiveLevel
from solver.instance import HOURS_PER_DAY, Instance, Job

#: Weight of one day of lateness against one day of waiting, unless a scenario sets its own
#: per priority (Scenario.lateness_weights).
LATENESS_WEIGHT = 10


@dataclass(frozen=True)
class ChainTimes:
    """Where and when one job runs: apheresis day, step starts (hours), room, device, infusion."""

    job: int
    apheresis_day: int
    starts: tuple[int, ...]
    room: int | None
    device: int | None
    infusion_day: int

    def end(self, instance: Instance, step: int) -> int:
        """End hour of a step."""
        return instance.jobs[self.job].step_end(step, self.starts[step])

    def manufacturing_end(self, instance: Instance) -> int:
        """End hour of the last process step."""
        return self.end(instance, len(self.starts) - 1)

    def lateness(self, instance: Instance) -> int:
        """Days the infusion falls after the clinically needed date."""
        needed = instance.jobs[self.job].needed_day
        return 0 if needed is None else max(0, self.infusion_day - needed)

    def vein_to_vein(self) -> int:
        """Days from apheresis to infusion."""
        return self.infusion_day - self.apheresis_day

    def cost(self, instance: Instance) -> int:
        """What the chain takes off the objective's time levels: weighted lateness, waiting."""
        job = instance.jobs[self.job]
        return job.lateness_weight * self.lateness(instance) + self.wait(instance)

    def wait(self, instance: Instance) -> int:
        """Days from the earliest apheresis the patient could have to the infusion."""
        return self.infusion_day - instance.jobs[self.job].earliest_day


def apheresis_end(instance: Instance, job: Job, day: int) -> int:
    """Hour apheresis ends when done on a day (if already done: its recorded end, ceiled)."""
    if -1 in job.done:
        return job.done[-1][1]
    return instance.work_start(day) + job.product.apheresis_hours


def infusion_window(
    instance: Instance, job: Job, apheresis_day: int, starts: Sequence[int]
) -> tuple[int, int]:
    """Earliest and latest infusion day for a chain's apheresis and step starts.

    Lymphodepletion starts ld days before infusion: never before apheresis ends, nor
    before release unless the product allows it; a fresh product's shelf life counts
    from the end of its shelf-life step.
    """
    product = job.product
    first = earliest_infusion(
        instance, job, apheresis_day, job.step_end(len(starts) - 1, starts[-1])
    )
    last = instance.days - 1
    if product.storage is Storage.FRESH:
        k = shelf_step(job)
        shelf_day = (job.step_end(k, starts[k]) - 1) // HOURS_PER_DAY
        last = min(last, shelf_day + product.fresh_shelf_days)
    return first, last


def earliest_infusion(instance: Instance, job: Job, apheresis_day: int, end: int) -> int:
    """Earliest infusion day (clinical days aside) of a chain with apheresis on a day and
    manufacturing ending at an hour."""
    product = job.product
    ld = product.ld_days_before_infusion
    end_day = (end - 1) // HOURS_PER_DAY
    release = instance.release_of(job, end_day + product.qc_release_days)
    first = max(release, end_day + 1, ld)
    if ld > 0:
        aph_end = apheresis_end(instance, job, apheresis_day)
        first = max(first, ld - (-(aph_end - instance.day_start) // HOURS_PER_DAY))
        if product.ld_waits_for_release:
            first = max(first, release + ld)
    if product.storage is Storage.CRYO:
        # Lymphodepletion starts once the batch exists.
        first = max(first, end_day + 1 + ld)
    return first


def shelf_step(job: Job) -> int:
    """Index of the step whose end starts the product's shelf life."""
    return [s.code for s in job.steps].index(job.product.shelf_step)


def time_scale(instance: Instance) -> int:
    """Objective value of the last stability unit (one day moved): outranks any lateness
    and waiting."""
    before = max(
        [0]
        + [-job.earliest_day for job in instance.jobs]
        + [-job.needed_day for job in instance.jobs if job.needed_day is not None]
    )
    late = max([LATENESS_WEIGHT] + [job.lateness_weight for job in instance.jobs])
    per_patient = (late + 1) * (instance.days + HOURS_PER_DAY + before)
    return per_patient * max(1, len(instance.jobs)) + 1


def moved_days_bound(instance: Instance, job: Job) -> int:
    """Most days a published patient's apheresis and infusion can move together."""
    assert job.baseline is not None
    aph, inf = job.baseline
    last = instance.days - 1
    return max(abs(job.earliest_day - aph), abs(job.latest_day - aph)) + max(
        abs(inf), abs(last - inf)
    )


#: Objectives stay within the integers a double holds exactly (CP-SAT reports doubles).
_EXACT = 2**53


def stability_scales(instance: Instance) -> tuple[int, int, int]:
    """Objective value of one day moved, one published patient moved and one dropped
    (zeros without a published plan); each outranks everything after it.

    On a centre so large that three levels would pass 2**53, a drop counts as a move.
    """
    published = [job for job in instance.jobs if job.baseline is not None]
    if not published:
        return 0, 0, 0
    n = len(published)
    per_day = time_scale(instance)
    per_moved = per_day * (sum(moved_days_bound(instance, job) for job in published) + 1)
    per_dropped = per_moved * (n + 1)
    weights = max(1, sum(job.weight for job in instance.jobs))
    if per_dropped * (n + 1) * weights > _EXACT:
        per_dropped = per_moved
    return per_day, per_moved, per_dropped


def scheduled_scale(instance: Instance) -> int:
    """Objective value of one unit of priority weight; outranks stability, lateness and
    waiting."""
    per_dropped = stability_scales(instance)[2]
    if per_dropped == 0:
        return time_scale(instance)
    published = sum(job.baseline is not None for job in instance.jobs)
    return per_dropped * (published + 1)


def moved(instance: Instance, chain: ChainTimes) -> int:
    """Days a published patient's apheresis and infusion moved (0 if not published)."""
    baseline = instance.jobs[chain.job].baseline
    if baseline is None:
        return 0
    return abs(chain.apheresis_day - baseline[0]) + abs(chain.infusion_day - baseline[1])


def stability(instance: Instance, chains: list[ChainTimes]) -> tuple[int, int, int]:
    """Published patients dropped; of those kept, how many moved and the days moved."""
    scheduled = {c.job: c for c in chains}
    dropped = patients = days = 0
    for job in instance.jobs:
        if job.baseline is None:
            continue
        chain = scheduled.get(job.index)
        if chain is None:
            dropped += 1
            continue
        shift = moved(instance, chain)
        patients += shift > 0
        days += shift
    return dropped, patients, days


def objective(instance: Instance, chains: list[ChainTimes]) -> int:
    """The plan's objective (higher is better): priority-weighted patients, then (when
    re-planning) fewest published patients dropped, moved and days moved, then time."""
    scale = scheduled_scale(instance)
    per_day, per_moved, per_dropped = stability_scales(instance)
    dropped, patients, days = stability(instance, chains)
    value = -per_dropped * dropped - per_moved * patients - per_day * days
    for chain in chains:
        value += instance.jobs[chain.job].weight * scale - chain.cost(instance)
    return value


def trivial_bound(instance: Instance) -> int:
    """An upper bound on the objective: every patient scheduled with no lateness or wait."""
    return sum(job.weight for job in instance.jobs) * scheduled_scale(instance)


def objective_levels(
    instance: Instance, chains: list[ChainTimes], bound: float | None = None
) -> tuple[ObjectiveLevel, ...]:
    """The objective level by level, most important first, each with its proven bound.

    The bound of the whole objective bounds each level in turn, as long as every level
    above it is proved (value equal to its bound): each level outranks all below it, so
    what the levels above leave of the bound is what this level can still reach.
    """
    scale = scheduled_scale(instance)
    total = sum(job.weight for job in instance.jobs)
    weight = sum(instance.jobs[c.job].weight for c in chains)
    per_day, per_moved, per_dropped = stability_scales(instance)
    named = [("patients scheduled (priority weight)", weight, scale)]
    if any(job.baseline is not None for job in instance.jobs):
        dropped, patients, days = stability(instance, chains)
        named += [
            ("published patients dropped", dropped, per_dropped),
            ("published patients moved", patients, per_moved),
            ("days moved (apheresis + infusion)", days, per_day),
        ]
    time = sum(c.cost(instance) for c in chains)
    named.append(("weighted lateness + waiting (days)", time, 1))
    # A value W * scale - r with 0 <= r < scale bounds W by its ceiling over scale; below
    # the first level the objective is a penalty to subtract, bounded from below.
    weight_bound = None if bound is None else min(total, -(-round(bound) // scale))
    levels = [ObjectiveLevel(named[0][0], weight, weight_bound, True)]
    penalty = None if weight_bound != weight else weight * scale - round(bound or 0)
    merged = per_dropped == per_moved  # huge centres: a drop counts as a move
    for name, value, unit in named[1:]:
        level_bound = None
        if penalty is not None and not (merged and unit in (per_dropped, per_moved)):
            level_bound = max(0, penalty // unit)
        levels.append(ObjectiveLevel(name, value, level_bound))
        penalty = None if penalty is None or level_bound != value else penalty - value * unit
    return tuple(levels)
