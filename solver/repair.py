"""Cheap passes after solving: plan left-out patients in place of lighter ones, re-insert
patients one at a time where that helps, and collect patients later where that shortens
vein-to-vein at no cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solver.chain import ChainTimes, objective
from solver.greedy import Booking, rebook
from solver.instance import Instance, Job

#: Scheduled patients tried per pass, costliest first (lateness, then waiting).
_CANDIDATES = 60
_PASSES = 2
#: Lighter patients tried in place of one left out, and the days around each one's
#: apheresis the left-out patient is tried on (what the lighter one held is freed there).
_SWAP_CANDIDATES = 30
_SWAP_DAYS = 14


@dataclass(frozen=True)
class Repair:
    """The chains after re-insertion, with who was added and who moved."""

    chains: list[ChainTimes]
    added: tuple[str, ...]
    moved: tuple[str, ...]

    def describe(self) -> str | None:
        """A sentence for the plan's notes, or None when nothing changed."""
        parts = []
        if self.added:
            parts.append(f"added {len(self.added)} patient(s) ({', '.join(self.added)})")
        if self.moved:
            parts.append(f"moved {len(self.moved)} earlier ({', '.join(self.moved)})")
        if not parts:
            return None
        return "Re-insertion after solving " + " and ".join(parts) + "."


@dataclass(frozen=True)
class Swaps:
    """The chains after swapping, and each swap: who came in, who went out, and whether
    the one taken out was planned again elsewhere."""

    chains: list[ChainTimes]
    swaps: tuple[tuple[str, str, bool], ...]

    def describe(self) -> str | None:
        """A sentence for the plan's notes, or None when nothing changed."""
        if not self.swaps:
            return None
        parts = [
            f"{came} in place of {went}" + (" (planned again later)" if again else "")
            for came, went, again in self.swaps
        ]
        return f"Swapped after solving: planned {'; '.join(parts)}."


def swap_in(
    instance: Instance,
    chains: list[ChainTimes],
    keep: frozenset[int] = frozenset(),
    stop: Callable[[], bool] | None = None,
) -> Swaps:
    """Plan left-out patients in place of patients of less priority weight.

    Heaviest left-out patient first (then longest waiting): each planned patient of less
    weight sharing a cleanroom or device with it and collected within a few weeks of its
    window, lightest first (then nearest its earliest day), is taken out, and the
    left-out patient is booked on the days around the freed place (everyone else held).
    The first swap that raises the objective is kept, and the patient taken out is booked
    again wherever it still fits. Published, in-process, kept and `keep` patients are
    never taken out.
    """
    current = {c.job: c for c in chains}
    fixed = _fixed(instance, keep)
    booked = rebook(instance, chains)
    value = objective(instance, chains)
    swaps: list[tuple[str, str, bool]] = []
    left = [j for j in instance.jobs if j.index not in current and j.blocked is None]
    left.sort(key=lambda j: (-j.weight, j.earliest_day, j.code))
    for job in left:
        if stop is not None and stop():
            break
        for out in _lighter(instance, job, current, fixed):
            booked.unbook(out)
            came = None if booked.cohort_full(job) else _near(booked, job, out.apheresis_day)
            if came is None:
                booked.book(out)
                continue
            booked.book(came)
            again = booked.insert(instance.jobs[out.job])
            trial = dict(current)
            del trial[out.job]
            trial[job.index] = came
            if isinstance(again, ChainTimes):
                trial[out.job] = again
            trial_value = objective(instance, list(trial.values()))
            if trial_value > value:
                current, value = trial, trial_value
                went = instance.jobs[out.job].code
                swaps.append((job.code, went, isinstance(again, ChainTimes)))
                break
            # Undone in reverse: the booking holds what `current` holds again.
            if isinstance(again, ChainTimes):
                booked.unbook(again)
            booked.unbook(came)
            booked.book(out)
    return Swaps(sorted(current.values(), key=lambda c: c.job), tuple(swaps))


def _lighter(
    instance: Instance, job: Job, current: dict[int, ChainTimes], fixed: frozenset[int]
) -> list[ChainTimes]:
    """Planned patients a left-out job may take the place of (see `swap_in`)."""
    rooms, devices = set(job.rooms), set(job.devices)
    first, last = job.earliest_day - _SWAP_DAYS, job.latest_day + _SWAP_DAYS
    found = []
    for chain in current.values():
        other = instance.jobs[chain.job]
        if (
            other.weight < job.weight
            and chain.job not in fixed
            and other.baseline is None
            and first <= chain.apheresis_day <= last
            and (rooms & set(other.rooms) or devices & set(other.devices))
        ):
            found.append(chain)
    found.sort(key=lambda c: (instance.jobs[c.job].weight, abs(c.apheresis_day - job.earliest_day)))
    return found[:_SWAP_CANDIDATES]


