"""Where the database lives, how to connect to it and how to migrate it (Alembic)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, make_url

#: Environment variable naming the database URL when no --db is given.
ENV_VAR = "ATMP_PLANNER_DB"
APP_NAME = "atmp-planner"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be opened, reached or migrated; the message names the URL."""


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def default_url() -> str:
    """The SQLite file in the user's data directory (the directory is created)."""
    directory = Path(platformdirs.user_data_dir(APP_NAME))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'atmp-planner.sqlite'}"


def resolve_url(cli_value: str | None) -> str:
    """The database URL: --db if given, else $ATMP_PLANNER_DB, else the default SQLite file."""
    if cli_value:
        return cli_value
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    return default_url()


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An Engine for the URL; SQLite connections enforce foreign keys."""
    try:
        engine = create_engine(url)
    except (exc.ArgumentError, ImportError) as error:
        raise DatabaseError(f"Invalid database URL {mask_url(url)}: {error}") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run(engine_or_url: Engine | str, action: str, revision: str) -> None:
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    except exc.OperationalError as error:
        raise DatabaseError(
            f"Cannot reach database {mask_url(str(engine.url))}: {_first_line(error)}"
        ) from error
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Migrate the database up to a revision (the newest by default)."""
    _run(engine_or_url, "upgrade", revision)


def downgrade(engine_or_url: Engine | str, revision: str = "base") -> None:
    """Migrate the database down to a revision ("base" drops every table)."""
    _run(engine_or_url, "downgrade", revision)


def open_database(url: str) -> Engine:
    """An Engine on the URL with the schema migrated to the newest revision."""
    engine = make_engine(url)
    upgrade(engine)
    return engine
