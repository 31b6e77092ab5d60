"""The Gantt view of a plan."""

from __future__ import annotations

import itertools
from datetime import timedelta

from planner import ResourceType
from planner.checks import changeovers
from tests.ui.sample import sample_plan, sample_scenario
from ui.gantt import DRAWN_TYPES, GanttView


def _view(qtbot) -> GanttView:
    view = GanttView()
    qtbot.addWidget(view)
    view.resize(1000, 400)
    scenario = sample_scenario()
    view.set_plan(scenario, sample_plan(scenario))
    return view


def test_one_bar_per_non_staff_assignment(qtbot):
    """Every assignment on a place (not a staff pool, not 'none') and each changeover: one bar."""
    view = _view(qtbot)
    scenario = sample_scenario()
    plan = sample_plan(scenario)
    drawn = [a for a in plan.assignments if a.resource_type in DRAWN_TYPES]
    cleaning = changeovers(scenario, plan.assignments)
    assert len(cleaning) == 2 and all(a.step_code == "changeover" for a in cleaning)
    expected = sorted(a.key for a in drawn + cleaning)
    assert sorted(b.assignment.key for b in view.bars()) == expected
    assert all(b.assignment.resource_type is not ResourceType.STAFF_POOL for b in view.bars())


def test_one_row_per_resource_with_a_lane_per_bed(qtbot):
    """Apheresis, each cleanroom and the ward appear once; the ward has a lane per bed."""
    view = _view(qtbot)
    assert view.resources() == [
        (ResourceType.APHERESIS, "apheresis"),
        (ResourceType.CLEANROOM, "CR1"),
        (ResourceType.BED, "W1"),
    ]
    labels = [r.label for r in view.rows()]
    assert labels[:4] == ["Apheresis", "CR1 Room 1", "W1 bed 1", "W1 bed 2"]


def test_patient_chain_rows_follow_the_resources(qtbot):
    """Each scheduled patient gets a chain row with apheresis through in-patient phases."""
    view = _view(qtbot)
    labels = [r.label for r in view.rows()]
    assert labels[4:] == ["P1 (CART)", "P2 (CART)"]
    phases = [s.phase for s in view.segments() if s.patient_code == "P1"]
    assert phases == ["apheresis", "manufacturing", "QC release", "lymphodepletion", "in-patient"]


def test_bars_sit_at_their_times_and_never_overlap_in_a_lane(qtbot):
    """A bar spans x_of(start) to x_of(end), and bars sharing a row do not overlap."""
    view = _view(qtbot)
    for bar in view.bars():
        rect = bar.rect()
        assert abs(rect.left() - view.x_of(bar.assignment.start)) < 0.01
        assert abs(rect.right() - view.x_of(bar.assignment.end)) < 2.01
    by_row: dict[float, list] = {}
    for bar in view.bars():
        by_row.setdefault(bar.rect().top(), []).append(bar.assignment)
    for items in by_row.values():
        items.sort(key=lambda a: a.start)
        assert all(x.end <= y.start for x, y in itertools.pairwise(items))


def test_zoom_scales_time_and_stops_fitting(qtbot):
    """Zooming in widens a day and the bars with it."""
    view = _view(qtbot)
    bar = max(view.bars(), key=lambda b: b.rect().width())
    key, before, ppd = bar.assignment.key, bar.rect().width(), view.px_per_day
    view.zoom(2.0)
    assert view.px_per_day == ppd * 2.0
    after = next(b for b in view.bars() if b.assignment.key == key).rect().width()
    assert abs(after - 2 * before) < 0.5


def test_no_plan_shows_resources_and_calendar_only(qtbot):
    """Without a plan there are resource rows but no bars, and the horizon fits."""
    view = GanttView()
    qtbot.addWidget(view)
    scenario = sample_scenario()
    view.set_plan(scenario, None)
    assert view.bars() == [] and view.segments() == []
    assert len(view.resources()) == 3
    end = view.x_of(view._t0 + timedelta(days=len(scenario.days())))
    assert end <= view.scene().sceneRect().right() + 0.01
