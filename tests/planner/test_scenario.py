"""Scenario cross-references are checked, and its lookups answer what planners ask."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from planner import (
    ApheresisCapacity,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    PatientStatus,
    RosterEntry,
    StaffMember,
    Trial,
    ValidationError,
    Ward,
)
from planner.resources import Role
from tests.factories import START, patient, product, tiny_scenario, with_patients

T0 = datetime(2027, 1, 4, 8, 0)


def trial(code: str = "T1", product_code: str = "CART", priority: int = 3) -> Trial:
    """A trial with cohorts C1 and C2 over the first 60 days."""
    return Trial(
        code,
        f"Trial {code}",
        product_code,
        (Cohort("C1", 3), Cohort("C2", 3)),
        START,
        START + timedelta(days=60),
        priority=priority,
    )


def refused(**overrides: Any) -> str:
    """The message of the ValidationError raised by tiny_scenario(**overrides)."""
    with pytest.raises(ValidationError) as info:
        tiny_scenario(**overrides)
    return str(info.value)


def test_tiny_scenario_is_valid() -> None:
    """The reference scenario the refusals below are built from is itself accepted."""
    s = tiny_scenario(trials=(trial(),))
    assert [p.code for p in s.patients] == ["P1", "P2"]


def test_cleanroom_with_unknown_product_is_refused() -> None:
    """A room approved for a product the scenario does not have is named with that product."""
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART", "TIL"))
    message = refused(cleanrooms=(room,))
    assert "Cleanroom 'CR1'" in message
    assert "unknown product 'TIL'" in message


def test_device_in_unknown_room_is_refused() -> None:
    """A device standing in a room that does not exist is named with the room."""
    device = Device("DEV1", "Prodigy", ("CR9",), ("CART",))
    message = refused(devices=(device,))
    assert "Device 'DEV1'" in message
    assert "unknown room 'CR9'" in message


def test_device_with_unknown_product_is_refused() -> None:
    """A device listing a product the scenario does not have is refused."""
    device = Device("DEV1", "Prodigy", ("CR1",), ("TIL",))
    message = refused(devices=(device,))
    assert "Device 'DEV1'" in message
    assert "'TIL'" in message


def test_staff_trained_on_unknown_product_is_refused() -> None:
    """A staff member trained on a product the scenario does not have is refused."""
    member = StaffMember("OP1", (Role.OPERATOR,), ("TIL",))
    message = refused(staff=(member,), roster=())
    assert "Staff member 'OP1'" in message
    assert "'TIL'" in message


def test_roster_entry_for_unknown_staff_is_refused() -> None:
    """A roster line naming someone not on the staff list names that person and the date."""
    s = tiny_scenario()
    message = refused(roster=(*s.roster, RosterEntry("OP9", START, "D")))
    assert "unknown staff member 'OP9'" in message
    assert "2027-01-04" in message


def test_roster_entry_with_unknown_shift_is_refused() -> None:
    """A roster line using an unknown shift code names the code, the person and the date."""
    message = refused(roster=(RosterEntry("OP1", START, "X"),))
    assert "unknown shift code 'X'" in message
    assert "'OP1'" in message
    assert "2027-01-04" in message


def test_two_roster_entries_for_one_person_on_one_date_are_refused() -> None:
    """One staff member cannot have two shifts on the same date."""
    roster = (RosterEntry("OP1", START, "D"), RosterEntry("OP1", START, "L"))
    message = refused(roster=roster)
    assert "Roster entry" in message
    assert "OP1 on 2027-01-04" in message
    assert "twice" in message


def test_same_person_on_two_dates_is_accepted() -> None:
    """Consecutive shifts of one person are fine."""
    roster = (RosterEntry("OP1", START, "D"), RosterEntry("OP1", START + timedelta(1), "D"))
    assert len(tiny_scenario(roster=roster).roster) == 2


def test_trial_with_unknown_product_is_refused() -> None:
    """A trial of a product the scenario does not have names the trial and the product."""
    message = refused(trials=(trial(product_code="TIL"),))
    assert "Trial 'T1'" in message
    assert "unknown product 'TIL'" in message


def test_patient_with_unknown_product_is_refused() -> None:
    """A patient needing a product the scenario does not have is named."""
    message = refused(patients=(patient("P1", product_code="TIL"),))
    assert "Patient 'P1'" in message
    assert "unknown product 'TIL'" in message


def test_patient_on_unknown_trial_is_refused() -> None:
    """A patient on a trial the scenario does not have names the trial."""
    message = refused(patients=(patient("P1", trial_code="T9", cohort_code="C1"),))
    assert "Patient 'P1'" in message
    assert "unknown trial 'T9'" in message


def test_patient_in_unknown_cohort_is_refused() -> None:
    """A patient in a cohort the trial does not have names the trial and the cohort."""
    message = refused(
        trials=(trial(),), patients=(patient("P1", trial_code="T1", cohort_code="C9"),)
    )
    assert "Patient 'P1'" in message
    assert "'T1'" in message
    assert "'C9'" in message


def test_patient_on_trial_of_other_product_is_refused() -> None:
    """A trial patient set to receive another product than the trial's is refused."""
    message = refused(
        products=(product("CART"), product("TIL")),
        trials=(trial(product_code="TIL"),),
        patients=(patient("P1", trial_code="T1", cohort_code="C1"),),
    )
    assert "Patient 'P1'" in message
    assert "'TIL'" in message
    assert "'CART'" in message


