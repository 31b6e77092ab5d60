"""KPIs of a plan: throughput, vein-to-vein, lateness and utilisation per resource kind."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta

from planner.plan import (
    Assignment,
    Kpis,
    PatientSchedule,
    Plan,
    PlanSummary,
    ResourceType,
    SolveProgress,
)
from planner.resources import Window
from planner.scenario import Scenario


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0


def _clipped_hours(assignments: Iterable[Assignment], lo: datetime, hi: datetime) -> float:
    total = 0.0
    for a in assignments:
        start, end = max(a.start, lo), min(a.end, hi)
        if start < end:
            total += _hours(start, end) * a.quantity
    return total


def _union_hours(windows: Iterable[Window], lo: datetime, hi: datetime) -> float:
    """Hours covered by the union of windows, clipped to [lo, hi)."""
    total, reach = 0.0, lo
    for w in sorted(windows, key=lambda w: w.start):
        start, end = max(w.start, reach), min(w.end, hi)
        if start < end:
            total += _hours(start, end)
            reach = end
    return total


def utilisation(
    scenario: Scenario, assignments: Sequence[Assignment]
) -> tuple[tuple[str, float], ...]:
    """Busy share of each resource kind over the horizon, as fractions 0-1.

    Cleanrooms and devices: occupied hours over hours not in downtime. Staff: planned
    staff-hours over rostered day-work hours. Beds: occupied bed-days over bed-days.
    """
    lo = datetime.combine(scenario.horizon_start, time())
    hi = datetime.combine(scenario.horizon_end + timedelta(days=1), time())
    span = _hours(lo, hi)

    def available(downtime_hours: float, count: int) -> float:
        return max(0.0, span * count - downtime_hours)

    room_down = sum(_union_hours(r.downtime, lo, hi) for r in scenario.cleanrooms)
    device_down = sum(_union_hours(d.downtime, lo, hi) for d in scenario.devices)
    by_type: dict[ResourceType, list[Assignment]] = {t: [] for t in ResourceType}
    for a in assignments:
        by_type[a.resource_type].append(a)

    shifts = {s.code: s for s in scenario.shift_codes}
    staff_hours = sum(
        min(shifts[e.shift_code].hours, scenario.site.working_hours)
        for e in scenario.roster
        if shifts[e.shift_code].covers_day_work
        and scenario.horizon_start <= e.day <= scenario.horizon_end
    )
    bed_days = sum(scenario.ward.beds_on(d) for d in scenario.days()) * 24.0

    result: list[tuple[str, float]] = []
    for name, kind, capacity in (
        ("cleanrooms", ResourceType.CLEANROOM, available(room_down, len(scenario.cleanrooms))),
        ("devices", ResourceType.DEVICE, available(device_down, len(scenario.devices))),
        ("staff", ResourceType.STAFF_POOL, float(staff_hours)),
        ("beds", ResourceType.BED, bed_days),
    ):
        used = _clipped_hours(by_type[kind], lo, hi)
        result.append((name, used / capacity if capacity > 0 else 0.0))
    return tuple(result)


def compute_kpis(
    scenario: Scenario,
    schedules: Sequence[PatientSchedule],
    assignments: Sequence[Assignment],
) -> Kpis:
    """Headline figures of a plan of this scenario."""
    v2v = [float(s.vein_to_vein_days) for s in schedules]
    return Kpis(
        scheduled=len(schedules),
        total=len(scenario.patients_to_plan()),
        median_vein_to_vein_days=percentile(v2v, 50),
        p90_vein_to_vein_days=percentile(v2v, 90),
        total_lateness_days=sum(s.lateness_days for s in schedules),
        utilisation=utilisation(scenario, assignments),
    )


def format_kpis(kpis: Kpis) -> str:
    """A short plain-text KPI summary for a terminal."""

    def days(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} d"

    lines = [
        f"Scheduled patients   {kpis.scheduled} / {kpis.total}",
        f"Vein-to-vein median  {days(kpis.median_vein_to_vein_days)}",
        f"Vein-to-vein p90     {days(kpis.p90_vein_to_vein_days)}",
        f"Lateness (total)     {kpis.total_lateness_days} d",
    ]
    lines += [f"Utilisation {name:<11}{share * 100:5.1f} %" for name, share in kpis.utilisation]
    return "\n".join(lines)


def format_created(moment: datetime) -> str:
    """A plan's creation time in local time with its UTC offset (naive: as it is)."""
    if moment.tzinfo is None:
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S %z}"


