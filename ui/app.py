"""Entry points for the CLI: run the planner window, or render it to a PNG."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from planner import Plan, Scenario
from ui.main_window import MainWindow, PlanStore

#: Qt warnings that say nothing to a user (the offscreen platform cannot resize windows).
_QUIET = ("propagateSizeHints",)


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Pass Qt's messages to stderr, less the harmless ones in _QUIET."""
    if not any(word in message for word in _QUIET):
        print(message, file=sys.stderr)


def _application() -> QApplication:
    """The running QApplication, created if there is none."""
    app = QCoreApplication.instance()
    if app is None:
        qInstallMessageHandler(_qt_message)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("ATMP planner")
        app.setOrganizationName("atmp-planner")
    if not isinstance(app, QApplication):
        raise RuntimeError("A non-GUI QCoreApplication already exists.")
    return app


def run_gui(
    scenario: Scenario,
    plan: Plan | None,
    store: PlanStore | None = None,
    plan_id: int | None = None,
) -> int:
    """Show the main window for a scenario and its plan until it closes; the exit code."""
    app = _application()
    window = MainWindow(scenario, plan, store, plan_id=plan_id)
    window.show()
    return app.exec()


def grab_screenshot(
    scenario: Scenario,
    plan: Plan | None,
    path: str | Path,
    *,
    store: PlanStore | None = None,
    plan_id: int | None = None,
    tab: str = "Gantt",
    size: tuple[int, int] = (1280, 800),
) -> Path:
    """Render the main window with one tab open to a PNG file, offscreen; its path."""
    # Rendering needs no screen: without a choice of the user's, draw offscreen.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    window = MainWindow(scenario, plan, store, plan_id=plan_id)
    window.resize(*size)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    if tab not in titles:
        raise ValueError(f"No tab {tab!r}; tabs are {titles}.")
    window.tabs.setCurrentIndex(titles.index(tab))
    window.show()
    for _ in range(3):
        app.processEvents()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise OSError(f"Could not write {out}.")
    window.close()
    window.deleteLater()
    app.processEvents()
    return out
