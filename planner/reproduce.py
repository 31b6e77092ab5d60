"""Reproducing a stored plan: the inputs it was made from and how a regeneration differs.

A plan stores the scenario as solved (canonical JSON and its SHA-256), the settings and
seed, the versions of atmp-planner and OR-Tools, and, for a re-plan, what it kept (the
published plan, the planning date, the frozen days and the pins). Regenerating it with a
deterministic budget under the same versions gives the same plan; these helpers say why
not when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.plan import Plan
from planner.replan import Pin
from planner.scenario import Scenario


@dataclass(frozen=True)
class ReplanBasis:
    """What a re-plan kept, enough to rebuild its planner.replan.Replan."""

    published_id: int
    today: date
    frozen_days: int
    pins: tuple[Pin, ...] = ()
    basis: str = "published"


@dataclass(frozen=True)
class PlanInputs:
    """The stored inputs of a plan: the scenario as solved, its SHA-256, the re-plan basis."""

    scenario: Scenario
    sha256: str
    replan: ReplanBasis | None = None


def parse_versions(text: str) -> dict[str, str]:
    """'atmp-planner 0.1.0, ortools 9.15.6755' -> {'atmp-planner': '0.1.0', 'ortools': ...}."""
    found: dict[str, str] = {}
    for part in text.split(","):
        name, _, version = part.strip().rpartition(" ")
        if name:
            found[name] = version
    return found


def version_differences(recorded: str, running: str) -> list[str]:
    """Each package whose version here differs from the recorded one, as 'ortools 9.15
    recorded, 9.14 here' (empty when they agree)."""
    then, now = parse_versions(recorded), parse_versions(running)
    return [
        f"{name} {then.get(name, 'not recorded')} recorded, {now.get(name, 'absent')} here"
        for name in sorted(set(then) | set(now))
        if then.get(name) != now.get(name)
    ]


def first_difference(stored: Plan, again: Plan) -> str | None:
    """The first way the regenerated plan differs from the stored one, for people (None:
    the same patients, milestones, reasons and assignments)."""
    mine = {s.patient_code: s for s in stored.schedules}
    theirs = {s.patient_code: s for s in again.schedules}
    for code in sorted(set(mine) | set(theirs)):
        a, b = mine.get(code), theirs.get(code)
        if a is None or b is None:
            where = "only in the stored plan" if b is None else "only in the regenerated plan"
            return f"patient {code} is scheduled {where}"
        if a != b:
            return (
                f"patient {code}: apheresis {a.apheresis_day} vs {b.apheresis_day}, "
                f"infusion {a.infusion_day} vs {b.infusion_day} (stored vs regenerated)"
            )
    left = {u.patient_code: u for u in stored.unscheduled}
    left_again = {u.patient_code: u for u in again.unscheduled}
    for code in sorted(set(left) | set(left_again)):
        if left.get(code) != left_again.get(code):
            return f"patient {code}: the reason it is unscheduled differs"
    for i, (x, y) in enumerate(zip(stored.assignments, again.assignments, strict=False)):
        if x != y:
            return (
                f"assignment {i + 1}: {x.patient_code} {x.step_code} on {x.resource_code} "
                f"{x.start:%Y-%m-%d %H:%M} vs {y.patient_code} {y.step_code} on "
                f"{y.resource_code} {y.start:%Y-%m-%d %H:%M}"
            )
    if len(stored.assignments) != len(again.assignments):
        return f"{len(stored.assignments)} assignments stored, {len(again.assignments)} regenerated"
    if stored.notes != again.notes:
        return "the notes differ"
    if stored.kpis != again.kpis:
        return "the KPIs differ"
    return None
