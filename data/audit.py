"""The audit trail in the database: appended in the writer's own transaction, chained by
SHA-256 (each record's hash covers its contents and the hash before it), verified whole.

Appending takes the head row's lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
write lock every writing transaction takes first), so records get gap-free numbers in
commit order even with many writers.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.orm import AuditHeadRow, AuditRecordRow
from planner.audit import AuditCheck, AuditEntry, AuditFilter

#: Environment variable naming the user recorded in the audit trail (else the OS login).
USER_ENV_VAR = "ATMP_PLANNER_USER"
#: The hash before the first record.
GENESIS = "0" * 64
#: Longest user name and reason stored.
MAX_USER = 200
MAX_REASON = 2000


def default_user() -> str:
    """The user to record: $ATMP_PLANNER_USER, else the OS login name."""
    named = os.environ.get(USER_ENV_VAR, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container without a passwd entry)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def check_user(name: str) -> str:
    """A user name as stored: trimmed, 1 to MAX_USER characters, one line."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_USER or any(c in name for c in "\r\n"):
        raise ValueError(f"a user name is one line of 1-{MAX_USER} characters: {name[:40]!r}")
    return name


def check_reason(reason: str | None) -> str | None:
    """A reason as stored: None or trimmed text of at most MAX_REASON characters."""
    if reason is None or not reason.strip():
        return None
    if len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters (got {len(reason)})")
    return reason.strip()


@dataclass(frozen=True)
class Change:
    """One change to record; values are plain Python (dates, lists) or None."""

    action: str
    entity: str
    key: str
    field: str | None = None
    old: Any = None
    new: Any = None


def encode(value: Any) -> str | None:
    """A value as the JSON text stored in the trail (dates ISO 8601); None stays None."""
    if value is None:
        return None
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot record a {type(value).__name__} in the audit trail")


def record_hash(row: AuditRecordRow) -> str:
    """SHA-256 over every column of a record but its own hash, previous hash included."""
    content = [
        row.seq,
        row.at.isoformat(),
        row.user_name,
        row.action,
        row.entity,
        row.entity_key,
        row.scenario,
        row.scenario_version,
        row.field,
        row.old_value,
        row.new_value,
        row.reason,
        row.prev_hash,
    ]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _head(session: Session) -> AuditHeadRow:
    """The head row, locked for this transaction (made on the first append)."""
    head = session.scalars(select(AuditHeadRow).with_for_update()).one_or_none()
    if head is None:
        head = AuditHeadRow(last_seq=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(
    session: Session,
    user: str,
    changes: Sequence[Change],
    *,
    scenario: str | None = None,
    scenario_version: int | None = None,
    reason: str | None = None,
) -> None:
    """Append records for the changes, in the caller's transaction (so they are committed
    exactly when the changes are). Call it last in a transaction: it locks the head."""
    if not changes:
        return
    session.flush()  # the changes first; then the head lock is held as briefly as can be
    head = _head(session)
    at = datetime.now(UTC).replace(tzinfo=None)
    seq, previous = head.last_seq, head.last_hash
    rows = []
    for change in changes:
        seq += 1
        row = AuditRecordRow(
            seq=seq,
            at=at,
            user_name=user,
            action=change.action,
            entity=change.entity,
            entity_key=change.key,
            scenario=scenario,
            scenario_version=scenario_version,
            field=change.field,
            old_value=encode(change.old),
            new_value=encode(change.new),
            reason=reason,
            prev_hash=previous,
            hash="",
        )
        row.hash = previous = record_hash(row)
        rows.append(row)
    session.add_all(rows)
    head.last_seq, head.last_hash = seq, previous
    session.flush()


def verify(session: Session) -> AuditCheck:
    """Check every record: its hash against its contents, its link to the record before,
    numbers 1, 2, 3... without gaps, and the last one against the head."""
    problems: list[str] = []
    expected_seq, previous = 1, GENESIS
    count = 0
    for row in session.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq)):
        count += 1
        when = f"{row.at:%Y-%m-%d %H:%M:%S} UTC"
        where = f"audit record #{row.seq} ({when}, {row.entity} {row.entity_key})"
        if row.seq != expected_seq:
            problems.append(
                f"{where}: expected record #{expected_seq} here; records were deleted or renumbered"
            )
        if row.prev_hash != previous:
            problems.append(
                f"{where}: does not follow the record before it (previous hash differs); "
                "a record before it was edited, deleted or moved"
            )
        if record_hash(row) != row.hash:
            problems.append(f"{where}: its contents do not match its hash; it was edited")
        expected_seq, previous = row.seq + 1, row.hash
    head = session.scalars(select(AuditHeadRow)).all()
    if len(head) > 1:
        problems.append(f"the audit head has {len(head)} rows instead of one; it was tampered with")
    last_seq, last_hash = (head[0].last_seq, head[0].last_hash) if head else (0, GENESIS)
    if (last_seq, last_hash) != (expected_seq - 1, previous):
        problems.append(
            f"the audit trail ends at record #{expected_seq - 1} but its head says "
            f"#{last_seq}: records at the end were deleted or added, or the head was edited"
        )
    return AuditCheck(count, previous if count else "", tuple(problems))


def entries(session: Session, which: AuditFilter) -> list[AuditEntry]:
    """The records the filter selects, oldest first (the newest `limit` if limited)."""
    query = select(AuditRecordRow)
    if which.entity is not None:
        query = query.where(AuditRecordRow.entity == which.entity)
    if which.key is not None:
        query = query.where(AuditRecordRow.entity_key == which.key)
    if which.scenario is not None:
        query = query.where(AuditRecordRow.scenario == which.scenario)
    if which.user is not None:
        query = query.where(AuditRecordRow.user_name == which.user)
    if which.since is not None:
        query = query.where(AuditRecordRow.at >= which.since.astimezone(UTC).replace(tzinfo=None))
    if which.limit is not None:
        query = query.order_by(AuditRecordRow.seq.desc()).limit(which.limit)
        rows = list(reversed(session.scalars(query).all()))
    else:
        rows = list(session.scalars(query.order_by(AuditRecordRow.seq)))
    return [_entry(row) for row in rows]


def _entry(row: AuditRecordRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at.replace(tzinfo=UTC),
        user=row.user_name,
        action=row.action,
        entity=row.entity,
        key=row.entity_key,
        scenario=row.scenario,
        scenario_version=row.scenario_version,
        field=row.field,
        old=row.old_value,
        new=row.new_value,
        reason=row.reason,
    )
