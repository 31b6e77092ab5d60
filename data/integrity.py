"""A fingerprint of everything a database holds, to show that nothing changed or was lost."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from data.orm import Base


def _canonical(value: Any) -> str:
    """One spelling per value whatever the backend (dates ISO 8601, the rest by repr)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


def table_digests(connection: Connection) -> dict[str, str]:
    """SHA-256 per table over every row in primary-key order, read on this connection
    (inside its transaction, so a consistent snapshot if it is one)."""
    digests: dict[str, str] = {}
    for table in Base.metadata.sorted_tables:
        sha = hashlib.sha256()
        query = select(table).order_by(*table.primary_key.columns)
        for row in connection.execute(query):
            sha.update("\x1f".join(_canonical(v) for v in row).encode())
            sha.update(b"\x1e")
        digests[table.name] = sha.hexdigest()
    return digests


def connection_digest(connection: Connection) -> str:
    """SHA-256 over every row of every atmp-planner table: equal digests, equal contents."""
    sha = hashlib.sha256()
    for name, digest in sorted(table_digests(connection).items()):
        sha.update(f"{name}={digest}\n".encode())
    return sha.hexdigest()


def database_digest(engine: Engine) -> str:
    """connection_digest read in a transaction of its own."""
    with engine.connect() as connection:
        return connection_digest(connection)
