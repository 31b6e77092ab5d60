"""Hand-made plans for UI tests, shaped like the solver's output but built without it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from planner import (
    Assignment,
    PatientSchedule,
    Plan,
    ResourceType,
    Scenario,
    SolverInfo,
    SolveSettings,
    Unscheduled,
    UnscheduledReason,
    compute_kpis,
)
from tests.factories import START, tiny_scenario

RT = ResourceType


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(hours=hour)


def chain(
    code: str, aph_day: date, room: str = "CR1", late: int = 0
) -> tuple[list[Assignment], PatientSchedule]:
    """Assignments and milestones of one CART patient with apheresis on aph_day."""
    seed = _at(aph_day + timedelta(days=1), 8)
    expand_end = seed + timedelta(hours=6 + 72)
    harvest_end = expand_end + timedelta(hours=6)
    release = (harvest_end + timedelta(days=2)).date()
    infusion = release + timedelta(days=4)
    p = "CART"
    rows = [
        Assignment(
            code, p, "apheresis", RT.APHERESIS, "apheresis", _at(aph_day, 8), _at(aph_day, 14)
        ),
        Assignment(code, p, "seed", RT.CLEANROOM, room, seed, seed + timedelta(hours=6)),
        Assignment(
            code, p, "seed", RT.STAFF_POOL, "operator:CART", seed, seed + timedelta(hours=6)
        ),
        Assignment(code, p, "expand", RT.CLEANROOM, room, seed + timedelta(hours=6), expand_end),
        Assignment(code, p, "harvest", RT.CLEANROOM, room, expand_end, harvest_end),
        Assignment(code, p, "harvest", RT.STAFF_POOL, "operator:CART", expand_end, harvest_end),
        Assignment(code, p, "qc_release", RT.NONE, "", harvest_end, _at(release, 8)),
        Assignment(code, p, "infusion", RT.NONE, "", _at(infusion, 8), _at(infusion, 10)),
        Assignment(
            code,
            p,
            "inpatient",
            RT.BED,
            "W1",
            _at(infusion, 0),
            _at(infusion + timedelta(days=3), 0),
        ),
    ]
    schedule = PatientSchedule(
        patient_code=code,
        product_code=p,
        apheresis_day=aph_day,
        manufacturing_start=seed,
        manufacturing_end=harvest_end,
        release_day=release,
        ld_start_day=infusion - timedelta(days=3),
        infusion_day=infusion,
        bed_from=infusion,
        bed_to=infusion + timedelta(days=2),
        lateness_days=late,
    )
    return rows, schedule


def sample_scenario() -> Scenario:
    """tiny_scenario with three patients."""
    return tiny_scenario(n_patients=3)


def sample_plan(scenario: Scenario | None = None) -> Plan:
    """P1 and P2 scheduled a week apart, P3 unscheduled for lack of a bed."""
    scenario = scenario or sample_scenario()
    a1, s1 = chain("P1", START)
    a2, s2 = chain("P2", START + timedelta(days=7), late=2)
    assignments = sorted(a1 + a2, key=lambda a: (a.start, a.patient_code))
    schedules = (s1, s2)
    return Plan(
        scenario_name=scenario.name,
        created=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        assignments=tuple(assignments),
        schedules=schedules,
        unscheduled=(
            Unscheduled("P3", UnscheduledReason.NO_BED, "No ward bed is free after release."),
        ),
        kpis=compute_kpis(scenario, schedules, assignments),
        solver=SolverInfo("FEASIBLE", "hand-made", 100.0, 120.0, 0.5, SolveSettings()),
    )
