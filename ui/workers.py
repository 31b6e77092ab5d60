"""Run the solver off the GUI thread: a scenario snapshot in, Qt signals out."""

from __future__ import annotations

import copy
import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from planner import Plan, Scenario, SolveProgress, SolveSettings
from planner.replan import Replan
from solver.api import solve

SolveFunction = Callable[..., Plan]

#: Minimum seconds between forwarded progress reports of the same phase.
PROGRESS_INTERVAL_S = 0.1


class SolveWorker(QObject):
    """Solves one scenario in its own QThread.

    Signals arrive on the thread of the receiver (queued): `progress(SolveProgress)`
    while solving, then exactly one of `finished(Plan)` or `failed(str)`.
    `cancel()` may be called from any thread; the solver then returns its best plan.
    With replan, the solve re-plans against a published plan.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        scenario: Scenario,
        settings: SolveSettings | None = None,
        *,
        solve_fn: SolveFunction = solve,
        replan: Replan | None = None,
    ) -> None:
        super().__init__()
        self._replan = replan
        # Scenario is frozen, but a private copy also keeps its cached lookups unshared.
        self._scenario = copy.deepcopy(scenario)
        self._settings = settings
        self._solve = solve_fn
        self._cancelled = threading.Event()
        self._thread: QThread | None = None
        self._last_phase: str | None = None
        self._last_emit = 0.0

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Ask the solver to stop and return the best plan found so far."""
        self._cancelled.set()

    def start(self) -> None:
        """Run `run()` in a new QThread that ends when the solve does."""
        if self._thread is not None:
            raise RuntimeError("A SolveWorker runs once; make a new one.")
        thread = QThread()
        thread.setObjectName("solve")
        self._thread = thread
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Direct: quit must not wait for a GUI event loop that may be blocked in wait().
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.start()

    def is_running(self) -> bool:
        """Whether the solving thread is alive."""
        return self._thread is not None and self._thread.isRunning()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the thread has ended (True) or the timeout passed (False)."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms) if timeout_ms >= 0 else self._thread.wait()

    @Slot()
    def run(self) -> None:
        """Solve and emit the outcome; call directly to solve on the current thread."""
        try:
            plan = self._solve(
                self._scenario,
                self._settings,
                on_progress=self._on_progress,
                cancel=self._cancelled.is_set,
                **({} if self._replan is None else {"replan": self._replan}),
            )
        except Exception as error:  # any solver failure goes to the UI
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.failed.emit(detail)
            return
        self.finished.emit(plan)

    def _on_progress(self, report: SolveProgress) -> None:
        # Called on the solver's thread; throttled so a chatty solver cannot flood the GUI.
        now = time.monotonic()
        if report.phase == self._last_phase and now - self._last_emit < PROGRESS_INTERVAL_S:
            return
        self._last_phase = report.phase
        self._last_emit = now
        self.progress.emit(report)


class TaskWorker(QObject):
    """Runs one short function in its own QThread: `finished(result)` or `failed(str)`."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, task: Callable[[], object]) -> None:
        super().__init__()
        self._task = task
        self._thread: QThread | None = None

    def start(self) -> None:
        """Run the task in a new QThread that ends with it."""
        if self._thread is not None:
            raise RuntimeError("A TaskWorker runs once; make a new one.")
        thread = QThread()
        thread.setObjectName("task")
        self._thread = thread
        self.moveToThread(thread)
        thread.started.connect(self.run)
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.start()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the thread has ended (True) or the timeout passed (False)."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms) if timeout_ms >= 0 else self._thread.wait()

    @Slot()
    def run(self) -> None:
        """Run the task and emit its outcome."""
        try:
            result = self._task()
        except Exception as error:  # any failure goes to the UI
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.failed.emit(detail)
            return
        self.finished.emit(result)
