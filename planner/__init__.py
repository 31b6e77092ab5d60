"""The ATMP planning domain: plain validated dataclasses and pure functions."""

from planner.kpis import compute_kpis, format_kpis
from planner.patients import Cohort, DoneStep, Patient, PatientStatus, Trial
from planner.plan import (
    Assignment,
    Kpis,
    PatientSchedule,
    Plan,
    PlanSummary,
    ResourceType,
    SolveProgress,
    SolverInfo,
    SolveSettings,
    Unscheduled,
    UnscheduledReason,
)
from planner.products import ProcessStep, Product, StaffNeed, Storage
from planner.resources import (
    ApheresisCapacity,
    BedChange,
    Cleanroom,
    Device,
    Grade,
    Role,
    RosterEntry,
    ShiftCode,
    Site,
    StaffMember,
    Ward,
    Window,
)
from planner.scenario import Holiday, Scenario
from planner.validation import ValidationError

__all__ = [
    "ApheresisCapacity",
    "Assignment",
    "BedChange",
    "Cleanroom",
    "Cohort",
    "Device",
    "DoneStep",
    "Grade",
    "Holiday",
    "Kpis",
    "Patient",
    "PatientSchedule",
    "PatientStatus",
    "Plan",
    "PlanSummary",
    "ProcessStep",
    "Product",
    "ResourceType",
    "Role",
    "RosterEntry",
    "Scenario",
    "ShiftCode",
    "Site",
    "SolveProgress",
    "SolveSettings",
    "SolverInfo",
    "StaffMember",
    "StaffNeed",
    "Storage",
    "Trial",
    "Unscheduled",
    "UnscheduledReason",
    "ValidationError",
    "Ward",
    "Window",
    "compute_kpis",
    "format_kpis",
]
