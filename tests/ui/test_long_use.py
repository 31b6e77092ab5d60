"""A minute of real use of the Gantt must not kill the interpreter (PySide6 6.12.0 did)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gantt_survives_long_scrolling_zooming_and_rebuilding():
    """60,000+ item calls through wheel scrolling, Ctrl+wheel zoom and re-plans: no abort."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.long_use_driver", "60000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["calls"] >= 60_000
    assert report["notches"] >= 100 and report["rebuilds"] >= 17
    assert report["items"] > 500  # a demo-sized Gantt, not an empty scene
    # A binding that drops a reference to None per call shows here long before it aborts.
    assert report["none_refs_after"] >= report["none_refs_before"] - 1_000


def test_ten_thousand_set_pen_calls_do_not_abort():
    """The issue's reproducer: QGraphicsRectItem.setPen in a loop, in a fresh interpreter."""
    code = (
        "from PySide6.QtWidgets import QApplication, QGraphicsRectItem\n"
        "from PySide6.QtGui import QPen\n"
        "import sys\n"
        "app = QApplication([]); item = QGraphicsRectItem(0, 0, 1, 1); pen = QPen()\n"
        "before = sys.getrefcount(None)\n"
        "for _ in range(30000): item.setPen(pen)\n"
        "print(before - sys.getrefcount(None))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) < 100  # references to None lost by 30,000 calls
