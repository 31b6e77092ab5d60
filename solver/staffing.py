"""Named staff: assign rostered, qualified people to the staff-pool needs of a plan.

The chain model books staff as pools (role, product training) with hours per day. This
step names the people: each pooled need of n people on a step gets n distinct persons who
hold the role, are trained on the product where the step asks for it, are rostered on a
working shift that covers the whole need, are not in two places at once and stay within
their contracted weekly hours; weekend work is spread as evenly as it can be. Each ISO
week is one small CP-SAT model (one worker, fixed seed, deterministic budget), so the
same plan always gets the same names. A need that cannot be met in full keeps its pool
row and is reported with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from planner import Assignment, ResourceType, Role, Scenario, StaffMember


@dataclass(frozen=True)
class _Need:
    """One pooled staff need of a step: `count` people for [start, end)."""

    row: Assignment
    role: Role
    product: str | None
    start: datetime
    end: datetime
    count: int


@dataclass(frozen=True)
class StaffGap:
    """A need that could not be fully named: who is missing and why."""

    row: Assignment
    missing: int
    reason: str

    def describe(self) -> str:
        """One line for the plan's notes."""
        a = self.row
        return (
            f"Unnamed staff: {a.patient_code} {a.step_code} {a.start:%a %Y-%m-%d %H:%M}-"
            f"{a.end:%H:%M} needs {self.missing} more {a.resource_code.replace(':', ' ')}: "
            f"{self.reason}"
        )


@dataclass(frozen=True)
class Staffing:
    """The named assignments added to a plan and the needs left (partly) unnamed."""

    named: tuple[Assignment, ...]
    gaps: tuple[StaffGap, ...]
    needs: int

    def summary(self) -> str:
        """One line: how many needs were named in full."""
        return f"Named staff for {self.needs - len(self.gaps)} of {self.needs} staffed steps" + (
            f"; {len(self.gaps)} could not be named in full." if self.gaps else "."
        )


def _needs(scenario: Scenario, assignments: Sequence[Assignment]) -> list[_Need]:
    """The pooled needs of steps still to do (who did a step already done is history)."""
    done = {(p.code, d.step_code) for p in scenario.patients for d in p.done_steps}
    needs = []
    for a in assignments:
        if a.resource_type is not ResourceType.STAFF_POOL:
            continue
        if (a.patient_code, a.step_code) in done:
            continue
        role, _, product = a.resource_code.partition(":")
        needs.append(_Need(a, Role(role), product or None, a.start, a.end, a.quantity))
    return sorted(needs, key=lambda n: (n.start, n.row.patient_code, n.row.step_code, n.role))


