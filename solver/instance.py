"""A scenario compiled to integer hours and days: what both the greedy and CP-SAT read.

Time is counted in hours from the horizon's first midnight; day d spans [24d, 24d+24).
Staffed steps start in a `Slot` (the working day's start, or the start of a rostered
working shift that begins later), at its start or at a later hour a predecessor brings
them to (`Instance.start_hours`), and take their people from that slot for the whole
slot (solver/staff_groups.py says why that keeps plans nameable).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from planner import Patient, PatientStatus, Product, Role, Scenario, Storage, Window
from planner.plan import UnscheduledReason
from solver.staff_groups import HOURS_PER_DAY, Slot, StaffGroup, staff_groups, staff_slots

if TYPE_CHECKING:
    from solver.chain import ChainTimes

#: Days before the horizon the release table covers (batches of steps done earlier).
RELEASE_OFFSET = 400
#: Length of the lymphodepletion regimen written to plans (days -5..-3 in domain.md).
LD_REGIMEN_DAYS = 3

Pool = tuple[Role, str | None]


def pool_name(pool: Pool) -> str:
    """The staff pool's label in plans, e.g. 'operator:CART' or 'qc_analyst'."""
    role, product = pool
    return role.value if product is None else f"{role.value}:{product}"


@dataclass(frozen=True)
class StaffDemand:
    """A staffed step's need on one pool: people x hours on the step's day."""

    pool: Pool
    count: int
    hours: int


@dataclass(frozen=True)
class StepSpec:
    """One process step in solver units."""

    code: str
    duration: int
    min_lag: int
    max_lag: int | None
    working_hours_only: bool
    needs_room: bool
    needs_device: bool
    staff: tuple[StaffDemand, ...]
    #: The hash, worked out once: steps key the instance's memos, looked up for every
    #: slot the greedy tries.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", self._key_hash())

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled in another process (string hashes differ there): hashed afresh.
        self.__dict__.update(state)
        object.__setattr__(self, "_hash", self._key_hash())

    def _key_hash(self) -> int:
        return hash(
            (
                self.code,
                self.duration,
                self.min_lag,
                self.max_lag,
                self.working_hours_only,
                self.needs_room,
                self.needs_device,
                self.staff,
            )
        )

    def __hash__(self) -> int:
        return self._hash


@dataclass
class Job:
    """One patient's chain to schedule."""

    index: int
    patient: Patient
    product: Product
    weight: int
    earliest_day: int
    latest_day: int
    needed_day: int | None
    steps: tuple[StepSpec, ...]
    rooms: tuple[int, ...]
    devices: tuple[int, ...]
    cohort: tuple[str, str] | None
    stagger_days: int
    #: Steps already done: step index -> whole hours around them, start floored and end
    #: ceiled (apheresis is -1). They are the first steps of the chain (scenario validation).
    done: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: The same steps as recorded, to the minute.
    done_times: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    #: End of the last done step (or apheresis) floored and ceiled to whole hours.
    done_end: tuple[int, int] | None = None
    fixed_room: int | None = None
    fixed_device: int | None = None
    #: Why the job cannot be scheduled at all, if known before solving.
    blocked: tuple[UnscheduledReason, str] | None = None
    #: Objective weight of one day of lateness (by the patient's priority).
    lateness_weight: int = 10
    #: Re-planning (solver/stability.py): infusion day kept from the published plan.
    fixed_infusion: int | None = None
    #: Apheresis and infusion day in the published plan (the patient was scheduled there).
    baseline: tuple[int, int] | None = None
    #: The published chain, when it can be read in this instance's terms.
    published: ChainTimes | None = None

    @property
    def code(self) -> str:
        """The patient's code."""
        return self.patient.code

    @property
    def in_process(self) -> bool:
        """Whether any step is done (the patient must stay in the plan)."""
        return bool(self.done)

    @property
    def n_done(self) -> int:
        """How many process steps are done (apheresis not counted)."""
        return len(self.done) - (-1 in self.done)

    def step_end(self, i: int, start: int) -> int:
        """End hour of step i started at an hour (a done step's recorded end, ceiled)."""
        if i in self.done:
            return self.done[i][1]
        return start + self.steps[i].duration

    def held_from(self, span: tuple[int, int]) -> int | None:
        """Hour from which the rest of a room (device) stay is planned, if it began already."""
        first, last = span
        if first not in self.done:
            return None
        return self.done[min(last, self.n_done - 1)][1]

    def min_stay_hours(self, span: tuple[int, int]) -> int:
        """Fewest hours a room (device) stay over the span's steps can last: their
        durations and the minimum lags between them."""
        first, last = span
        steps = self.steps[first : last + 1]
        return sum(s.duration for s in steps) + sum(s.min_lag for s in steps[1:])

    def held_done(self, span: tuple[int, int]) -> bool:
        """Whether every step in a room (device) is done."""
        return span[1] in self.done

    # Cached: a job's steps are never reassigned (a replaced job computes them afresh).
    @cached_property
    def room_steps(self) -> tuple[int, int] | None:
        """First and last step indices needing a cleanroom."""
        return _span(self.steps, lambda s: s.needs_room)

    @cached_property
    def device_steps(self) -> tuple[int, int] | None:
        """First and last step indices needing a device."""
        return _span(self.steps, lambda s: s.needs_device)


