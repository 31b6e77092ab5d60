"""First-come-first-served booking: the baseline, the CP-SAT hint, and the reason finder.

A `Booking` holds what is already taken; `insert` books one patient's chain at the earliest
feasible apheresis day, or returns the reason it could not.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from planner.plan import UnscheduledReason
from solver import stability
from solver.chain import ChainTimes, apheresis_end, infusion_window, objective
from solver.instance import (
    HOURS_PER_DAY,
    Instance,
    Job,
    Pool,
    StepSpec,
    long_enough,
    step_group_people,
    step_pool_hours,
)

R = UnscheduledReason
#: What a chain being placed takes: hours per (pool, day), people per (staff group, slot);
#: a pool is a tuple, a staff group its index.
Pending = dict[tuple[Pool | int, int], int]
#: Hours a patient in process may wait for its next step when the earliest start fails.
_WAIT_HOURS = 8 * HOURS_PER_DAY


@dataclass
class Failure:
    """Counts of what blocked a patient over the apheresis days tried."""

    counts: Counter[UnscheduledReason] = field(default_factory=Counter)

    def add(self, reason: UnscheduledReason) -> None:
        """Count one blocked attempt."""
        self.counts[reason] += 1

    def main_reason(self) -> UnscheduledReason:
        """The reason that blocked the most attempts (ties: the first in chain order)."""
        if not self.counts:
            return R.NO_APHERESIS_SLOT
        order = list(UnscheduledReason)
        return max(self.counts, key=lambda r: (self.counts[r], -order.index(r)))


class Booking:
    """Resources taken so far, per day or as busy intervals in hours."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.apheresis = [0] * instance.days
        self.beds = [0] * instance.bed_days
        self.rooms: list[list[tuple[int, int]]] = [list(w) for w in instance.room_blocked]
        self.devices: list[list[tuple[int, int]]] = [list(w) for w in instance.device_blocked]
        self.pool_hours: dict[Pool, list[int]] = {
            p: [0] * instance.days for p in instance.pool_hours
        }
        #: People per staff group and slot.
        self.group_people: list[list[int]] = [
            [0] * len(instance.slots) for _ in instance.staff_groups
        ]
        self.cohort_days: dict[tuple[str, str], list[int]] = {}
        self.chains: list[ChainTimes] = []

    # Queries ------------------------------------------------------------------------------

    def staff_fits(self, step: StepSpec, slot: int, pending: Pending | None = None) -> bool:
        """Whether a staffed step fits the pools' hours on the slot's day and the people
        of the slot.

        pending holds what the chain being placed has already taken: hours per (pool,
        day), people per (staff group, slot).
        """
        inst = self.instance
        day = inst.slots[slot].day
        pending = pending or {}
        for pool, hours in step_pool_hours(step).items():
            taken = self.pool_hours[pool][day] + pending.get((pool, day), 0)
            if taken + hours > inst.pool_hours[pool][day]:
                return False
        for g, count in step_group_people(inst, step).items():
            taken = self.group_people[g][slot] + pending.get((g, slot), 0)
            if taken + count > inst.staff_groups[g].people[slot]:
                return False
        return long_enough(inst, step, slot)

    def take(self, step: StepSpec, slot: int, used: Pending | None = None, sign: int = 1) -> None:
        """Book a staffed step's hours and people at a slot (give them back: sign -1), or
        add them to `used` (what a chain being placed takes)."""
        inst = self.instance
        day = inst.slots[slot].day
        for pool, hours in step_pool_hours(step).items():
            if used is None:
                self.pool_hours[pool][day] += sign * hours
            else:
                used[(pool, day)] = used.get((pool, day), 0) + hours
        for g, count in step_group_people(inst, step).items():
            if used is None:
                self.group_people[g][slot] += sign * count
            else:
                used[(g, slot)] = used.get((g, slot), 0) + count

    @staticmethod
    def conflict(busy: list[tuple[int, int]], start: int, end: int) -> int | None:
        """End of the latest busy interval overlapping [start, end), else None."""
        ends = [e for s, e in busy if s < end and start < e]
        return max(ends) if ends else None

    def bed_fits(self, job: Job, day: int) -> bool:
        """Whether the in-patient stay from an infusion day fits the ward."""
        inst = self.instance
        return all(
            self.beds[d] < inst.beds[d]
            for d in range(max(0, day), min(inst.bed_days, day + job.product.inpatient_days))
        )

    def cohort_held(self, key: tuple[str, str]) -> list[int]:
        """Infusion days a cohort holds: booked here, or held outside the instance's jobs."""
        return [*self.instance.stagger_blocked.get(key, ()), *self.cohort_days.get(key, [])]

    def stagger_fits(self, job: Job, day: int) -> bool:
        """Whether an infusion day keeps the cohort's minimum gap to other infusions and its
        dose-escalation gates (after the previous cohort's last, before the next's first)."""
        if job.cohort is None:
            return True
        if job.stagger_days and any(
            abs(day - other) < job.stagger_days for other in self.cohort_held(job.cohort)
        ):
            return False
        inst = self.instance
        gate = inst.cohort_gates.get(job.cohort)
        if gate is not None and any(day < d + gate[1] for d in self.cohort_held(gate[0])):
            return False
        return all(
            day <= d - days
            for nxt, (prev, days) in inst.cohort_gates.items()
            if prev == job.cohort
            for d in self.cohort_held(nxt)
        )

    def cohort_full(self, job: Job) -> bool:
        """Whether the job's cohort has reached its cap."""
        if job.cohort is None:
            return False
        used = self.instance.cohort_used[job.cohort] + len(self.cohort_days.get(job.cohort, []))
        return used >= self.instance.cohort_caps[job.cohort]

    # Insertion ----------------------------------------------------------------------------

    def insert(self, job: Job) -> ChainTimes | Failure:
        """Book the job at its earliest feasible apheresis day, or say what blocked it."""
        failure = Failure()
        if job.blocked is not None:
            failure.add(job.blocked[0])
            return failure
        if self.cohort_full(job):
            failure.add(R.COHORT_FULL)
            return failure
        for day in range(job.earliest_day, job.latest_day + 1):
            found = self.on_day(job, day)
            if isinstance(found, ChainTimes):
                self.book(found)
                return found
            if found is not None:
                failure.add(found)
        return failure

    def on_day(self, job: Job, day: int) -> ChainTimes | UnscheduledReason | None:
        """The earliest infusing chain collected on a day, or why none is (None: the
        day has no apheresis slot open, which blocks no one)."""
        inst = self.instance
        taken = 0 <= day < inst.days and self.apheresis[day] >= inst.apheresis_slots[day]
        if taken and -1 not in job.done:
            return R.NO_APHERESIS_SLOT if inst.apheresis_slots[day] > 0 else None
        first_reason: UnscheduledReason | None = None
        # A patient collected already cannot move its apheresis: try its next step later.
        for wait in range(_WAIT_HOURS if job.in_process else 1):
            # Where no room or device is in the way: the same for every holder, and the
            # earliest any holder can give.
            unpushed = self._place_steps(job, day, 0, 0, wait)
            if isinstance(unpushed, UnscheduledReason):
                first_reason = first_reason or unpushed
                continue
            best = self._best_holders(job, day, wait, unpushed)
            if isinstance(best, ChainTimes):
                return best
            first_reason = first_reason or best
        return first_reason or R.OUTSIDE_HORIZON

    def _best_holders(
        self, job: Job, day: int, wait: int, unpushed: list[int]
    ) -> ChainTimes | UnscheduledReason:
        """The earliest infusing chain over the job's rooms and devices (the first of
        equals), or the first holder's reason if none fits."""
        best: ChainTimes | None = None
        first_reason: UnscheduledReason | None = None
        for room in _choices(job.rooms, job.fixed_room, job.room_steps):
            for device in _choices(job.devices, job.fixed_device, job.device_steps):
                found = self._place(job, day, room, device, wait, unpushed)
                if isinstance(found, ChainTimes):
                    if best is None or found.infusion_day < best.infusion_day:
                        best = found
                    if list(found.starts) == unpushed:
                        return best  # nothing pushed it: no other holder infuses earlier
                elif first_reason is None:
                    first_reason = found
        return best or first_reason or R.OUTSIDE_HORIZON

    def _place(
        self,
        job: Job,
        day: int,
        room: int | None,
        device: int | None,
        wait: int,
        unpushed: list[int],
    ) -> ChainTimes | UnscheduledReason:
        """The chain on a room and device, its steps from `unpushed` (their starts with
        nothing in the way) pushed past each clash with the holders' stays."""
        inst = self.instance
        room_from = device_from = 0
        for attempt in range(200):
            starts: list[int] | UnscheduledReason = (
                unpushed
                if attempt == 0
                else self._place_steps(job, day, room_from, device_from, wait)
            )
            if isinstance(starts, UnscheduledReason):
                return starts
            pushed = False
            if room is not None and job.room_steps is not None:
                occ = _occupancy(job, starts, job.room_steps, inst.room_changeover[room])
                clash = None if occ is None else self.conflict(self.rooms[room], *occ)
                if clash is not None and job.held_from(job.room_steps) is not None:
                    return R.NO_MANUFACTURING_CAPACITY  # the stay began; it cannot move
                if clash is not None:
                    room_from, pushed = clash, True
            if device is not None and job.device_steps is not None:
                co = inst.device_changeover[device]
                occ = _occupancy(job, starts, job.device_steps, co)
                clash = None if occ is None else self.conflict(self.devices[device], *occ)
                if clash is not None and job.held_from(job.device_steps) is not None:
                    return R.NO_MANUFACTURING_CAPACITY
                if clash is not None:
                    device_from, pushed = max(device_from, clash), True
            if pushed:
                continue
            first, last = infusion_window(inst, job, day, starts)
            if first > last:
                return R.OUTSIDE_HORIZON
            reason = R.NO_BED
            fixed = job.fixed_infusion
            days = range(first, last + 1) if fixed is None else range(fixed, fixed + 1)
            for infusion in days:
                if not inst.infusion_ok(job, infusion):
                    continue
                if not self.stagger_fits(job, infusion):
                    reason = R.TRIAL_STAGGER
                    continue
                if self.bed_fits(job, infusion):
                    return ChainTimes(job.index, day, tuple(starts), room, device, infusion)
            return reason
        return R.NO_MANUFACTURING_CAPACITY

    def _place_steps(
        self, job: Job, day: int, room_from: int, device_from: int, wait: int = 0
    ) -> list[int] | UnscheduledReason:
        """Earliest starts of the steps still to do; the first waits `wait` hours more."""
        inst = self.instance
        # Earliest and latest end of the previous step: they differ after a step done
        # between whole hours (min lags count from the one, max lags from the other).
        prev_lo = prev_hi = apheresis_end(inst, job, day)
        if job.done_end is not None:
            prev_hi, prev_lo = job.done_end
        starts = [job.done[i][0] for i in range(job.n_done)]
        allowed = inst.start_hours(job)
        pending: Pending = {}
        for i in range(job.n_done, len(job.steps)):
            step = job.steps[i]
            lo = prev_lo + step.min_lag + (wait if i == job.n_done else 0)
            hi = inst.horizon_hours if step.max_lag is None else prev_hi + step.max_lag
            if job.room_steps is not None and i == job.room_steps[0]:
                lo = max(lo, room_from)
            if job.device_steps is not None and i == job.device_steps[0]:
                lo = max(lo, device_from)
            start = self._earliest_start(step, lo, hi, pending, allowed[i])
            if start is None:
                if lo > hi and (room_from or device_from):
                    return R.NO_MANUFACTURING_CAPACITY
                return R.NO_STAFF if step.staff else R.OUTSIDE_HORIZON
            starts.append(start)
            slot = inst.slot_of(step, start) if step.staff else None
            if slot is not None:
                self.take(step, slot, pending)
            prev_lo = prev_hi = start + step.duration
        if prev_lo > inst.horizon_hours:
            return R.OUTSIDE_HORIZON
        return starts

    def _earliest_start(
        self,
        step: StepSpec,
        lo: int,
        hi: int,
        pending: Pending,
        allowed: frozenset[int] | None = None,
    ) -> int | None:
        inst = self.instance
        if not step.working_hours_only:
            return lo if lo <= hi else None
        if not step.staff:
            start = inst.first_start(step, lo)
            return start if start is not None and start <= hi else None
        # Slots in start order: the first that fits gives the earliest start.
        for slot in inst.slots_around(lo, hi):
            runs = inst.starts_in(step, slot, lo, hi, allowed)
            if runs and self.staff_fits(step, slot, pending):
                return runs[0][0]
        return None

    def book(self, chain: ChainTimes) -> None:
        """Take the resources of a chain."""
        self._hold(chain, 1)
        self.chains.append(chain)

    def unbook(self, chain: ChainTimes) -> None:
        """Give back the resources of a booked chain: the booking then holds what the
        other chains hold."""
        self._hold(chain, -1)
        self.chains.remove(chain)

    def _hold(self, chain: ChainTimes, sign: int) -> None:
        """Take (sign 1) or give back (-1) what a chain holds."""
        inst = self.instance
        job = inst.jobs[chain.job]
        # Steps done took their capacity when the instance was compiled.
        if 0 <= chain.apheresis_day < inst.days and -1 not in job.done:
            self.apheresis[chain.apheresis_day] += sign
        for i, step in enumerate(job.steps):
            slot = inst.slot_of(step, chain.starts[i]) if step.staff else None
            if i not in job.done and slot is not None:
                self.take(step, slot, sign=sign)
        stays = []
        if chain.room is not None and job.room_steps is not None:
            co = inst.room_changeover[chain.room]
            stays.append((self.rooms[chain.room], job.room_steps, co))
        if chain.device is not None and job.device_steps is not None:
            co = inst.device_changeover[chain.device]
            stays.append((self.devices[chain.device], job.device_steps, co))
        for busy, span, co in stays:
            occ = _occupancy(job, list(chain.starts), span, co)
            if occ is not None and sign > 0:
                bisect.insort(busy, occ)
            elif occ is not None:
                busy.remove(occ)
        for d in range(max(0, chain.infusion_day), chain.infusion_day + job.product.inpatient_days):
            if d < inst.bed_days:
                self.beds[d] += sign
        if job.cohort is not None and sign > 0:
            self.cohort_days.setdefault(job.cohort, []).append(chain.infusion_day)
        elif job.cohort is not None:
            days = self.cohort_days[job.cohort]
            days.remove(chain.infusion_day)
            if not days:
                del self.cohort_days[job.cohort]

    def copy(self) -> Booking:
        """A booking holding the same, to change independently of this one."""
        other = Booking.__new__(Booking)
        other.instance = self.instance
        other.apheresis = list(self.apheresis)
        other.beds = list(self.beds)
        other.rooms = [list(busy) for busy in self.rooms]
        other.devices = [list(busy) for busy in self.devices]
        other.pool_hours = {p: list(hours) for p, hours in self.pool_hours.items()}
        other.group_people = [list(people) for people in self.group_people]
        other.cohort_days = {key: list(days) for key, days in self.cohort_days.items()}
        other.chains = list(self.chains)
        return other


