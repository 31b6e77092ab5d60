"""Re-planning against a published plan: what stays fixed, pins, and who moved.

A published plan is the one the centre works to. A re-plan keeps, exactly as published:
every step that started before the planning date, every step starting inside the frozen
window (`Scenario.frozen_days` from the planning date) and every pinned patient or step.
What stays fixed is a prefix of each patient's chain (apheresis, the process steps in
order, then lymphodepletion and infusion), because a later step cannot keep its time if an
earlier one moves. A batch whose stay in a cleanroom or device began in that prefix keeps
its whole stay (the material is in the room; it is not moved half-way).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from planner.patients import DoneStep, Patient, PatientStatus
from planner.plan import Assignment, Plan, ResourceType
from planner.products import Product
from planner.resources import Window
from planner.scenario import MAX_FROZEN_DAYS, Scenario
from planner.validation import DoneStepConflict, check, check_code, check_fields

#: Step codes of the chain around the process steps a pin may name.
APHERESIS, INFUSION = "apheresis", "infusion"

_STEP_ROWS = (ResourceType.CLEANROOM, ResourceType.DEVICE, ResourceType.NONE)


@dataclass(frozen=True)
class Pin:
    """A patient's whole chain (step_code None) or its chain up to a step, kept as planned."""

    patient_code: str
    step_code: str | None = None

    def __post_init__(self) -> None:
        check_code("Pinned patient", self.patient_code)
        check_fields(self, f"Pin of patient '{self.patient_code}'")
        if self.step_code is not None:
            check_code("Pinned step", self.step_code)

    @property
    def label(self) -> str:
        """'P001' or 'P001 step harvest'."""
        return self.patient_code + ("" if self.step_code is None else f" step {self.step_code}")


def pin_steps(product: Product) -> tuple[str, ...]:
    """Step codes a pin may name for a patient of this product, in chain order."""
    return (APHERESIS, *(s.code for s in product.steps), INFUSION)


def check_pin(scenario: Scenario, pin: Pin) -> None:
    """Refuse a pin of an unknown patient, or of a step its product does not have."""
    patient = next((p for p in scenario.patients if p.code == pin.patient_code), None)
    known = ", ".join(p.code for p in scenario.patients[:8])
    check(
        patient is not None,
        f"No patient '{pin.patient_code}' in scenario '{scenario.name}' (e.g. {known}).",
    )
    assert patient is not None
    steps = pin_steps(scenario.product(patient.product_code))
    check(
        pin.step_code is None or pin.step_code in steps,
        f"Patient '{patient.code}' ({patient.product_code}) has no step '{pin.step_code}'; "
        f"its steps are {', '.join(steps)}.",
    )


@dataclass(frozen=True)
class Replan:
    """What a re-plan keeps: the published plan, the planning date, the frozen days, pins."""

    published: Plan
    today: date
    frozen_days: int
    pins: tuple[Pin, ...] = ()
    published_id: int | None = None
    #: What the plan is to the centre: "published", or "current" when pins are kept
    #: against the current plan because none is published.
    basis: str = "published"

    def __post_init__(self) -> None:
        check_fields(self, "Re-plan")
        check(
            0 <= self.frozen_days <= MAX_FROZEN_DAYS,
            f"Frozen days must be 0-{MAX_FROZEN_DAYS} (got {self.frozen_days}).",
        )

    @property
    def frozen_until(self) -> datetime:
        """Steps starting before this moment (midnight) are frozen."""
        return datetime.combine(self.today + timedelta(days=self.frozen_days), time())

    @property
    def name(self) -> str:
        """'published plan #3' (or 'the published plan' when it has no id)."""
        if self.published_id is None:
            return f"the {self.basis} plan"
        return f"{self.basis} plan #{self.published_id}"


def planning_date(scenario: Scenario, today: date | None = None) -> date:
    """The date a plan starts from: today (or the date given), not before the horizon."""
    return max(today or date.today(), scenario.horizon_start)


@dataclass(frozen=True)
class FixedChain:
    """The part of one patient's published chain a re-plan keeps, and why."""

    patient_code: str
    steps: tuple[DoneStep, ...]
    infusion_day: date | None
    why: str

    @property
    def whole(self) -> bool:
        """Whether the chain is kept up to and including its infusion."""
        return self.infusion_day is not None


