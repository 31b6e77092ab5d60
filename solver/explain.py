"""Why a patient who fits the centre alone is not in a plan: the binding resource, found
by relaxing one resource family at a time in the model, and the patients holding it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from solver.chain import ChainTimes
from solver.greedy import Booking
from solver.instance import HOURS_PER_DAY, Instance, Job, pool_name, step_pool_hours

#: Resource families the check frees one at a time, with the words for them.
FAMILIES: dict[str, str] = {
    "apheresis": "apheresis slots",
    "rooms": "cleanrooms",
    "devices": "devices",
    "staff": "trained staff",
    "beds": "ward beds",
    "cohort": "trial cohort places",
}

#: The earliest chain of one job on an instance with some families freed, or None.
Probe = Callable[[frozenset[str]], ChainTimes | None]


@dataclass(frozen=True)
class Holder:
    """A planned patient holding some of a binding resource in the left-out one's window."""

    code: str
    priority: int
    referral: date
    first_day: int
    last_day: int


@dataclass(frozen=True)
class Binding:
    """A resource family that, freed alone, lets the patient in; and who holds it."""

    family: str
    resources: tuple[str, ...]
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class Diagnosis:
    """Families that let the job in: each alone (any one will do), or only together."""

    families: tuple[str, ...]
    together: bool


def binding_families(probe: Probe) -> Diagnosis | None:
    """The families each of which, freed alone, lets the job in; failing that, a smallest
    set that does only together (no family of it can stay held); None if freeing every
    family still does not (the job does not fit alone)."""
    single = tuple(f for f in FAMILIES if probe(frozenset({f})) is not None)
    if single:
        return Diagnosis(single, together=False)
    free = set(FAMILIES)
    if probe(frozenset(free)) is None:
        return None
    for family in FAMILIES:
        if probe(frozenset(free - {family})) is not None:
            free.discard(family)
    return Diagnosis(tuple(f for f in FAMILIES if f in free), together=True)


def holders(instance: Instance, booking: Booking, job: Job, family: str) -> Binding:
    """Who holds a family's resources that the job could use, within its reach."""
    reach = _reach(instance, job, family)
    found: dict[int, tuple[int, int]] = {}
    resources: set[str] = set()

    def hold(chain: ChainTimes, first_hour: int, last_hour: int, resource: str) -> None:
        first, last = first_hour // HOURS_PER_DAY, (last_hour - 1) // HOURS_PER_DAY
        if last < reach[0] or first > reach[1]:
            return
        resources.add(resource)
        was = found.get(chain.job, (first, last))
        found[chain.job] = (min(was[0], first), max(was[1], last))

    pools = {p for step in job.steps for p in step_pool_hours(step)}
    # A cohort is held by its own members and by those of the cohorts its escalation gates
    # tie it to (the one below, the one above).
    cohorts = {job.cohort} | {
        other
        for key, (prev, _days) in instance.cohort_gates.items()
        for other in (key, prev)
        if job.cohort in (key, prev)
    }
    for chain in booking.chains:
        other = instance.jobs[chain.job]
        if other.index == job.index:
            continue
        if family == "apheresis":
            day = chain.apheresis_day * HOURS_PER_DAY
            hold(chain, day, day + 1, "apheresis")
        elif family == "rooms" and chain.room in job.rooms and other.room_steps:
            first, last = other.room_steps
            code = instance.room_codes[chain.room]
            hold(chain, chain.starts[first], chain.end(instance, last), code)
        elif family == "devices" and chain.device in job.devices and other.device_steps:
            first, last = other.device_steps
            code = instance.device_codes[chain.device]
            hold(chain, chain.starts[first], chain.end(instance, last), code)
        elif family == "staff":
            for i, step in enumerate(other.steps):
                for pool in sorted(pools & set(step_pool_hours(step)), key=pool_name):
                    if i not in other.done:
                        hold(chain, chain.starts[i], chain.end(instance, i), pool_name(pool))
        elif family == "beds" and other.product.inpatient_days > 0:
            day = chain.infusion_day * HOURS_PER_DAY
            hold(chain, day, day + other.product.inpatient_days * HOURS_PER_DAY, "beds")
        elif family == "cohort" and other.cohort is not None and other.cohort in cohorts:
            day = chain.infusion_day * HOURS_PER_DAY
            hold(chain, day, day + 1, "/".join(other.cohort))
    found_holders = tuple(
        sorted(
            (
                Holder(
                    instance.jobs[j].code,
                    instance.jobs[j].patient.priority,
                    instance.jobs[j].patient.referral_date,
                    span[0],
                    span[1],
                )
                for j, span in found.items()
            ),
            # Those referred after the left-out patient first: the choices to question.
            key=lambda h: (h.referral <= job.patient.referral_date, h.first_day, h.code),
        )
    )
    return Binding(family, tuple(sorted(resources)), found_holders)


def _reach(instance: Instance, job: Job, family: str) -> tuple[int, int]:
    """Days in which the job could use a family's resources: apheresis in its window,
    manufacturing up to about its length after, the ward after that; a cohort any day."""
    first, last = max(0, job.earliest_day), job.latest_day
    hours = sum(step.duration + step.min_lag for step in job.steps)
    making = -(-hours // HOURS_PER_DAY) + 7
    if family == "apheresis":
        return first, last
    if family in ("rooms", "devices", "staff"):
        return first, last + making
    if family == "beds":
        after = making + job.product.qc_release_days + job.product.inpatient_days + 14
        return first + making - 7, last + after
    return 0, instance.bed_days - 1


#: Holders named one by one in a sentence; the rest are counted.
_NAMED = 6


def describe(
    instance: Instance, job: Job, together: bool, bindings: tuple[Binding, ...] | None
) -> str:
    """Sentences naming what keeps the job out and who holds it."""
    if bindings is None:
        return "It does not fit even with every other patient removed."
    names = [_what(b) for b in bindings]
    if together:
        head = f"It would fit only with {_and(names)} freed together"
        if len(names) == 1:
            head = f"It would fit only with {names[0]} freed"
    else:
        head = f"It would fit with {' or with '.join(names)} freed"
        if len(names) > 1:
            head += " (any one of them)"
    held = [_held(instance, job, b) for b in bindings if b.holders]
    return f"{head}. " + " ".join(held) if held else f"{head}."


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def _what(binding: Binding) -> str:
    what = FAMILIES[binding.family]
    if binding.resources and binding.family not in ("apheresis", "beds"):
        what += f" ({', '.join(binding.resources)})"
    return what


def _held(instance: Instance, job: Job, binding: Binding) -> str:
    first = instance.to_date(min(h.first_day for h in binding.holders))
    last = instance.to_date(max(h.last_day for h in binding.holders))
    named = ", ".join(_who(job, h) for h in binding.holders[:_NAMED])
    more = len(binding.holders) - _NAMED
    if more > 0:
        named += f" and {more} more"
    when = f"On {first:%a %d %b}" if first == last else f"From {first:%d %b} to {last:%d %b}"
    return f"{when} {FAMILIES[binding.family]} go to {named}."


def _who(job: Job, holder: Holder) -> str:
    """A holder with what sets them apart from the left-out patient."""
    mine = job.patient
    notes = [f"priority {holder.priority}"]
    if holder.referral > mine.referral_date:
        notes.append(f"referred after {mine.code}")
    elif holder.referral < mine.referral_date:
        notes.append("referred before")
    else:
        notes.append("referred the same day")
    return f"{holder.code} ({', '.join(notes)})"