def _occupancy(
    job: Job, starts: list[int], span: tuple[int, int], changeover: int
) -> tuple[int, int] | None:
    """Hours a stay in a room (device) still takes; its done part is taken already."""
    first, last = span
    if job.held_done(span):
        return None
    begun = job.held_from(span)
    start = starts[first] if begun is None else begun
    return start, starts[last] + job.steps[last].duration + changeover


def _choices(
    options: tuple[int, ...], fixed: int | None, span: tuple[int, int] | None
) -> tuple[int | None, ...]:
    if span is None:
        return (None,)
    if fixed is not None:
        return (fixed,)
    return options


def fcfs_order(instance: Instance) -> list[Job]:
    """Referral order: patients with steps done first, then by referral date and code."""
    return sorted(
        instance.jobs,
        key=lambda j: (not j.in_process, j.patient.referral_date, j.code),
    )


def _due(job: Job) -> int:
    """The day a job is needed by (its last possible apheresis day when no date is given)."""
    return job.latest_day if job.needed_day is None else job.needed_day


def priority_order(instance: Instance) -> list[Job]:
    """Priority order: steps done first, then by weight (high first), due day, referral."""
    return sorted(
        instance.jobs,
        key=lambda j: (not j.in_process, -j.weight, _due(j), j.patient.referral_date, j.code),
    )


