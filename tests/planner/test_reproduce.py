"""What differs between a stored plan and its regeneration, and the plan lifecycle states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from planner.plan import PlanSummary
from planner.reproduce import first_difference, parse_versions, version_differences
from tests.data.test_repository import sample_plan


def test_versions_are_parsed_and_compared_by_package() -> None:
    """Each differing package is named with both versions; equal ones say nothing."""
    recorded = "atmp-planner 0.1.0, ortools 9.15.6755"
    assert parse_versions(recorded) == {"atmp-planner": "0.1.0", "ortools": "9.15.6755"}
    assert version_differences(recorded, recorded) == []
    assert version_differences(recorded, "atmp-planner 0.1.0, ortools 9.14.6206") == [
        "ortools 9.15.6755 recorded, 9.14.6206 here"
    ]
    assert version_differences("", "ortools 9.15") == ["ortools not recorded recorded, 9.15 here"]


def test_first_difference_names_the_patient_then_the_assignment() -> None:
    """Milestones first (by patient code), then unscheduled reasons, then assignments."""
    plan = sample_plan()
    assert first_difference(plan, plan) is None
    moved = replace(plan.schedules[0], apheresis_day=plan.schedules[0].apheresis_day.replace(day=3))
    other = replace(plan, schedules=(moved, *plan.schedules[1:]))
    assert first_difference(plan, other) == (
        "patient P1: apheresis 2027-01-04 vs 2027-01-03, infusion 2027-01-15 vs 2027-01-15 "
        "(stored vs regenerated)"
    )
    assert first_difference(plan, replace(plan, schedules=plan.schedules[:1])) == (
        "patient P-IP is scheduled only in the stored plan"
    )
    a = plan.assignments[1]
    later = replace(a, start=a.start + timedelta(hours=1), end=a.end + timedelta(hours=1))
    shifted = replace(plan, assignments=(plan.assignments[0], later, *plan.assignments[2:]))
    text = first_difference(plan, shifted)
    assert text is not None and text.startswith("assignment 2: P2 seed on RES-device")


def test_a_summary_states_where_the_plan_is_in_its_lifecycle() -> None:
    """draft -> approved -> published -> superseded."""
    summary = PlanSummary(
        1, "s", datetime(2027, 1, 1, tzinfo=UTC), False, "OPTIMAL", "cp-sat", "OPTIMAL",
        False, 1, 1, 0.0, 0,
    )  # fmt: skip
    assert summary.state == "draft"
    approved = replace(summary, approved_by="bob", approved_at=summary.created)
    assert approved.state == "approved"
    assert replace(approved, published=True).state == "published"
    assert replace(approved, superseded=True).state == "superseded"
