"""The demo scenario: builds, repeats exactly, and has the shape of a real centre."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from data.demo import build_demo_scenario, operator_hours
from planner import PatientStatus, Role, Scenario, Storage


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return build_demo_scenario()


def test_demo_builds_and_is_deterministic(demo: Scenario) -> None:
    """Two builds are equal (validation passes in the constructor)."""
    assert build_demo_scenario() == demo


def test_demo_horizon_is_26_weeks_from_a_monday(demo: Scenario) -> None:
    """The horizon runs Monday 2027-01-04 to Sunday 2027-07-04."""
    assert demo.horizon_start == date(2027, 1, 4)
    assert demo.horizon_end == date(2027, 7, 4)
    assert len(demo.days()) == 26 * 7
    assert demo.site.code == "KS" and demo.site.country == "SE"
    assert (demo.site.day_start_hour, demo.site.day_end_hour) == (8, 16)


def test_demo_resources_shape(demo: Scenario) -> None:
    """5 Grade B rooms with downtime somewhere, 4 devices in rooms, 23-27 staff of every role."""
    assert len(demo.cleanrooms) == 5
    assert all(4 <= r.changeover_hours <= 24 for r in demo.cleanrooms)
    assert 1 <= sum(len(r.downtime) for r in demo.cleanrooms) <= 2
    assert len(demo.devices) == 4
    rooms = {r.code for r in demo.cleanrooms}
    assert all(set(d.room_codes) <= rooms for d in demo.devices)
    assert 23 <= len(demo.staff) <= 27
    roles = Counter(role for s in demo.staff for role in s.roles)
    assert 10 <= roles[Role.OPERATOR] <= 14
    assert roles[Role.QC_ANALYST] >= 4 and 2 <= roles[Role.QP] <= 3
    assert roles[Role.APHERESIS_NURSE] >= 3
    assert any(s.contracted_hours_per_week < 40 for s in demo.staff)
    operators = [s for s in demo.staff if Role.OPERATOR in s.roles]
    assert any(len(s.trained_products) < len(demo.products) for s in operators)


def test_demo_products_and_trials(demo: Scenario) -> None:
    """Three products (one fresh on a device), two trials, one with a 14-day stagger."""
    assert len(demo.products) == 3
    storages = {p.storage for p in demo.products}
    assert storages == {Storage.CRYO, Storage.FRESH}
    fresh = next(p for p in demo.products if p.storage is Storage.FRESH)
    assert all(s.needs_device and not s.needs_cleanroom for s in fresh.steps[:-1])
    assert fresh.steps[0].max_lag_hours is not None and fresh.steps[0].max_lag_hours <= 24
    for product in demo.products:
        if product.code != "TIL":
            assert 60 <= operator_hours(product) <= 100
    assert len(demo.trials) == 2
    staggered = [c for t in demo.trials for c in t.cohorts if c.min_days_between_infusions == 14]
    assert len(staggered) == 3
    assert sorted(c.cap for c in demo.trials[0].cohorts) == [3, 3, 6]


def test_demo_patients(demo: Scenario) -> None:
    """55-65 pseudonymous patients, some in process, on both trials, some urgent."""
    assert 55 <= len(demo.patients) <= 65
    assert all(p.code.startswith("P") and p.code[1:].isdigit() for p in demo.patients)
    statuses = Counter(p.status for p in demo.patients)
    assert 2 <= statuses[PatientStatus.IN_PROCESS] <= 3
    assert {p.trial_code for p in demo.patients} == {None, "CAR101", "TIL201"}
    assert any(p.priority <= 2 for p in demo.patients)
    for p in demo.patients:
        if p.status is PatientStatus.REFERRED:
            assert demo.horizon_start <= p.earliest_apheresis <= demo.horizon_end
            assert timedelta(days=14) <= p.earliest_apheresis - p.referral_date or (
                p.earliest_apheresis == demo.horizon_start
            )
        assert p.needed_infusion is not None and p.needed_infusion > p.earliest_apheresis


def test_demo_roster_covers_horizon(demo: Scenario) -> None:
    """Every week has entries, with weekend shifts, nights on call, leave and sick days."""
    shifts = {s.code: s for s in demo.shift_codes}
    weeks = {(e.day - demo.horizon_start).days // 7 for e in demo.roster}
    assert weeks == set(range(26))
    codes = Counter(e.shift_code for e in demo.roster)
    assert codes["W"] > 0 and codes["N"] > 0 and codes["L"] > 0 and codes["S"] > 0
    assert not shifts["N"].covers_day_work and shifts["L"].is_leave
    weekend = [e for e in demo.roster if e.day.weekday() >= 5]
    assert weekend and {e.shift_code for e in weekend} <= {"W", "N"}
    qc_weekend = {e.day for e in weekend if e.staff_code.startswith("QC")}
    assert len(qc_weekend) == 52
    late_june = [e for e in demo.roster if e.shift_code == "L" and e.day >= date(2027, 6, 21)]
    early = [e for e in demo.roster if e.shift_code == "L" and e.day < date(2027, 2, 1)]
    assert len(late_june) > len(early)


def test_demo_holidays_exclude_plain_sundays(demo: Scenario) -> None:
    """Swedish holidays are listed, but not every Sunday."""
    names = {h.day: h.name for h in demo.holidays}
    sundays = [d for d in demo.days() if d.weekday() == 6]
    assert sum(1 for d in sundays if d in names) <= 4
    assert all("Söndag" not in n and n != "Sunday" for n in names.values())
    assert date(2027, 3, 26) in names  # Good Friday
    assert date(2027, 1, 6) in names  # Epiphany


def test_demo_every_staffed_step_can_be_staffed(demo: Scenario) -> None:
    """Each staff need has at least as many qualified people as it asks for."""
    for product in demo.products:
        for step in product.steps:
            for need in step.staff:
                qualified = demo.staff_with(
                    need.role, product.code if need.product_trained else None
                )
                assert len(qualified) >= need.count + 2, (product.code, step.code, need.role)
                assert step.working_hours_only and step.duration_hours <= 24


def test_demo_ward_and_apheresis(demo: Scenario) -> None:
    """8 beds with a summer reduction; 2 apheresis slots a weekday, none at weekends."""
    assert demo.ward.beds == 8
    assert demo.ward.beds_on(date(2027, 6, 28)) < 8
    monday, saturday = date(2027, 1, 11), date(2027, 1, 9)
    assert demo.apheresis.slots_on(monday, demo.holiday_dates) == 2
    assert demo.apheresis.slots_on(saturday, demo.holiday_dates) == 0
    assert demo.apheresis.slots_on(date(2027, 3, 26), demo.holiday_dates) == 0
