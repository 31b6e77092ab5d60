"""Staff calendars: one .ics per person named, the steps they are on, repeatable bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from icalendar import Calendar

from atmp_planner.cli import main
from data.db import open_database
from data.ical_export import read_events, write_staff_calendars
from data.repository import Repository
from planner import ResourceType, SolveSettings
from solver import solve
from tests.factories import tiny_scenario
from tests.test_cli import FAST


def test_one_calendar_per_named_person_with_their_steps(tmp_path: Path) -> None:
    scenario = tiny_scenario(n_patients=3)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    named = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF]
    paths = write_staff_calendars(tmp_path / "cal", scenario, plan, plan_id=4)
    people = sorted({a.resource_code for a in named})
    assert [p.name for p in paths] == [f"{code}.ics" for code in people]
    for path in paths:
        person = path.stem
        mine = sorted(
            (f"{a.patient_code} {a.product_code} {a.step_code}", a.start, a.end)
            for a in named
            if a.resource_code == person
        )
        events = read_events(path)
        got = sorted(
            (summary, start.replace(tzinfo=None), end.replace(tzinfo=None))
            for summary, start, end, _ in events
        )
        assert got == mine
        assert all(start.tzinfo is not None and start.utcoffset() for _, start, _, _ in events)
        assert all(location == "CR1" for _, _, _, location in events)
        calendar = Calendar.from_ical(path.read_bytes())
        assert [str(tz.get("tzid")) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]


def test_calendars_repeat_and_honour_the_window(tmp_path: Path) -> None:
    scenario = tiny_scenario(n_patients=3)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    first = write_staff_calendars(tmp_path / "a", scenario, plan, plan_id=4)
    again = write_staff_calendars(tmp_path / "b", scenario, replace(plan), plan_id=4)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    starts = sorted(a.start for a in plan.assignments if a.resource_type is ResourceType.STAFF)
    cut = starts[0].date()
    window = write_staff_calendars(tmp_path / "c", scenario, plan, 4, cut, cut)
    kept = [e for p in window for e in read_events(p)]
    assert kept and all(start.date() == cut for _, start, _, _ in kept)
    assert len(kept) < len(starts)


def test_export_ical_option_writes_the_calendars(tmp_path: Path) -> None:
    """`export --ical DIR` writes one file per person named in the exported plan."""
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    repo = Repository(open_database(url))
    repo.save_scenario(tiny_scenario(n_patients=2))
    assert main(["--db", url, "solve", "--scenario", "tiny", *FAST]) == 0
    out, cal = tmp_path / "w.xlsx", tmp_path / "cal"
    argv = ["export", "--scenario", "tiny", "--out", str(out), "--ical", str(cal)]
    assert main(["--db", url, *argv, "--from", "2027-01-04", "--to", "2027-03-04"]) == 0
    plan = repo.current_plan("tiny")
    assert plan is not None
    people = {a.resource_code for a in plan.assignments if a.resource_type is ResourceType.STAFF}
    assert people and {p.stem for p in cal.glob("*.ics")} == people
    events = [e for p in cal.glob("*.ics") for e in read_events(p)]
    assert all(isinstance(start, datetime) for _, start, _, _ in events)
    assert min(start for _, start, _, _ in events).date() >= date(2027, 1, 4)