def _span(steps: tuple[StepSpec, ...], pred: Callable[[StepSpec], bool]) -> tuple[int, int] | None:
    idx = [i for i, s in enumerate(steps) if pred(s)]
    return (idx[0], idx[-1]) if idx else None


@dataclass
class Instance:
    """Everything the solvers need, in integer hours and day indices."""

    scenario: Scenario
    days: int
    bed_days: int
    day_start: int
    day_end: int
    jobs: list[Job]
    room_codes: tuple[str, ...]
    room_changeover: tuple[int, ...]
    room_downtime: tuple[tuple[tuple[int, int], ...], ...]
    device_codes: tuple[str, ...]
    device_changeover: tuple[int, ...]
    device_downtime: tuple[tuple[tuple[int, int], ...], ...]
    apheresis_slots: tuple[int, ...]
    beds: tuple[int, ...]
    pool_hours: dict[Pool, tuple[int, ...]]
    cohort_caps: dict[tuple[str, str], int]
    cohort_used: dict[tuple[str, str], int]
    #: Where staffed steps may start, in time order; staff groups count people per slot.
    slots: tuple[Slot, ...] = ()
    #: People of each group per slot (index as in `slots`).
    staff_groups: tuple[StaffGroup, ...] = ()
    #: Release day for a batch ready on day i - RELEASE_OFFSET (the next day a QP works).
    release_table: tuple[int, ...] = ()
    #: Per product, whether each horizon day may be its infusion day (clinical calendar).
    infusion_days: dict[str, tuple[bool, ...]] = field(default_factory=dict)
    #: Infusion days per cohort held by patients outside `jobs` (already infused, or booked
    #: elsewhere): the stagger keeps off them and escalation gates count them. May be < 0.
    stagger_blocked: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    #: Dose escalation: cohort -> (previous cohort, days its first infusion waits after the
    #: previous cohort's last).
    cohort_gates: dict[tuple[str, str], tuple[tuple[str, str], int]] = field(default_factory=dict)
    #: Downtime and the stays of steps already done, merged: what no planned stay may overlap.
    room_blocked: tuple[tuple[tuple[int, int], ...], ...] = ()
    device_blocked: tuple[tuple[tuple[int, int], ...], ...] = ()
    #: Re-planning: jobs of the published plan the greedy kept, which may then be dropped
    #: only for a patient of higher priority.
    kept: frozenset[int] = frozenset()
    #: Memos of `_span_hours`, `slot_spans` and `step_group_people` per step and of
    #: `start_hours` per job (with the job they were made for); not inputs: a replaced
    #: instance starts afresh.
    _span_hours_of: dict[StepSpec, frozenset[int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _slot_spans_of: dict[StepSpec, tuple[tuple[int, int] | None, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _group_people_of: dict[StepSpec, Mapping[int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _start_hours_of: dict[int, tuple[Job, tuple[frozenset[int] | None, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def horizon_hours(self) -> int:
        """Hours in the horizon."""
        return self.days * HOURS_PER_DAY

    def to_datetime(self, hour: int) -> datetime:
        """Local date-time of an hour index."""
        return datetime.combine(self.scenario.horizon_start, time()) + timedelta(hours=hour)

    def to_date(self, day: int) -> date:
        """Date of a day index."""
        return self.scenario.horizon_start + timedelta(days=day)

    def hour_of(self, moment: datetime) -> int:
        """Hour index of a local date-time (floored)."""
        delta = moment - datetime.combine(self.scenario.horizon_start, time())
        return int(delta // timedelta(hours=1))

    def hour_after(self, moment: datetime) -> int:
        """Hour index of a local date-time, ceiled."""
        delta = moment - datetime.combine(self.scenario.horizon_start, time())
        return -int(-delta // timedelta(hours=1))

    def day_index(self, day: date) -> int:
        """Day index of a date."""
        return (day - self.scenario.horizon_start).days

    def work_start(self, day: int) -> int:
        """Hour at which working-hours steps without staff start on a day."""
        return day * HOURS_PER_DAY + self.day_start

    @cached_property
    def one_slot_a_day(self) -> bool:
        """Whether no day has two slots (then staff pools' hours, counted per day, are
        counted per slot like the staff groups)."""
        days = [s.day for s in self.slots]
        return len(days) == len(set(days))

    @cached_property
    def slot_reach(self) -> int:
        """Hours after a slot's start a staffed step may still start in it.

        At most half the shortest gap between two slot starts (less one hour): the hours
        where a slot's steps may start, plus as many again, never reach the next slot, so
        a start hour names its slot and the model counts a slot's people on intervals of
        at most `slot_reach` + 1 hours from each start, which all overlap within a slot
        and never across slots (ChainModel.add_staff_groups).
        """
        if not self.slots:
            return 0
        longest = max(s.length for s in self.slots)
        gaps = [b.start - a.start for a, b in itertools.pairwise(self.slots)]
        return max(0, min([longest - 1, *((g - 1) // 2 for g in gaps)]))

    def slot_span(self, step: StepSpec, slot: int) -> tuple[int, int] | None:
        """First and last hour a staffed step may start in a slot: from its start, while
        each need still ends by the slot's end, within `slot_reach` (and, where a day has
        two slots, on the slot's day: staff pools' hours are counted per day). None if
        the slot's people do not stay on shift long enough."""
        return self.slot_spans(step)[slot]

    def slot_spans(self, step: StepSpec) -> tuple[tuple[int, int] | None, ...]:
        """`slot_span` of a staffed step in each slot."""
        spans = self._slot_spans_of.get(step)
        if spans is None:
            longest = max(d.hours for d in step.staff)
            reach, per_day = self.slot_reach, not self.one_slot_a_day
            found: list[tuple[int, int] | None] = []
            for slot in self.slots:
                if longest > slot.length:  # its people go off shift first (`long_enough`)
                    found.append(None)
                    continue
                last = min(slot.start + reach, slot.start + slot.length - longest)
                if per_day:
                    last = min(last, (slot.day + 1) * HOURS_PER_DAY - 1)
                found.append((slot.start, last))
            spans = self._slot_spans_of[step] = tuple(found)
        return spans

    @cached_property
    def slot_starts(self) -> tuple[int, ...]:
        """Start hour of each slot, in time order (to bisect)."""
        return tuple(s.start for s in self.slots)

    @cached_property
    def slot_hours(self) -> frozenset[int]:
        """Hours of the day (0-23) at which some slot starts."""
        return frozenset(s.start % HOURS_PER_DAY for s in self.slots)

    def start_hours(self, job: Job) -> tuple[frozenset[int] | None, ...]:
        """Per step, the hours of the day at which a staffed step may start in a slot's
        span (None: any): the slots' start hours, and those its predecessor's end plus
        the minimum lag can fall on, followed from apheresis along the chain. After a
        step not bound to working hours, which may end at any hour, any hour.

        Other hours in a slot are left out: starting there could only help to meet a later
        step's maximum lag or to wait for a room, and the freedom slows the search
        (docs/replanning.md).
        """
        memo = self._start_hours_of.get(job.index)
        if memo is not None and memo[0] is job:
            return memo[1]
        hours: list[frozenset[int] | None] = []
        end = job.done_end[1] if job.done_end is not None else self.day_start
        if job.done_end is None:
            end += job.product.apheresis_hours
        ends: frozenset[int] | None = frozenset({end % HOURS_PER_DAY})
        for i, step in enumerate(job.steps):
            if i < job.n_done:
                hours.append(None)
                continue
            starts: frozenset[int] | None = None
            if step.working_hours_only and not step.staff:
                starts = frozenset({self.day_start})
            elif step.working_hours_only and ends is not None:
                after = {(e + step.min_lag) % HOURS_PER_DAY for e in ends}
                starts = (self.slot_hours | after) & self._span_hours(step)
            hours.append(starts if step.staff else None)
            ends = (
                None
                if starts is None
                else frozenset((h + step.duration) % HOURS_PER_DAY for h in starts)
            )
        self._start_hours_of[job.index] = (job, tuple(hours))
        return tuple(hours)

    def _span_hours(self, step: StepSpec) -> frozenset[int]:
        """Hours of the day in some slot's span for a staffed step."""
        hours = self._span_hours_of.get(step)
        if hours is None:
            # Spans of the same hour of day and length give the same hours: each once.
            shapes = {
                (span[0] % HOURS_PER_DAY, span[1] - span[0])
                for span in self.slot_spans(step)
                if span
            }
            hours = frozenset(
                (first + k) % HOURS_PER_DAY for first, extra in shapes for k in range(extra + 1)
            )
            self._span_hours_of[step] = hours
        return hours

    def starts_in(
        self, step: StepSpec, slot: int, lo: int, hi: int, allowed: frozenset[int] | None
    ) -> list[tuple[int, int]]:
        """The hours in [lo, hi] at which a staffed step may start in a slot (its span, and
        an allowed hour of the day: `start_hours`), as runs [first, last] in time order."""
        span = self.slot_span(step, slot)
        if span is None or max(lo, span[0]) > min(hi, span[1]):
            return []
        first, last = max(lo, span[0]), min(hi, span[1])
        if allowed is None:
            return [(first, last)]
        runs: list[tuple[int, int]] = []
        for h in range(first, last + 1):
            if h % HOURS_PER_DAY not in allowed:
                continue
            if runs and runs[-1][1] == h - 1:
                runs[-1] = (runs[-1][0], h)
            else:
                runs.append((h, h))
        return runs

    def slot_of(self, step: StepSpec, hour: int) -> int | None:
        """The slot a staffed step starting at an hour takes its people from (None: the
        hour is in no slot's span for the step): the latest slot starting by then."""
        k = bisect.bisect_right(self.slot_starts, hour) - 1
        span = None if k < 0 else self.slot_span(step, k)
        return k if span is not None and span[0] <= hour <= span[1] else None

    def slot_at(self, hour: int) -> int | None:
        """The slot starting at an hour, if any."""
        k = bisect.bisect_left(self.slot_starts, hour)
        return k if k < len(self.slots) and self.slots[k].start == hour else None

    def slots_around(self, lo: int, hi: int) -> range:
        """Indices of the slots in whose span a step starting in [lo, hi] may fall."""
        return self.slots_between(lo - self.slot_reach, hi)

    def first_start(
        self, step: StepSpec, hour: int, allowed: frozenset[int] | None = None
    ) -> int | None:
        """Earliest hour from `hour` on at which a working-hours step may start (None: no
        slot is left for a staffed step; allowed: its hours of the day, `start_hours`)."""
        if not step.staff:
            return self.work_start(-(-(hour - self.day_start) // HOURS_PER_DAY))
        first = bisect.bisect_left(self.slot_starts, hour - self.slot_reach)
        for k in range(first, len(self.slots)):
            runs = self.starts_in(step, k, hour, self.slots[k].end, allowed)
            if runs:
                return runs[0][0]
        return None

    def last_start(
        self, step: StepSpec, hour: int, allowed: frozenset[int] | None = None
    ) -> int | None:
        """Latest hour up to `hour` at which a working-hours step may start."""
        if not step.staff:
            return self.work_start((hour - self.day_start) // HOURS_PER_DAY)
        for k in reversed(range(bisect.bisect_right(self.slot_starts, hour))):
            runs = self.starts_in(step, k, self.slots[k].start, hour, allowed)
            if runs:
                return runs[-1][1]
        return None

    def slots_between(self, lo: int, hi: int) -> range:
        """Indices of the slots starting in [lo, hi]."""
        first = bisect.bisect_left(self.slot_starts, lo)
        return range(first, bisect.bisect_right(self.slot_starts, hi))

    def release_day(self, job: Job, manufacturing_end: int) -> int:
        """Day the batch is released: QC days after manufacturing ends, on a QP's day."""
        ready = (manufacturing_end - 1) // HOURS_PER_DAY + job.product.qc_release_days
        return self.release_of(job, ready)

    def release_of(self, job: Job, ready: int) -> int:
        """Release day of a batch ready for release on a day (index): a cryopreserved batch
        waits for a day a QP works; a fresh one is certified within its shelf life, by the
        QP on call if need be."""
        i = ready + RELEASE_OFFSET
        if job.product.storage is not Storage.CRYO or not self.release_table:
            return ready
        if not 0 <= i < len(self.release_table):
            return ready
        return self.release_table[i]

    def infusion_ok(self, job: Job, day: int) -> bool:
        """Whether a day may be the job's infusion day (lymphodepletion and infusion on
        clinical days, unless the product allows any day)."""
        days = self.infusion_days.get(job.product.code)
        return days is None or not 0 <= day < len(days) or days[day]


def _windows(scenario: Scenario, windows: Iterable[Window]) -> tuple[tuple[int, int], ...]:
    origin = datetime.combine(scenario.horizon_start, time())
    out = []
    for w in windows:
        start = int((w.start - origin).total_seconds() // 3600)
        end = -int(-(w.end - origin).total_seconds() // 3600)
        out.append((start, end))
    return tuple(sorted(out))


def compile_instance(scenario: Scenario) -> Instance:
    """Turn a scenario into integer time, capacity tables and jobs with tight windows."""
    days = (scenario.horizon_end - scenario.horizon_start).days + 1
    max_stay = max((p.inpatient_days for p in scenario.products), default=0)
    bed_days = days + max_stay
    holidays = scenario.holiday_dates
    site = scenario.site

    room_codes = tuple(r.code for r in scenario.cleanrooms)
    room_down = tuple(_windows(scenario, r.downtime) for r in scenario.cleanrooms)
    room_index = {c: i for i, c in enumerate(room_codes)}
    device_down = []
    for d in scenario.devices:
        windows = list(_windows(scenario, d.downtime))
        if len(d.room_codes) == 1:
            windows += room_down[room_index[d.room_codes[0]]]
        device_down.append(tuple(sorted(windows)))

    shifts = {s.code: s for s in scenario.shift_codes}
    staff = {s.code: s for s in scenario.staff}
    pools: set[Pool] = {
        (need.role, product.code if need.product_trained else None)
        for product in scenario.products
        for step in product.steps
        for need in step.staff
    }
    pools |= {(role, None) for role, _ in pools}
    pool_hours = {p: [0] * days for p in pools}
    for entry in scenario.roster:
        shift = shifts[entry.shift_code]
        day = (entry.day - scenario.horizon_start).days
        if not shift.covers_day_work or not 0 <= day < days:
            continue
        member = staff[entry.staff_code]
        hours = min(shift.hours, site.working_hours)
        for role, product in pools:
            if role in member.roles and (product is None or product in member.trained_products):
                pool_hours[(role, product)][day] += hours
    starts, members = staff_slots(scenario, days)

    beds = _beds_left(scenario, bed_days)
    slots = tuple(
        scenario.apheresis.slots_on(scenario.horizon_start + timedelta(days=d), holidays)
        for d in range(days)
    )

    cohort_caps: dict[tuple[str, str], int] = {}
    cohort_used: dict[tuple[str, str], int] = {}
    gates: dict[tuple[str, str], tuple[tuple[str, str], int]] = {}
    for trial in scenario.trials:
        for cohort in trial.cohorts:
            cohort_caps[(trial.code, cohort.code)] = cohort.cap
            cohort_used[(trial.code, cohort.code)] = 0
            previous = trial.previous_cohort(cohort.code)
            if previous is not None and cohort.escalation_gate_days is not None:
                gates[(trial.code, cohort.code)] = (
                    (trial.code, previous.code),
                    cohort.escalation_gate_days,
                )
    infused: dict[tuple[str, str], list[int]] = {}
    for p in scenario.patients:
        if p.status is PatientStatus.INFUSED and p.trial_code and p.cohort_code:
            cohort_used[(p.trial_code, p.cohort_code)] += 1
            if p.infused_on is not None:
                day = (p.infused_on - scenario.horizon_start).days
                infused.setdefault((p.trial_code, p.cohort_code), []).append(day)

    instance = Instance(
        scenario=scenario,
        days=days,
        bed_days=bed_days,
        day_start=site.day_start_hour,
        day_end=site.day_end_hour,
        jobs=[],
        room_codes=room_codes,
        room_changeover=tuple(r.changeover_hours for r in scenario.cleanrooms),
        room_downtime=room_down,
        device_codes=tuple(d.code for d in scenario.devices),
        device_changeover=tuple(d.changeover_hours for d in scenario.devices),
        device_downtime=tuple(device_down),
        apheresis_slots=slots,
        beds=beds,
        pool_hours={p: tuple(v) for p, v in pool_hours.items()},
        cohort_caps=cohort_caps,
        cohort_used=cohort_used,
        stagger_blocked={key: tuple(sorted(v)) for key, v in infused.items()},
        cohort_gates=gates,
        slots=starts,
        staff_groups=staff_groups(scenario, members, pools),
        release_table=_release_table(scenario, days),
        infusion_days={
            p.code: tuple(
                scenario.infusion_allowed(p, scenario.horizon_start + timedelta(days=d))
                for d in range(days)
            )
            for p in scenario.products
            if not p.infusion_any_day
        },
    )
    # The jobs of a product share its steps: the memos keyed by step then find them at once.
    steps: dict[str, tuple[StepSpec, ...]] = {}
    for patient in scenario.patients_to_plan():
        code = patient.product_code
        if code not in steps:
            steps[code] = _steps(scenario.product(code))
        instance.jobs.append(_job(instance, len(instance.jobs), patient, steps[code]))
    _take_done_capacity(instance)
    return instance


def _beds_left(scenario: Scenario, bed_days: int) -> tuple[int, ...]:
    """Ward beds per day, less those of patients already infused and still in their stay."""
    beds = [
        scenario.ward.beds_on(scenario.horizon_start + timedelta(days=d)) for d in range(bed_days)
    ]
    for _patient, infused_on, stay in scenario.infused_stays():
        first = (infused_on - scenario.horizon_start).days
        for d in range(max(0, first), min(bed_days, first + stay)):
            beds[d] = max(0, beds[d] - 1)
    return tuple(beds)


@lru_cache(maxsize=4096)
def step_pool_hours(step: StepSpec) -> Mapping[Pool, int]:
    """Staff-hours a step takes from each pool, including its role's overall pool."""
    hours: dict[Pool, int] = {}
    for demand in step.staff:
        amount = demand.count * demand.hours
        hours[demand.pool] = hours.get(demand.pool, 0) + amount
        role_pool = (demand.pool[0], None)
        if role_pool != demand.pool:
            hours[role_pool] = hours.get(role_pool, 0) + amount
    return hours


def _merged(windows: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _take_done_capacity(instance: Instance) -> None:
    """Steps done took their share: apheresis slots, staff-hours, room and device stays.

    What they took may exceed the capacity (they happened anyway); then nothing is left.
    """
    slots = list(instance.apheresis_slots)
    hours = {p: list(v) for p, v in instance.pool_hours.items()}
    people = [list(g.people) for g in instance.staff_groups]
    rooms = [list(w) for w in instance.room_downtime]
    devices = [list(w) for w in instance.device_downtime]
    for job in instance.jobs:
        for i, (start, _end) in job.done.items():
            day = start // HOURS_PER_DAY
            if not 0 <= day < instance.days:
                continue
            if i == -1:
                slots[day] = max(0, slots[day] - 1)
                continue
            step = job.steps[i]
            for pool, used in step_pool_hours(step).items():
                hours[pool][day] = max(0, hours[pool][day] - used)
            # The people on a step done (or kept from a published plan) are busy in every
            # slot of that day the step's staff needs overlap.
            need_end = start + max((d.hours for d in step.staff), default=0)
            for k in instance.slots_between(start - HOURS_PER_DAY, need_end - 1):
                if instance.slots[k].end <= start:
                    continue
                for g, count in step_group_people(instance, step).items():
                    people[g][k] = max(0, people[g][k] - count)
        for span, holder, busy, changeover in (
            (job.room_steps, job.fixed_room, rooms, instance.room_changeover),
            (job.device_steps, job.fixed_device, devices, instance.device_changeover),
        ):
            held_from = None if span is None else job.held_from(span)
            if span is None or holder is None or held_from is None:
                continue
            end = held_from + (changeover[holder] if job.held_done(span) else 0)
            busy[holder].append((job.done[span[0]][0], end))
    instance.apheresis_slots = tuple(slots)
    instance.pool_hours = {p: tuple(v) for p, v in hours.items()}
    instance.staff_groups = tuple(
        replace(g, people=tuple(n)) for g, n in zip(instance.staff_groups, people, strict=True)
    )
    instance.room_blocked = tuple(_merged(w) for w in rooms)
    instance.device_blocked = tuple(_merged(w) for w in devices)


def _steps(product: Product) -> tuple[StepSpec, ...]:
    """A product's process steps in solver units."""
    return tuple(
        StepSpec(
            code=s.code,
            duration=s.duration_hours,
            min_lag=s.min_lag_hours,
            max_lag=s.max_lag_hours,
            working_hours_only=s.working_hours_only,
            needs_room=s.needs_cleanroom,
            needs_device=s.needs_device,
            staff=tuple(
                StaffDemand((n.role, product.code if n.product_trained else None), n.count, n.hours)
                for n in s.staff
            ),
        )
        for s in product.steps
    )


def _job(instance: Instance, index: int, patient: Patient, steps: tuple[StepSpec, ...]) -> Job:
    scenario = instance.scenario
    product = scenario.product(patient.product_code)
    earliest = max(0, instance.day_index(patient.earliest_apheresis))
    latest = min(instance.days - 1, instance.day_index(patient.latest_apheresis))
    cohort: tuple[str, str] | None = None
    stagger = 0
    blocked: tuple[UnscheduledReason, str] | None = None
    weight = scenario.weight(scenario.effective_priority(patient))
    if patient.trial_code is not None and patient.cohort_code is not None:
        trial = scenario.trial(patient.trial_code)
        cohort = (trial.code, patient.cohort_code)
        stagger = trial.cohort(patient.cohort_code).min_days_between_infusions
        if trial.apheresis_within_days is not None:
            limit = patient.enrolment + timedelta(days=trial.apheresis_within_days)
            latest = min(latest, instance.day_index(limit))
        if (
            not trial.enrolment_start <= patient.enrolment <= trial.enrolment_end
            and not patient.done_steps
        ):
            how = "Enrolled" if patient.enrolled_on else "Referred"
            blocked = (
                UnscheduledReason.OUTSIDE_HORIZON,
                f"{how} on {patient.enrolment}, outside trial {trial.code}'s enrolment "
                f"window {trial.enrolment_start} to {trial.enrolment_end}.",
            )
    rooms = tuple(i for i, r in enumerate(scenario.cleanrooms) if product.code in r.products)
    devices = tuple(i for i, d in enumerate(scenario.devices) if product.code in d.products)
    needed = (
        None if patient.needed_infusion is None else instance.day_index(patient.needed_infusion)
    )
    job = Job(
        index=index,
        patient=patient,
        product=product,
        weight=weight,
        lateness_weight=scenario.lateness_weight(scenario.effective_priority(patient)),
        earliest_day=earliest,
        latest_day=latest,
        needed_day=needed,
        steps=steps,
        rooms=rooms,
        devices=devices,
        cohort=cohort,
        stagger_days=stagger,
    )
    _fix_done_steps(instance, job)
    if blocked is None and job.earliest_day > job.latest_day:
        blocked = (
            UnscheduledReason.OUTSIDE_HORIZON,
            f"Apheresis window {patient.earliest_apheresis} to {patient.latest_apheresis} "
            f"does not overlap the horizon {scenario.horizon_start} to {scenario.horizon_end}.",
        )
    if blocked is None and job.room_steps is not None and not rooms:
        blocked = (
            UnscheduledReason.NO_MANUFACTURING_CAPACITY,
            f"No cleanroom is approved for product {product.code}.",
        )
    if blocked is None and job.device_steps is not None and not devices:
        blocked = (
            UnscheduledReason.NO_MANUFACTURING_CAPACITY,
            f"No device is approved for product {product.code}.",
        )
    job.blocked = blocked
    return job


def _fix_done_steps(instance: Instance, job: Job) -> None:
    """Keep steps already done where they were, and the room or device they used."""
    codes = {s.code: i for i, s in enumerate(job.steps)}
    scenario = instance.scenario
    for done in job.patient.done_steps:
        index = -1 if done.step_code == "apheresis" else codes[done.step_code]
        job.done[index] = (instance.hour_of(done.start), instance.hour_after(done.end))
        job.done_times[index] = (done.start, done.end)
        if index == -1:
            job.earliest_day = job.latest_day = instance.hour_of(done.start) // HOURS_PER_DAY
            continue
        rooms = [i for i, r in enumerate(scenario.cleanrooms) if r.code == done.resource_code]
        devices = [i for i, d in enumerate(scenario.devices) if d.code == done.resource_code]
        if rooms and job.steps[index].needs_room:
            job.fixed_room = rooms[0]
        if devices and job.steps[index].needs_device:
            job.fixed_device = devices[0]
    if job.done:
        end = job.done_times[max(job.done)][1]
        job.done_end = (instance.hour_of(end), instance.hour_after(end))


def long_enough(instance: Instance, step: StepSpec, slot: int) -> bool:
    """Whether the people of a slot stay on shift for each of the step's needs from the
    slot's start (how many of them there are, the staff groups count)."""
    return all(d.hours <= instance.slots[slot].length for d in step.staff)


def step_group_people(instance: Instance, step: StepSpec) -> Mapping[int, int]:
    """People a step needs from each staff group it counts against (by group index)."""
    # Memoised per instance: its groups' roles and products never change once compiled
    # (only their people do); an instance with other groups is a replaced, fresh one.
    people = instance._group_people_of.get(step)
    if people is None:
        people = {}
        for g, group in enumerate(instance.staff_groups):
            count = sum(d.count for d in step.staff if group.covers(*d.pool))
            if count:
                people[g] = count
        instance._group_people_of[step] = people
    return people


def _release_table(scenario: Scenario, days: int) -> tuple[int, ...]:
    """Release day index for each ready day index from -RELEASE_OFFSET on."""
    start = scenario.horizon_start
    last_qc = max((p.qc_release_days for p in scenario.products), default=0)
    return tuple(
        (scenario.release_on(start + timedelta(days=i - RELEASE_OFFSET)) - start).days
        for i in range(RELEASE_OFFSET + days + last_qc + 2)
    )
