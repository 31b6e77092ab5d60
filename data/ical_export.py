"""One iCalendar file (RFC 5545) per person: the steps a plan names them for.

Files are the same bytes for the same plan: event ids come from the plan and the step,
the time stamp from the plan's creation time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from planner import Assignment, Plan, ResourceType, Scenario

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _where(plan: Plan) -> dict[tuple[str, str], str]:
    """The room and device of each (patient, step)."""
    places: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in plan.assignments:
        if a.resource_type in (ResourceType.CLEANROOM, ResourceType.DEVICE):
            key = (a.patient_code, a.step_code)
            if a.resource_code not in places[key]:
                places[key].append(a.resource_code)
    return {key: ", ".join(codes) for key, codes in places.items()}


def _calendar(
    person: str,
    rows: list[Assignment],
    plan: Plan,
    scenario: Scenario,
    plan_id: int | None,
    start: date | None,
    end: date | None,
) -> Calendar:
    zone = ZoneInfo(scenario.site.timezone)
    places = _where(plan)
    colleagues: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in plan.assignments:
        if a.resource_type is ResourceType.STAFF:
            colleagues[(a.patient_code, a.step_code)].append(a.resource_code)
    label = f"plan #{plan_id}" if plan_id else "unsaved plan"
    calendar = Calendar()
    calendar.add("prodid", "-//atmp-planner//weekly plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{person}: {scenario.site.name}")
    stamp = plan.created.replace(microsecond=0)
    for a in sorted(rows, key=lambda r: (r.start, r.patient_code, r.step_code)):
        if (start and a.end.date() < start) or (end and a.start.date() > end):
            continue
        key = (a.patient_code, a.step_code)
        event = Event()
        event.add("uid", f"{plan_id or 0}-{a.patient_code}-{a.step_code}-{person}@atmp-planner")
        event.add("dtstamp", stamp)
        event.add("dtstart", a.start.replace(tzinfo=zone))
        event.add("dtend", a.end.replace(tzinfo=zone))
        event.add("summary", f"{a.patient_code} {a.product_code} {a.step_code}")
        if key in places:
            event.add("location", places[key])
        others = sorted(set(colleagues[key]) - {person})
        with_text = f" With {', '.join(others)}." if others else ""
        event.add(
            "description",
            f"{scenario.site.name}, {label} ({plan.solver.status}).{with_text}",
        )
        calendar.add_component(event)
    # RFC 5545 wants the definition of every TZID used.
    calendar.add_missing_timezones()
    return calendar


def write_staff_calendars(
    folder: str | Path,
    scenario: Scenario,
    plan: Plan,
    plan_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Path]:
    """Write <person>.ics for everyone the plan names, limited to [start, end]; the paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    by_person: dict[str, list[Assignment]] = defaultdict(list)
    for a in plan.assignments:
        if a.resource_type is ResourceType.STAFF:
            by_person[a.resource_code].append(a)
    written = []
    for person in sorted(by_person):
        calendar = _calendar(person, by_person[person], plan, scenario, plan_id, start, end)
        path = target / f"{_SAFE.sub('_', person)}.ics"
        path.write_bytes(calendar.to_ical())
        written.append(path)
    return written


def read_events(path: str | Path) -> list[tuple[str, datetime, datetime, str]]:
    """(summary, start, end, location) of each event in an .ics file, for checks and tests."""
    calendar = Calendar.from_ical(Path(path).read_bytes())
    return [
        (
            str(e.get("summary")),
            e.decoded("dtstart"),
            e.decoded("dtend"),
            str(e.get("location", "")),
        )
        for e in calendar.walk("VEVENT")
    ]
