"""Clinical trials and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from planner.validation import (
    MAX_COUNT,
    MAX_DAYS,
    check,
    check_code,
    check_fields,
    check_range,
    check_unique,
)


@dataclass(frozen=True)
class Cohort:
    """A trial cohort (e.g. a dose level) with a cap and a stagger between infusions.

    escalation_gate_days: in a dose escalation, the cohort's first infusion comes at least
    this many days after the previous cohort's last one (None: no gate, cohorts run side
    by side).
    """

    code: str
    cap: int
    min_days_between_infusions: int = 0
    escalation_gate_days: int | None = None

    def __post_init__(self) -> None:
        check_code("Cohort", self.code)
        check_fields(self, f"Cohort '{self.code}'")
        check_range(f"Cohort '{self.code}': cap", self.cap, 1, MAX_COUNT)
        check_range(
            f"Cohort '{self.code}': days between infusions",
            self.min_days_between_infusions,
            0,
            MAX_DAYS,
        )
        if self.escalation_gate_days is not None:
            check_range(
                f"Cohort '{self.code}': escalation gate days",
                self.escalation_gate_days,
                0,
                MAX_DAYS,
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
        check_fields(self, f"Trial '{self.code}'")
        check_code(f"Trial '{self.code}': product", self.product_code)
        check(bool(self.cohorts), f"Trial '{self.code}' needs at least one cohort.")
        check_unique(f"Trial '{self.code}': cohort", [c.code for c in self.cohorts])
        check(
            self.enrolment_start <= self.enrolment_end,
            f"Trial '{self.code}': enrolment window ends ({self.enrolment_end}) before it "
            f"starts ({self.enrolment_start}).",
        )
        check(1 <= self.priority <= 9, f"Trial '{self.code}': priority must be 1-9.")
        if self.apheresis_within_days is not None:
            check_range(
                f"Trial '{self.code}': apheresis within days",
                self.apheresis_within_days,
                0,
                MAX_DAYS,
            )
        check(
            self.cohorts[0].escalation_gate_days is None,
            f"Trial '{self.code}': the first cohort ({self.cohorts[0].code}) has no previous "
            "cohort to wait for; leave its escalation gate empty.",
        )

    def previous_cohort(self, code: str) -> Cohort | None:
        """The cohort whose last infusion gates this one's first (dose escalation), if any."""
        codes = [c.code for c in self.cohorts]
        k = codes.index(code)
        return (
            self.cohorts[k - 1]
            if k > 0 and self.cohorts[k].escalation_gate_days is not None
            else None
        )

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
        check_code("Done step", self.step_code)
        check_fields(self, f"Done step '{self.step_code}'")
        check(
            len(self.resource_code) <= 40,
            f"Done step '{self.step_code}': resource code must be at most 40 characters.",
        )
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
    #: Trial enrolment (default: the referral date); trial windows count from it.
    enrolled_on: date | None = None
    #: For an infused patient: the day of infusion, which keeps its bed days and its place
    #: in its cohort's stagger and escalation gate.
    infused_on: date | None = None

    def __post_init__(self) -> None:
        check_code("Patient", self.code)
        check_fields(self, f"Patient '{self.code}'")
        check_code(f"Patient '{self.code}': product", self.product_code)
        for what, code in (("trial", self.trial_code), ("cohort", self.cohort_code)):
            if code is not None:
                check_code(f"Patient '{self.code}': {what}", code)
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
        check(
            self.infused_on is None or self.status is PatientStatus.INFUSED,
            f"Patient '{self.code}' has an infusion date but the status is "
            f"'{self.status}', not 'infused'.",
        )
        check(
            self.infused_on is None or self.infused_on >= self.earliest_apheresis,
            f"Patient '{self.code}': infused on {self.infused_on}, before the earliest "
            f"apheresis ({self.earliest_apheresis}).",
        )
        check(
            self.enrolled_on is None or self.trial_code is not None,
            f"Patient '{self.code}' has an enrolment date but no trial.",
        )
        check(
            self.enrolled_on is None or self.enrolled_on <= self.earliest_apheresis,
            f"Patient '{self.code}': enrolled on {self.enrolled_on}, after the earliest "
            f"apheresis ({self.earliest_apheresis}).",
        )

    @property
    def enrolment(self) -> date:
        """The day the patient entered the trial (the referral date unless recorded)."""
        return self.enrolled_on or self.referral_date
