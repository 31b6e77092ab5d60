"""Backup and restore of a whole atmp-planner database (audit trail included) as one
gzip'd JSON file, between SQLite and PostgreSQL in either direction.

The backup is a consistent snapshot (one read transaction) and carries the schema
revision and the digest of every row (data.integrity); restore loads it into an empty
database in one transaction, keeps every id, checks the digest before committing and
leaves nothing behind if anything fails.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Engine, Integer, func, insert, select, text

from data.db import current_revision
from data.integrity import connection_digest
from data.orm import Base

FORMAT = "atmp-planner backup"
FORMAT_VERSION = 1


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why and what to do."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decoder(column_type: Any) -> Any:
    if isinstance(column_type, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(column_type, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return lambda v: v


def write_backup(engine: Engine, path: Path) -> dict[str, int]:
    """Write every row of every table to path (replaced atomically); rows per table."""
    tables: dict[str, Any] = {}
    counts: dict[str, int] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        revision = current_revision(connection)
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            rows = [
                [_encode(v) for v in row]
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            tables[table.name] = {"columns": columns, "rows": rows}
            counts[table.name] = len(rows)
        digest = connection_digest(connection)  # of the same snapshot
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "revision": revision,
        "created": datetime.now(UTC).isoformat(),
        "digest": digest,
        "tables": tables,
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with gzip.open(partial, "wt", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, separators=(",", ":"))
        os.replace(partial, path)  # a killed backup leaves no half-written file under path
    finally:
        partial.unlink(missing_ok=True)
    return counts


def read_backup(path: Path) -> dict[str, Any]:
    """The backup document in path, checked to be one."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            document = json.load(source)
    except FileNotFoundError:
        raise BackupError(f"no backup file {path}") from None
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as error:
        raise BackupError(
            f"{path} is not an atmp-planner backup (cannot read it: {error})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f"{path} is not an atmp-planner backup")
    if document.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a backup format {document.get('format_version')!r} this atmp-planner "
            f"does not read (it reads {FORMAT_VERSION})"
        )
    return document


def restore_backup(engine: Engine, path: Path) -> dict[str, int]:
    """Load a backup into the (migrated, empty) database of engine; rows per table.

    Refuses (BackupError) a database holding any row, a backup of another schema
    revision, and a backup whose rows no longer match its digest (edited by hand).
    """
    document = read_backup(path)
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        revision = current_revision(connection)
        if document.get("revision") != revision:
            raise BackupError(
                f"{path} holds schema revision {document.get('revision')!r} but this "
                f"database is at {revision!r}: restore it with the atmp-planner that made it"
            )
        held = {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
        if any(held.values()):
            raise BackupError(
                f"the database is not empty ({held['scenario']} scenarios, {held['plan']} "
                f"plans, {held['audit_record']} audit records; {sum(held.values())} rows): "
                "restore only into an empty database; nothing was changed"
            )
        stored = document.get("tables", {})
        for table in Base.metadata.sorted_tables:
            part = stored.get(table.name)
            try:
                columns = [table.columns[name] for name in part["columns"]]
                decoders = [_decoder(c.type) for c in columns]
                rows = [
                    {c.name: f(v) for c, f, v in zip(columns, decoders, row, strict=True)}
                    for row in part["rows"]
                ]
            except (KeyError, TypeError, ValueError) as error:
                raise BackupError(
                    f"{path}: table {table.name} is damaged ({type(error).__name__}: {error}); "
                    "nothing was restored"
                ) from None
            if rows:
                connection.execute(insert(table), rows)
            counts[table.name] = len(rows)
            _advance_sequence(connection, table)
        if connection_digest(connection) != document.get("digest"):
            raise BackupError(
                f"{path} does not match its own digest: it was edited or damaged; nothing "
                "was restored"
            )
    return counts


def _advance_sequence(connection: Connection, table: Any) -> None:
    """PostgreSQL: move an id sequence past the restored ids, so new rows get new ids."""
    if connection.dialect.name != "postgresql":
        return
    for column in table.primary_key.columns:
        if isinstance(column.type, Integer) and column.autoincrement is not False:
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                ),
                {"t": table.name, "c": column.name},
            )
