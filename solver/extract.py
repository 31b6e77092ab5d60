"""Turn solved chains into a planner Plan, with a reason for every unscheduled patient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from planner import (
    Assignment,
    PatientSchedule,
    Plan,
    ResourceType,
    SolverInfo,
    Unscheduled,
    UnscheduledReason,
    compute_kpis,
)
from solver.chain import ChainTimes, apheresis_end
from solver.greedy import Failure, rebook
from solver.instance import HOURS_PER_DAY, LD_REGIMEN_DAYS, Instance, Job, pool_name

#: Step codes of the chain around manufacturing, as they appear in plans.
APHERESIS, HOLD, QC, LD, INFUSION, INPATIENT = (
    "apheresis",
    "hold",
    "qc_release",
    "lymphodepletion",
    "infusion",
    "inpatient",
)
INFUSION_HOURS = 2

#: Adds one assignment row: step, resource type, resource, start hour, end hour[, quantity].
_Add = Callable[..., None]


def chain_assignments(instance: Instance, chain: ChainTimes) -> list[Assignment]:
    """Every resource row of one patient's chain, in time order of the steps."""
    job = instance.jobs[chain.job]
    dt = instance.to_datetime
    rows: list[Assignment] = []

    def add(
        step: str,
        kind: ResourceType,
        code: str,
        start: int | datetime,
        end: int | datetime,
        qty: int = 1,
    ) -> None:
        begin = start if isinstance(start, datetime) else dt(start)
        finish = end if isinstance(end, datetime) else dt(end)
        rows.append(Assignment(job.code, job.product.code, step, kind, code, begin, finish, qty))

    aph_start = instance.work_start(chain.apheresis_day)
    aph_times = job.done_times.get(-1) or (
        dt(aph_start),
        dt(apheresis_end(instance, job, chain.apheresis_day)),
    )
    add(APHERESIS, ResourceType.APHERESIS, "apheresis", *aph_times)
    _holder_rows(instance, job, chain, add)
    for i, step in enumerate(job.steps):
        start, end = step_times(instance, chain, i)
        if step.needs_room and chain.room is not None:
            add(step.code, ResourceType.CLEANROOM, instance.room_codes[chain.room], start, end)
        if step.needs_device and chain.device is not None:
            add(step.code, ResourceType.DEVICE, instance.device_codes[chain.device], start, end)
        for demand in step.staff:
            add(
                step.code,
                ResourceType.STAFF_POOL,
                pool_name(demand.pool),
                start,
                start + timedelta(hours=demand.hours),
                demand.count,
            )
        if not (step.needs_room or step.needs_device):
            add(step.code, ResourceType.NONE, "", start, end)
    mend = chain.manufacturing_end(instance)
    release = instance.release_day(job, mend)
    release_hour = max(mend + 1, instance.work_start(release))
    made = step_times(instance, chain, len(job.steps) - 1)[1]
    add(QC, ResourceType.NONE, "", made, release_hour)
    ld_day = chain.infusion_day - job.product.ld_days_before_infusion
    ld_len = max(1, min(LD_REGIMEN_DAYS, job.product.ld_days_before_infusion))
    if job.product.ld_days_before_infusion > 0:
        add(
            LD,
            ResourceType.NONE,
            "",
            instance.work_start(ld_day),
            (ld_day + ld_len) * HOURS_PER_DAY,
        )
    infusion_start = instance.work_start(chain.infusion_day)
    add(INFUSION, ResourceType.NONE, "", infusion_start, infusion_start + INFUSION_HOURS)
    if job.product.inpatient_days > 0:
        add(
            INPATIENT,
            ResourceType.BED,
            instance.scenario.ward.code,
            chain.infusion_day * HOURS_PER_DAY,
            (chain.infusion_day + job.product.inpatient_days) * HOURS_PER_DAY,
        )
    return rows


def _holder_rows(instance: Instance, job: Job, chain: ChainTimes, add: _Add) -> None:
    """Rows for material held in a room or device between its steps.

    Changeover after the stay is not a row: it follows from the scenario
    (planner.checks.changeovers derives it for views).
    """
    for kind, span, index, codes in (
        (ResourceType.CLEANROOM, job.room_steps, chain.room, instance.room_codes),
        (ResourceType.DEVICE, job.device_steps, chain.device, instance.device_codes),
    ):
        if span is None or index is None:
            continue
        first, last = span
        for i in range(first, last):
            gap_start, gap_end = (
                step_times(instance, chain, i)[1],
                step_times(instance, chain, i + 1)[0],
            )
            if gap_start < gap_end:
                add(HOLD, kind, codes[index], gap_start, gap_end)


def step_times(instance: Instance, chain: ChainTimes, i: int) -> tuple[datetime, datetime]:
    """Start and end of step i: as recorded if done, else as planned."""
    job = instance.jobs[chain.job]
    if i in job.done_times:
        return job.done_times[i]
    return instance.to_datetime(chain.starts[i]), instance.to_datetime(chain.end(instance, i))


