"""Cheap passes after solving: re-insert patients one at a time where that helps, and
collect patients later where that shortens vein-to-vein at no cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solver.chain import ChainTimes, objective
from solver.greedy import rebook
from solver.instance import Instance

#: Scheduled patients tried per pass, costliest first (lateness, then waiting).
_CANDIDATES = 60
_PASSES = 2


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
