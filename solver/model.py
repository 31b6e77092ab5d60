"""The CP-SAT model of every patient's chain: variables, one function per constraint family."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner import Storage
from solver import stability
from solver.chain import ChainTimes, apheresis_end, scheduled_scale, shelf_step
from solver.instance import (
    HOURS_PER_DAY,
    RELEASE_OFFSET,
    Instance,
    Job,
    Pool,
    StepSpec,
    long_enough,
    step_group_people,
    step_pool_hours,
)

LinearExpr = cp_model.LinearExprT
#: A job's stay on a cleanroom (device): the holders it may use, start, length, end.
Stay = tuple[frozenset[int], LinearExpr, cp_model.IntVar, LinearExpr, "JobVars"]


@dataclass
class JobVars:
    """CP-SAT variables of one job."""

    job: Job
    present: cp_model.IntVar
    apheresis: cp_model.IntVar
    #: Day of each working-hours step without staff still to do (and of each staffed one
    #: where a day has two slots: staff pools' hours are counted per day).
    step_days: dict[int, cp_model.IntVar]
    #: Start hour of every other step still to do.
    step_hours: dict[int, cp_model.IntVar]
    infusion: cp_model.IntVar
    end_day: cp_model.IntVar
    lateness: cp_model.IntVar
    wait: cp_model.IntVar
    rooms: dict[int, cp_model.IntVar] = field(default_factory=dict)
    devices: dict[int, cp_model.IntVar] = field(default_factory=dict)
    #: Start hour of each staffed step still to do (in a slot's span, Instance.slot_span).
    slot_hours: dict[int, cp_model.IntVar] = field(default_factory=dict)

    def start(self, instance: Instance, i: int) -> LinearExpr:
        """Start hour of step i as a linear expression (a done step's, floored)."""
        if i in self.job.done:
            return self.job.done[i][0]
        if i in self.slot_hours:
            return self.slot_hours[i]
        if i in self.step_days:
            return HOURS_PER_DAY * self.step_days[i] + instance.day_start
        return self.step_hours[i]

    def end(self, instance: Instance, i: int) -> LinearExpr:
        """End hour of step i (a done step's recorded end, ceiled)."""
        if i in self.job.done:
            return self.job.done[i][1]
        return self.start(instance, i) + self.job.steps[i].duration


def earliest_starts(instance: Instance, job: Job, first: int, ready: int) -> list[int] | None:
    """Earliest start hour of each step from `first` on when the one before it ends at
    `ready`, every lag at its minimum; None if a working-hours step finds no start."""
    allowed = instance.start_hours(job)
    starts = []
    for i in range(first, len(job.steps)):
        step = job.steps[i]
        at = ready + step.min_lag
        if step.working_hours_only:
            found = instance.first_start(step, at, allowed[i])
            if found is None:
                return None
            at = found
        starts.append(at)
        ready = at + step.duration
    return starts


def step_bounds(instance: Instance, job: Job) -> list[tuple[int, int]] | None:
    """Tight [earliest, latest] start hours per step, or None if the chain cannot fit."""
    steps = job.steps
    n = len(steps)
    lo = [0] * n
    hi = [0] * n
    prev_lo = apheresis_end(instance, job, job.earliest_day)
    prev_hi = apheresis_end(instance, job, job.latest_day)
    if job.done_end is not None:
        # Min lags count from the done end ceiled, max lags from it floored.
        prev_hi, prev_lo = job.done_end
    for i in range(job.n_done):
        lo[i] = hi[i] = job.done[i][0]
    allowed = instance.start_hours(job)
    earliest = earliest_starts(instance, job, job.n_done, prev_lo)
    if earliest is None:
        return None
    lo[job.n_done :] = earliest
    for i in range(job.n_done, n):
        step = steps[i]
        hi_i = instance.horizon_hours if step.max_lag is None else prev_hi + step.max_lag
        if step.working_hours_only:
            last = instance.last_start(step, hi_i, allowed[i])
            if last is None:
                return None
            hi_i = last
        hi[i] = hi_i
        prev_hi = hi_i + step.duration
    qc = max(1, job.product.qc_release_days)
    latest_end = HOURS_PER_DAY * (instance.days - qc)
    cap = latest_end - steps[-1].duration
    for i in range(n - 1, job.n_done - 1, -1):
        hi[i] = min(hi[i], cap)
        if steps[i].working_hours_only:
            last = instance.last_start(steps[i], hi[i], allowed[i])
            if last is None:
                return None
            hi[i] = last
        if lo[i] > hi[i]:
            return None
        if i > 0:
            cap = hi[i] - steps[i].min_lag - steps[i - 1].duration
    return list(zip(lo, hi, strict=True))


class ChainModel:
    """Builds the model; `add_*` methods are the constraint families."""

    def __init__(self, instance: Instance, *, group_holders: bool = False) -> None:
        """group_holders adds the redundant cumulatives of interchangeable cleanrooms and
        devices (`_holder_groups`). On the whole centre the same budget took a quarter
        less wall time and proved M's first level (120 of 120; docs/benchmarks.md); on
        LNS sub-models they cost more than they gave (L-over 773 against 778 scheduled)."""
        self.instance = instance
        self.group_holders = group_holders
        self.model = cp_model.CpModel()
        self.jobs: list[JobVars] = []
        #: Escalation gates: (previous cohort's last infusion, this cohort's first, keys).
        self.gates: list[
            tuple[cp_model.IntVar, cp_model.IntVar, tuple[str, str], tuple[str, str]]
        ] = []
        #: Most hours after a slot's start any staffed step may start (at most slot_reach).
        self.reach = 0
        for job in instance.jobs:
            jv = self._job_vars(job)
            if jv is not None:
                self.jobs.append(jv)
        self.add_process_lags()
        self.add_release_and_infusion()
        self.add_clinical_days()
        self.add_apheresis_capacity()
        self.add_cleanroom_segregation()
        self.add_device_capacity()
        self.add_staff_capacity()
        self.add_staff_groups()
        self.add_bed_capacity()
        self.add_trial_rules()
        self.add_published_plan()
        self.add_objective()

    # Variables ----------------------------------------------------------------------------

    def _job_vars(self, job: Job) -> JobVars | None:
        inst, m = self.instance, self.model
        if job.blocked is not None:
            return None
        bounds = step_bounds(inst, job)
        if bounds is None:
            return None
        aph_days = [
            d
            for d in range(job.earliest_day, job.latest_day + 1)
            if not 0 <= d < inst.days or inst.apheresis_slots[d] > 0 or -1 in job.done
        ]
        if not aph_days:
            return None
        name = job.code
        present = m.new_bool_var(f"{name}.present")
        apheresis = m.new_int_var_from_domain(
            cp_model.Domain.from_values(aph_days), f"{name}.apheresis"
        )
        step_days: dict[int, cp_model.IntVar] = {}
        step_hours: dict[int, cp_model.IntVar] = {}
        slot_hours: dict[int, cp_model.IntVar] = {}
        allowed = inst.start_hours(job)
        for i, (step, (lo, hi)) in enumerate(zip(job.steps, bounds, strict=True)):
            if i in job.done:
                continue
            if step.staff:
                spans = []
                for k in inst.slots_around(lo, hi):
                    runs = inst.starts_in(step, k, lo, hi, allowed[i])
                    if runs and self._staffable(step, k):
                        spans += [list(r) for r in runs]
                        self.reach = max(self.reach, runs[-1][1] - inst.slots[k].start)
                if not spans:
                    return None
                hour = m.new_int_var_from_domain(
                    cp_model.Domain.from_intervals(spans), f"{name}.{step.code}.start"
                )
                slot_hours[i] = hour
                if not inst.one_slot_a_day:
                    # A start hour in a slot's span lies on the slot's day.
                    days = sorted({first // HOURS_PER_DAY for first, _ in spans})
                    step_days[i] = m.new_int_var_from_domain(
                        cp_model.Domain.from_values(days), f"{name}.{step.code}.day"
                    )
                    m.add(HOURS_PER_DAY * step_days[i] <= hour)
                    m.add(hour < HOURS_PER_DAY * step_days[i] + HOURS_PER_DAY)
            elif step.working_hours_only:
                first = (lo - inst.day_start) // HOURS_PER_DAY
                last = (hi - inst.day_start) // HOURS_PER_DAY
                step_days[i] = m.new_int_var(first, last, f"{name}.{step.code}.day")
            else:
                step_hours[i] = m.new_int_var(lo, hi, f"{name}.{step.code}.start")
        last = len(job.steps) - 1
        end_day = m.new_int_var(
            (job.step_end(last, bounds[-1][0]) - 1) // HOURS_PER_DAY,
            (job.step_end(last, bounds[-1][1]) - 1) // HOURS_PER_DAY,
            f"{name}.end_day",
        )
        infusion = m.new_int_var(0, inst.days - 1, f"{name}.infusion")
        horizon_days = inst.days
        # Needed long before the horizon (an overdue referral): late by more than it.
        overdue = 0 if job.needed_day is None else max(0, -job.needed_day)
        lateness = m.new_int_var(0, horizon_days + overdue, f"{name}.lateness")
        wait = m.new_int_var(0, horizon_days + 800, f"{name}.wait")
        return JobVars(
            job,
            present,
            apheresis,
            step_days,
            step_hours,
            infusion,
            end_day,
            lateness,
            wait,
            slot_hours=slot_hours,
        )

    def _staffable(self, step: StepSpec, slot: int) -> bool:
        """Whether a staffed step could start at a slot with nothing else booked."""
        inst = self.instance
        day = inst.slots[slot].day
        return (
            long_enough(inst, step, slot)
            and all(
                hours <= inst.pool_hours[pool][day] for pool, hours in step_pool_hours(step).items()
            )
            and all(
                count <= inst.staff_groups[g].people[slot]
                for g, count in step_group_people(inst, step).items()
            )
        )

    # Constraint families ------------------------------------------------------------------

    def add_process_lags(self) -> None:
        """Each step starts within its min/max lag after the previous step (or apheresis)."""
        inst, m = self.instance, self.model
        for jv in self.jobs:
            job = jv.job
            prev_lo: LinearExpr = self._apheresis_end(jv)
            prev_hi = prev_lo
            if job.done_end is not None:
                # Steps done are facts; lags count from the last one's recorded end.
                prev_hi, prev_lo = job.done_end
            for i in range(job.n_done, len(job.steps)):
                step = job.steps[i]
                start = jv.start(inst, i)
                m.add(start >= prev_lo + step.min_lag).only_enforce_if(jv.present)
                if step.max_lag is not None:
                    m.add(start <= prev_hi + step.max_lag).only_enforce_if(jv.present)
                prev_lo = prev_hi = jv.end(inst, i)

    def _apheresis_end(self, jv: JobVars) -> LinearExpr:
        """Hour apheresis ends (if done: its recorded end, ceiled)."""
        if -1 in jv.job.done:
            return jv.job.done[-1][1]
        inst = self.instance
        return HOURS_PER_DAY * jv.apheresis + inst.day_start + jv.job.product.apheresis_hours

    def add_release_and_infusion(self) -> None:
        """QC release after manufacturing; infusion after release (fresh: within shelf life).

        Lymphodepletion (ld days before infusion) never starts before apheresis ends, nor
        before release unless the product allows it.
        """
        inst, m = self.instance, self.model
        for jv in self.jobs:
            job = jv.job
            product = job.product
            mend = jv.end(inst, len(job.steps) - 1)
            m.add(HOURS_PER_DAY * jv.end_day <= mend - 1)
            m.add(mend - 1 <= HOURS_PER_DAY * jv.end_day + HOURS_PER_DAY - 1)
            on = jv.present
            release = self._release(jv)
            ld = product.ld_days_before_infusion
            m.add(jv.infusion >= release).only_enforce_if(on)
            m.add(jv.infusion >= jv.end_day + 1).only_enforce_if(on)
            m.add(jv.infusion >= ld).only_enforce_if(on)
            if ld > 0:
                ld_start = HOURS_PER_DAY * (jv.infusion - ld) + inst.day_start
                m.add(ld_start >= self._apheresis_end(jv)).only_enforce_if(on)
                if product.ld_waits_for_release:
                    m.add(jv.infusion - ld >= release).only_enforce_if(on)
            if product.storage is Storage.CRYO:
                # Lymphodepletion starts once the batch exists.
                m.add(jv.infusion >= jv.end_day + 1 + ld).only_enforce_if(on)
            else:
                shelf_end = jv.end(inst, shelf_step(job))
                earliest = min((s for s, _ in job.done.values()), default=0) // HOURS_PER_DAY
                shelf_day = m.new_int_var(min(0, earliest), inst.days, f"{job.code}.shelf_day")
                m.add(HOURS_PER_DAY * shelf_day <= shelf_end - 1)
                m.add(shelf_end - 1 <= HOURS_PER_DAY * shelf_day + HOURS_PER_DAY - 1)
                shelf = product.fresh_shelf_days
                m.add(jv.infusion <= shelf_day + shelf).only_enforce_if(on)
            # The wait counts from the earliest apheresis the patient could have: a chain
            # pushed later for no reason costs days, not only a long vein-to-vein time.
            m.add(jv.wait >= jv.infusion - job.earliest_day).only_enforce_if(on)
            if job.needed_day is not None:
                m.add(jv.lateness >= jv.infusion - job.needed_day).only_enforce_if(on)

    def _release(self, jv: JobVars) -> cp_model.IntVar:
        """The release day: QC days after manufacturing ends, then (cryopreserved batches)
        the next day a QP works."""
        inst, m = self.instance, self.model
        qc = jv.job.product.qc_release_days
        release = m.new_int_var(
            -RELEASE_OFFSET, RELEASE_OFFSET + inst.days + qc, f"{jv.job.code}.release"
        )
        if not inst.release_table or jv.job.product.storage is not Storage.CRYO:
            m.add(release == jv.end_day + qc)
            return release
        table = [int(d) for d in inst.release_table]
        m.add_element(jv.end_day + qc + RELEASE_OFFSET, table, release)
        return release

    def add_clinical_days(self) -> None:
        """Lymphodepletion and infusion on clinical days, unless the product allows any day."""
        inst, m = self.instance, self.model
        for jv in self.jobs:
            allowed = inst.infusion_days.get(jv.job.product.code)
            if allowed is None:
                continue
            days = [d for d, ok in enumerate(allowed) if ok]
            m.add_linear_expression_in_domain(jv.infusion, cp_model.Domain.from_values(days))

    def _day_cumulative(
        self,
        items: Sequence[tuple[LinearExpr, int, int, cp_model.IntVar]],
        capacity: list[int] | Mapping[int, int],
        tag: str,
        block: int = 1,
    ) -> None:
        """Cumulative over day-long intervals against a capacity that varies by day (or,
        given as a mapping, by the positions listed, each held for `block` units)."""
        if not items:
            return
        m = self.model
        caps = capacity if isinstance(capacity, Mapping) else dict(enumerate(capacity))
        top = max(caps.values(), default=0)
        intervals, demands = [], []
        for k, (start, size, demand, present) in enumerate(items):
            intervals.append(
                m.new_optional_fixed_size_interval_var(start, size, present, f"{tag}.{k}")
            )
            demands.append(demand)
        for first, last, lack in _runs(caps, top):
            # One block per run of positions short by the same amount: thousands of
            # day-long blocks slowed every propagation of the cumulative.
            intervals.append(
                m.new_fixed_size_interval_var(first, last + block - first, f"{tag}.block{first}")
            )
            demands.append(lack)
        m.add_cumulative(intervals, demands, top)

    def add_apheresis_capacity(self) -> None:
        """At most the day's apheresis slots are used."""
        inst = self.instance
        # Collections done took their slots when the instance was compiled.
        items = [
            (jv.apheresis, 1, 1, jv.present)
            for jv in self.jobs
            if jv.job.earliest_day >= 0 and jv.job.latest_day < inst.days and -1 not in jv.job.done
        ]
        self._day_cumulative(items, list(inst.apheresis_slots), "apheresis")

    def _stay(
        self, jv: JobVars, span: tuple[int, int], tag: str
    ) -> tuple[LinearExpr, cp_model.IntVar, LinearExpr]:
        """Start, length and end (changeover not included) of a job's stay on a holder:
        one length variable the job's intervals on every holder it may use share."""
        inst, m = self.instance, self.model
        first, last = span
        begun = jv.job.held_from(span)
        start = jv.start(inst, first) if begun is None else begun
        end = jv.end(inst, last)
        # A present interval ties the length to start and end; an absent job leaves it free.
        length = m.new_int_var(0, inst.horizon_hours, f"{jv.job.code}.{tag}.stay")
        return start, length, end

    def add_cleanroom_segregation(self) -> None:
        """One patient per cleanroom from first to last room step, plus changeover; downtime."""
        inst = self.instance
        self._exclusive_holders(
            "R",
            inst.room_changeover,
            inst.room_blocked,
            [
                (jv, jv.job.room_steps, jv.job.fixed_room, jv.job.rooms, jv.rooms)
                for jv in self.jobs
            ],
        )

    def add_device_capacity(self) -> None:
        """One batch per closed device over its steps, plus changeover; downtime."""
        inst = self.instance
        self._exclusive_holders(
            "D",
            inst.device_changeover,
            inst.device_blocked,
            [
                (jv, jv.job.device_steps, jv.job.fixed_device, jv.job.devices, jv.devices)
                for jv in self.jobs
            ],
        )

    def _exclusive_holders(
        self,
        tag: str,
        changeover: tuple[int, ...],
        blocked: tuple[tuple[tuple[int, int], ...], ...],
        items: list[
            tuple[
                JobVars,
                tuple[int, int] | None,
                int | None,
                tuple[int, ...],
                dict[int, cp_model.IntVar],
            ]
        ],
    ) -> None:
        """Each planned job picks one holder (fixed if already chosen); holders never overlap.

        items: job, span of steps held, fixed holder, allowed holders, and the dict that
        receives the job's choice literals. blocked holds downtime and stays already done.
        """
        m = self.model
        per_holder: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
        stays: list[Stay] = []
        for jv, span, fixed, options, uses in items:
            if span is None:
                continue
            if fixed is not None and jv.job.held_done(span):
                # The whole stay is done and blocked already: no interval to place.
                uses[fixed] = m.new_bool_var(f"{jv.job.code}.{tag}{fixed}")
                m.add(uses[fixed] == jv.present)
                continue
            start, length, end = self._stay(jv, span, tag)
            held = (fixed,) if fixed is not None else options
            if self.group_holders:
                stays.append((frozenset(held), start, length, end, jv))
            for k in held:
                name = f"{jv.job.code}.{tag}{k}"
                uses[k] = m.new_bool_var(name)
                per_holder[k].append(
                    m.new_optional_interval_var(
                        start, length + changeover[k], end + changeover[k], uses[k], name
                    )
                )
            m.add(sum(uses.values()) == jv.present)
        for k, intervals in per_holder.items():
            for n, (s, e) in enumerate(blocked[k]):
                intervals.append(m.new_fixed_size_interval_var(s, e - s, f"down.{tag}{k}.{n}"))
            m.add_no_overlap(intervals)
        if self.group_holders:
            self._holder_groups(tag, changeover, blocked, stays)

    def _holder_groups(
        self,
        tag: str,
        changeover: tuple[int, ...],
        blocked: tuple[tuple[tuple[int, int], ...], ...],
        stays: list[Stay],
    ) -> None:
        """Redundant: the stays that can only use holders of a set S never exceed |S| at
        once (with S's shortest changeover). Implied by the no-overlaps, it lets CP-SAT
        reason about interchangeable holders together, as the per-holder choice hides."""
        m = self.model
        for n, group in enumerate(sorted({s[0] for s in stays if len(s[0]) > 1}, key=sorted)):
            co = min(changeover[k] for k in group)
            intervals = [
                m.new_optional_interval_var(
                    start, length + co, end + co, jv.present, f"{jv.job.code}.{tag}g{n}"
                )
                for held, start, length, end, jv in stays
                if held <= group
            ]
            intervals += [
                m.new_fixed_size_interval_var(s, e - s, f"down.{tag}g{n}.{k}.{i}")
                for k in sorted(group)
                for i, (s, e) in enumerate(blocked[k])
            ]
            m.add_cumulative(intervals, [1] * len(intervals), len(group))

    def add_staff_capacity(self) -> None:
        """Staffed steps' hours per day stay within each pool's rostered hours (pooled).

        Where no day has two slots they are counted per slot, as the staff groups are."""
        inst = self.instance
        per_slot = inst.one_slot_a_day
        items: dict[Pool, list[tuple[LinearExpr, int, int, cp_model.IntVar]]] = defaultdict(list)
        for jv in self.jobs:
            for i, hour in jv.slot_hours.items():
                for pool, hours in step_pool_hours(jv.job.steps[i]).items():
                    if per_slot:
                        items[pool].append((hour, self.reach + 1, hours, jv.present))
                    else:
                        items[pool].append((jv.step_days[i], 1, hours, jv.present))
        for pool, pool_items in sorted(
            items.items(), key=lambda kv: (kv[0][0].value, kv[0][1] or "")
        ):
            day_hours = inst.pool_hours[pool]
            tag = f"staff.{pool[0]}.{pool[1]}"
            if per_slot:
                caps = {s.start: day_hours[s.day] for s in inst.slots}
                self._day_cumulative(pool_items, caps, tag, self.reach + 1)
            else:
                self._day_cumulative(pool_items, list(day_hours), tag)

    def add_staff_groups(self) -> None:
        """In each slot, the people needed by steps of any set of products stay within the
        slot's people trained on one of them: then distinct people can be named."""
        inst = self.instance
        # A step counts from its start hour for reach + 1 hours: the steps of a slot
        # (starting within reach <= slot_reach of its start) all overlap at the latest of
        # their starts, where the slot's capacity holds, and no two slots' steps overlap.
        size = self.reach + 1
        items: dict[int, list[tuple[LinearExpr, int, int, cp_model.IntVar]]] = defaultdict(list)
        for jv in self.jobs:
            for i, hour in jv.slot_hours.items():
                for g, count in step_group_people(inst, jv.job.steps[i]).items():
                    items[g].append((hour, size, count, jv.present))
        for g, group_items in sorted(items.items()):
            group = inst.staff_groups[g]
            caps = {slot.start: n for slot, n in zip(inst.slots, group.people, strict=True)}
            self._day_cumulative(group_items, caps, f"group.{group.tag}", size)

    def add_bed_capacity(self) -> None:
        """In-patients on the ward never exceed the day's beds."""
        inst = self.instance
        items = [
            (jv.infusion, jv.job.product.inpatient_days, 1, jv.present)
            for jv in self.jobs
            if jv.job.product.inpatient_days > 0
        ]
        self._day_cumulative(items, list(inst.beds), "beds")

    def add_trial_rules(self) -> None:
        """Cohort caps, and a minimum gap between infusions within a cohort."""
        inst, m = self.instance, self.model
        cohorts: dict[tuple[str, str], list[JobVars]] = defaultdict(list)
        for jv in self.jobs:
            if jv.job.cohort is not None:
                cohorts[jv.job.cohort].append(jv)
        for key, members in sorted(cohorts.items()):
            room = inst.cohort_caps[key] - inst.cohort_used[key]
            m.add(sum(jv.present for jv in members) <= max(0, room))
            gap = members[0].job.stagger_days
            for taken in inst.stagger_blocked.get(key, ()):
                for jv in members:
                    # Infusion at least `gap` days from a day held outside the model.
                    far = m.new_bool_var(f"{jv.job.code}.after{taken}")
                    m.add(jv.infusion >= taken + gap).only_enforce_if(far)
                    m.add(jv.infusion <= taken - gap).only_enforce_if(~far)
            if gap > 0 and len(members) > 1:
                m.add_no_overlap(
                    m.new_optional_fixed_size_interval_var(
                        jv.infusion, gap, jv.present, f"{jv.job.code}.stagger"
                    )
                    for jv in members
                )
        self._add_escalation_gates(cohorts)

    def _add_escalation_gates(self, cohorts: dict[tuple[str, str], list[JobVars]]) -> None:
        """A gated cohort's first infusion waits its days after the previous one's last."""
        inst, m = self.instance, self.model
        far = inst.days + inst.bed_days + 10_000
        for key, (prev, days) in sorted(inst.cohort_gates.items()):
            before, after = cohorts.get(prev, []), cohorts.get(key, [])
            held_before = inst.stagger_blocked.get(prev, ())
            held_after = inst.stagger_blocked.get(key, ())
            if not (before or held_before) or not (after or held_after):
                continue
            last = m.new_int_var(-far, far, f"{prev[1]}.last")
            first = m.new_int_var(-far, far, f"{key[1]}.first")
            for jv in before:
                m.add(last >= jv.infusion).only_enforce_if(jv.present)
            for jv in after:
                m.add(first <= jv.infusion).only_enforce_if(jv.present)
            for d in held_before:
                m.add(last >= d)
            for d in held_after:
                m.add(first <= d)
            m.add(first >= last + days)
            self.gates.append((last, first, prev, key))

    def add_published_plan(self) -> None:
        """Re-planning: kept infusion days; a published patient is dropped only for a
        newcomer of higher priority (solver/stability.py)."""
        stability.add_published_plan(self)

    def add_objective(self) -> None:
        """Most patients by priority, then (re-planning) fewest published patients moved
        and days moved, then least lateness, then least waiting (from the earliest
        possible apheresis to infusion)."""
        scale = scheduled_scale(self.instance)
        self.model.maximize(
            self.scheduled_weight(scale)
            - stability.stability_penalty(self)
            - sum(jv.job.lateness_weight * jv.lateness + jv.wait for jv in self.jobs)
        )

    def scheduled_weight(self, scale: int = 1) -> cp_model.LinearExpr:
        """Priority weight of the patients planned (times `scale`): the objective's first
        level."""
        return cp_model.LinearExpr.weighted_sum(
            [jv.present for jv in self.jobs], [jv.job.weight * scale for jv in self.jobs]
        )

    # Hints and extraction -----------------------------------------------------------------

    def hint(self, chains: list[ChainTimes]) -> None:
        """Start the search from a known plan (the greedy one)."""
        inst, m = self.instance, self.model
        by_job = {c.job: c for c in chains}
        for jv in self.jobs:
            chain = by_job.get(jv.job.index)
            m.add_hint(jv.present, chain is not None)
            if chain is None:
                continue
            m.add_hint(jv.apheresis, chain.apheresis_day)
            for i, var in jv.step_days.items():
                m.add_hint(var, chain.starts[i] // HOURS_PER_DAY)
            for i, var in (jv.step_hours | jv.slot_hours).items():
                m.add_hint(var, chain.starts[i])
            for r, var in jv.rooms.items():
                m.add_hint(var, r == chain.room)
            for k, var in jv.devices.items():
                m.add_hint(var, k == chain.device)
            m.add_hint(jv.infusion, chain.infusion_day)
            m.add_hint(jv.end_day, (chain.manufacturing_end(inst) - 1) // HOURS_PER_DAY)
            m.add_hint(jv.lateness, chain.lateness(inst))
            m.add_hint(jv.wait, chain.wait(inst))
        for last, first, prev, key in self.gates:
            days = {
                k: [c.infusion_day for c in chains if inst.jobs[c.job].cohort == k]
                for k in (prev, key)
            }
            before = [*inst.stagger_blocked.get(prev, ()), *days[prev]]
            after = [*inst.stagger_blocked.get(key, ()), *days[key]]
            m.add_hint(last, max(before, default=last.proto.domain[0]))
            m.add_hint(first, min(after, default=first.proto.domain[-1]))

    def require(self, jobs: set[int]) -> None:
        """Force these jobs into the plan (e.g. patients already in process)."""
        for jv in self.jobs:
            if jv.job.index in jobs:
                self.model.add(jv.present == 1)

    def chains(self, value: Callable[[cp_model.IntVar], int]) -> list[ChainTimes]:
        """Chains of the present jobs, read with value(var) (a solver or a callback)."""
        inst = self.instance
        result = []
        for jv in self.jobs:
            if not value(jv.present):
                continue
            starts = tuple(
                jv.job.done[i][0]
                if i in jv.job.done
                else int(value(jv.slot_hours[i]))
                if i in jv.slot_hours
                else int(value(jv.step_days[i])) * HOURS_PER_DAY + inst.day_start
                if i in jv.step_days
                else int(value(jv.step_hours[i]))
                for i in range(len(jv.job.steps))
            )
            room = next((r for r, v in jv.rooms.items() if value(v)), None)
            device = next((k for k, v in jv.devices.items() if value(v)), None)
            result.append(
                ChainTimes(
                    jv.job.index,
                    int(value(jv.apheresis)),
                    starts,
                    room,
                    device,
                    int(value(jv.infusion)),
                )
            )
        return result


def _runs(caps: Mapping[int, int], top: int) -> list[tuple[int, int, int]]:
    """(first, last, shortfall) of each run of consecutive positions whose capacity falls
    short of top by the same amount. A run may cover the hours between its positions too:
    what lies there are steps of its positions' slots, fewer than each slot's block meets."""
    runs: list[tuple[int, int, int]] = []
    for pos, cap in sorted(caps.items()):
        lack = top - cap
        if runs and runs[-1][2] == lack:
            runs[-1] = (runs[-1][0], pos, lack)
        else:
            runs.append((pos, pos, lack))
    return [run for run in runs if run[2] > 0]
