"""The audit trail: every change recorded with who, when, what and why; append-only and
hash-chained, so that any edited, deleted or reordered record is found (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text

from data import audit
from data.orm import AuditRecordRow
from data.repository import Repository, RepositoryError
from planner.audit import AuditFilter, format_audit
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario
from tests.reliability.campaigns import TAMPER_EDITS, tamper_campaign, tampered


@pytest.fixture
def history(engine: Engine) -> Repository:
    """A database with a scenario imported, edited twice, a plan saved and one chosen."""
    repo = Repository(engine, user="alice")
    scenario = rich_scenario()
    repo.save_scenario(scenario, reason="first load", source="rich.xlsx")
    staff = (replace(scenario.staff[0], contracted_hours_per_week=30.0), *scenario.staff[1:])
    edited = replace(scenario, staff=staff, holidays=scenario.holidays[1:])
    Repository(engine, user="bob").save_scenario(edited, expected_version=1, reason="part time")
    first = repo.save_plan(sample_plan(), current=True, reason="weekly plan")
    repo.save_plan(sample_plan(), current=True)
    repo.make_current(first, "rich", reason="back to the first")
    return repo


def test_an_edit_is_recorded_field_by_field_with_user_time_and_reason(
    history: Repository,
) -> None:
    """Bob's save: one update record (old and new value) and one delete, with his reason."""
    bobs = history.audit_entries(AuditFilter(user="bob"))
    assert [(e.action, e.entity, e.key, e.field) for e in bobs] == [
        ("update", "staff_member", "OP1", "contracted_hours_per_week"),
        ("delete", "holiday", bobs[1].key, None),
        ("save", "scenario", "rich", None),
    ]
    update = bobs[0]
    assert (update.old, update.new) == ("40.0", "30.0")
    assert update.reason == "part time" and update.scenario == "rich"
    assert update.scenario_version == 2
    assert datetime.now(UTC) - update.at < timedelta(minutes=5)
    assert json.loads(bobs[2].new or "") == {"version": 2, "created": 0, "updated": 1, "deleted": 1}


def test_imports_solves_and_choices_are_recorded(history: Repository) -> None:
    """The import names its file; each plan saved and each choice of plan has a record."""
    imports = history.audit_entries(AuditFilter(entity="scenario"))
    assert imports[0].action == "create"
    assert imports[1].action == "import" and json.loads(imports[1].new or "")["file"] == "rich.xlsx"
    plans = history.audit_entries(AuditFilter(entity="plan"))
    assert [(e.action, e.field, e.old, e.new) for e in plans] == [
        ("solve", None, None, plans[0].new),
        ("choose", "current", None, '"#1"'),
        ("solve", None, None, plans[2].new),
        ("choose", "current", '"#1"', '"#2"'),
        ("choose", "current", '"#2"', '"#1"'),
    ]
    assert plans[0].reason == "weekly plan" and plans[-1].reason == "back to the first"
    assert json.loads(plans[0].new or "")["scheduled"] == "2/9"


def test_a_first_save_records_every_row_it_creates(history: Repository) -> None:
    """Creating a scenario records one create per row (roster entries included)."""
    scenario = rich_scenario()
    created = history.audit_entries(AuditFilter(entity="roster_entry"))
    assert len(created) == len(scenario.roster)
    assert {e.action for e in created} == {"create"}


def test_filters_and_the_printed_table(history: Repository) -> None:
    """--entity, --since and --last select; the table shows user, change and reason."""
    assert history.audit_entries(AuditFilter(since=datetime.now(UTC) + timedelta(hours=1))) == []
    last = history.audit_entries(AuditFilter(limit=2))
    assert [e.seq for e in last] == [e.seq for e in history.audit_entries()][-2:]
    printed = format_audit(history.audit_entries(AuditFilter(user="bob")))
    assert "contracted_hours_per_week: 40.0 -> 30.0  (reason: part time)" in printed
    assert "bob" in printed.splitlines()[2]


def test_an_untouched_trail_verifies(history: Repository) -> None:
    """The trail as written verifies, with its record count and head hash."""
    check = history.verify_audit()
    assert check.intact, check.problems
    assert check.records == len(history.audit_entries())
    assert len(check.head_hash) == 64