@dataclass(frozen=True)
class PublishedChain:
    """One patient's chain as a plan has it: apheresis, process steps, infusion day."""

    apheresis: DoneStep
    steps: tuple[DoneStep, ...]
    infusion_day: date
    ld_start_day: date


def published_chain(plan: Plan, patient: Patient, product: Product) -> PublishedChain | None:
    """The chain of a patient in a plan, or None if unscheduled or made for other steps."""
    schedule = plan.schedule_of(patient.code)
    if schedule is None:
        return None
    rows: dict[str, list[Assignment]] = {}
    for a in plan.assignments:
        if a.patient_code == patient.code:
            rows.setdefault(a.step_code, []).append(a)
    aph = [a for a in rows.get(APHERESIS, []) if a.resource_type is ResourceType.APHERESIS]
    if not aph:
        return None
    steps = []
    for step in product.steps:
        own = [a for a in rows.get(step.code, []) if a.resource_type in _STEP_ROWS]
        if not own:
            return None
        first = min(own, key=lambda a: (a.start, a.resource_type.value))
        holder = next(
            (
                a.resource_code
                for kind, needed in (
                    (ResourceType.CLEANROOM, step.needs_cleanroom),
                    (ResourceType.DEVICE, step.needs_device),
                )
                if needed
                for a in own
                if a.resource_type is kind
            ),
            "",
        )
        steps.append(DoneStep(step.code, first.start, max(a.end for a in own), holder))
    return PublishedChain(
        DoneStep(APHERESIS, aph[0].start, aph[0].end, aph[0].resource_code),
        tuple(steps),
        schedule.infusion_day,
        schedule.ld_start_day,
    )


def standing_chain(plan: Plan, patient: Patient, product: Product) -> PublishedChain | None:
    """The patient's published chain, unless the patient's own data void it (_voided)."""
    chain = published_chain(plan, patient, product)
    return None if chain is None or _voided(patient, chain) else chain


def _voided(patient: Patient, chain: PublishedChain) -> bool:
    """With nothing recorded as done, a published apheresis outside the patient's apheresis
    window now (a failed batch, a window changed) is a promise that no longer stands."""
    day = chain.apheresis.start.date()
    return not patient.done_steps and not (
        patient.earliest_apheresis <= day <= patient.latest_apheresis
    )


def released(scenario: Scenario, plan: Plan) -> list[str]:
    """One sentence per patient of the published plan whose chain no longer stands."""
    out = []
    for patient in scenario.patients_to_plan():
        chain = published_chain(plan, patient, scenario.product(patient.product_code))
        if chain is not None and _voided(patient, chain):
            out.append(
                f"{patient.code}: published apheresis {chain.apheresis.start:%Y-%m-%d} is "
                f"outside its apheresis window now ({patient.earliest_apheresis} to "
                f"{patient.latest_apheresis}), so nothing of its published chain is kept"
            )
    return out


def fail_batch(
    scenario: Scenario, code: str, on: date, apheresis_until: date | None = None
) -> Scenario:
    """The scenario after a patient's batch failed on a day: what was done for it is void,
    and the patient needs a new apheresis from that day, within a window as long as its
    first (or until `apheresis_until`); its needed date and priority stay."""
    patient = next((p for p in scenario.patients if p.code == code), None)
    check(patient is not None, f"No patient '{code}' in scenario '{scenario.name}'.")
    assert patient is not None
    check(
        patient.status in (PatientStatus.REFERRED, PatientStatus.IN_PROCESS),
        f"Patient '{code}' is {patient.status}: a failed batch applies to a patient still "
        "waiting for infusion.",
    )
    collected = min((d.start.date() for d in patient.done_steps), default=None)
    check(
        collected is None or collected <= on,
        f"Patient '{code}': the batch cannot fail on {on}, before its apheresis ({collected}).",
    )
    check(
        on >= patient.referral_date,
        f"Patient '{code}': the batch cannot fail on {on}, before the referral "
        f"({patient.referral_date}).",
    )
    earliest = max(on, patient.earliest_apheresis)
    length = patient.latest_apheresis - patient.earliest_apheresis
    latest = apheresis_until or max(patient.latest_apheresis, earliest + length)
    check(
        latest >= earliest,
        f"Patient '{code}': the new apheresis window would end ({latest}) before it starts "
        f"({earliest}).",
    )
    again = replace(
        patient,
        status=PatientStatus.REFERRED,
        done_steps=(),
        earliest_apheresis=earliest,
        latest_apheresis=latest,
    )
    return replace(
        scenario, patients=tuple(again if p.code == code else p for p in scenario.patients)
    )


