"""The background solve worker, run against the real solver."""

from __future__ import annotations

import threading

import pytest

from planner import Plan, SolveSettings
from solver.api import solve
from tests.factories import tiny_scenario
from ui.workers import SolveWorker

TIMEOUT_MS = 60_000


def test_worker_solves_off_the_gui_thread_and_reports_progress(qtbot):
    """Real solve: progress first, then a Plan whose scheduled count matches its schedules."""
    threads: list[int] = []

    def solve_recording_thread(*args, **kwargs):
        threads.append(threading.get_ident())
        return solve(*args, **kwargs)

    worker = SolveWorker(
        tiny_scenario(), SolveSettings(deterministic_time=1.0), solve_fn=solve_recording_thread
    )
    events: list[str] = []
    worker.progress.connect(lambda _: events.append("progress"))
    worker.finished.connect(lambda _: events.append("finished"))
    worker.failed.connect(lambda message: events.append(f"failed: {message}"))
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS) as blocker:
        worker.start()
    assert worker.wait(5000)
    plan = blocker.args[0]
    assert isinstance(plan, Plan)
    assert plan.kpis.scheduled == len(plan.schedules)
    assert plan.kpis.scheduled == 2
    assert events[0] == "progress" and events[-1] == "finished"
    assert threads and threads[0] != threading.get_ident()


def test_cancel_returns_a_plan_without_hanging(qtbot):
    """Cancelling after the first progress report still ends, with the best plan so far."""
    worker = SolveWorker(tiny_scenario(n_patients=6), SolveSettings(deterministic_time=60.0))
    outcomes: list[object] = []
    worker.finished.connect(outcomes.append)
    worker.failed.connect(outcomes.append)
    with qtbot.waitSignal(worker.progress, timeout=TIMEOUT_MS):
        worker.start()
    worker.cancel()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=TIMEOUT_MS)
    assert worker.wait(5000)
    assert worker.cancelled
    assert isinstance(outcomes[0], Plan), outcomes
    assert outcomes[0].kpis.scheduled == len(outcomes[0].schedules)


def test_worker_reports_solver_errors_as_failed(qtbot):
    """An exception inside solve arrives as failed(str) and the thread ends."""

    def broken(*args, **kwargs):
        raise ValueError("scenario has no cleanroom")

    worker = SolveWorker(tiny_scenario(), solve_fn=broken)
    with qtbot.waitSignal(worker.failed, timeout=TIMEOUT_MS) as blocker:
        worker.start()
    assert worker.wait(5000)
    assert blocker.args == ["ValueError: scenario has no cleanroom"]


def test_worker_runs_only_once(qtbot):
    """Starting a worker twice is refused."""
    worker = SolveWorker(tiny_scenario(), SolveSettings(deterministic_time=1.0))
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()
    assert worker.wait(5000)
