"""Tools > Audit trail…: the records in a table with filters, read off the GUI thread, and
the chain check (pytest-qt, offscreen, a real SQLite repository)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from data.db import open_database
from data.repository import Repository
from tests.factories import tiny_scenario
from ui.audit_view import AuditDialog, AuditTableModel
from ui.main_window import MainWindow

TIMEOUT_MS = 30_000


@pytest.fixture
def store(tmp_path: Path) -> Repository:
    """A repository where alice stored tiny and bob gave OP1 fewer hours, with a reason."""
    repo = Repository(open_database(f"sqlite:///{tmp_path / 'ui.sqlite'}"), user="alice")
    scenario = tiny_scenario()
    repo.save_scenario(scenario, reason="first load")
    staff = (replace(scenario.staff[0], contracted_hours_per_week=30.0), *scenario.staff[1:])
    bob = Repository(open_database(f"sqlite:///{tmp_path / 'ui.sqlite'}"), user="bob")
    bob.save_scenario(replace(scenario, staff=staff), reason="OP1 part time")
    return repo


def _loaded(qtbot, dialog: AuditDialog) -> None:
    """Wait until the dialog's read has ended."""
    qtbot.waitUntil(lambda: dialog._worker is None, timeout=TIMEOUT_MS)


def test_tools_menu_opens_the_trail_with_every_record(qtbot, store: Repository) -> None:
    """Tools > Audit trail… lists every record, newest last, with user, change and reason."""
    window = MainWindow(tiny_scenario(), store=store)
    qtbot.addWidget(window)
    assert window.audit_action.isEnabled()
    assert "Audit trail…" in [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    dialog = window.audit_dialog()
    assert dialog is not None
    qtbot.addWidget(dialog)
    _loaded(qtbot, dialog)
    model = dialog.model
    assert model.rowCount() == len(store.audit_entries())
    last = model.row_object(model.rowCount() - 1)
    assert (last.user, last.action, last.entity) == ("bob", "save", "scenario")
    change = model.row_object(model.rowCount() - 2)
    row = model.rowCount() - 2
    cells = [model.index(row, model.column(k)).data() for k in ("user", "field", "old", "new")]
    assert cells == ["bob", "contracted_hours_per_week", "40.0", "30.0"]
    assert change.reason == "OP1 part time"
    assert dialog.status.text() == f"{model.rowCount()} records"


def test_filters_select_by_entity_user_and_text(qtbot, store: Repository) -> None:
    """Entity and user filters re-read from the database; the text filter narrows rows."""
    dialog = AuditDialog(store)
    qtbot.addWidget(dialog)
    dialog.reload()
    _loaded(qtbot, dialog)
    dialog.entity_combo.setCurrentText("staff_member")
    _loaded(qtbot, dialog)
    assert {dialog.model.row_object(i).entity for i in range(dialog.model.rowCount())} == {
        "staff_member"
    }
    dialog.user_edit.setText("bob")
    dialog.user_edit.editingFinished.emit()
    _loaded(qtbot, dialog)
    assert dialog.model.rowCount() == 1
    dialog.user_edit.setText("")
    dialog.entity_combo.setCurrentIndex(0)
    _loaded(qtbot, dialog)
    assert dialog.model.rowCount() == len(store.audit_entries())
    dialog.text_edit.setText("part time")
    assert dialog.proxy.rowCount() == 2  # bob's change and his save, both with the reason
    assert dialog.status.text() == f"2 of {dialog.model.rowCount()} records"


def test_verify_says_intact_then_tampered(qtbot, store: Repository, tmp_path: Path) -> None:
    """Verify chain: intact on the trail as written; after a raw SQL edit, TAMPERED with
    the record named."""
    dialog = AuditDialog(store)
    qtbot.addWidget(dialog)
    dialog.reload()
    _loaded(qtbot, dialog)
    dialog.verify()
    _loaded(qtbot, dialog)
    assert dialog.status.text().startswith("Chain intact: ")
    engine = open_database(f"sqlite:///{tmp_path / 'ui.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_record SET user_name = 'mallory' WHERE seq = 3"))
    engine.dispose()
    dialog.verify()
    _loaded(qtbot, dialog)
    assert dialog.status.text().startswith("TAMPERED: ")
    assert "audit record #3 " in dialog.status.text()
    assert dialog.verify_button.isEnabled()


def test_the_model_names_its_columns() -> None:
    """The table has the columns an inspector asks for, by key."""
    assert AuditTableModel().column_keys() == [
        "seq",
        "at",
        "user",
        "action",
        "entity",
        "key",
        "field",
        "old",
        "new",
        "reason",
    ]


def test_render_the_viewer_to_png(qtbot, store: Repository, tmp_path: Path) -> None:
    """The viewer renders offscreen to a non-empty PNG (docs/audit-trail.png is one)."""
    dialog = AuditDialog(store)
    qtbot.addWidget(dialog)
    dialog.reload()
    _loaded(qtbot, dialog)
    dialog.show()
    path = tmp_path / "audit.png"
    assert dialog.grab().save(str(path))
    assert path.stat().st_size > 10_000
