"""Clinical trials and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from planner.validation import check, check_code, check_non_negative, check_positive, check_unique


@dataclass(frozen=True)
class Cohort:
    """A trial cohort (e.g. a dose level) with a cap and a stagger between infusions."""

    code: str
    cap: int
    min_days_between_infusions: int = 0

    def __post_init__(self) -> None:
        check_code("Cohort", self.code)
        check_positive(f"Cohort '{self.code}': cap", self.cap)
        check_non_negative(
            f"Cohort '{self.code}': days between infusions", self.min_days_between_infusions
        )


@dataclass(frozen=True)
class Trial:
    """A clinical trial of one product, with cohorts, an enrolment window and a priority class."""

    code: str
    name: str
    product_code: str
    cohorts: tuple[Cohort, ...]
    enrolment_start: date
    enrolment_end: date
    priority: int = 3
    apheresis_within_days: int | None = None

    def __post_init__(self) -> None:
        check_code("Trial", self.code)
        check(bool(self.cohorts), f"Trial '{self.code}' needs at least one cohort.")
        check_unique(f"Trial '{self.code}': cohort", [c.code for c in self.cohorts])
        check(
            self.enrolment_start <= self.enrolment_end,
            f"Trial '{self.code}': enrolment window ends ({self.enrolment_end}) before it "
            f"starts ({self.enrolment_start}).",
        )
        check(1 <= self.priority <= 9, f"Trial '{self.code}': priority must be 1-9.")

    def cohort(self, code: str) -> Cohort:
        """The cohort with this code."""
        for cohort in self.cohorts:
            if cohort.code == code:
                return cohort
        raise KeyError(code)


class PatientStatus(StrEnum):
    """Where a patient is in the chain."""

    REFERRED = "referred"
    IN_PROCESS = "in_process"
    INFUSED = "infused"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class DoneStep:
    """A step already carried out (or under way) that re-planning must keep as it is."""

    step_code: str
    start: datetime
    end: datetime
    resource_code: str = ""

    def __post_init__(self) -> None:
        check(self.start < self.end, f"Done step '{self.step_code}' ends before it starts.")


@dataclass(frozen=True)
class Patient:
    """A referred patient, known by a pseudonymous code (GDPR); priority 1 is most urgent."""

    code: str
    product_code: str
    referral_date: date
    earliest_apheresis: date
    latest_apheresis: date
    needed_infusion: date | None = None
    priority: int = 3
    trial_code: str | None = None
    cohort_code: str | None = None
    status: PatientStatus = PatientStatus.REFERRED
    done_steps: tuple[DoneStep, ...] = ()

    def __post_init__(self) -> None:
        check_code("Patient", self.code)
        check(
            self.referral_date <= self.earliest_apheresis,
            f"Patient '{self.code}': earliest apheresis ({self.earliest_apheresis}) is before "
            f"the referral ({self.referral_date}).",
        )
        check(
            self.earliest_apheresis <= self.latest_apheresis,
            f"Patient '{self.code}': latest apheresis ({self.latest_apheresis}) is before the "
            f"earliest ({self.earliest_apheresis}).",
        )
        check(1 <= self.priority <= 9, f"Patient '{self.code}': priority must be 1-9.")
        check(
            (self.trial_code is None) == (self.cohort_code is None),
            f"Patient '{self.code}': a trial patient needs both a trial and a cohort.",
        )
        check_unique(f"Patient '{self.code}': done step", [d.step_code for d in self.done_steps])
        check(
            self.status is not PatientStatus.REFERRED or not self.done_steps,
            f"Patient '{self.code}' has steps done, so the status cannot be 'referred'.",
        )
