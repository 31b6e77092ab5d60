"""Database fixtures: every storage test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from data.db import make_engine, upgrade
from data.repository import Repository

POSTGRES_ENV = "ATMP_TEST_POSTGRES_URL"


def _postgres_url() -> str:
    """The test PostgreSQL URL; skip without one, but fail in CI (it must really run)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        message = f"{POSTGRES_ENV} is not set, so the PostgreSQL tests cannot run."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI must test PostgreSQL.")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """An engine on a fresh, empty PostgreSQL schema of its own, dropped afterwards."""
    with postgres_schema() as engine:
        yield engine


@contextmanager
def postgres_schema() -> Iterator[Engine]:
    """An engine on a fresh, empty PostgreSQL schema of its own, dropped afterwards."""
    url = make_url(_postgres_url())
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new SQLite file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'test.sqlite'}")
    try:
        yield engine
    finally:
        engine.dispose()


_BACKEND_FIXTURES = {"sqlite": "sqlite_engine", "postgresql": "postgres_engine"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest) -> Engine:
    """An engine on an empty database, once per backend."""
    engine: Engine = request.getfixturevalue(_BACKEND_FIXTURES[request.param])
    return engine


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a database migrated to the newest schema, once per backend."""
    upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def repo(engine: Engine) -> Repository:
    """A repository on a migrated database, once per backend."""
    return Repository(engine)
