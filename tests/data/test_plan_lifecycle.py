"""Approved plans are immutable; plans store the inputs they were made from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from data.orm import PlanAssignmentRow, PlanRow
from data.repository import ApprovedPlanError, NotReproducibleError, Repository
from data.scenario_json import scenario_to_dict
from planner import Plan
from planner.replan import Pin, Replan
from planner.reproduce import ReplanBasis
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario


def _plan() -> Plan:
    plan = sample_plan("rich")
    return replace(plan, solver=replace(plan.solver, stopped=False))


@pytest.fixture
def approved(repo: Repository) -> int:
    """The rich scenario with one approved plan (made current); its id."""
    repo.save_scenario(rich_scenario())
    plan_id = repo.save_plan(_plan(), current=True)
    repo.approve(plan_id, "rich", reason="weekly board")
    return plan_id


def test_an_approved_plans_content_cannot_change(repo: Repository, approved: int) -> None:
    """Any update of an approved plan's content or a second approval is refused before it is
    written; deleting its rows or its scenario too."""
    before = repo.load_plan(approved)
    changed = pytest.raises(ApprovedPlanError, match="cannot be changed")
    with changed, repo._unit_of_work() as session:
        session.get_one(PlanRow, approved).scheduled = 0
    deleted = pytest.raises(ApprovedPlanError, match="cannot be deleted")
    with deleted, repo._unit_of_work() as session:
        row = session.scalars(
            select(PlanAssignmentRow).where(PlanAssignmentRow.plan_id == approved)
        ).first()
        session.delete(row)
    with pytest.raises(ApprovedPlanError, match="cannot be approved again"):
        repo.approve(approved, reason="twice")
    with pytest.raises(ApprovedPlanError, match="has approved plans"):
        repo.delete_scenario("rich")
    assert repo.load_plan(approved) == before
    assert repo.plan_summaries("rich")[0].approved_by == repo.user


def test_an_approved_plan_can_still_be_chosen_and_published(
    repo: Repository, approved: int
) -> None:
    """Current and published are lifecycle, not content: both still work."""
    other = repo.save_plan(_plan(), current=True)
    repo.make_current(approved)
    assert repo.publish(approved, require_approval=True) is None
    states = {p.plan_id: (p.state, p.current) for p in repo.plan_summaries("rich")}
    assert states == {approved: ("published", True), other: ("draft", False)}


def test_approval_needs_a_reason_and_a_finished_plan(repo: Repository) -> None:
    """An empty reason, or a plan stopped early: refused, nothing approved."""
    repo.save_scenario(rich_scenario())
    stopped = repo.save_plan(sample_plan("rich"))
    finished = repo.save_plan(_plan())
    with pytest.raises(ApprovedPlanError, match="stopped early"):
        repo.approve(stopped, reason="ok")
    with pytest.raises(ApprovedPlanError, match="needs a reason"):
        repo.approve(finished, reason="  ")
    with pytest.raises(ApprovedPlanError, match="is a draft"):
        repo.publish(finished, require_approval=True)
    assert [p.state for p in repo.plan_summaries("rich")] == ["draft", "draft"]


def test_a_plan_stores_its_scenario_and_replan_inputs(repo: Repository) -> None:
    """The scenario as solved comes back equal, with the SHA-256 of its canonical JSON; the
    re-plan basis (published plan, date, frozen days, pins) too; a plan saved without its
    scenario has no inputs."""
    scenario = rich_scenario()
    repo.save_scenario(scenario)
    fresh = repo.save_plan(_plan(), scenario=scenario)
    replan = Replan(_plan(), date(2027, 1, 6), 9, (Pin("P1"), Pin("P2", "seed")), fresh)
    replanned = repo.save_plan(_plan(), scenario=scenario, replan=replan)
    bare = repo.save_plan(_plan())

    inputs = repo.plan_inputs(fresh)
    assert inputs.scenario == scenario and inputs.replan is None
    canonical = json.dumps(
        scenario_to_dict(scenario), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert inputs.sha256 == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert repo.plan_inputs(replanned).replan == ReplanBasis(
        fresh, date(2027, 1, 6), 9, (Pin("P1"), Pin("P2", "seed")), "published"
    )
    assert repo.plan_inputs(replanned).sha256 == inputs.sha256
    with pytest.raises(NotReproducibleError, match="no stored inputs"):
        repo.plan_inputs(bare)