def format_plan(plan: Plan) -> str:
    """KPIs, what the solver reported, notes, and the unscheduled patients with reasons."""
    info = plan.solver
    lines = [
        format_kpis(plan.kpis),
        "",
        f"Plan status          {info.status}" + (" (stopped early)" if info.stopped else ""),
        f"Made by              {info.engine}",
        f"CP-SAT               {info.cp_sat_status}: {info.cp_sat_meaning}",
        f"Objective            {info.objective:,.0f} (greedy {info.greedy_objective:,.0f})",
        f"Bound                {info.bound:,.0f}",
        f"Gap                  {info.gap * 100:.2f} %"
        + (" of the weighted sum; each level's own gap is below" if info.levels else ""),
        f"Wall time            {info.wall_time_s:.1f} s",
        f"Deterministic time   {info.settings.deterministic_time:g}"
        + ("" if info.settings.deterministic else " (not used: wall-clock mode)"),
        f"Seed                 {info.settings.seed}",
        f"Created              {format_created(plan.created)}",
    ]
    if info.versions:
        lines.append(f"Versions             {info.versions}")
    if info.levels:
        lines += ["", "Objective levels (most important first)"]
        for level in info.levels:
            bound = "" if level.bound is None else f"   bound {level.bound:,}, gap {level.gap:,}"
            best = "higher" if level.maximise else "lower"
            lines.append(f"  {level.name:<34}{level.value:>10,}  ({best} is better){bound}")
    if plan.notes:
        lines += ["", "Notes"] + [f"  {note}" for note in plan.notes]
    lines += ["", f"Unscheduled patients ({len(plan.unscheduled)})"]
    if not plan.unscheduled:
        lines.append("  none")
    lines += [f"  {u.patient_code:<10} {u.reason.value}: {u.detail}" for u in plan.unscheduled]
    return "\n".join(lines)


def format_plan_list(plans: Sequence[PlanSummary]) -> str:
    """A table of stored plans; the current one marked; published, superseded and stopped
    ones flagged."""
    if not plans:
        return "No plans stored yet: run `atmp-planner solve`."
    header = (
        f"  {'id':>5}  {'created':<25} {'status':<9} {'made by':<16} {'CP-SAT':<13} "
        f"{'scheduled':>9} {'objective':>14} {'late d':>7}  {'state':<10} note"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for p in plans:
        note = ", ".join(
            word
            for word, on in (
                ("current", p.current),
                (f"approved by {p.approved_by}", p.approved_by is not None),
                ("stopped early", p.stopped),
            )
            if on
        )
        lines.append(
            f"{'*' if p.current else ' '} {p.plan_id:>5}  {format_created(p.created):<25} "
            f"{p.status:<9} {p.engine:<16} {p.cp_sat_status:<13} "
            f"{f'{p.scheduled}/{p.total}':>9} {p.objective:>14,.0f} "
            f"{p.total_lateness_days:>7}  {p.state:<10} {note}".rstrip()
        )
    return "\n".join(lines)


def format_progress(report: SolveProgress) -> str:
    """One progress line: phase, elapsed time, best objective, bound, scheduled count."""
    parts = [report.phase, f"{report.elapsed_s:.1f} s"]
    if report.objective is not None:
        parts.append(f"best {report.objective:,.0f}")
    if report.bound is not None:
        parts.append(f"bound {report.bound:,.0f}")
    if report.scheduled is not None:
        parts.append(f"{report.scheduled} scheduled")
    return " · ".join(parts)
