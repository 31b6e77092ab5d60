"""Rendering the main window to a PNG for the README."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from tests.ui.sample import sample_plan, sample_scenario
from ui.app import grab_screenshot


def test_grab_screenshot_writes_a_png_of_the_window(qtbot, tmp_path):
    """The PNG exists, has the window's size and is not one flat colour."""
    scenario = sample_scenario()
    path = grab_screenshot(scenario, sample_plan(scenario), tmp_path / "shots" / "gantt.png")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixel(x, y) for x in range(0, 1280, 37) for y in range(0, 800, 29)}
    assert len(colours) > 5


def test_grab_screenshot_rejects_unknown_tab(qtbot, tmp_path):
    """Asking for a tab that does not exist fails loudly."""
    scenario = sample_scenario()
    with pytest.raises(ValueError, match="No tab"):
        grab_screenshot(scenario, None, tmp_path / "x.png", tab="Charts")
