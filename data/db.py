"""Where the database lives, how to connect to it and how to migrate it (Alembic)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import URL, Connection, Engine, create_engine, event, exc, inspect, make_url

if TYPE_CHECKING:
    from alembic.config import Config

#: Environment variable naming the database URL when no --db is given.
ENV_VAR = "ATMP_PLANNER_DB"
APP_NAME = "atmp-planner"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest schema revision (checked against the migrations by a test). A database at
#: it opens without Alembic, which takes about a second to import.
SCHEMA_HEAD = "0009"

#: PostgreSQL: seconds to wait for a server to answer a new connection, unless the URL says.
CONNECT_TIMEOUT_S = 10
#: PostgreSQL: longest a single statement may run (ms), unless the URL's options say.
STATEMENT_TIMEOUT_MS = 60_000

_NO_DATABASE_HINT = "run `atmp-planner demo` or give --db"


class DatabaseError(Exception):
    """The database cannot be opened, reached or migrated; the message names the URL."""


def mask_url(url: str | URL) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):
        # Unparseable (bad port, broken IPv6 host): mask everything between "user:" and
        # the last "@" by hand.
        return re.sub(r"^([^:/]*://[^:/@]*:)[^/]*@", r"\1***@", url)


def default_url() -> str:
    """The SQLite file in the user's data directory (the directory is created)."""
    directory = Path(platformdirs.user_data_dir(APP_NAME))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(
            f"cannot create the data directory {directory} ({error.strerror}); give --db"
        ) from error
    return f"sqlite:///{directory / 'atmp-planner.sqlite'}"


def resolve_url(cli_value: str | None) -> str:
    """The database URL: --db if given, else $ATMP_PLANNER_DB, else the default SQLite file."""
    if cli_value:
        return cli_value
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    return default_url()


def sqlite_path(url: str | URL) -> Path | None:
    """The file a SQLite URL names, or None (in-memory databases, other databases)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if name.startswith("file:") and parsed.query.get("uri") == "true":
        name = name.removeprefix("file:")
        if "mode=memory" in name:
            return None
    if name in ("", ":memory:"):
        return None
    return Path(name)


#: SQLite: milliseconds a connection waits for another one's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Execution option asking SQLite to take the write lock when a transaction begins.
SQLITE_BEGIN_IMMEDIATE = "atmp_begin_immediate"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on, write-ahead log, and transactions that SQLAlchemy (not the driver)
    begins, so that reads and writes of one unit of work are one transaction."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # FULL: a commit survives a power cut too, not only a killed process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    """BEGIN IMMEDIATE for writing units of work: the write lock first, so two writers queue
    instead of one failing when its earlier read became stale."""
    immediate = connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _with_postgres_timeouts(url: URL) -> URL:
    """A PostgreSQL URL with a connect timeout and a statement timeout, unless it sets them."""
    query: dict[str, str] = {}
    if "connect_timeout" not in url.query:
        query["connect_timeout"] = str(CONNECT_TIMEOUT_S)
    options = str(url.query.get("options", ""))
    if "statement_timeout" not in options:
        query["options"] = f"{options} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
    return url.update_query_dict(query) if query else url


def make_engine(url: str) -> Engine:
    """An Engine for the URL; SQLite connections enforce foreign keys and use WAL.

    PostgreSQL connections give up after CONNECT_TIMEOUT_S seconds and stop any statement
    after STATEMENT_TIMEOUT_MS, unless the URL sets connect_timeout or
    options=-c statement_timeout=... itself.
    """
    if "://" not in url:
        shown = re.sub(r"^[^@/]*:[^@]*@", "***@", url)  # user:password@host without a scheme
        raise DatabaseError(
            f"not a database URL: {shown!r}; for a SQLite file give sqlite:///{shown}"
        )
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            parsed = _with_postgres_timeouts(parsed)
        engine = create_engine(parsed)
    except (exc.ArgumentError, ImportError, ValueError) as error:
        raise DatabaseError(f"invalid database URL {mask_url(url)}: {error}") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def describe_error(engine: Engine, error: exc.DBAPIError) -> str:
    """One line saying what went wrong with the database and what to do about it."""
    reason = _first_line(error)
    where = mask_url(engine.url)
    path = sqlite_path(engine.url)
    if path is not None:
        lowered = reason.lower()
        if "not a database" in lowered or "malformed" in lowered or "disk i/o" in lowered:
            return (
                f"the SQLite file {path} is damaged or not a database ({reason}); "
                "restore it from a backup or give another --db"
            )
        if "readonly" in lowered or "read-only" in lowered:
            return f"cannot write to the SQLite file {path} ({reason}); give a writable --db"
        if "locked" in lowered or "busy" in lowered:
            return f"the SQLite file {path} is in use by another program ({reason}); try again"
        if "no such table" in lowered or "no such column" in lowered:
            return (
                f"the SQLite file {path} is damaged or not an atmp-planner database ({reason}); "
                "restore it from a backup or give another --db"
            )
        return f"cannot open the SQLite file {path} ({reason}); check the path and --db"
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return f"cannot reach database {where}: {reason}"
    return f"database error on {where}: {reason}"


def _use_wal(engine: Engine) -> None:
    """Switch a SQLite file to write-ahead logging (stored in the file, so once is enough).

    With WAL a killed writer never leaves a half-written main file, and readers do not wait
    for a writer. Only done to atmp-planner's own databases, when they are migrated.
    """
    if engine.dialect.name != "sqlite" or sqlite_path(engine.url) is None:
        return
    # On the driver's connection: the mode cannot change inside a transaction.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
    finally:
        raw.close()


def _run(engine_or_url: Engine | str, action: str, revision: str) -> None:
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    config = alembic_config()
    try:
        if action == "upgrade":
            _use_wal(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    except exc.DBAPIError as error:
        raise DatabaseError(describe_error(engine, error)) from error
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


def _regrant(engine: Engine) -> None:
    """After an upgrade of a shared database: the group roles' privileges on the new
    tables too (else only `users setup-postgres` run again would give them)."""
    from sqlalchemy.orm import Session

    from data.access import regrant_after_upgrade

    with Session(engine) as session, session.begin():
        regrant_after_upgrade(session)


def _check_sqlite_file(path: Path, create: bool) -> None:
    """Refuse a path that is no database file, and a missing or empty one unless create."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if create:
            return
        raise DatabaseError(f"no database at {path}; {_NO_DATABASE_HINT}") from None
    except OSError as error:
        raise DatabaseError(f"cannot open the SQLite file {path} ({error.strerror})") from error
    if stat.S_ISDIR(mode):
        raise DatabaseError(f"{path} is a directory, not a database file; give a file as --db")
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"{path} is not a regular file, so not a database; give another --db")
    if not create and path.stat().st_size == 0:
        raise DatabaseError(f"no database at {path} (the file is empty); {_NO_DATABASE_HINT}")


