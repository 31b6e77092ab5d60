"""Small hand-made scenarios for tests; every field can be overridden."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from planner import (
    ApheresisCapacity,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    Patient,
    PatientStatus,
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
    Trial,
    Ward,
    Window,
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


def rich_scenario(name: str = "rich") -> Scenario:
    """tiny_scenario with every optional feature filled in, odd values included."""
    base = tiny_scenario()
    fresh = product(
        "TIL",
        steps=(
            ProcessStep(
                "wash",
                "Wash",
                4,
                needs_device=True,
                staff=(
                    StaffNeed(Role.OPERATOR, 2, 4),
                    StaffNeed(Role.QC_ANALYST, 1, 2, product_trained=False),
                ),
                working_hours_only=True,
                min_lag_hours=2,
            ),
            ProcessStep("grow", "Grow", 240, needs_cleanroom=False, max_lag_hours=None),
        ),
        storage=Storage.FRESH,
        qc_release_days=1,
        fresh_shelf_days=2,
        failure_probability=0.1 + 0.2,  # 0.30000000000000004: floats must survive exactly
        apheresis_hours=5,
        shelf_life_from_step="wash",
        ld_before_release=True,
    )
    staff = (
        # Both operators also make TIL, so every product can be planned.
        *(replace(m, trained_products=("CART", "TIL")) for m in base.staff),
        StaffMember("QC1", (Role.QC_ANALYST, Role.QP), ("TIL", "CART"), 32.5),
        StaffMember("NU1", (Role.APHERESIS_NURSE,), (), 20.125),
    )
    roster = (
        *base.roster,
        RosterEntry("QC1", START, "N"),
        RosterEntry("QC1", START + timedelta(days=1), "L"),
        RosterEntry("NU1", START + timedelta(days=2), "D"),
    )
    trial = Trial(
        "TR-1",
        "A phase I trial",
        "TIL",
        (Cohort("DL2", 3, 14), Cohort("DL1", 6, escalation_gate_days=7)),
        START,
        START + timedelta(days=40),
        priority=2,
        apheresis_within_days=10,
    )
    in_process = patient(
        "P-IP",
        status=PatientStatus.IN_PROCESS,
        done_steps=(
            DoneStep("apheresis", datetime(2027, 1, 4, 8, 0), datetime(2027, 1, 4, 14, 0), "APH"),
            DoneStep(
                "seed", datetime(2027, 1, 5, 9, 30, 15, 123456), datetime(2027, 1, 5, 15), "CR1"
            ),
        ),
    )
    patients = (
        *base.patients,
        in_process,
        patient(
            "T1",
            product_code="TIL",
            trial_code="TR-1",
            cohort_code="DL1",
            needed_infusion=START + timedelta(days=30),
            priority=1,
            enrolled_on=START,
        ),
        patient("T2", 3, product_code="TIL", trial_code="TR-1", cohort_code="DL2"),
        patient(
            "DONE", status=PatientStatus.INFUSED, priority=9, infused_on=START + timedelta(days=2)
        ),
    )
    return replace(
        base,
        name=name,
        cleanrooms=(
            Cleanroom(
                "CR1",
                "Room 1",
                Grade.B,
                ("CART", "TIL"),
                downtime=(
                    Window(datetime(2027, 2, 10, 6), datetime(2027, 2, 11, 6), "Requalification"),
                ),
            ),
            Cleanroom(
                "CR0",
                "Isolator room",
                Grade.A,
                ("TIL",),
                changeover_hours=0,
                downtime=(
                    Window(datetime(2027, 2, 1), datetime(2027, 2, 2, 12, 30), "Fumigation"),
                    Window(datetime(2027, 1, 20), datetime(2027, 1, 21)),
                ),
            ),
        ),
        devices=(
            Device(
                "PRODIGY-2",
                "Prodigy 2",
                ("CR1", "CR0"),
                ("TIL",),
                changeover_hours=3,
                downtime=(Window(datetime(2027, 1, 15, 7), datetime(2027, 1, 15, 19), "Service"),),
            ),
            Device("PRODIGY-1", "Prodigy 1", ("CR1",), ("CART", "TIL")),
        ),
        staff=staff,
        shift_codes=(*base.shift_codes, ShiftCode("N", "Night on call", 20, 12, False)),
        roster=roster,
        ward=Ward(
            "HEM",
            "Haematology",
            4,
            (
                BedChange(START + timedelta(days=5), START + timedelta(days=9), 2, "Renovation"),
                BedChange(START + timedelta(days=7), START + timedelta(days=7), 0),
            ),
        ),
        apheresis=ApheresisCapacity(
            (2, 1, 1, 0, 1, 0, 0),
            ((START + timedelta(days=3), 3), (START + timedelta(days=1), 0)),
        ),
        products=(*base.products, fresh),
        trials=(trial,),
        patients=patients,
        holidays=(Holiday(date(2027, 1, 6), "Epiphany"), Holiday(date(2027, 1, 1), "New Year")),
        priority_weights=((9, 0), (8, 1), (7, 2), (6, 3), (5, 4), (4, 5), (3, 6), (2, 7), (1, 80)),
        frozen_days=7,
        lateness_weights=tuple((p, 5 * (10 - p)) for p in range(9, 0, -1)),
    )


def gated_trial(gate_days: int = 20) -> Trial:
    """A CART trial, START to START+80: cohort DL1 of one, then DL2 of one whose first
    infusion waits `gate_days` after DL1's last."""
    return Trial(
        "T1",
        "Trial",
        "CART",
        (Cohort("DL1", 1), Cohort("DL2", 1, escalation_gate_days=gate_days)),
        START,
        START + timedelta(days=80),
    )
