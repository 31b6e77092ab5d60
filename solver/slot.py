"""A plan read back into chains, and the earliest slot for a new referral around it."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import date

from ortools.sat.python import cp_model

from planner import (
    Patient,
    PatientSchedule,
    Plan,
    ResourceType,
    Scenario,
    Unscheduled,
    UnscheduledReason,
)
from planner.replan import Replan
from planner.slot import Referral, SlotMoves, SlotOffer
from solver import stability
from solver.chain import ChainTimes
from solver.explain import binding_families, describe, holders
from solver.extract import CAPACITY_REASONS, explain
from solver.greedy import Booking, days_used, left_over, rebook
from solver.instance import Instance, Job, compile_instance
from solver.model import ChainModel

_NOT_STEPS = (ResourceType.STAFF, ResourceType.STAFF_POOL)


def chains_from_plan(instance: Instance, plan: Plan) -> list[ChainTimes]:
    """The chains of a plan's scheduled patients who are still jobs of this instance."""
    jobs = {job.code: job for job in instance.jobs}
    rooms = {code: i for i, code in enumerate(instance.room_codes)}
    devices = {code: i for i, code in enumerate(instance.device_codes)}
    starts: dict[tuple[str, str], int] = {}
    room_of: dict[str, int] = {}
    device_of: dict[str, int] = {}
    for a in plan.assignments:
        if a.resource_type in _NOT_STEPS:
            continue
        key = (a.patient_code, a.step_code)
        hour = instance.hour_of(a.start)
        starts[key] = min(starts.get(key, hour), hour)
        if a.resource_type is ResourceType.CLEANROOM and a.resource_code in rooms:
            room_of[a.patient_code] = rooms[a.resource_code]
        if a.resource_type is ResourceType.DEVICE and a.resource_code in devices:
            device_of[a.patient_code] = devices[a.resource_code]
    chains = []
    for schedule in plan.schedules:
        job = jobs.get(schedule.patient_code)
        if job is None:
            continue
        step_starts = [starts.get((job.code, step.code)) for step in job.steps]
        if any(s is None for s in step_starts):
            continue
        chains.append(
            ChainTimes(
                job.index,
                instance.day_index(schedule.apheresis_day),
                tuple(s for s in step_starts if s is not None),
                room_of.get(job.code) if job.room_steps else None,
                device_of.get(job.code) if job.device_steps else None,
                instance.day_index(schedule.infusion_day),
            )
        )
    return chains


def fits_alone(instance: Instance, job: Job) -> bool:
    """Whether the job's whole chain fits the centre with no other patient planned (found by
    CP-SAT within the job's own window; steps already done keep their capacity)."""
    chain, _ = _earliest_by_model(_rest(instance, Booking(instance), job), None)
    return chain is not None