def _shifts(scenario: Scenario) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per person, the working shifts rostered (leave, on-call and courses left out)."""
    codes = {s.code: s for s in scenario.shift_codes}
    out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for entry in scenario.roster:
        shift = codes.get(entry.shift_code)
        if shift is None or shift.is_leave or not shift.covers_day_work or shift.hours <= 0:
            continue
        start = datetime.combine(entry.day, datetime.min.time()) + timedelta(hours=shift.start_hour)
        out[entry.staff_code].append((start, start + timedelta(hours=shift.hours)))
    return out


def _qualified(person: StaffMember, need: _Need) -> bool:
    return need.role in person.roles and (
        need.product is None or need.product in person.trained_products
    )


def _covers(shifts: list[tuple[datetime, datetime]], need: _Need) -> bool:
    return any(s <= need.start and need.end <= e for s, e in shifts)


def _why_none(
    need: _Need, staff: Sequence[StaffMember], shifts: dict[str, list[tuple[datetime, datetime]]]
) -> str:
    """Why no one at all could take a need."""
    qualified = [p for p in staff if _qualified(p, need)]
    trained = "" if need.product is None else f" trained on {need.product}"
    if not qualified:
        return f"no {need.role.value}{trained} in the staff list"
    on_day = [
        (p, s, e)
        for p in qualified
        for s, e in shifts.get(p.code, [])
        if s < need.end and need.start < e
    ]
    if not on_day:
        return f"no {need.role.value}{trained} rostered then"
    hours = (need.end - need.start).total_seconds() / 3600
    longest = max((e - s).total_seconds() / 3600 for _, s, e in on_day)
    return (
        f"it takes {hours:g} h from {need.start:%H:%M}; the shifts of the {len(on_day)} "
        f"qualified people rostered then do not cover it (longest {longest:g} h)"
    )


def _hours(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() / 3600)


def _week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


#: People named before for a step: (patient, step, start) -> their codes.
Preferred = Mapping[tuple[str, str, datetime], frozenset[str]]


def assign_staff(
    scenario: Scenario,
    assignments: Sequence[Assignment],
    *,
    seed: int = 0,
    budget_per_week: float = 1.0,
    prefer: Preferred | None = None,
) -> Staffing:
    """Name people for every staff-pool need of steps still to do, week by week.

    prefer names the people a step had before (e.g. in the published plan): after naming
    every need, as many of them as can keep their step do.
    """
    staff = list(scenario.staff)
    shifts = _shifts(scenario)
    needs = _needs(scenario, assignments)
    by_week: dict[tuple[int, int], list[_Need]] = defaultdict(list)
    for need in needs:
        by_week[_week(need.start.date())].append(need)
    named: list[Assignment] = []
    gaps: list[StaffGap] = []
    for week in sorted(by_week):
        week_named, week_gaps = _assign_week(
            by_week[week], staff, shifts, seed=seed, budget=budget_per_week, prefer=prefer or {}
        )
        named += week_named
        gaps += week_gaps
    return Staffing(tuple(named), tuple(gaps), len(needs))


def _assign_week(
    needs: list[_Need],
    staff: list[StaffMember],
    shifts: dict[str, list[tuple[datetime, datetime]]],
    *,
    seed: int,
    budget: float,
    prefer: Preferred,
) -> tuple[list[Assignment], list[StaffGap]]:
    model = cp_model.CpModel()
    origin = min(n.start for n in needs).replace(hour=0, minute=0, second=0, microsecond=0)
    chosen: dict[tuple[int, int], cp_model.IntVar] = {}
    short: list[cp_model.IntVar] = []
    per_person: dict[int, list[tuple[int, cp_model.IntVar, cp_model.IntervalVar]]] = defaultdict(
        list
    )
    weekend: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    kept: list[cp_model.IntVar] = []
    for i, need in enumerate(needs):
        before = prefer.get((need.row.patient_code, need.row.step_code, need.start), frozenset())
        candidates = [
            p
            for p, person in enumerate(staff)
            if _qualified(person, need) and _covers(shifts.get(person.code, []), need)
        ]
        hours = _hours(need.start, need.end)
        start = _hours(origin, need.start)
        lack = model.new_int_var(0, need.count, f"short_{i}")
        short.append(lack)
        xs = []
        for p in candidates:
            x = model.new_bool_var(f"x_{i}_{p}")
            chosen[(i, p)] = x
            xs.append(x)
            interval = model.new_optional_fixed_size_interval_var(start, hours, x, f"iv_{i}_{p}")
            per_person[p].append((hours, x, interval))
            if need.start.weekday() >= 5:
                weekend[p].append((hours, x))
            if staff[p].code in before:
                kept.append(x)
        model.add(sum(xs) + lack == need.count)
    for p, items in per_person.items():
        model.add_no_overlap([interval for _, _, interval in items])
        worked = cp_model.LinearExpr.weighted_sum(
            [x for _, x, _ in items], [h for h, _, _ in items]
        )
        model.add(worked <= int(staff[p].contracted_hours_per_week))
    peak = model.new_int_var(0, 24 * 2, "weekend_peak")
    for pairs in weekend.values():
        load = cp_model.LinearExpr.weighted_sum([x for _, x in pairs], [h for h, _ in pairs])
        model.add(load <= peak)
    # Naming every need comes first, then keeping the people named before (a booked person
    # stays booked), then the heaviest weekend load is kept low (peak is at most 48).
    keep_weight = 49
    short_weight = keep_weight * (len(kept) + 1) + 1000
    model.minimize(
        short_weight * cp_model.LinearExpr.sum(short)
        - keep_weight * cp_model.LinearExpr.sum(kept)
        + peak
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = budget
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], [StaffGap(n.row, n.count, "no naming found within the budget") for n in needs]
    named: list[Assignment] = []
    taken: dict[int, list[int]] = defaultdict(list)
    for (i, p), x in chosen.items():
        if solver.value(x):
            taken[p].append(i)
    for i, need in enumerate(needs):
        people = sorted(staff[p].code for p, items in taken.items() if i in items)
        for code in people:
            named.append(
                Assignment(
                    need.row.patient_code,
                    need.row.product_code,
                    need.row.step_code,
                    ResourceType.STAFF,
                    code,
                    need.start,
                    need.end,
                )
            )
    gaps: list[StaffGap] = []
    for i, need in enumerate(needs):
        missing = need.count - sum(i in items for items in taken.values())
        if missing <= 0:
            continue
        candidates = [p for j, p in chosen if j == i]
        if not candidates:
            reason = _why_none(need, staff, shifts)
        else:
            reason = "the qualified people on shift are taken: " + ", ".join(
                _doing(staff[p], [needs[j] for j in taken[p]], need) for p in candidates
            )
        gaps.append(StaffGap(need.row, missing, reason))
    return named, gaps


def _doing(person: StaffMember, busy: list[_Need], need: _Need) -> str:
    """What keeps a qualified person from a need: another step then, or their weekly hours."""
    if any(b is need for b in busy):
        return f"{person.code} (already on it)"
    clash = [b for b in busy if b.start < need.end and need.start < b.end]
    if clash:
        b = clash[0].row
        return f"{person.code} (on {b.patient_code} {b.step_code})"
    worked = sum(_hours(b.start, b.end) for b in busy)
    return f"{person.code} (at {worked} of {person.contracted_hours_per_week:g} h this week)"
