"""KPIs: percentiles, throughput, vein-to-vein, lateness and utilisation per resource kind."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from planner import (
    Assignment,
    BedChange,
    Cleanroom,
    Grade,
    PatientSchedule,
    PatientStatus,
    ResourceType,
    RosterEntry,
    ShiftCode,
    Ward,
    Window,
    compute_kpis,
    format_kpis,
)
from planner.kpis import percentile
from tests.factories import START, patient, tiny_scenario

# tiny_scenario(): 60 days from Monday 2027-01-04 = 1440 h; 44 weekdays (8 weeks + Mon-Thu),
# two operators on 8-hour day shifts on each of them = 704 rostered staff-hours; 2 beds.
HORIZON_HOURS = 60 * 24
STAFF_HOURS = 44 * 2 * 8
BED_HOURS = 2 * 60 * 24


def at(day: int, hour: int = 0) -> datetime:
    """A moment so many days and hours after the horizon start."""
    return datetime.combine(START, datetime.min.time()) + timedelta(days=day, hours=hour)


def row(
    kind: ResourceType, code: str, start: datetime, end: datetime, quantity: int = 1
) -> Assignment:
    """An assignment of P1 to one resource."""
    return Assignment("P1", "CART", "step", kind, code, start, end, quantity)


def schedule(code: str, apheresis: date, v2v: int, lateness: int = 0) -> PatientSchedule:
    """Milestones of a patient with a given vein-to-vein time and lateness."""
    infusion = apheresis + timedelta(days=v2v)
    return PatientSchedule(
        code,
        "CART",
        apheresis,
        datetime.combine(apheresis, datetime.min.time()),
        datetime.combine(apheresis, datetime.min.time()) + timedelta(days=1),
        infusion,
        infusion,
        infusion,
        infusion,
        infusion,
        lateness,
    )


def utilisation(kpis_pairs: tuple[tuple[str, float], ...]) -> dict[str, float]:
    """The utilisation pairs as a dict."""
    return dict(kpis_pairs)


# percentile ----------------------------------------------------------------------------


def test_percentile_of_nothing_is_none() -> None:
    """No values give no percentile."""
    assert percentile([], 50) is None


def test_percentile_of_one_value_is_that_value() -> None:
    """A single value is every percentile."""
    assert percentile([7.0], 10) == 7.0
    assert percentile([7.0], 90) == 7.0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 50, 2.5),
        ([9, 10, 14], 50, 10.0),
        ([9, 10, 14], 90, 13.2),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
        ([10, 20, 30], 0, 10.0),
        ([10, 20, 30], 100, 30.0),
        ([10, 20, 30], 25, 15.0),
    ],
)
def test_percentile_interpolates_linearly(values: list[float], q: float, expected: float) -> None:
    """Percentiles match hand-computed linear interpolation between sorted values."""
    assert percentile(values, q) == pytest.approx(expected)


# compute_kpis --------------------------------------------------------------------------


def test_scheduled_total_vein_to_vein_and_lateness() -> None:
    """Counts, median/p90 vein-to-vein and total lateness come from the schedules."""
    s = tiny_scenario(3)
    schedules = [
        schedule("P1", START, 9),
        schedule("P2", START, 14, lateness=2),
        schedule("P3", START, 10, lateness=3),
    ]
    k = compute_kpis(s, schedules, [])
    assert (k.scheduled, k.total) == (3, 3)
    assert k.median_vein_to_vein_days == pytest.approx(10.0)
    assert k.p90_vein_to_vein_days == pytest.approx(13.2)
    assert k.total_lateness_days == 5


def test_total_counts_only_patients_still_to_plan() -> None:
    """Infused and withdrawn patients do not count in the total to schedule."""
    s = tiny_scenario(
        patients=(
            patient("P1"),
            patient("P2", status=PatientStatus.INFUSED),
            patient("P3", status=PatientStatus.WITHDRAWN),
        )
    )
    k = compute_kpis(s, [schedule("P1", START, 9)], [])
    assert (k.scheduled, k.total) == (1, 1)


def test_empty_plan_has_no_vein_to_vein_and_zero_utilisation() -> None:
    """Without schedules the percentiles are None and nothing is busy."""
    k = compute_kpis(tiny_scenario(2), [], [])
    assert (k.scheduled, k.total) == (0, 2)
    assert k.median_vein_to_vein_days is None
    assert k.p90_vein_to_vein_days is None
    assert k.total_lateness_days == 0
    assert utilisation(k.utilisation) == {
        "cleanrooms": 0.0,
        "devices": 0.0,
        "staff": 0.0,
        "beds": 0.0,
    }


def test_cleanroom_utilisation_is_busy_hours_over_horizon_hours() -> None:
    """One room busy 24 h over a 60-day horizon is 24/1440 busy."""
    rows = [row(ResourceType.CLEANROOM, "CR1", at(2, 8), at(3, 8))]
    k = compute_kpis(tiny_scenario(), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(24 / HORIZON_HOURS)


def test_cleanroom_utilisation_counts_every_room() -> None:
    """With two rooms the same 24 busy hours are a share of twice the room-hours."""
    rooms = (
        Cleanroom("CR1", "Room 1", Grade.B, ("CART",)),
        Cleanroom("CR2", "Room 2", Grade.B, ("CART",)),
    )
    rows = [row(ResourceType.CLEANROOM, "CR2", at(2, 8), at(3, 8))]
    k = compute_kpis(tiny_scenario(cleanrooms=rooms), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(24 / (2 * HORIZON_HOURS))


def test_busy_hours_outside_the_horizon_are_not_counted() -> None:
    """An assignment running past the horizon end counts only its hours inside it."""
    rows = [row(ResourceType.CLEANROOM, "CR1", at(59, 12), at(61))]
    k = compute_kpis(tiny_scenario(), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(12 / HORIZON_HOURS)


def test_downtime_reduces_available_room_hours() -> None:
    """Ten days of downtime leave 1200 room-hours, so 24 busy hours are 24/1200."""
    down = Window(at(10), at(20), "requalification")
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), downtime=(down,))
    rows = [row(ResourceType.CLEANROOM, "CR1", at(2, 8), at(3, 8))]
    k = compute_kpis(tiny_scenario(cleanrooms=(room,)), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(24 / (HORIZON_HOURS - 240))


def test_downtime_outside_the_horizon_is_clipped() -> None:
    """Downtime starting before the horizon counts only from the horizon start."""
    down = Window(at(-5), at(5), "service")
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), downtime=(down,))
    rows = [row(ResourceType.CLEANROOM, "CR1", at(6), at(7))]
    k = compute_kpis(tiny_scenario(cleanrooms=(room,)), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(24 / (HORIZON_HOURS - 120))


def test_overlapping_downtime_windows_count_once() -> None:
    """Overlapping windows of one room remove their union (15 days), not their sum (20)."""
    windows = (Window(at(10), at(20), "service"), Window(at(15), at(25), "requalification"))
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), downtime=windows)
    rows = [row(ResourceType.CLEANROOM, "CR1", at(2, 8), at(3, 8))]
    k = compute_kpis(tiny_scenario(cleanrooms=(room,)), [], rows)
    assert utilisation(k.utilisation)["cleanrooms"] == pytest.approx(24 / (HORIZON_HOURS - 360))


def test_staff_utilisation_is_staff_hours_over_rostered_day_hours() -> None:
    """Two 6-hour staffed steps (one needing two people) are 18 of 704 rostered hours."""
    rows = [
        row(ResourceType.STAFF_POOL, "operator:CART", at(1, 8), at(1, 14)),
        row(ResourceType.STAFF_POOL, "operator:CART", at(2, 8), at(2, 14), quantity=2),
    ]
    k = compute_kpis(tiny_scenario(), [], rows)
    assert utilisation(k.utilisation)["staff"] == pytest.approx(18 / STAFF_HOURS)


def test_staff_hours_count_day_work_shifts_only_capped_at_the_working_day() -> None:
    """Leave counts nothing and a 12-hour day shift counts only the 8-hour working day."""
    s = tiny_scenario(
        shift_codes=(ShiftCode("D", "Day", 8, 12), ShiftCode("L", "Leave", 0, 0, False, True))
    )
    on_leave = tuple(
        e if e.staff_code == "OP1" else RosterEntry(e.staff_code, e.day, "L") for e in s.roster
    )
    s = tiny_scenario(shift_codes=s.shift_codes, roster=on_leave)
    rows = [row(ResourceType.STAFF_POOL, "operator:CART", at(1, 8), at(1, 14))]
    k = compute_kpis(s, [], rows)
    assert utilisation(k.utilisation)["staff"] == pytest.approx(6 / (44 * 8))


def test_bed_utilisation_is_bed_hours_over_bed_hours() -> None:
    """One patient in a bed for 3 days is 72 of 2 x 1440 bed-hours."""
    rows = [row(ResourceType.BED, "W1", at(10), at(13))]
    k = compute_kpis(tiny_scenario(), [], rows)
    assert utilisation(k.utilisation)["beds"] == pytest.approx(72 / BED_HOURS)


def test_bed_changes_change_bed_capacity() -> None:
    """Ten days with no beds leave 50 bed-days of 2 beds."""
    ward = Ward("W1", "Ward", 2, (BedChange(START, START + timedelta(days=9), 0),))
    rows = [row(ResourceType.BED, "W1", at(10), at(13))]
    k = compute_kpis(tiny_scenario(ward=ward), [], rows)
    assert utilisation(k.utilisation)["beds"] == pytest.approx(72 / (2 * 50 * 24))


def test_rows_of_other_kinds_do_not_count_as_utilisation() -> None:
    """Apheresis and milestone rows leave rooms, staff and beds idle."""
    rows = [
        row(ResourceType.APHERESIS, "apheresis", at(1, 8), at(1, 14)),
        row(ResourceType.NONE, "", at(5), at(8)),
    ]
    k = compute_kpis(tiny_scenario(), [], rows)
    assert set(utilisation(k.utilisation).values()) == {0.0}


def test_format_kpis_shows_every_figure() -> None:
    """The summary prints counts, vein-to-vein, lateness and each utilisation in percent."""
    schedules = [schedule("P1", START, 9), schedule("P2", START, 14, lateness=4)]
    rows = [
        row(ResourceType.CLEANROOM, "CR1", at(0), at(0, 144)),
        row(ResourceType.BED, "W1", at(10), at(13)),
    ]
    k = compute_kpis(tiny_scenario(3), schedules, rows)
    text = format_kpis(k)
    assert "2 / 3" in text
    assert "11.5 d" in text  # median of 9 and 14
    assert "13.5 d" in text  # p90 of 9 and 14
    assert "Lateness (total)     4 d" in text
    assert "cleanrooms  10.0 %" in text
    assert "devices      0.0 %" in text
    assert "staff        0.0 %" in text
    assert "beds         2.5 %" in text


def test_format_kpis_shows_a_dash_without_vein_to_vein() -> None:
    """With nobody scheduled the vein-to-vein lines show '-'."""
    text = format_kpis(compute_kpis(tiny_scenario(2), [], []))
    assert "0 / 2" in text
    assert "Vein-to-vein median  -" in text
    assert "Vein-to-vein p90     -" in text