def _near(booked: Booking, job: Job, day: int) -> ChainTimes | None:
    """The job's chain on the first day within `_SWAP_DAYS` of a day (earliest first)
    where it fits, not booked; or None."""
    first = max(job.earliest_day, day - _SWAP_DAYS)
    for aph in range(first, min(job.latest_day, day + _SWAP_DAYS) + 1):
        found = booked.on_day(job, aph)
        if isinstance(found, ChainTimes):
            return found
    return None


def reinsert(
    instance: Instance,
    chains: list[ChainTimes],
    keep: frozenset[int] = frozenset(),
    stop: Callable[[], bool] | None = None,
) -> Repair:
    """Try each unscheduled patient, then the latest and longest-waiting ones, alone at
    their earliest feasible place with everyone else held; keep each change that raises
    the objective. Jobs in `keep`, patients in process and kept infusions never move."""
    current = list(chains)
    value = objective(instance, current)
    added: list[str] = []
    moved: list[str] = []
    fixed = _fixed(instance, keep)
    # What `current` holds; each trial changes a copy, kept when the trial is.
    booked = rebook(instance, current)
    for _ in range(_PASSES):
        improved = False
        planned = {c.job for c in current}
        missing = [j for j in instance.jobs if j.index not in planned and j.blocked is None]
        for job in missing:
            if stop is not None and stop():
                return Repair(current, tuple(added), tuple(moved))
            booking = booked.copy()
            found = booking.insert(job)
            if isinstance(found, ChainTimes):
                trial = [*current, found]
                trial_value = objective(instance, trial)
                if trial_value > value:
                    current, value, improved, booked = trial, trial_value, True, booking
                    added.append(job.code)
        for chain in _costliest(instance, current, fixed):
            if stop is not None and stop():
                return Repair(current, tuple(added), tuple(moved))
            job = instance.jobs[chain.job]
            others = [c for c in current if c.job != chain.job]
            booking = booked.copy()
            booking.unbook(chain)
            found = booking.insert(job)
            if not isinstance(found, ChainTimes) or found == chain:
                continue
            trial = [*others, found]
            trial_value = objective(instance, trial)
            if trial_value > value:
                current, value, improved, booked = trial, trial_value, True, booking
                if job.code not in moved:
                    moved.append(job.code)
        if not improved:
            break
    current.sort(key=lambda c: c.job)
    return Repair(current, tuple(added), tuple(moved))


def _fixed(instance: Instance, keep: frozenset[int]) -> frozenset[int]:
    """Jobs a pass must not move: those in `keep`, patients in process and kept infusion
    days (re-planning), which are not the greedy insertion's to move."""
    return keep | {
        job.index for job in instance.jobs if job.in_process or job.fixed_infusion is not None
    }


def _costliest(
    instance: Instance, chains: list[ChainTimes], fixed: frozenset[int]
) -> list[ChainTimes]:
    """Movable chains with lateness or waiting, costliest first (ties by patient code)."""

    movable = [c for c in chains if c.job not in fixed and c.cost(instance) > 0]
    movable.sort(key=lambda c: (-c.cost(instance), instance.jobs[c.job].code))
    return movable[:_CANDIDATES]


def collect_later(
    instance: Instance,
    chains: list[ChainTimes],
    keep: frozenset[int] = frozenset(),
    stop: Callable[[], bool] | None = None,
) -> Repair:
    """Collect patients later where they still infuse on their day or earlier: shorter
    vein-to-vein at no cost to the objective, which counts waiting up to the infusion but
    not the day the cells are collected. Longest vein-to-vein first; jobs in `keep`,
    patients in process and kept infusions stay."""
    current = {c.job: c for c in chains}
    fixed = _fixed(instance, keep)
    booked = rebook(instance, chains)
    moved: list[str] = []
    order = sorted(
        (c for c in chains if c.job not in fixed),
        key=lambda c: (-c.vein_to_vein(), instance.jobs[c.job].code),
    )
    for chain in order:
        if stop is not None and stop():
            break
        job = instance.jobs[chain.job]
        # Unbooking and booking again are exact inverses, so no copy is needed.
        booked.unbook(chain)
        best = chain
        for day in range(chain.apheresis_day + 1, min(job.latest_day, chain.infusion_day) + 1):
            found = booked.on_day(job, day)
            if not isinstance(found, ChainTimes):
                continue
            if found.infusion_day > chain.infusion_day:
                break
            best = found
        # One chain changes, so comparing it alone compares the plans.
        if best is not chain and objective(instance, [best]) < objective(instance, [chain]):
            best = chain
        booked.book(best)
        if best is not chain:
            current[chain.job] = best
            moved.append(job.code)
    return Repair(sorted(current.values(), key=lambda c: c.job), (), tuple(moved))