def test_editing_any_field_of_any_record_is_detected_naming_it(
    history: Repository, engine: Engine
) -> None:
    """For every column of 6 records picked at random (seeded; first and last included),
    one raw UPDATE makes verify fail naming that record; so do 6 deletions and 6 swaps;
    the trail is intact again after each (rolled back)."""
    stats = tamper_campaign(engine, seed=14, records=6)
    assert stats.misses == []
    assert stats.cases == {"edit": 6 * len(TAMPER_EDITS), "delete": 6, "reorder": 6}
    assert stats.detected == stats.cases and stats.named == stats.cases
    assert history.verify_audit().intact


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_deleted_record_is_detected(history: Repository, engine: Engine, where: str) -> None:
    """Deleting the first, a middle or the last record fails verification, saying where."""
    seqs = [e.seq for e in history.audit_entries()]
    seq = {"first": seqs[0], "middle": seqs[len(seqs) // 2], "last": seqs[-1]}[where]
    intact, problems = tampered(
        engine, lambda c: c.execute(text("DELETE FROM audit_record WHERE seq = :s"), {"s": seq})
    )
    assert not intact
    expected = f"ends at record #{seq - 1}" if where == "last" else f"expected record #{seq}"
    assert expected in problems, problems


def test_swapped_records_are_detected(history: Repository, engine: Engine) -> None:
    """Two records swapping their places (their numbers) fails verification naming both."""
    entries = history.audit_entries()
    a, b = entries[3].seq, entries[10].seq

    def swap(c: Connection) -> None:
        c.execute(text("UPDATE audit_record SET seq = -1 WHERE seq = :a"), {"a": a})
        c.execute(text("UPDATE audit_record SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
        c.execute(text("UPDATE audit_record SET seq = :b WHERE seq = -1"), {"b": b})

    intact, problems = tampered(engine, swap)
    assert not intact
    assert f"audit record #{a} " in problems and f"audit record #{b} " in problems


def test_a_forged_head_is_detected(history: Repository, engine: Engine) -> None:
    """A head that no longer matches the last record fails verification."""
    intact, problems = tampered(
        engine, lambda c: c.execute(text("UPDATE audit_head SET last_seq = last_seq + 1"))
    )
    assert not intact and "its head says" in problems


def test_records_are_appended_never_rewritten(history: Repository) -> None:
    """Later changes leave earlier records exactly as they were."""
    before = history.audit_entries()
    history.save_scenario(rich_scenario(), reason="undo")
    assert history.audit_entries()[: len(before)] == before


def test_the_audit_record_row_has_no_version_counter() -> None:
    """Records are never updated, so they carry no optimistic-concurrency version."""
    assert "version" not in AuditRecordRow.__table__.columns


def test_bad_user_names_and_reasons_are_refused_in_one_line(engine: Engine) -> None:
    """An empty or multi-line user, an over-long reason: RepositoryError, nothing stored."""
    with pytest.raises(RepositoryError, match="user name is one line"):
        Repository(engine, user="a\nb")
    repo = Repository(engine, user="carol")
    with pytest.raises(RepositoryError, match="at most 2000 characters"):
        repo.save_scenario(rich_scenario(), reason="x" * 2001)
    assert repo.list_scenarios() == [] and repo.audit_entries() == []


def test_the_user_defaults_to_the_environment_then_the_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """$ATMP_PLANNER_USER wins; without it the OS login name (getpass) is recorded."""
    monkeypatch.setenv(audit.USER_ENV_VAR, "dana")
    assert audit.default_user() == "dana"
    monkeypatch.delenv(audit.USER_ENV_VAR)
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "login-name")
    assert audit.default_user() == "login-name"


def test_publication_and_pins_are_recorded(history: Repository) -> None:
    """Publishing a plan (with its reason) and adding and removing a pin are audited, and
    the chain stays intact."""
    from planner.replan import Pin

    (plan_id, *_) = history.plan_ids("rich")
    history.publish(plan_id, "rich", reason="weekly planning board")
    history.add_pin("rich", Pin("P1", "seed"))
    history.remove_pins("rich", "P1", None)
    records = history.audit_entries()
    published = [e for e in records if e.action == "publish"]
    assert len(published) == 1 and published[0].new == f'"#{plan_id}"'
    assert published[0].reason == "weekly planning board"
    pins = [(e.action, e.key) for e in records if e.entity == "pin"]
    assert pins == [("create", "P1/seed"), ("delete", "P1/seed")]
    assert history.verify_audit().intact