def edd_order(instance: Instance) -> list[Job]:
    """Earliest-due-date order: steps done first, then the needed infusion day (patients
    without one last), the higher weight, then referral."""
    return sorted(
        instance.jobs,
        key=lambda j: (
            not j.in_process,
            j.needed_day is None,
            j.needed_day or 0,
            -j.weight,
            j.patient.referral_date,
            j.code,
        ),
    )


#: Look-ahead of the apparent-tardiness-cost rule, in mean chain lengths.
ATC_K = 2.0


def min_chain_days(instance: Instance, job: Job) -> int:
    """Days from apheresis to the earliest infusion with every lag at its minimum."""
    hours = job.product.apheresis_hours + sum(s.min_lag + s.duration for s in job.steps)
    return -(-hours // HOURS_PER_DAY) + job.product.qc_release_days + 1


def atc_order(instance: Instance) -> list[Job]:
    """Apparent-tardiness-cost order: weight per chain day, discounted by the slack to the
    due day (slack counted from the earliest apheresis), highest first."""
    if not instance.jobs:
        return []
    length = {j.index: max(1, min_chain_days(instance, j)) for j in instance.jobs}
    mean = sum(length.values()) / len(length)

    def index(job: Job) -> float:
        slack = max(0, _due(job) - job.earliest_day - length[job.index])
        return job.weight / length[job.index] * math.exp(-slack / (ATC_K * mean))

    return sorted(
        instance.jobs,
        key=lambda j: (not j.in_process, -index(j), _due(j), j.patient.referral_date, j.code),
    )


#: The constructive orders the planner tries, by name; the best booking is its floor.
ORDERS: dict[str, Callable[[Instance], list[Job]]] = {
    "fcfs": fcfs_order,
    "edd": edd_order,
    "priority": priority_order,
    "atc": atc_order,
}


@dataclass
class GreedyResult:
    """A greedy plan: booked chains, failures per unbooked job, and its objective."""

    booking: Booking
    failures: dict[int, Failure]
    objective: int
    order: str


def book_in_order(instance: Instance, order: list[Job], name: str) -> GreedyResult:
    """Book every job once, in the given order (published patients first, kept as
    published where their chains still fit)."""
    booking = Booking(instance)
    failures: dict[int, Failure] = {}
    # Patients of the published plan keep their chains where those still fit.
    for job in stability.published_first(order):
        if job.published is not None and stability.fits(booking, job, job.published):
            booking.book(job.published)
            continue
        result = booking.insert(job)
        if isinstance(result, Failure):
            failures[job.index] = result
    return GreedyResult(booking, failures, objective(instance, booking.chains), name)


def greedy(
    instance: Instance,
    on_order: Callable[[GreedyResult], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> GreedyResult:
    """The best booking over the constructive orders (the first listed wins ties).

    on_order hears the best booking so far after each order (the first is a whole plan,
    long before the last order is booked on a large centre); when stop returns True, the
    remaining orders are skipped, once a booking keeps every patient in process.
    """
    best: GreedyResult | None = None
    for name, order in ORDERS.items():
        result = book_in_order(instance, order(instance), name)
        if best is None or result.objective > best.objective:
            best = result
        if on_order is not None:
            on_order(best)
        # A stop waits for a booking that keeps every patient in process (a later order
        # may, and without one there is no plan to return).
        kept = not any(instance.jobs[j].in_process for j in best.failures)
        if stop is not None and kept and stop():
            break
    assert best is not None
    return best


def days_used(jobs: Sequence[Job], reach: int) -> tuple[int, int]:
    """First and last day jobs infused by day `reach` may use: from their earliest
    apheresis to `reach` plus the longest in-patient stay (`left_over`'s days)."""
    first = max(0, min(j.earliest_day for j in jobs))
    return first, reach + max(j.product.inpatient_days for j in jobs)


def left_over(
    instance: Instance,
    booking: Booking,
    jobs: Sequence[Job],
    days: tuple[int, int] | None = None,
    free: frozenset[str] = frozenset(),
) -> Instance:
    """The instance holding only `jobs` (re-indexed from 0), with what the booking holds
    taken away from the centre's capacity, except the resource families named in `free`
    (see solver.explain.FAMILIES), left whole.

    With `days` (first, last), the jobs are known to use nothing outside those days
    (the caller caps their infusion): capacity outside them is left whole and the stays
    outside them dropped, so the sub-model carries no blocks no job can meet.
    """
    first, last = days if days is not None else (0, instance.bed_days)
    empty = Booking(instance) if free else booking

    def held(family: str) -> Booking:
        return empty if family in free else booking

    cohort_used = dict(instance.cohort_used)
    stagger = {key: list(held_days) for key, held_days in instance.stagger_blocked.items()}
    for key, taken in held("cohort").cohort_days.items():
        cohort_used[key] = cohort_used.get(key, 0) + len(taken)
        stagger.setdefault(key, []).extend(taken)

    def less(
        capacity: tuple[int, ...], used: list[int], day_of: Sequence[int] | None = None
    ) -> tuple[int, ...]:
        """Capacity per day (or per slot, whose days are day_of) less what is used."""
        top = max(capacity, default=0)
        return tuple(
            max(0, c - u) if first <= (d if day_of is None else day_of[d]) <= last else top
            for d, (c, u) in enumerate(zip(capacity, used + [0] * len(capacity), strict=False))
        )

    lo, hi = first * HOURS_PER_DAY, (last + 1) * HOURS_PER_DAY
    slot_days = [slot.day for slot in instance.slots]

    def busy(stays: list[list[tuple[int, int]]]) -> tuple[tuple[tuple[int, int], ...], ...]:
        # What the others hold becomes blocked time, as steps already done are.
        return tuple(tuple((s, e) for s, e in one if e > lo and s < hi) for one in stays)

    staff = held("staff")
    return replace(
        instance,
        jobs=[replace(job, index=k) for k, job in enumerate(jobs)],
        apheresis_slots=less(instance.apheresis_slots, held("apheresis").apheresis),
        beds=less(instance.beds, held("beds").beds),
        room_blocked=busy(held("rooms").rooms),
        device_blocked=busy(held("devices").devices),
        pool_hours={p: less(c, staff.pool_hours[p]) for p, c in instance.pool_hours.items()},
        staff_groups=tuple(
            replace(g, people=less(g.people, staff.group_people[i], slot_days))
            for i, g in enumerate(instance.staff_groups)
        ),
        cohort_used=cohort_used,
        stagger_blocked={key: tuple(sorted(taken)) for key, taken in stagger.items()},
    )


def rebook(instance: Instance, chains: list[ChainTimes]) -> Booking:
    """A booking holding exactly these chains."""
    booking = Booking(instance)
    for chain in chains:
        booking.book(chain)
    return booking
