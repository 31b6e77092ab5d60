"""The audit trail as the domain sees it: entries, a filter, verification results and
their printed forms. Storage and hashing live in data.audit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

#: What an entry records.
ACTIONS = ("create", "update", "delete", "save", "import", "solve", "choose")


@dataclass(frozen=True)
class AuditEntry:
    """One record of the audit trail; values are JSON text (None: no value)."""

    seq: int
    at: datetime  # timezone-aware, UTC
    user: str
    action: str
    entity: str
    key: str
    scenario: str | None = None
    scenario_version: int | None = None
    field: str | None = None
    old: str | None = None
    new: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """What changed, in words: `field: old -> new`, `created {...}`, ..."""
        if self.field is not None:
            return f"{self.field}: {_short(self.old)} -> {_short(self.new)}"
        if self.action == "create":
            return f"created {_short(self.new)}"
        if self.action == "delete":
            return f"deleted {_short(self.old)}"
        return _short(self.new) if self.new is not None else ""


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; None: any."""

    entity: str | None = None
    key: str | None = None
    scenario: str | None = None
    user: str | None = None
    since: datetime | None = None  # timezone-aware
    limit: int | None = None


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of verifying the chain: intact when there are no problems."""

    records: int
    head_hash: str
    problems: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        """Whether every record is as it was appended, none missing or moved."""
        return not self.problems


def shown(value: str | None) -> str:
    """A stored JSON value as people read it: a text without its quotes, else the JSON."""
    if value is None:
        return ""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def _short(value: str | None, width: int = 60) -> str:
    if value is None:
        return "(none)"
    text = shown(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_audit(entries: Sequence[AuditEntry]) -> str:
    """A table of entries, oldest first, times in UTC."""
    if not entries:
        return "No audit records match."
    header = (
        f"{'#':>6}  {'time (UTC)':<19}  {'user':<12} {'action':<7} {'entity':<18} "
        f"{'key':<22} change"
    )
    lines = [header, "-" * len(header)]
    for e in entries:
        line = (
            f"{e.seq:>6}  {e.at:%Y-%m-%d %H:%M:%S}  {e.user[:12]:<12} {e.action:<7} "
            f"{e.entity[:18]:<18} {e.key[:22]:<22} {e.describe()}"
        )
        if e.reason:
            line += f"  (reason: {e.reason})"
        lines.append(line.rstrip())
    return "\n".join(lines)


def format_check(check: AuditCheck) -> str:
    """Verification result: one line when intact, else one line per problem."""
    if check.intact:
        return (
            f"Audit trail intact: {check.records} records, every hash and link checked; "
            f"head {check.head_hash or '(empty)'}"
        )
    return "\n".join(check.problems)