def chain_schedule(instance: Instance, chain: ChainTimes) -> PatientSchedule:
    """The dated milestones of one chain."""
    job = instance.jobs[chain.job]
    mend = chain.manufacturing_end(instance)
    day = instance.to_date
    return PatientSchedule(
        patient_code=job.code,
        product_code=job.product.code,
        apheresis_day=day(chain.apheresis_day),
        manufacturing_start=step_times(instance, chain, 0)[0],
        manufacturing_end=step_times(instance, chain, len(job.steps) - 1)[1],
        release_day=day(instance.release_day(job, mend)),
        ld_start_day=day(chain.infusion_day - job.product.ld_days_before_infusion),
        infusion_day=day(chain.infusion_day),
        bed_from=day(chain.infusion_day),
        bed_to=day(chain.infusion_day + max(0, job.product.inpatient_days - 1)),
        lateness_days=chain.lateness(instance),
    )


_DETAIL = {
    UnscheduledReason.NO_APHERESIS_SLOT: "every apheresis slot from {first} to {last} is taken",
    UnscheduledReason.NO_MANUFACTURING_CAPACITY: (
        "no approved cleanroom or device is free for {product} after apheresis between "
        "{first} and {last}"
    ),
    UnscheduledReason.NO_STAFF: (
        "not enough trained staff rostered for the operator-intensive steps of {product} "
        "after apheresis between {first} and {last}"
    ),
    UnscheduledReason.NO_BED: "no ward bed is free for the in-patient stay after release",
    UnscheduledReason.COHORT_FULL: "trial cohort {cohort} has reached its cap",
    UnscheduledReason.TRIAL_STAGGER: (
        "the minimum gap between infusions in cohort {cohort}, or its dose-escalation gate, "
        "leaves no infusion day in the horizon"
    ),
    UnscheduledReason.OUTSIDE_HORIZON: (
        "the chain from apheresis ({first} to {last}) to infusion does not fit in the horizon"
    ),
    UnscheduledReason.NOT_CHOSEN: "capacity went to patients of higher priority",
}


#: Reasons that name a resource the other patients of a plan may have taken.
CAPACITY_REASONS = frozenset(
    {
        UnscheduledReason.NO_APHERESIS_SLOT,
        UnscheduledReason.NO_MANUFACTURING_CAPACITY,
        UnscheduledReason.NO_STAFF,
        UnscheduledReason.NO_BED,
        UnscheduledReason.TRIAL_STAGGER,
    }
)


def explain(instance: Instance, job: Job, failure: Failure) -> Unscheduled:
    """A reason code and a sentence for an unscheduled job."""
    if job.blocked is not None:
        return Unscheduled(job.code, job.blocked[0], job.blocked[1])
    reason = failure.main_reason()
    first = instance.to_date(max(0, job.earliest_day))
    last = instance.to_date(max(0, job.latest_day))
    cohort = "/".join(job.cohort) if job.cohort else "-"
    detail = _DETAIL[reason].format(first=first, last=last, product=job.product.code, cohort=cohort)
    return Unscheduled(job.code, reason, detail[0].upper() + detail[1:] + ".")


def build_plan(
    instance: Instance,
    chains: list[ChainTimes],
    info: SolverInfo,
    created: datetime,
    notes: tuple[str, ...] = (),
) -> Plan:
    """A plan from chains; unscheduled jobs are diagnosed against the final bookings."""
    chains = sorted(chains, key=lambda c: c.job)
    booking = rebook(instance, chains)
    scheduled = {c.job for c in chains}
    unscheduled = []
    for job in instance.jobs:
        if job.index in scheduled:
            continue
        attempt = booking.insert(job)
        if isinstance(attempt, Failure):
            unscheduled.append(explain(instance, job, attempt))
        else:
            # Fits on its own but was traded for others: undo the trial booking.
            booking = rebook(instance, chains)
            unscheduled.append(
                Unscheduled(
                    job.code,
                    UnscheduledReason.NOT_CHOSEN,
                    "Could be booked alone, but the plan gives its capacity to patients of "
                    "higher priority or earlier need.",
                )
            )
    assignments = [a for c in chains for a in chain_assignments(instance, c)]
    assignments.sort(
        key=lambda a: (a.start, a.patient_code, a.step_code, a.resource_type, a.resource_code)
    )
    schedules = [chain_schedule(instance, c) for c in chains]
    schedules.sort(key=lambda s: (s.apheresis_day, s.patient_code))
    return Plan(
        scenario_name=instance.scenario.name,
        created=created,
        assignments=tuple(assignments),
        schedules=tuple(schedules),
        unscheduled=tuple(unscheduled),
        kpis=compute_kpis(instance.scenario, schedules, assignments),
        solver=info,
        notes=notes,
    )
