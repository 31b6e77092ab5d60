"""Re-planning against a published plan: fixed steps, the stability level, the drop rule.

Steps kept from the published plan (started, in the frozen window, pinned) reach the
solvers as steps done (planner.replan.with_fixed_steps), which both keep exactly and plan
around; a kept infusion day is `Job.fixed_infusion`. Every patient the published plan
scheduled carries its apheresis and infusion day (`Job.baseline`): the objective counts
those moved (a dropped one counts as moved), then the days moved, before lateness and
waiting. A published patient the greedy booking could keep is dropped only when a
patient of higher priority, not in the published plan, is scheduled instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from planner import (
    DoneStep,
    DoneStepConflict,
    Plan,
    ResourceType,
    Scenario,
    UnscheduledReason,
)
from planner.replan import (
    FixedChain,
    Replan,
    check_kept_in_service,
    fixed_chains,
    released,
    standing_chain,
    with_fixed_steps,
)
from solver.chain import (
    ChainTimes,
    apheresis_end,
    infusion_window,
    moved_days_bound,
    stability_scales,
)
from solver.instance import (
    HOURS_PER_DAY,
    Instance,
    Job,
)
from solver.staffing import Preferred

if TYPE_CHECKING:
    from solver.greedy import Booking, Pending
    from solver.model import ChainModel


@dataclass(frozen=True)
class Prepared:
    """A scenario with the kept steps recorded as done, and what was kept."""

    scenario: Scenario
    fixed: dict[str, FixedChain]


def prepare(scenario: Scenario, replan: Replan | None) -> Prepared:
    """The scenario the solvers see: the published plan's kept prefixes as steps done."""
    if replan is None:
        return Prepared(scenario, {})
    fixed = fixed_chains(scenario, replan)
    check_kept_in_service(scenario, fixed, replan)
    try:
        working = with_fixed_steps(scenario, fixed)
    except DoneStepConflict as error:
        raise DoneStepConflict(
            f"The steps kept from {replan.name} no longer fit the scenario: {error} "
            "Unpin, or re-plan with --fresh."
        ) from error
    return Prepared(working, fixed)


def attach(instance: Instance, replan: Replan | None, prepared: Prepared) -> None:
    """Give each job its published days and chain, and its kept infusion day."""
    if replan is None:
        return
    today = instance.day_index(replan.today)
    for job in instance.jobs:
        if -1 not in job.done and job.earliest_day < today and job.blocked is None:
            # Nothing new is collected before the planning date.
            job.earliest_day = today
            if job.earliest_day > job.latest_day:
                job.blocked = (
                    UnscheduledReason.OUTSIDE_HORIZON,
                    f"The apheresis window ends ({instance.to_date(job.latest_day)}) before "
                    f"the planning date {replan.today}.",
                )
        chain = standing_chain(replan.published, job.patient, job.product)
        if chain is None:
            continue
        aph = instance.day_index(chain.apheresis.start.date())
        inf = instance.day_index(chain.infusion_day)
        job.baseline = (aph, inf)
        kept = prepared.fixed.get(job.code)
        if kept is not None and kept.infusion_day is not None:
            job.fixed_infusion = inf
        starts = tuple(instance.hour_of(s.start) for s in chain.steps)
        starts = tuple(job.done[i][0] if i in job.done else h for i, h in enumerate(starts))
        room = _holder(instance.room_codes, chain.steps, [s.needs_room for s in job.steps])
        device = _holder(instance.device_codes, chain.steps, [s.needs_device for s in job.steps])
        job.published = ChainTimes(job.index, aph, starts, room, device, inf)


def _holder(codes: Sequence[str], steps: Sequence[DoneStep], needs: list[bool]) -> int | None:
    held = {s.resource_code for s, need in zip(steps, needs, strict=True) if need}
    found = [codes.index(c) for c in held if c in codes]
    return found[0] if len(found) == 1 else None


def published_first(order: list[Job]) -> list[Job]:
    """The booking order with published patients first (after those with steps done), so
    a newcomer never takes a published patient's place in the greedy booking."""
    return sorted(order, key=lambda j: (not j.in_process, j.baseline is None))


def mark_kept(instance: Instance, chains: list[ChainTimes]) -> None:
    """Published patients the greedy booking kept: the model may drop them only for a
    newcomer of higher priority (the greedy plan is then always a feasible one)."""
    instance.kept = frozenset(c.job for c in chains if instance.jobs[c.job].baseline is not None)