def with_competition_named(
    instance: Instance, plan: Plan, chains: list[ChainTimes], workers: int = 1
) -> Plan:
    """The plan (made of these chains) with each patient left out for lack of a resource
    that the centre could have planned alone re-labelled not_chosen: the resource went to
    others. Saying 'no staff' there would send a director to hire staff the centre has.

    Patients are explained `workers` at a time (each by small CP-SAT solves, which run
    beside one another); the plan is the same for any number of workers."""
    jobs = {job.code: job for job in instance.jobs}
    booking = rebook(instance, chains)

    def relabel(item: Unscheduled) -> Unscheduled:
        job = jobs.get(item.patient_code)
        if job is None or item.reason not in CAPACITY_REASONS or not fits_alone(instance, job):
            return item
        return Unscheduled(
            item.patient_code,
            UnscheduledReason.NOT_CHOSEN,
            f"The centre could plan {job.code} (priority {job.patient.priority}, referred "
            f"{job.patient.referral_date}) on its own but not next to the patients "
            f"planned. {competition(instance, booking, job)}",
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        relabelled = tuple(pool.map(relabel, plan.unscheduled))
        notes = plan.notes + _late(instance, plan, chains, pool)
    return replace(plan, unscheduled=relabelled, notes=notes)


#: Late patients whose lateness is explained in a plan's notes, latest first.
_LATE_NOTES = 10


def _late(
    instance: Instance, plan: Plan, chains: list[ChainTimes], pool: Executor
) -> tuple[str, ...]:
    """For the latest patients: what would let each be infused on time, and who holds it."""
    jobs = {job.code: job for job in instance.jobs}
    late = sorted(
        (s for s in plan.schedules if s.lateness_days > 0 and s.patient_code in jobs),
        key=lambda s: (-s.lateness_days, s.patient_code),
    )

    def note(schedule: PatientSchedule) -> str | None:
        job = jobs[schedule.patient_code]
        if job.needed_day is None:
            return None
        others = rebook(instance, [c for c in chains if c.job != job.index])
        why = competition(instance, others, job, by_day=job.needed_day)
        return (
            f"{job.code} is {schedule.lateness_days} days late (needed by "
            f"{instance.to_date(job.needed_day)}). On time: {why[0].lower()}{why[1:]}"
        )

    notes = [n for n in pool.map(note, late[:_LATE_NOTES]) if n is not None]
    if len(late) > _LATE_NOTES:
        notes.append(f"... and {len(late) - _LATE_NOTES} more late patients.")
    return tuple(notes)


def competition(instance: Instance, booking: Booking, job: Job, by_day: int | None = None) -> str:
    """What keeps a job out of a booking (or, with by_day, from being infused by then): the
    resource families that, freed one at a time in the model, let it in, and who holds
    them."""

    def probe(free: frozenset[str]) -> ChainTimes | None:
        return _earliest_by_model(_rest(instance, booking, job, free, by_day), None, by_day)[0]

    found = binding_families(probe)
    if found is None:
        return describe(instance, job, False, None)
    bindings = tuple(holders(instance, booking, job, f) for f in found.families)
    return describe(instance, job, found.together, bindings)


def _new_code(scenario: Scenario) -> str:
    taken = {p.code for p in scenario.patients}
    return next(c for c in ("NEW", *(f"NEW{i}" for i in range(2, 10_000))) if c not in taken)


def _as_patient(scenario: Scenario, referral: Referral) -> Patient:
    """The referral as a patient of the scenario, under a code no one has, collected from
    its first date to the horizon's end."""
    return Patient(
        code=_new_code(scenario),
        product_code=referral.product_code,
        referral_date=referral.earliest,
        earliest_apheresis=referral.earliest,
        latest_apheresis=max(referral.earliest, scenario.horizon_end),
        needed_infusion=referral.needed_infusion,
        priority=referral.priority,
        trial_code=referral.trial_code,
        cohort_code=referral.cohort_code,
    )


def earliest_slot(
    scenario: Scenario, plan: Plan | None, referral: Referral, basis: str
) -> SlotOffer:
    """The earliest apheresis and infusion for a referral, booking around the plan as it is.

    Every patient of the plan keeps their dates and resources; the referral is booked at
    the first apheresis day whose whole chain fits what is left.
    """
    patient = _as_patient(scenario, referral)
    code = patient.code
    with_referral = replace(scenario, patients=(*scenario.patients, patient))
    instance = compile_instance(with_referral)
    chains = chains_from_plan(instance, plan) if plan is not None else []
    booking = rebook(instance, chains)
    job = next(j for j in instance.jobs if j.code == code)
    # Taken before the greedy's trial booking of the referral changes the booking.
    rest = _rest(instance, booking, job)
    greedy_found = booking.insert(job)
    hint = greedy_found if isinstance(greedy_found, ChainTimes) else None
    by_model, proved = _earliest_by_model(rest, hint)
    found = by_model or hint
    if found is None:
        assert not isinstance(greedy_found, ChainTimes)
        reason = explain(instance, job, greedy_found).detail
        if not proved:
            reason += " (The search for a slot ran out of its budget without proving none.)"
        return SlotOffer(referral, basis, reason=reason)
    end = found.manufacturing_end(rest)
    return SlotOffer(
        referral,
        basis,
        apheresis_day=instance.to_date(found.apheresis_day),
        release_day=instance.to_date(instance.release_day(job, end)),
        infusion_day=instance.to_date(found.infusion_day),
        room=None if found.room is None else instance.room_codes[found.room],
        device=None if found.device is None else instance.device_codes[found.device],
        proved=by_model is not None and proved,
    )


def _rest(
    instance: Instance,
    booking: Booking,
    job: Job,
    free: frozenset[str] = frozenset(),
    by_day: int | None = None,
) -> Instance:
    """The instance holding only `job`, with what the booking holds taken away (but the
    families in `free`), over the days the job may use (infused by `by_day` if given)."""
    reach = instance.days - 1 if by_day is None else by_day
    return left_over(instance, booking, [job], days_used([job], reach), free)


def _one_worker(budget: float) -> cp_model.CpSolver:
    """A deterministic single-worker CP-SAT solver bounded by `budget` units (seed 0)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = budget
    solver.parameters.catch_sigint_signal = False
    return solver


def _earliest_by_model(
    rest: Instance, hint: ChainTimes | None, by_day: int | None = None
) -> tuple[ChainTimes | None, bool]:
    """The chain with the earliest apheresis (then infusion) that fits, found by CP-SAT;
    with by_day, only one infused by that day.

    The greedy's placement puts each step as early as it can, which can miss a chain that
    starts a step later to clear a weekend; the model does not. The flag says whether the
    answer is proved (an optimum, or that no chain fits).
    """
    chain_model = ChainModel(rest)
    if not chain_model.jobs:
        return None, True
    (jv,) = chain_model.jobs
    m = chain_model.model
    m.add(jv.present == 1)
    if by_day is not None:
        m.add(jv.infusion <= by_day)
    if hint is not None:
        chain_model.hint([replace(hint, job=0)])
    m.clear_objective()
    m.minimize(jv.apheresis * (2 * rest.days + 2) + jv.infusion)
    solver = _one_worker(5.0)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, status == cp_model.INFEASIBLE
    (chain,) = chain_model.chains(solver.value)
    return chain, status == cp_model.OPTIMAL


def earliest_slot_with_moves(
    scenario: Scenario,
    plan: Plan,
    referral: Referral,
    today: date,
    budget: float = 2.0,
) -> SlotMoves:
    """The earliest infusion a referral can get if planned patients may move (none is
    dropped; started and frozen steps stay), then the fewest moves for it: two CP-SAT
    solves on the whole centre, deterministic under `budget` units each."""
    patient = _as_patient(scenario, referral)
    code = patient.code
    replan = Replan(plan, max(today, scenario.horizon_start), scenario.frozen_days)
    prepared = stability.prepare(replace(scenario, patients=(*scenario.patients, patient)), replan)
    instance = compile_instance(prepared.scenario)
    stability.attach(instance, replan, prepared)
    chain_model = ChainModel(instance)
    m = chain_model.model
    new = next((jv for jv in chain_model.jobs if jv.job.code == code), None)
    if new is None:
        return SlotMoves(None, None, (), "the referral has no possible chain in the horizon")
    m.add(new.present == 1)
    for jv in chain_model.jobs:
        if jv.job.baseline is not None or jv.job.in_process:
            m.add(jv.present == 1)
    chain_model.hint(chains_from_plan(instance, plan))
    solver = _one_worker(budget)
    m.clear_objective()
    m.minimize(new.infusion)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SlotMoves(None, None, (), "no plan keeps every planned patient and adds it")
    m.add(new.infusion <= int(solver.value(new.infusion)))
    m.clear_objective()
    m.minimize(stability.stability_penalty(chain_model))
    status = solver.solve(m)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)  # the first answer is feasible
    chains = chain_model.chains(solver.value)
    moved = []
    for chain in chains:
        job = instance.jobs[chain.job]
        if job.baseline is None:
            continue
        aph, inf = job.baseline
        if (chain.apheresis_day, chain.infusion_day) != (aph, inf):
            moved.append((job.code, chain.apheresis_day - aph, chain.infusion_day - inf))
    mine = next(c for c in chains if instance.jobs[c.job].code == code)
    return SlotMoves(
        instance.to_date(mine.apheresis_day),
        instance.to_date(mine.infusion_day),
        tuple(sorted(moved)),
    )
