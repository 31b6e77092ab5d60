"""Render Tools > Audit trail… of a small made-up history to docs/audit-trail.png.

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/audit_screenshot.py [OUT.png]
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from data.db import open_database  # noqa: E402
from data.repository import Repository  # noqa: E402
from tests.data.test_repository import sample_plan  # noqa: E402
from tests.factories import rich_scenario  # noqa: E402
from ui.audit_view import AuditDialog  # noqa: E402


def main(out: Path) -> None:
    """Alice imports a centre, Bob edits staff, roster and holidays, Alice saves a plan."""
    app = QApplication([])
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit.sqlite'}"
    alice = Repository(open_database(url), user="alice")
    scenario = rich_scenario()
    alice.save_scenario(scenario, reason="Q1 set-up", source="centre.xlsx")
    staff = (replace(scenario.staff[0], contracted_hours_per_week=30.0), *scenario.staff[1:])
    roster = tuple(
        replace(e, shift_code="L") if e.staff_code == "OP2" and e.day.day in (5, 6) else e
        for e in scenario.roster
    )
    edited = replace(scenario, staff=staff, roster=roster, holidays=scenario.holidays[1:])
    bob = Repository(open_database(url), user="bob")
    bob.save_scenario(edited, expected_version=1, reason="OP1 30 h a week; OP2 on leave")
    alice.save_plan(sample_plan(), current=True, reason="weekly plan, week 2")
    dialog = AuditDialog(alice)
    dialog.reload()
    while dialog._worker is not None:
        app.processEvents()
        time.sleep(0.02)
    dialog.show()
    app.processEvents()
    dialog.view.scrollToBottom()
    app.processEvents()
    dialog.grab().save(str(out))
    print(f"Wrote {out} ({dialog.status.text()})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "audit-trail.png")
