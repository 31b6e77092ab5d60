"""The window follows the user's role: what it may not do is greyed out with the reason,
and a call that gets through anyway is refused with the same words, changing nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu

from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from planner.replan import Pin
from planner.roles import UserRole
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario
from ui.main_window import MainWindow


@pytest.fixture
def url(tmp_path: Path) -> tuple[str, int]:
    """The rich scenario with a draft plan; alice director, sam scheduler, bob viewer."""
    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    alice = Repository(open_database(url), user="alice")
    alice.save_scenario(rich_scenario())
    plan = sample_plan()
    plan_id = alice.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)))
    alice.set_role("alice", UserRole.DIRECTOR, reason="set up")
    alice.set_role("sam", UserRole.SCHEDULER, reason="plans")
    alice.set_role("bob", UserRole.VIEWER, reason="looks")
    alice.close()
    return url, plan_id


def _window(qtbot, url: str, plan_id: int, user: str) -> tuple[MainWindow, Repository]:
    repo = Repository(open_database(url), user=user)
    window = MainWindow(repo.load_scenario("rich"), repo.load_plan(plan_id), repo, plan_id=plan_id)
    qtbot.addWidget(window)
    return window, repo


def test_a_viewers_window_can_only_look(qtbot, url: tuple[str, int]) -> None:
    window, _ = _window(qtbot, *url, "bob")
    assert window.windowTitle() == "ATMP planner: rich (bob, viewer)"
    greyed = {
        window.solve_action: "solving and saving draft plans",
        window.import_action: "editing resources and settings",
        window.roster_action: "importing a roster",
        window.referrals_action: "importing or editing referrals and patients",
        window.publish_action: "publishing a plan",
        window.approve_action: "approving a plan",
        window.use_action: "solving and saving draft plans",
    }
    for action, needs in greyed.items():
        assert not action.isEnabled(), action.text()
        assert action.toolTip().startswith(f"bob is a viewer; {needs} needs the "), action.text()
    assert window.export_action.isEnabled() and window.audit_action.isEnabled()
    menu = _bar_menu(window)
    assert menu and not any(a.isEnabled() for a in menu)
    assert {a.toolTip().split("; ")[1] for a in menu} == {
        "pinning patients needs the director or scheduler role",
        "importing or editing referrals and patients needs the director or coordinator role",
    }
    before = database_digest(open_database(url[0]))
    window.publish_shown_plan()
    assert window.status_label.text() == (
        "bob is a viewer; publishing a plan needs the director or scheduler role; nothing "
        "was changed."
    )
    window.approve_shown_plan("fine")
    assert "approving a plan needs the director role" in window.status_label.text()
    window.set_pin(Pin("P1"), True)
    assert "pinning patients needs the director or scheduler role" in window.status_label.text()
    assert window.start_solve() is None and window.ask_merge("roster") is None
    assert window.ask_import() is None
    assert database_digest(open_database(url[0])) == before


def _bar_menu(window: MainWindow) -> list:
    """The entries a right click on the first bar of a patient's chain offers."""
    bar = window.gantt.bars()[0]
    return window.gantt.bar_actions(bar, QMenu(window))


def test_a_schedulers_window_publishes_but_does_not_approve(qtbot, url: tuple[str, int]) -> None:
    window, repo = _window(qtbot, *url, "sam")
    menu = _bar_menu(window)
    pins = [a for a in menu if "Pin" in a.text()]
    failed = [a for a in menu if "failed batch" in a.text()]
    assert pins and all(a.isEnabled() and not a.toolTip().startswith("sam") for a in pins)
    assert len(failed) == 1 and not failed[0].isEnabled()
    assert failed[0].toolTip().startswith("sam is a scheduler; importing or editing")
    assert window.solve_action.isEnabled() and window.publish_action.isEnabled()
    assert not window.approve_action.isEnabled() and not window.roster_action.isEnabled()
    window.set_pin(Pin("P1"), True)
    assert repo.pins("rich") == (Pin("P1"),)
    director, _ = _window(qtbot, *url, "alice")
    assert director.approve_action.isEnabled() and director.roster_action.isEnabled()