def fixed_chains(scenario: Scenario, replan: Replan) -> dict[str, FixedChain]:
    """Per patient still to plan, the prefix of its published chain a re-plan keeps."""
    pins: dict[str, list[Pin]] = {}
    for pin in replan.pins:
        pins.setdefault(pin.patient_code, []).append(pin)
    cutoff = replan.frozen_until
    started = datetime.combine(replan.today, time())
    out: dict[str, FixedChain] = {}
    for patient in scenario.patients_to_plan():
        product = scenario.product(patient.product_code)
        chain = standing_chain(replan.published, patient, product)
        if chain is None:
            continue
        order = [chain.apheresis, *chain.steps]
        n_fixed, why = 0, ""
        for k, step in enumerate(order):
            if step.start < cutoff:
                n_fixed = k + 1
                why = "started" if step.start < started else "frozen window"
        whole = n_fixed == len(order) and datetime.combine(chain.ld_start_day, time()) < cutoff
        codes = pin_steps(product)
        for pin in pins.get(patient.code, []):
            if pin.step_code is None or pin.step_code == INFUSION:
                n_fixed, whole, why = len(order), True, "pinned"
            elif codes.index(pin.step_code) + 1 > n_fixed:
                n_fixed, why = codes.index(pin.step_code) + 1, "pinned"
        if n_fixed == 0:
            continue
        n_fixed = _whole_stays(product, n_fixed)
        done = {d.step_code for d in patient.done_steps}
        kept = tuple(patient.done_steps) + tuple(
            s for s in order[:n_fixed] if s.step_code not in done
        )
        out[patient.code] = FixedChain(
            patient.code, kept, chain.infusion_day if whole else None, why
        )
    return out


def _whole_stays(product: Product, n_fixed: int) -> int:
    """The prefix length (apheresis counted) grown to the end of any room or device stay
    it begins."""
    for needs in (lambda s: s.needs_cleanroom, lambda s: s.needs_device):
        held = [i for i, s in enumerate(product.steps) if needs(s)]
        # Process step i is chain position i + 1 (apheresis is position 0).
        if held and held[0] + 1 < n_fixed:
            n_fixed = max(n_fixed, held[-1] + 2)
    return n_fixed


def check_kept_in_service(scenario: Scenario, fixed: dict[str, FixedChain], replan: Replan) -> None:
    """Refuse kept steps still to come whose cleanroom or device is down meanwhile (steps
    done are facts and kept regardless; a kept step is a promise the downtime breaks)."""
    started = datetime.combine(replan.today, time())
    rooms = {r.code: r.downtime for r in scenario.cleanrooms}
    down: dict[str, tuple[Window, ...]] = dict(rooms)
    for d in scenario.devices:
        # A device standing in one room is down with it (as the solver counts it).
        down[d.code] = d.downtime + (rooms[d.room_codes[0]] if len(d.room_codes) == 1 else ())
    recorded = {(p.code, s.step_code) for p in scenario.patients for s in p.done_steps}
    for code, chain in sorted(fixed.items()):
        for step in chain.steps:
            if (code, step.step_code) in recorded or step.end <= started:
                continue
            for window in down.get(step.resource_code, ()):
                if window.start < step.end and step.start < window.end:
                    why = f" ({window.reason})" if window.reason else ""
                    raise DoneStepConflict(
                        f"Patient '{code}': step '{step.step_code}' {step.start:%Y-%m-%d %H:%M}"
                        f" in {step.resource_code} is kept as in {replan.name} ({chain.why}) "
                        f"but {step.resource_code} is down from {window.start:%Y-%m-%d %H:%M} "
                        f"to {window.end:%Y-%m-%d %H:%M}{why}. Unpin it, shorten the frozen "
                        "days, or re-plan with --fresh."
                    )


def with_fixed_steps(scenario: Scenario, fixed: dict[str, FixedChain]) -> Scenario:
    """The scenario with each fixed prefix recorded as steps done, which every solver keeps
    exactly and plans around."""
    if not fixed:
        return scenario
    patients = tuple(
        replace(p, done_steps=fixed[p.code].steps, status=PatientStatus.IN_PROCESS)
        if p.code in fixed
        else p
        for p in scenario.patients
    )
    return replace(scenario, patients=patients)
