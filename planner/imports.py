"""Rosters and referrals brought into a stored scenario: what a file holds and the merge."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from planner.patients import Patient
from planner.resources import RosterEntry, ShiftCode
from planner.scenario import Scenario


@dataclass(frozen=True)
class RosterChange:
    """A roster file: the people and dates it covers and their shifts there.

    covered holds each (staff code, date) the file speaks for, a shift or a blank; its
    entries replace the scenario's there and nowhere else.
    """

    layout: str  # "long", "matrix" or both joined by "+"
    sheets: tuple[str, ...]
    people: tuple[str, ...]
    days: tuple[date, ...]
    covered: tuple[tuple[str, date], ...]
    entries: tuple[RosterEntry, ...]
    #: Codes from the file's legend that the scenario does not know yet.
    new_shift_codes: tuple[ShiftCode, ...] = ()
    #: Time ranges typed in cells and the codes read for them ("08:00-16:00 as D").
    times_read: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonCounts:
    """What a roster merge did to one person's days."""

    staff_code: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class RosterReport:
    """What a roster merge changed, in all and per person (in file order)."""

    people: int
    days: int
    added: int
    removed: int
    changed: int
    unchanged: int
    per_person: tuple[PersonCounts, ...]
    new_shift_codes: tuple[str, ...]
    times_read: tuple[str, ...] = ()


def merge_roster(scenario: Scenario, change: RosterChange) -> tuple[Scenario, RosterReport]:
    """The scenario with its roster replaced for the people and dates the change covers."""
    spoken = set(change.covered)
    covered = {
        (e.staff_code, e.day): e.shift_code
        for e in scenario.roster
        if (e.staff_code, e.day) in spoken
    }
    incoming = {(e.staff_code, e.day): e.shift_code for e in change.entries}
    counts: dict[str, dict[str, int]] = {
        p: {"added": 0, "removed": 0, "changed": 0, "unchanged": 0} for p in change.people
    }
    for key in covered.keys() | incoming.keys():
        before, after = covered.get(key), incoming.get(key)
        if before is None:
            kind = "added"
        elif after is None:
            kind = "removed"
        else:
            kind = "unchanged" if before == after else "changed"
        counts[key[0]][kind] += 1
    kept = tuple(e for e in scenario.roster if (e.staff_code, e.day) not in covered)
    roster = (*kept, *change.entries)
    merged = replace(
        scenario,
        shift_codes=(*scenario.shift_codes, *change.new_shift_codes),
        roster=roster,
    )
    per_person = tuple(PersonCounts(p, **counts[p]) for p in change.people)
    report = RosterReport(
        people=len(change.people),
        days=len(change.days),
        added=sum(c.added for c in per_person),
        removed=sum(c.removed for c in per_person),
        changed=sum(c.changed for c in per_person),
        unchanged=sum(c.unchanged for c in per_person),
        per_person=per_person,
        new_shift_codes=tuple(s.code for s in change.new_shift_codes),
        times_read=change.times_read,
    )
    return merged, report


def roster_summary(change: RosterChange, report: RosterReport) -> str:
    """What merging a roster file does, in one sentence fragment (no trailing period)."""
    if not change.days:
        return "an empty roster: nothing changes"
    return (
        f"a {change.layout} roster (sheets {', '.join(change.sheets)}): {report.people} "
        f"people, {report.days} days ({change.days[0]} to {change.days[-1]}); shifts "
        f"{report.added} added, {report.removed} removed, {report.changed} changed, "
        f"{report.unchanged} unchanged"
    )


@dataclass(frozen=True)
class ReferralChange:
    """Patients a referral list adds to a scenario."""

    sheet: str
    patients: tuple[Patient, ...]


def add_referrals(scenario: Scenario, change: ReferralChange) -> Scenario:
    """The scenario with the referred patients appended (the scenario checks them)."""
    return replace(scenario, patients=(*scenario.patients, *change.patients))
