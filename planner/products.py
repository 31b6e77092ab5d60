"""Products and their manufacturing process."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from planner.resources import Role
from planner.validation import (
    MAX_DAYS,
    MAX_HOURS,
    check,
    check_code,
    check_fields,
    check_range,
    check_unique,
    shown,
)


class Storage(StrEnum):
    """Whether the final product is infused fresh or cryopreserved."""

    FRESH = "fresh"
    CRYO = "cryo"


@dataclass(frozen=True)
class StaffNeed:
    """So many people of a role for so many hours each; trained on the product if asked."""

    role: Role
    count: int
    hours: int
    product_trained: bool = True

    def __post_init__(self) -> None:
        check_fields(self, "Staff need")
        check_range(f"Staff need for {self.role}: people", self.count, 1, 1000)
        check_range(f"Staff need for {self.role}: hours", self.hours, 1, MAX_HOURS)


@dataclass(frozen=True)
class ProcessStep:
    """One manufacturing step with what it needs and its lag after the previous step.

    The first step's lag counts from the end of apheresis (transport, storage).
    """

    code: str
    name: str
    duration_hours: int
    needs_cleanroom: bool = True
    needs_device: bool = False
    staff: tuple[StaffNeed, ...] = ()
    working_hours_only: bool = False
    min_lag_hours: int = 0
    max_lag_hours: int | None = None

    def __post_init__(self) -> None:
        check_code("Process step", self.code)
        check_fields(self, f"Step '{self.code}'")
        check_range(f"Step '{self.code}': duration hours", self.duration_hours, 1, MAX_HOURS)
        check_range(f"Step '{self.code}': minimum lag hours", self.min_lag_hours, 0, MAX_HOURS)
        check(len(self.staff) <= 100, f"Step '{self.code}': at most 100 staff needs.")
        if self.max_lag_hours is not None:
            check_range(f"Step '{self.code}': maximum lag hours", self.max_lag_hours, 0, MAX_HOURS)
            check(
                self.max_lag_hours >= self.min_lag_hours,
                f"Step '{self.code}': maximum lag ({self.max_lag_hours} h) is below the "
                f"minimum lag ({self.min_lag_hours} h).",
            )
        check(
            not self.staff or self.working_hours_only,
            f"Step '{self.code}' needs staff, so it must be marked working-hours-only.",
        )
        check(
            self.duration_hours <= 24 or not self.working_hours_only,
            f"Step '{self.code}' is working-hours-only but lasts {self.duration_hours} h, "
            "longer than a day.",
        )


@dataclass(frozen=True)
class Product:
    """An autologous product: its process, storage, QC, lymphodepletion and in-patient stay."""

    code: str
    name: str
    steps: tuple[ProcessStep, ...]
    storage: Storage = Storage.CRYO
    qc_release_days: int = 7
    fresh_shelf_days: int = 3
    ld_days_before_infusion: int = 5
    inpatient_days: int = 7
    failure_probability: float = 0.05
    apheresis_hours: int = 6
    #: The step whose end starts a fresh product's shelf life (None: the last step).
    shelf_life_from_step: str | None = None
    #: Whether lymphodepletion may start before release (fresh products only).
    ld_before_release: bool = False
    #: Whether lymphodepletion and infusion may fall on weekends and public holidays.
    infusion_any_day: bool = False

    def __post_init__(self) -> None:
        check_code("Product", self.code)
        check_fields(self, f"Product '{self.code}'")
        check(bool(self.steps), f"Product '{self.code}' needs at least one process step.")
        check_unique(f"Product '{self.code}': step", [s.code for s in self.steps])
        for what, days in (
            ("QC release days", self.qc_release_days),
            ("fresh shelf days", self.fresh_shelf_days),
            ("lymphodepletion days before infusion", self.ld_days_before_infusion),
            ("in-patient days", self.inpatient_days),
        ):
            check_range(f"Product '{self.code}': {what}", days, 0, MAX_DAYS)
        check(
            0.0 <= self.failure_probability < 1.0,
            f"Product '{self.code}': failure probability must be in [0, 1) "
            f"(got {shown(self.failure_probability)}).",
        )
        check(
            0 < self.apheresis_hours <= 24,
            f"Product '{self.code}': apheresis hours must be 1-24 "
            f"(got {shown(self.apheresis_hours)}).",
        )
        check(
            self.shelf_life_from_step is None
            or self.shelf_life_from_step in {s.code for s in self.steps},
            f"Product '{self.code}': shelf life counts from unknown step "
            f"{shown(self.shelf_life_from_step)}.",
        )
        # A cryopreserved batch keeps, so lymphodepletion waits for its release.
        check(
            self.storage is Storage.FRESH or not self.ld_before_release,
            f"Product '{self.code}' is cryopreserved: lymphodepletion must wait for release.",
        )
        if self.storage is Storage.FRESH:
            check(
                self.qc_release_days <= self.fresh_shelf_days,
                f"Product '{self.code}' is fresh: QC release ({self.qc_release_days} d) must "
                f"fit within its shelf life ({self.fresh_shelf_days} d).",
            )

    @property
    def shelf_step(self) -> str:
        """Code of the step whose end starts the shelf life."""
        return self.shelf_life_from_step or self.steps[-1].code

    @property
    def ld_waits_for_release(self) -> bool:
        """Whether lymphodepletion may only start once the batch is released."""
        return self.storage is Storage.CRYO or not self.ld_before_release
