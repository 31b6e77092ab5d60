"""A scenario: everything the planner knows about one centre over one horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from planner.patients import Patient, PatientStatus, Trial
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
from planner.validation import check, check_unique

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


@dataclass(frozen=True)
class Holiday:
    """A public holiday: no apheresis, and only rostered staff work."""

    day: date
    name: str


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

    def __post_init__(self) -> None:
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
        weights = dict(self.priority_weights)
        for priority in range(1, 10):
            check(priority in weights, f"Priority {priority} has no weight.")

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

    def weight(self, priority: int) -> int:
        """Objective weight of scheduling one patient of this priority."""
        return dict(self.priority_weights)[priority]

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