def test_done_step_not_in_product_is_refused() -> None:
    """A recorded step that is not one of the product's steps names the step and product."""
    done = (DoneStep("thaw", T0, T0 + timedelta(hours=2)),)
    p = patient("P1", status=PatientStatus.IN_PROCESS, done_steps=done)
    message = refused(patients=(p,))
    assert "Patient 'P1'" in message
    assert "'thaw'" in message
    assert "'CART'" in message


def test_done_apheresis_and_product_steps_are_accepted() -> None:
    """Apheresis and the product's own steps may be recorded as done."""
    done = (
        DoneStep("apheresis", T0, T0 + timedelta(hours=6)),
        DoneStep("seed", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=6), "CR1"),
    )
    p = patient("P1", status=PatientStatus.IN_PROCESS, done_steps=done)
    assert tiny_scenario(patients=(p,)).patients == (p,)


def test_a_done_room_step_must_name_its_room() -> None:
    """A step done in a cleanroom without saying which one is refused: the plan must know."""
    done = (
        DoneStep("apheresis", T0, T0 + timedelta(hours=6)),
        DoneStep("seed", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=6), ""),
    )
    p = patient("P1", status=PatientStatus.IN_PROCESS, done_steps=done)
    message = refused(patients=(p,))
    assert "done step 'seed' took place in a cleanroom; name which one" in message
    assert "known: CR1" in message


def test_duplicate_patient_codes_are_refused() -> None:
    """Two patients with one code are refused, naming the code."""
    message = refused(patients=(patient("P1"), patient("P1", day_offset=3)))
    assert "Patient 'P1'" in message
    assert "twice" in message


def test_duplicate_cleanroom_codes_are_refused() -> None:
    """Two rooms with one code are refused, naming the code."""
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",))
    assert "'CR1'" in refused(cleanrooms=(room, room))


def test_horizon_ending_before_it_starts_is_refused() -> None:
    """The horizon must end after it starts."""
    with pytest.raises(ValidationError, match="Horizon ends"):
        replace(tiny_scenario(), horizon_end=START - timedelta(days=1))


def test_missing_priority_weight_is_refused() -> None:
    """Every priority 1-9 needs an objective weight; the missing one is named."""
    weights = tuple((p, 1) for p in range(1, 10) if p != 4)
    assert "Priority 4" in refused(priority_weights=weights)


# Lookups -------------------------------------------------------------------------------


def test_ward_beds_on_uses_default_outside_changes() -> None:
    """Without a change covering the date, the ward's default beds apply."""
    ward = Ward("W1", "Ward", 4, (BedChange(date(2027, 1, 10), date(2027, 1, 12), 1),))
    assert ward.beds_on(date(2027, 1, 9)) == 4
    assert ward.beds_on(date(2027, 1, 13)) == 4


def test_ward_beds_on_includes_both_ends_of_a_change() -> None:
    """A bed change covers its first and last date."""
    ward = Ward("W1", "Ward", 4, (BedChange(date(2027, 1, 10), date(2027, 1, 12), 1),))
    assert [ward.beds_on(date(2027, 1, d)) for d in (10, 11, 12)] == [1, 1, 1]