def fits(booking: Booking, job: Job, chain: ChainTimes) -> bool:
    """Whether a chain (the published one) can be booked exactly as it is."""
    inst = booking.instance
    day = chain.apheresis_day
    if booking.cohort_full(job) or job.blocked is not None:
        return False
    if -1 not in job.done:
        if not job.earliest_day <= day <= job.latest_day:
            return False
        if 0 <= day < inst.days and booking.apheresis[day] >= inst.apheresis_slots[day]:
            return False
    prev_lo = prev_hi = apheresis_end(inst, job, day)
    if job.done_end is not None:
        prev_hi, prev_lo = job.done_end
    pending: Pending = {}
    allowed = inst.start_hours(job)
    for i in range(job.n_done, len(job.steps)):
        step, start = job.steps[i], chain.starts[i]
        if start < prev_lo + step.min_lag:
            return False
        if step.max_lag is not None and start > prev_hi + step.max_lag:
            return False
        if step.staff:
            slot = inst.slot_of(step, start)
            hours = allowed[i]
            if slot is None or (hours is not None and start % HOURS_PER_DAY not in hours):
                return False
            if not booking.staff_fits(step, slot, pending):
                return False
            booking.take(step, slot, pending)
        elif step.working_hours_only and start != inst.work_start(start // HOURS_PER_DAY):
            return False
        prev_lo = prev_hi = start + step.duration
    if prev_lo > inst.horizon_hours:
        return False
    for span, holder, options, fixed, busy, changeover in (
        (
            job.room_steps,
            chain.room,
            job.rooms,
            job.fixed_room,
            booking.rooms,
            inst.room_changeover,
        ),
        (
            job.device_steps,
            chain.device,
            job.devices,
            job.fixed_device,
            booking.devices,
            inst.device_changeover,
        ),
    ):
        if span is None:
            continue
        if holder is None or holder not in ((fixed,) if fixed is not None else options):
            return False
        if job.held_done(span):
            continue
        begun = job.held_from(span)
        start = chain.starts[span[0]] if begun is None else begun
        end = chain.starts[span[1]] + job.steps[span[1]].duration + changeover[holder]
        if booking.conflict(busy[holder], start, end) is not None:
            return False
    first, last = infusion_window(inst, job, day, chain.starts)
    inf = chain.infusion_day
    return (
        first <= inf <= last
        and (job.fixed_infusion is None or inf == job.fixed_infusion)
        and inst.infusion_ok(job, inf)
        and booking.stagger_fits(job, inf)
        and booking.bed_fits(job, inf)
    )


# The CP-SAT model -------------------------------------------------------------------------


def add_published_plan(cm: ChainModel) -> None:
    """Kept infusion days; published patients kept by the greedy are dropped only for a
    newcomer of higher priority."""
    inst, m = cm.instance, cm.model
    scenario = inst.scenario
    for jv in cm.jobs:
        if jv.job.fixed_infusion is not None:
            m.add(jv.infusion == jv.job.fixed_infusion)
    newcomers = [jv for jv in cm.jobs if jv.job.baseline is None]
    for jv in cm.jobs:
        if jv.job.index not in inst.kept or jv.job.in_process:
            continue
        priority = scenario.effective_priority(jv.job.patient)
        higher = [
            n.present for n in newcomers if scenario.effective_priority(n.job.patient) < priority
        ]
        m.add_bool_or([jv.present, *higher])


def stability_penalty(cm: ChainModel) -> cp_model.LinearExpr:
    """Objective value lost to published patients dropped, to those moved and to days
    moved."""
    inst, m = cm.instance, cm.model
    per_day, per_moved, per_dropped = stability_scales(inst)
    if per_dropped == 0:
        return cp_model.LinearExpr.constant(0)
    kept_vars: list[cp_model.IntVar] = []
    moved_vars: list[cp_model.IntVar] = []
    day_vars: list[cp_model.IntVar] = []
    for jv in cm.jobs:
        if jv.job.baseline is None:
            continue
        aph, inf = jv.job.baseline
        code = jv.job.code
        span = inst.days + abs(aph) + abs(inf) + 800
        da = m.new_int_var(0, span, f"{code}.moved_aph")
        di = m.new_int_var(0, span, f"{code}.moved_inf")
        m.add_abs_equality(da, jv.apheresis - aph)
        m.add_abs_equality(di, jv.infusion - inf)
        days = m.new_int_var(0, moved_days_bound(inst, jv.job), f"{code}.moved_days")
        m.add(days >= da + di).only_enforce_if(jv.present)
        moved = m.new_bool_var(f"{code}.moved")
        m.add(da + di == 0).only_enforce_if([~moved, jv.present])
        kept_vars.append(jv.present)
        moved_vars.append(moved)
        day_vars.append(days)
    # Every published patient counts as dropped unless kept; those the model could not
    # even build a chain for are dropped for sure.
    published = sum(job.baseline is not None for job in inst.jobs)
    return cp_model.LinearExpr.weighted_sum(
        [*kept_vars, *moved_vars, *day_vars, 1],
        [-per_dropped] * len(kept_vars)
        + [per_moved] * len(moved_vars)
        + [per_day] * len(day_vars)
        + [per_dropped * published],
    )


# Notes ------------------------------------------------------------------------------------


def notes(
    instance: Instance,
    replan: Replan,
    prepared: Prepared,
    plan: Plan,
    chains: list[ChainTimes],
) -> tuple[str, ...]:
    """What the re-plan kept, how many published patients moved, and why any was dropped."""
    from solver.greedy import rebook  # greedy books published chains with this module

    scenario = instance.scenario
    kinds: dict[str, int] = {}
    for kept in prepared.fixed.values():
        kinds[kept.why] = kinds.get(kept.why, 0) + 1
    kept_text = ", ".join(f"{n} {why}" for why, n in sorted(kinds.items())) or "none"
    out = [
        f"Re-planned against {replan.name} from {replan.today}: steps before "
        f"{replan.frozen_until:%Y-%m-%d} ({replan.frozen_days}-day frozen window), started "
        f"steps and {len(replan.pins)} pins kept; patients with steps kept: {kept_text}."
    ]
    out += [f"Released: {why}." for why in released(scenario, replan.published)]
    published = [job for job in instance.jobs if job.baseline is not None]
    kind = "published" if replan.basis == "published" else "previously planned"
    scheduled = {s.patient_code: s for s in plan.schedules}
    moved, days, dropped = 0, 0, []
    for job in published:
        now = scheduled.get(job.code)
        if now is None:
            dropped.append(job)
            continue
        aph, inf = job.baseline or (0, 0)
        shift = abs(instance.day_index(now.apheresis_day) - aph) + abs(
            instance.day_index(now.infusion_day) - inf
        )
        moved += shift > 0
        days += shift
    out.append(
        f"Stability: {moved} of {len(published)} {kind} patients moved ({days} days of "
        f"apheresis and infusion in all), {len(dropped)} dropped."
    )
    # Patients scheduled come before stability: say who the moves made room for.
    left_out = {u.patient_code for u in replan.published.unscheduled}
    was = {s.patient_code for s in replan.published.schedules}
    earlier = sorted(c for c in scheduled if c in left_out)
    new = sorted(c for c in scheduled if c not in was and c not in left_out)
    if earlier or new:
        parts = []
        if earlier:
            parts.append(f"{len(earlier)} left out of {replan.name} ({', '.join(earlier)})")
        if new:
            parts.append(f"{len(new)} new ({', '.join(new)})")
        out.append(
            f"Newly scheduled: {' and '.join(parts)}; scheduling more patients comes before "
            "moving fewer."
        )
    reasons = {u.patient_code: u.detail for u in plan.unscheduled}
    for job in dropped:
        priority = scenario.effective_priority(job.patient)
        higher = sorted(
            s.patient_code
            for s in plan.schedules
            if (other := _job_of(instance, s.patient_code)) is not None
            and other.baseline is None
            and scenario.effective_priority(other.patient) < priority
        )
        # A patient that still fits beside the plan was left out by a search cut short.
        if isinstance(rebook(instance, chains).insert(job), ChainTimes):
            out.append(
                f"{job.code} (priority {priority}), scheduled in {replan.name}, is left out "
                "although it still fits beside this plan: the search stopped before it found "
                "that; solve again with a larger budget."
            )
        elif job.index in instance.kept and higher:
            out.append(
                f"{job.code} (priority {priority}), scheduled in {replan.name}, is dropped: its "
                f"capacity went to newly scheduled patients of higher priority "
                f"({', '.join(higher)})."
            )
        else:
            out.append(
                f"{job.code} (priority {priority}), scheduled in {replan.name}, can no longer "
                f"be planned: {reasons.get(job.code, 'no chain fits any more.')}"
            )
    return tuple(out)


def _job_of(instance: Instance, code: str) -> Job | None:
    return next((j for j in instance.jobs if j.code == code), None)


def kept_names(replan: Replan | None, prepared: Prepared) -> Preferred:
    """The people the published plan named for the steps a re-plan keeps."""
    if replan is None:
        return {}
    kept = {(code, s.step_code) for code, chain in prepared.fixed.items() for s in chain.steps}
    names: dict[tuple[str, str, datetime], set[str]] = {}
    for a in replan.published.assignments:
        if a.resource_type is ResourceType.STAFF and (a.patient_code, a.step_code) in kept:
            names.setdefault((a.patient_code, a.step_code, a.start), set()).add(a.resource_code)
    return {key: frozenset(codes) for key, codes in names.items()}
