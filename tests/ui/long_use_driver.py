"""Drives the real main window's Gantt through long scrolling, zooming and rebuilding.

Run as a program (`python -m tests.ui.long_use_driver [CALLS]`) so that an interpreter
abort (e.g. a Qt binding that leaks references to None) kills this process, not pytest.
Prints one JSON line with what it did; exits 0 when it survived.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from data.demo import build_demo_scenario
from solver import solve
from ui.main_window import MainWindow

#: Qt calls made per graphics item each time the Gantt rebuilds its scene (construct,
#: setBrush, setPen, addItem; a few also setZValue and setToolTip): a lower bound.
CALLS_PER_ITEM = 4


def wheel(widget: object, dy: int, ctrl: bool = False, dx: int = 0) -> None:
    """Send one mouse-wheel notch to a widget, as a mouse would."""
    pos = QPointF(400.0, 200.0)
    modifiers = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    event = QWheelEvent(
        pos,
        pos,
        QPoint(0, 0),
        QPoint(dx, dy),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)  # type: ignore[arg-type]


def main(target_calls: int) -> dict[str, int]:
    """Scroll, zoom, fit and re-plan until at least target_calls item calls were made."""
    app = QApplication.instance() or QApplication([])
    scenario = build_demo_scenario()
    # The greedy booking (cancel before CP-SAT) is a real demo-sized plan in half a second.
    plan = solve(scenario, cancel=lambda: True)
    window = MainWindow(scenario, plan)
    window.resize(1280, 800)
    window.tabs.setCurrentIndex(1)
    window.show()
    app.processEvents()
    view = window.gantt
    none_before = sys.getrefcount(None)
    calls = notches = rebuilds = paints = 0
    while calls < target_calls:
        for step in range(40):
            wheel(view.viewport(), -120 if step < 20 else 120)
            wheel(view.viewport(), 0, dx=-120 if step < 20 else 120)
            notches += 2
        for step in range(8):
            wheel(view.viewport(), 120 if step < 4 else -120, ctrl=True)
            notches += 1
            rebuilds += 1
            calls += CALLS_PER_ITEM * len(view.scene().items())
            view.viewport().repaint()
            paints += 1
        view.fit_width()
        window.set_plan(plan if rebuilds % 2 else None)
        window.set_plan(plan)
        rebuilds += 3
        calls += CALLS_PER_ITEM * 2 * len(view.scene().items())
        window.grab()
        paints += 1
        app.processEvents()
    window.close()
    app.processEvents()
    return {
        "calls": calls,
        "notches": notches,
        "rebuilds": rebuilds,
        "paints": paints,
        "items": len(view.scene().items()),
        "none_refs_before": none_before,
        "none_refs_after": sys.getrefcount(None),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 60_000)), flush=True)
