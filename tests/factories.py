"""Small hand-made scenarios for tests; every field can be overridden."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from planner import (
    ApheresisCapacity,
    Cleanroom,
    Grade,
    Patient,
    ProcessStep,
    Product,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    Site,
    StaffMember,
    StaffNeed,
    Storage,
    Ward,
)

START = date(2027, 1, 4)  # a Monday


def product(code: str = "CART", **overrides: Any) -> Product:
    """A short cryopreserved product: seed (staffed), expand 3 days, harvest (staffed)."""
    steps = (
        ProcessStep(
            "seed",
            "Seeding",
            6,
            staff=(StaffNeed(Role.OPERATOR, 1, 6),),
            working_hours_only=True,
            min_lag_hours=0,
            max_lag_hours=72,
        ),
        ProcessStep("expand", "Expansion", 72, min_lag_hours=0, max_lag_hours=24),
        ProcessStep(
            "harvest",
            "Harvest",
            6,
            staff=(StaffNeed(Role.OPERATOR, 1, 6),),
            working_hours_only=True,
            min_lag_hours=0,
            max_lag_hours=48,
        ),
    )
    fields: dict[str, Any] = dict(
        code=code,
        name=f"Product {code}",
        steps=steps,
        storage=Storage.CRYO,
        qc_release_days=2,
        ld_days_before_infusion=3,
        inpatient_days=3,
        failure_probability=0.05,
    )
    fields.update(overrides)
    return Product(**fields)


def patient(code: str, day_offset: int = 0, window_days: int = 20, **overrides: Any) -> Patient:
    """A referred patient whose apheresis may fall in [START+offset, START+offset+window]."""
    first = START + timedelta(days=day_offset)
    fields: dict[str, Any] = dict(
        code=code,
        product_code="CART",
        referral_date=first,
        earliest_apheresis=first,
        latest_apheresis=first + timedelta(days=window_days),
    )
    fields.update(overrides)
    return Patient(**fields)


def tiny_scenario(n_patients: int = 2, days: int = 60, **overrides: Any) -> Scenario:
    """One room, two operators on weekday day shifts, 2 beds, 1 apheresis slot per weekday."""
    end = START + timedelta(days=days - 1)
    staff = (
        StaffMember("OP1", (Role.OPERATOR,), ("CART",)),
        StaffMember("OP2", (Role.OPERATOR,), ("CART",)),
    )
    roster = tuple(
        RosterEntry(s.code, START + timedelta(days=i), "D")
        for s in staff
        for i in range(days)
        if (START + timedelta(days=i)).weekday() < 5
    )
    fields: dict[str, Any] = dict(
        name="tiny",
        site=Site("KS", "Test site"),
        horizon_start=START,
        horizon_end=end,
        cleanrooms=(Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8),),
        devices=(),
        staff=staff,
        shift_codes=(ShiftCode("D", "Day", 8, 8), ShiftCode("L", "Leave", 0, 0, False, True)),
        roster=roster,
        ward=Ward("W1", "Ward", beds=2),
        apheresis=ApheresisCapacity((1, 1, 1, 1, 1, 0, 0)),
        products=(product(),),
        patients=tuple(patient(f"P{i + 1}") for i in range(n_patients)),
    )
    fields.update(overrides)
    return Scenario(**fields)


def with_patients(scenario: Scenario, *patients: Patient) -> Scenario:
    """The same scenario with exactly these patients."""
    return replace(scenario, patients=tuple(patients))