def current_revision(connection: Connection, tables: set[str] | None = None) -> str | None:
    """The database's schema revision (None: no revision table, or an empty one); `tables`
    spares looking the table names up again."""
    if tables is None:
        tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        return None
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return str(rows[0][0]) if len(rows) == 1 else None


def _check_schema(connection: Connection, where: str, create: bool) -> str | None:
    """Refuse a database that is damaged, foreign, empty (unless create) or too new;
    its schema revision."""
    if connection.dialect.name == "sqlite":
        problems = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check(1)")]
        if problems != ["ok"]:
            first = " ".join(" ".join(problems).split())
            raise DatabaseError(
                f"the SQLite file {where} is damaged ({first}); "
                "restore it from a backup or give another --db"
            )
    tables = set(inspect(connection).get_table_names())
    revision = current_revision(connection, tables)
    if revision is None:
        if tables - {"alembic_version"}:
            raise DatabaseError(
                f"{where} is not an atmp-planner database (it holds other tables and no "
                "schema revision); give another --db"
            )
        if not create:
            raise DatabaseError(f"no atmp-planner database at {where}; {_NO_DATABASE_HINT}")
        return None
    if revision == SCHEMA_HEAD:
        return revision
    from alembic.script import ScriptDirectory

    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise DatabaseError(
            f"{where} was created by a newer atmp-planner (schema revision {revision!r}); "
            "upgrade atmp-planner to open it"
        )
    return revision


def open_database(url: str, *, create: bool = True) -> Engine:
    """An Engine on the URL with the schema migrated to the newest revision.

    Refuses (DatabaseError) a damaged database, one of another program, one made by a
    newer atmp-planner and, unless create, one that does not exist yet; without create no
    file is made and nothing is written to a database that is not atmp-planner's.
    """
    engine = make_engine(url)
    path = sqlite_path(engine.url)
    try:
        if path is not None:
            _check_sqlite_file(path, create)
        where = str(path) if path is not None else mask_url(engine.url)
        with engine.connect() as connection:
            revision = _check_schema(connection, where, create)
        if revision != SCHEMA_HEAD:
            upgrade(engine)
            if revision is not None and engine.dialect.name == "postgresql":
                _regrant(engine)
    except exc.DBAPIError as error:
        engine.dispose()
        raise DatabaseError(describe_error(engine, error)) from error
    except DatabaseError:
        engine.dispose()
        raise
    return engine
