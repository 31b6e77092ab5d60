"""A scenario: everything the planner knows about one centre over one horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from planner.patients import DoneStep, Patient, PatientStatus, Trial
from planner.products import Product
from planner.resources import (
    ApheresisCapacity,
    Cleanroom,
    Device,
    Role,
    RosterEntry,
    ShiftCode,
    Site,
    StaffMember,
    Ward,
)
from planner.validation import (
    DoneStepConflict,
    check,
    check_fields,
    check_range,
    check_unique,
    shown,
)

#: Weight of one scheduled patient per priority (1 most urgent); configurable per scenario.
DEFAULT_PRIORITY_WEIGHTS: tuple[tuple[int, int], ...] = (
    (1, 50),
    (2, 20),
    (3, 10),
    (4, 6),
    (5, 4),
    (6, 3),
    (7, 2),
    (8, 1),
    (9, 1),
)


#: Objective weight of one day of lateness per priority; configurable per scenario.
DEFAULT_LATENESS_WEIGHT = 10
DEFAULT_LATENESS_WEIGHTS: tuple[tuple[int, int], ...] = tuple(
    (p, DEFAULT_LATENESS_WEIGHT) for p in range(1, 10)
)
#: Largest weight of one day of lateness (keeps the objective's levels in 64-bit range).
MAX_LATENESS_WEIGHT = 1000
#: Largest weight of one scheduled patient (as the scenario file format allows).
MAX_PRIORITY_WEIGHT = 1_000_000
#: Days from the planning date a re-plan keeps as published, unless a scenario says otherwise.
DEFAULT_FROZEN_DAYS = 14
#: Largest frozen window a scenario may set (a year).
MAX_FROZEN_DAYS = 366


@dataclass(frozen=True)
class Holiday:
    """A public holiday: no apheresis, and only rostered staff work."""

    day: date
    name: str

    def __post_init__(self) -> None:
        check_fields(self, "Holiday")


@dataclass(frozen=True)
class Scenario:
    """A centre's resources, products, trials and patients over a planning horizon."""

    name: str
    site: Site
    horizon_start: date
    horizon_end: date
    cleanrooms: tuple[Cleanroom, ...]
    devices: tuple[Device, ...]
    staff: tuple[StaffMember, ...]
    shift_codes: tuple[ShiftCode, ...]
    roster: tuple[RosterEntry, ...]
    ward: Ward
    apheresis: ApheresisCapacity
    products: tuple[Product, ...]
    trials: tuple[Trial, ...] = ()
    patients: tuple[Patient, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    priority_weights: tuple[tuple[int, int], ...] = field(default=DEFAULT_PRIORITY_WEIGHTS)
    #: Days from the planning date in which a re-plan keeps the published plan's steps.
    frozen_days: int = DEFAULT_FROZEN_DAYS
    #: Weight of one day of lateness of a patient of each priority.
    lateness_weights: tuple[tuple[int, int], ...] = field(default=DEFAULT_LATENESS_WEIGHTS)

    def __post_init__(self) -> None:
        check_fields(self, "Scenario")
        check(bool(self.name.strip()), "A scenario needs a name.")
        check(
            self.horizon_start < self.horizon_end,
            f"Horizon ends ({self.horizon_end}) before it starts ({self.horizon_start}).",
        )
        check_unique("Cleanroom", [r.code for r in self.cleanrooms])
        check_unique("Device", [d.code for d in self.devices])
        check_unique("Staff member", [s.code for s in self.staff])
        check_unique("Shift code", [s.code for s in self.shift_codes])
        check_unique("Product", [p.code for p in self.products])
        check_unique("Trial", [t.code for t in self.trials])
        check_unique("Patient", [p.code for p in self.patients])
        check_unique(
            "Roster entry (staff on date)", [f"{e.staff_code} on {e.day}" for e in self.roster]
        )
        products = {p.code for p in self.products}
        rooms = {r.code for r in self.cleanrooms}
        for room in self.cleanrooms:
            for code in room.products:
                check(code in products, f"Cleanroom '{room.code}' lists unknown product '{code}'.")
        for device in self.devices:
            for code in device.room_codes:
                check(code in rooms, f"Device '{device.code}' stands in unknown room '{code}'.")
            for code in device.products:
                check(code in products, f"Device '{device.code}' lists unknown product '{code}'.")
        for member in self.staff:
            for code in member.trained_products:
                check(
                    code in products,
                    f"Staff member '{member.code}' is trained on unknown product '{code}'.",
                )
        staff = {s.code for s in self.staff}
        shifts = {s.code for s in self.shift_codes}
        for entry in self.roster:
            check(
                entry.staff_code in staff,
                f"Roster entry on {entry.day} names unknown staff member '{entry.staff_code}'.",
            )
            check(
                entry.shift_code in shifts,
                f"Roster entry for '{entry.staff_code}' on {entry.day} uses unknown shift "
                f"code '{entry.shift_code}'.",
            )
        trials = {t.code: t for t in self.trials}
        for trial in self.trials:
            check(
                trial.product_code in products,
                f"Trial '{trial.code}' uses unknown product '{trial.product_code}'.",
            )
        for patient in self.patients:
            check(
                patient.product_code in products,
                f"Patient '{patient.code}' needs unknown product '{patient.product_code}'.",
            )
            if patient.trial_code is not None:
                on_trial = trials.get(patient.trial_code)
                check(
                    on_trial is not None,
                    f"Patient '{patient.code}' is on unknown trial '{patient.trial_code}'.",
                )
                assert on_trial is not None
                check(
                    on_trial.product_code == patient.product_code,
                    f"Patient '{patient.code}' is on trial '{on_trial.code}' of product "
                    f"'{on_trial.product_code}' but is set to receive '{patient.product_code}'.",
                )
                check(
                    patient.cohort_code in {c.code for c in on_trial.cohorts},
                    f"Patient '{patient.code}': trial '{on_trial.code}' has no cohort "
                    f"'{patient.cohort_code}'.",
                )
            step_codes = {s.code for s in self.product(patient.product_code).steps}
            for done in patient.done_steps:
                check(
                    done.step_code in step_codes | {"apheresis"},
                    f"Patient '{patient.code}': done step '{done.step_code}' is not a step "
                    f"of product '{patient.product_code}'.",
                )
        for patient in self.patients_to_plan():
            _check_done_order(patient, self.product(patient.product_code))
        _check_done_holders(self)
        _check_done_cohorts(self)
        check(
            0 <= self.frozen_days <= MAX_FROZEN_DAYS,
            f"Frozen days must be 0-{MAX_FROZEN_DAYS} (got {self.frozen_days}).",
        )
        for kind, pairs, most in (
            ("weight", self.priority_weights, MAX_PRIORITY_WEIGHT),
            ("lateness weight", self.lateness_weights, MAX_LATENESS_WEIGHT),
        ):
            check_unique(f"Priority ({kind})", [p for p, _ in pairs])
            for priority, weight in pairs:
                check(
                    1 <= priority <= 9,
                    f"A {kind} is given for priority {shown(priority)}; priorities are 1-9.",
                )
                check_range(f"Priority {priority}: {kind}", weight, 0, most)
        weights = dict(self.priority_weights)
        for priority in range(1, 10):
            check(priority in weights, f"Priority {priority} has no weight.")
        late = dict(self.lateness_weights)
        # Kept in priority order, so the same weights compare equal however they were listed.
        object.__setattr__(self, "lateness_weights", tuple(sorted(late.items())))
        for priority in range(1, 10):
            check(priority in late, f"Priority {priority} has no lateness weight.")
            check(
                0 <= late[priority] <= MAX_LATENESS_WEIGHT,
                f"Priority {priority}: lateness weight must be 0-{MAX_LATENESS_WEIGHT} "
                f"(got {late[priority]}).",
            )

    # Lookups -----------------------------------------------------------------------------

    def product(self, code: str) -> Product:
        """The product with this code."""
        return self._products[code]

    def trial(self, code: str) -> Trial:
        """The trial with this code."""
        return self._trials[code]

    @cached_property
    def _products(self) -> dict[str, Product]:
        return {p.code: p for p in self.products}

    @cached_property
    def _trials(self) -> dict[str, Trial]:
        return {t.code: t for t in self.trials}

    @cached_property
    def holiday_dates(self) -> frozenset[date]:
        """Dates of public holidays."""
        return frozenset(h.day for h in self.holidays)

    def is_clinical_day(self, day: date) -> bool:
        """Whether the clinic works: a weekday that is not a public holiday."""
        return day.weekday() < 5 and day not in self.holiday_dates

    def infusion_allowed(self, product: Product, infusion: date) -> bool:
        """Whether lymphodepletion (ld days before) and infusion both fall on clinical days,
        or the product allows any day."""
        if product.infusion_any_day:
            return True
        ld_start = infusion - timedelta(days=product.ld_days_before_infusion)
        return self.is_clinical_day(infusion) and self.is_clinical_day(ld_start)

    @cached_property
    def qp_days(self) -> frozenset[date]:
        """Days a qualified person is rostered on a working shift (release days)."""
        shifts = {s.code: s for s in self.shift_codes}
        qps = {s.code for s in self.staff if Role.QP in s.roles}
        return frozenset(
            e.day
            for e in self.roster
            if e.staff_code in qps
            and shifts[e.shift_code].covers_day_work
            and not shifts[e.shift_code].is_leave
            and shifts[e.shift_code].hours > 0
        )

    def release_on(self, ready: date) -> date:
        """The day a cryopreserved batch ready for release on `ready` is released: the first
        day from then a QP works (fresh batches are certified by the QP on call). Centres
        without QPs in the staff list, and days past the horizon (no roster known), release
        on the day the batch is ready."""
        if not self.qp_days or ready > self.horizon_end:
            return ready
        day = ready
        while day <= self.horizon_end:
            if day in self.qp_days:
                return day
            day += timedelta(days=1)
        return day

    def days(self) -> list[date]:
        """Every date of the horizon, both ends included."""
        n = (self.horizon_end - self.horizon_start).days + 1
        return [self.horizon_start + timedelta(days=i) for i in range(n)]

    def patients_to_plan(self) -> tuple[Patient, ...]:
        """Patients still needing a plan (not infused or withdrawn)."""
        return tuple(
            p
            for p in self.patients
            if p.status in (PatientStatus.REFERRED, PatientStatus.IN_PROCESS)
        )

    def infused_stays(self) -> tuple[tuple[Patient, date, int], ...]:
        """Patients infused before the plan, with their infusion day and in-patient days:
        the ward beds they hold, in no plan."""
        return tuple(
            (p, p.infused_on, self.product(p.product_code).inpatient_days)
            for p in self.patients
            if p.status is PatientStatus.INFUSED and p.infused_on is not None
        )

    def weight(self, priority: int) -> int:
        """Objective weight of scheduling one patient of this priority."""
        return dict(self.priority_weights)[priority]

    def lateness_weight(self, priority: int) -> int:
        """Objective weight of one day of lateness of a patient of this priority."""
        return dict(self.lateness_weights)[priority]

    def effective_priority(self, patient: Patient) -> int:
        """The more urgent of the patient's own priority and the trial's class."""
        if patient.trial_code is None:
            return patient.priority
        return min(patient.priority, self.trial(patient.trial_code).priority)

    def staff_with(self, role: Role, product_code: str | None) -> tuple[StaffMember, ...]:
        """Staff having a role (and trained on a product, if one is given)."""
        return tuple(
            s
            for s in self.staff
            if role in s.roles and (product_code is None or product_code in s.trained_products)
        )


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _conflict(condition: bool, message: str) -> None:
    if not condition:
        raise DoneStepConflict(message)


def _check_done_order(patient: Patient, product: Product) -> None:
    """Done steps are the chain's first steps, in order, one after the other."""
    done = {d.step_code: d for d in patient.done_steps}
    chain = ["apheresis", *(s.code for s in product.steps)]
    previous: DoneStep | None = None
    for k, code in enumerate(chain):
        step = done.get(code)
        if step is None:
            later = next((c for c in chain[k + 1 :] if c in done), None)
            _conflict(
                later is None,
                f"Patient '{patient.code}': step '{later}' is recorded as done but the earlier "
                f"step '{code}' is not.",
            )
            return
        if previous is not None:
            _conflict(
                step.start >= previous.end,
                f"Patient '{patient.code}': done step '{code}' starts at {_at(step.start)}, "
                f"before the previous step '{previous.step_code}' ends at {_at(previous.end)}.",
            )
        previous = step


def _check_done_holders(scenario: Scenario) -> None:
    """Done steps of different patients never share a cleanroom or device at once.

    A patient holds a room (device) from its first to its last step there, plus changeover;
    with steps there still to do, the hold has no known end yet.
    """
    kinds = (
        ("cleanroom", {r.code: r.changeover_hours for r in scenario.cleanrooms}, True),
        ("device", {d.code: d.changeover_hours for d in scenario.devices}, False),
    )
    for kind, changeover, room in kinds:
        holds: dict[str, list[tuple[datetime, datetime | None, str, str]]] = {}
        for patient in scenario.patients_to_plan():
            product = scenario.product(patient.product_code)
            held = [
                s.code for s in product.steps if (s.needs_cleanroom if room else s.needs_device)
            ]
            for d in patient.done_steps:
                _conflict(
                    d.step_code not in held or d.resource_code in changeover,
                    f"Patient '{patient.code}': done step '{d.step_code}' took place in a "
                    f"{kind}; name which one (found {d.resource_code!r}, known: "
                    f"{', '.join(sorted(changeover)) or 'none'}).",
                )
            done = [d for d in patient.done_steps if d.step_code in held]
            if not done:
                continue
            holders = sorted({d.resource_code for d in done})
            _conflict(
                len(holders) == 1,
                f"Patient '{patient.code}': done steps name {kind}s {', '.join(holders)}; "
                f"a batch stays in one {kind}.",
            )
            code = holders[0]
            finished = {d.step_code for d in patient.done_steps} >= set(held)
            end = max(d.end for d in done) + timedelta(hours=changeover[code]) if finished else None
            holds.setdefault(code, []).append(
                (min(d.start for d in done), end, patient.code, done[0].step_code)
            )
        for code, spans in sorted(holds.items()):
            spans.sort(key=lambda h: (h[0], h[2]))
            for k, (start1, end1, patient1, step1) in enumerate(spans):
                for start2, _end2, patient2, step2 in spans[k + 1 :]:
                    until = "with steps still to do" if end1 is None else f"until {_at(end1)}"
                    _conflict(
                        end1 is not None and start2 >= end1,
                        f"Done steps overlap in {kind} '{code}': patient '{patient1}' holds it "
                        f"from step '{step1}' at {_at(start1)} {until} (changeover included), "
                        f"but patient '{patient2}' did step '{step2}' there at {_at(start2)}.",
                    )


def _check_done_cohorts(scenario: Scenario) -> None:
    """Patients collected or infused never exceed their trial cohort's cap."""
    taken: dict[tuple[str, str], list[str]] = {}
    for p in scenario.patients:
        started = p.status is PatientStatus.INFUSED or (
            p.status is PatientStatus.IN_PROCESS and bool(p.done_steps)
        )
        if started and p.trial_code is not None and p.cohort_code is not None:
            taken.setdefault((p.trial_code, p.cohort_code), []).append(p.code)
    for (trial, cohort), codes in sorted(taken.items()):
        cap = scenario.trial(trial).cohort(cohort).cap
        _conflict(
            len(codes) <= cap,
            f"Cohort {trial}/{cohort} has a cap of {cap} but {len(codes)} patients are "
            f"collected or infused: {', '.join(codes)}.",
        )
