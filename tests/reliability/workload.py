"""The writes the reliability tests interrupt or race, shared by the tests, their
subprocess driver and scripts/reliability.py: deterministic, so every process can tell
which state a write was meant to leave."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

from data.demo import build_demo_scenario
from planner import (
    Assignment,
    Kpis,
    Plan,
    ResourceType,
    Scenario,
    SolverInfo,
    SolveSettings,
)

NAME = "Crash centre"
#: Assignment rows of each synthetic plan: enough that saving one takes a while.
PLAN_ROWS = 3000
#: How many versions of the scenario `variants` gives.
VARIANTS = 2


@cache
def variants() -> tuple[Scenario, Scenario]:
    """Two versions of a demo-sized scenario that differ in many rows of several tables:
    A (the demo) and B (a third of the roster on other shifts, the last 7 patients gone,
    the others one priority class lower)."""
    base = replace(build_demo_scenario(), name=NAME)
    codes = [s.code for s in base.shift_codes if not s.is_leave]
    roster = tuple(
        replace(e, shift_code=codes[(codes.index(e.shift_code) + 1) % len(codes)])
        if i % 3 == 0 and e.shift_code in codes
        else e
        for i, e in enumerate(base.roster)
    )
    patients = tuple(
        replace(p, priority=min(p.priority + 1, 5)) for p in base.patients[: len(base.patients) - 7]
    )
    return base, replace(base, roster=roster, patients=patients)


def expected_scenario(k: int) -> Scenario:
    """The scenario stored after the k-th write (k = -1: the state before any)."""
    return variants()[(k + 1) % 2]


def plan(k: int) -> Plan:
    """The k-th synthetic plan of the scenario (k >= 0): PLAN_ROWS assignment rows."""
    t0 = datetime(2027, 1, 4, 8)
    kinds = list(ResourceType)
    assignments = tuple(
        Assignment(
            f"P{i % 60:03d}",
            "CART19",
            f"step{i % 7}",
            kinds[i % len(kinds)],
            f"R{i % 13}",
            t0 + timedelta(hours=i),
            t0 + timedelta(hours=i + 1),
            quantity=1 + i % 3,
        )
        for i in range(PLAN_ROWS)
    )
    return Plan(
        scenario_name=NAME,
        created=datetime(2026, 11, 29, 12, tzinfo=UTC) + timedelta(minutes=k),
        assignments=assignments,
        schedules=(),
        unscheduled=(),
        kpis=Kpis(0, 60, None, None, k, (("cleanrooms", 0.5),)),
        solver=SolverInfo("FEASIBLE", "cp-sat", float(k), float(k), 0.1, SolveSettings()),
        notes=(f"crash plan {k}",),
    )
