"""The audit trail's printed forms: values as people read them, one line per record."""

from __future__ import annotations

from datetime import UTC, datetime

from planner.audit import AuditCheck, AuditEntry, format_audit, format_check, shown

AT = datetime(2027, 2, 3, 9, 12, 44, tzinfo=UTC)


def test_shown_unquotes_texts_and_keeps_other_json() -> None:
    """A JSON text loses its quotes; numbers, objects and non-JSON stay as stored."""
    assert shown('"D"') == "D"
    assert shown("40.0") == "40.0"
    assert shown('{"day": "2027-01-06"}') == '{"day": "2027-01-06"}'
    assert shown("not json") == "not json"
    assert shown(None) == ""


def test_describe_says_what_changed() -> None:
    """A field change shows old -> new; a creation or deletion the row; others the value."""
    update = AuditEntry(
        1, AT, "bob", "update", "staff_member", "OP1", field="hours", old="40.0", new="30.0"
    )
    assert update.describe() == "hours: 40.0 -> 30.0"
    created = AuditEntry(2, AT, "bob", "create", "holiday", "2027-01-06", new='{"name": "X"}')
    assert created.describe() == 'created {"name": "X"}'
    gone = AuditEntry(3, AT, "bob", "delete", "scenario", "rich")
    assert gone.describe() == "deleted (none)"
    long = AuditEntry(4, AT, "bob", "save", "scenario", "rich", new='"' + "x" * 100 + '"')
    assert len(long.describe()) == 60 and long.describe().endswith("…")


def test_format_audit_prints_one_line_per_record_with_the_reason() -> None:
    """Header, rule, then one line per record in UTC with the reason at the end."""
    entry = AuditEntry(
        7,
        AT,
        "bob",
        "update",
        "roster_entry",
        "OP2/2027-01-05",
        field="shift_code",
        old='"D"',
        new='"L"',
        reason="leave",
    )
    lines = format_audit([entry]).splitlines()
    assert len(lines) == 3
    assert lines[2].split() == [
        "7",
        "2027-02-03",
        "09:12:44",
        "bob",
        "update",
        "roster_entry",
        "OP2/2027-01-05",
        "shift_code:",
        "D",
        "->",
        "L",
        "(reason:",
        "leave)",
    ]
    assert format_audit([]) == "No audit records match."


def test_format_check_is_one_line_when_intact_else_the_problems() -> None:
    """Intact: one line with the count and head; tampered: the problems, one per line."""
    assert format_check(AuditCheck(3, "ab" * 32)).startswith("Audit trail intact: 3 records")
    broken = AuditCheck(3, "", ("record #2: edited", "record #3: moved"))
    assert not broken.intact
    assert format_check(broken) == "record #2: edited\nrecord #3: moved"