def test_ward_beds_on_last_overlapping_change_wins() -> None:
    """Where changes overlap, the one listed last decides the beds."""
    month = BedChange(date(2027, 1, 1), date(2027, 1, 31), 2, "winter")
    closure = BedChange(date(2027, 1, 10), date(2027, 1, 12), 0, "painting")
    assert Ward("W1", "Ward", 4, (month, closure)).beds_on(date(2027, 1, 11)) == 0
    assert Ward("W1", "Ward", 4, (closure, month)).beds_on(date(2027, 1, 11)) == 2
    assert Ward("W1", "Ward", 4, (month, closure)).beds_on(date(2027, 1, 20)) == 2


APHERESIS = ApheresisCapacity((1, 2, 3, 4, 5, 6, 7), ((date(2027, 1, 6), 9),))


def test_apheresis_slots_follow_the_weekday() -> None:
    """Without exception or holiday, slots are those of the weekday (Monday first)."""
    assert [APHERESIS.slots_on(START + timedelta(days=i)) for i in range(7)] == [
        1,
        2,
        9,
        4,
        5,
        6,
        7,
    ]
    assert APHERESIS.slots_on(date(2027, 1, 13)) == 3


def test_apheresis_holiday_has_no_slots() -> None:
    """A public holiday without an exception has no apheresis."""
    assert APHERESIS.slots_on(date(2027, 1, 5), frozenset({date(2027, 1, 5)})) == 0


def test_apheresis_exception_wins_over_holiday() -> None:
    """A dated exception applies even on a public holiday."""
    assert APHERESIS.slots_on(date(2027, 1, 6), frozenset({date(2027, 1, 6)})) == 9


def test_holiday_dates_collects_the_scenario_holidays() -> None:
    """The scenario's holiday dates are the days of its holidays."""
    s = tiny_scenario(holidays=(Holiday(date(2027, 1, 6), "Epiphany"),))
    assert s.holiday_dates == frozenset({date(2027, 1, 6)})


def test_days_cover_the_horizon_inclusive() -> None:
    """days() lists every date from horizon start to end, both included."""
    days = tiny_scenario(days=10).days()
    assert len(days) == 10
    assert days[0] == START
    assert days[-1] == START + timedelta(days=9)


def test_patients_to_plan_excludes_infused_and_withdrawn() -> None:
    """Only referred and in-process patients still need a plan."""
    done = (DoneStep("apheresis", T0, T0 + timedelta(hours=6)),)
    s = with_patients(
        tiny_scenario(),
        patient("P1"),
        patient("P2", status=PatientStatus.IN_PROCESS, done_steps=done),
        patient("P3", status=PatientStatus.INFUSED),
        patient("P4", status=PatientStatus.WITHDRAWN),
    )
    assert [p.code for p in s.patients_to_plan()] == ["P1", "P2"]


def test_effective_priority_takes_the_more_urgent() -> None:
    """A trial patient gets the smaller (more urgent) of their own and the trial's priority."""
    s = tiny_scenario(
        trials=(trial("T1", priority=2), trial("T2", priority=7)),
        patients=(
            patient("P1", priority=5, trial_code="T1", cohort_code="C1"),
            patient("P2", priority=4, trial_code="T2", cohort_code="C1"),
            patient("P3", priority=6),
        ),
    )
    assert [s.effective_priority(p) for p in s.patients] == [2, 4, 6]


def test_weight_reads_the_priority_table() -> None:
    """weight() returns the configured weight of a priority."""
    s = tiny_scenario(priority_weights=tuple((p, 100 - p) for p in range(1, 10)))
    assert s.weight(1) == 99
    assert s.weight(9) == 91


def test_staff_with_filters_role_and_training() -> None:
    """staff_with keeps staff of the role, and trained on the product when one is given."""
    staff = (
        StaffMember("OP1", (Role.OPERATOR,), ("CART",)),
        StaffMember("OP2", (Role.OPERATOR,)),
        StaffMember("QC1", (Role.QC_ANALYST,), ("CART",)),
    )
    s = tiny_scenario(staff=staff, roster=())
    assert [m.code for m in s.staff_with(Role.OPERATOR, "CART")] == ["OP1"]
    assert [m.code for m in s.staff_with(Role.OPERATOR, None)] == ["OP1", "OP2"]
