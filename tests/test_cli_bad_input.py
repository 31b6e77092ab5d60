"""Bad input on the command line: one error line, the right exit status, nothing written.

Damaged databases are real files (truncated, bit-flipped, overwritten), the silent server
is a real loopback socket, and the newer or odd databases are written with raw SQL.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from atmp_planner.cli import DEMO_NAME, main
from data.db import open_database
from data.excel_export import plan_span
from data.repository import Repository
from tests.factories import tiny_scenario

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--deterministic-time", "0.5", "--quiet"]
WEEK = ["--from", "2027-01-04", "--to", "2027-01-10"]
SECRET = "s3cret-pw"
POSTGRES_ENV = "ATMP_TEST_POSTGRES_URL"


@pytest.fixture
def db(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """A fresh copy of a SQLite file holding the tiny scenario (under the demo's name, which
    every command uses by default) and one current plan."""
    source = tmp_path_factory.getbasetemp() / "bad-input-source.sqlite"
    if not source.exists():
        building = source.with_suffix(".building")
        repo = Repository(open_database(f"sqlite:///{building}"))
        repo.save_scenario(tiny_scenario(name=DEMO_NAME))
        repo.close()  # one self-contained file (no write-ahead log beside it) to copy
        assert main(["--db", f"sqlite:///{building}", "solve", *FAST]) == 0
        building.rename(source)
    copy = tmp_path / "planner.sqlite"
    shutil.copy(source, copy)
    return copy


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def run(argv: list[str], timeout: float = 30) -> tuple[int, list[str]]:
    """The CLI in a subprocess (where a traceback cannot hide): exit status, stderr lines."""
    done = subprocess.run(
        [sys.executable, "-m", "atmp_planner", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return done.returncode, done.stderr.strip().splitlines()


def in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """The CLI in this process: exit status (argument errors included), stderr lines."""
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exited:
        status = int(exited.code or 0)
    return status, capsys.readouterr().err.strip().splitlines()


def assert_one_line(err: list[str], *words: str) -> None:
    """Exactly one line of the form `atmp-planner: error: ...` holding every word."""
    assert len(err) == 1, err
    assert err[0].startswith("atmp-planner: error: "), err
    for word in words:
        assert word in err[0], (word, err[0])
    assert SECRET not in err[0]


def files(folder: Path) -> dict[str, bytes]:
    """Every file below a folder with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# Damaged and foreign SQLite files ----------------------------------------------------------


def _text_file(path: Path) -> None:
    path.write_text("patients,product\nP1,CART\n")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flipped(offset: int) -> Callable[[Path], None]:
    def flip(path: Path) -> None:
        data = bytearray(path.read_bytes())
        for i in range(offset, offset + 16):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))

    return flip


def _garbage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    pattern = bytes((i * 131 + 7) % 256 for i in range(page))
    for start in range(page, len(data) - page, page):
        data[start : start + page] = pattern
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    connection.close()


def _newer(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_text_file, ["damaged or not a database"]),
        (_truncated, ["damaged"]),
        (_flipped(0), ["damaged or not a database"]),
        (_flipped(100), ["damaged"]),
        (_garbage_pages, ["damaged"]),
        (_foreign, ["not an atmp-planner database"]),
        (_newer, ["newer atmp-planner", "9999_from_the_future", "upgrade"]),
    ],
    ids=["text", "truncated", "flipped-header", "flipped-schema", "garbage", "foreign", "newer"],
)
@pytest.mark.parametrize(
    "command",
    [["scenarios"], ["export", "--out", "{out}", *WEEK]],
    ids=["scenarios-subprocess", "export-in-process"],
)
def test_a_damaged_foreign_or_newer_database_is_one_line_and_left_alone(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
    words: list[str],
    command: list[str],
) -> None:
    """Exit 1, one line naming the problem; the file keeps its bytes and no workbook appears."""
    damage(db)
    before = files(tmp_path)
    argv = ["--db", url(db), *[a.replace("{out}", str(tmp_path / "week.xlsx")) for a in command]]
    status, err = run(argv) if command == ["scenarios"] else in_process(argv, capsys)
    assert status == 1
    assert_one_line(err, str(db), *words)
    assert files(tmp_path) == before


@pytest.mark.parametrize(
    ("table", "column", "value", "code"),
    [
        ("product", "storage", "plasma", "CART"),
        ("cleanroom", "grade", "Z", "CR1"),
        ("staff_need", "role", "wizard", None),
        ("plan_assignment", "resource_type", "robot", "first patient"),
    ],
)
def test_an_unknown_enum_value_names_table_row_and_column(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    column: str,
    value: str,
    code: str | None,
) -> None:
    """A value this version does not know, written by raw SQL: one line saying where it is."""
    with sqlite3.connect(db) as connection:
        row_id = connection.execute(f"SELECT min(id) FROM {table}").fetchone()[0]
        if table == "plan_assignment":  # which patient comes first is the solver's choice
            code = connection.execute(
                "SELECT patient_code FROM plan_assignment WHERE id = ?", (row_id,)
            ).fetchone()[0]
        connection.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row_id))
    connection.close()
    before = files(tmp_path)
    status, err = in_process(
        ["--db", url(db), "export", "--out", str(tmp_path / "w.xlsx"), *WEEK], capsys
    )
    assert status == 1
    assert_one_line(err, f"table {table}", f"id {row_id}", f"column {column}", repr(value))
    if code is not None:
        assert repr(code) in err[0]
    assert files(tmp_path) == before


# Missing databases and outputs that cannot be written --------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["scenarios"],
        ["plans"],
        ["solve", *FAST],
        ["export", "--out", "{dir}/w.xlsx", *WEEK],
        ["gui", "--screenshot", "{dir}/w.png"],
    ],
    ids=lambda c: c[0],
)
def test_a_command_on_a_missing_database_creates_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Only `demo` makes a database; the others say there is none and create nothing."""
    missing = tmp_path / "Zürich ☢" / "none.sqlite"
    missing.parent.mkdir()
    argv = [a.replace("{dir}", str(tmp_path)) for a in command]
    status, err = in_process(["--db", url(missing), *argv], capsys)
    assert status == 1
    assert_one_line(err, f"no database at {missing}", "atmp-planner demo")
    assert files(tmp_path) == {}


def _bad_out(tmp_path: Path, db: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "folder.xlsx").mkdir()
    os.mkfifo(tmp_path / "pipe.xlsx")
    return {
        "suffix": (str(tmp_path / "plan.txt"), ".xlsx"),
        "no-directory": (str(tmp_path / "nowhere" / "plan.xlsx"), "does not exist"),
        "directory": (str(tmp_path / "folder.xlsx"), "is a directory"),
        "fifo": (str(tmp_path / "pipe.xlsx"), "not a regular file"),
        "under-a-file": (str(db / "plan.xlsx"), "is not a directory"),
        "empty": ("", ".xlsx"),
    }


@pytest.mark.parametrize(
    "case", ["suffix", "no-directory", "directory", "fifo", "under-a-file", "empty"]
)
@pytest.mark.parametrize("command", ["demo", "export"])
def test_a_bad_out_path_is_refused_before_anything_is_solved_or_saved(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, command: str
) -> None:
    """--out is checked first: `demo` neither loads nor solves, the database keeps its bytes."""
    out, words = _bad_out(tmp_path, db)[case]
    before = files(tmp_path)
    extra = FAST if command == "demo" else WEEK
    status, err = in_process(["--db", url(db), command, "--out", out, *extra], capsys)
    assert status == 1
    assert_one_line(err, "--out", words)
    assert files(tmp_path) == before


def test_demo_with_a_bad_out_on_a_new_path_creates_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check comes before the database is even created."""
    status, err = in_process(
        ["--db", url(tmp_path / "new.sqlite"), "demo", "--out", str(tmp_path / "x.csv"), *FAST],
        capsys,
    )
    assert status == 1
    assert_one_line(err, ".xlsx")
    assert files(tmp_path) == {}


def test_out_may_not_be_the_database_itself(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database file that happens to end in .xlsx is not overwritten by its own export."""
    target = db.rename(db.with_suffix(".xlsx"))
    before = files(tmp_path)
    status, err = in_process(["--db", url(target), "export", "--out", str(target), *WEEK], capsys)
    assert status == 1
    assert_one_line(err, "is the database file")
    assert files(tmp_path) == before


def test_a_read_only_database_is_refused_before_solving(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database opened read-only fails at once, not after the search."""
    before = db.read_bytes()
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    started = time.monotonic()
    status, err = in_process(["--db", read_only, "solve", "--deterministic-time", "500"], capsys)
    assert status == 1
    assert_one_line(err, "cannot write", str(db))
    assert time.monotonic() - started < 10
    assert db.read_bytes() == before


# Windows and arguments ---------------------------------------------------------------------


def test_an_endless_export_window_is_cut_to_the_plan(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0001-01-01 to 9999-12-31 exports the plan's own dates, within seconds."""
    out = tmp_path / "all.xlsx"
    started = time.monotonic()
    window = ["--from", "0001-01-01", "--to", "9999-12-31"]
    assert main(["--db", url(db), "export", "--out", str(out), *window]) == 0
    assert out.is_file()
    assert time.monotonic() - started < 10
    repo = Repository(open_database(url(db), create=False))
    plan = repo.current_plan(DEMO_NAME)
    assert plan is not None
    lo, hi = plan_span(repo.load_scenario(DEMO_NAME), plan)
    assert f"({lo} to {hi}, cut to the plan's dates)" in capsys.readouterr().out


def test_a_window_outside_the_plan_is_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A window that misses every date of the plan says which dates the plan covers."""
    status, err = in_process(
        [
            "--db",
            url(db),
            "export",
            "--out",
            str(tmp_path / "w.xlsx"),
            "--from",
            "2035-01-01",
            "--to",
            "2035-01-07",
        ],
        capsys,
    )
    assert status == 1
    assert_one_line(err, "outside the plan", str(date(2027, 1, 4)))
    assert not (tmp_path / "w.xlsx").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["solve", "--seed", "-1"], "0 to 2147483647"),
        (["solve", "--seed", str(2**31)], "0 to 2147483647"),
        (["solve", "--seed", "1.5"], "not a whole number"),
        (["solve", "--deterministic-time", "inf"], "at most"),
        (["solve", "--deterministic-time", "1e308"], "at most"),
        (["solve", "--deterministic-time", "nan"], "more than 0"),
        (["solve", "--deterministic-time", "0"], "more than 0"),
        (["solve", "--wall-clock", "inf"], "at most"),
        (["solve", "--wall-clock", "-5"], "more than 0"),
        (["solve", "--workers", "0"], "1 to 64"),
        (["solve", "--workers", "100000"], "1 to 64"),
        (["demo", "--weeks", "1000000000"], "1 to 520"),
        (["demo", "--weeks", "0"], "1 to 520"),
        (["export", "--out", "w.xlsx", "--from", "2027-02-01", "--to", "2027-02-30"], "date"),
        (["approve", "1", "--reason", ""], "is empty"),
    ],
)
def test_out_of_range_arguments_exit_2_with_one_line(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """Bounds are argument errors: exit 2 at once, nothing opened or solved."""
    before = db.read_bytes()
    status, err = in_process(["--db", url(db), *argv], capsys)
    assert status == 2
    assert_one_line(err, words, argv[-2])
    assert db.read_bytes() == before


def test_an_empty_db_argument_is_an_argument_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--db "" does not silently fall back to the default database."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    status, err = in_process(["--db", "", "scenarios"], capsys)
    assert status == 2
    assert_one_line(err, "--db", "empty")
    assert files(tmp_path) == {}


# URLs and servers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_url",
    [
        f"postgresql+psycopg://planner:{SECRET}@db.example:abc/atmp",
        f"postgresql+psycopg://planner:{SECRET}@[::1/atmp",
        f"postgresql+psycopg://planner:{SECRET}@127.0.0.1:1/atmp?connect_timeout=abc",
    ],
    ids=["port", "ipv6", "option"],
)
def test_a_malformed_url_is_one_line_without_the_password(bad_url: str) -> None:
    """The URL is shown with *** for the password, whatever part of it is broken."""
    status, err = run(["--db", bad_url, "scenarios"])
    assert status == 1
    assert_one_line(err, "planner:***@")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


def test_a_server_that_never_answers_times_out(
    silent_server: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """connect_timeout from the URL bounds the wait; the message masks the password."""
    silent = f"postgresql+psycopg://planner:{SECRET}@127.0.0.1:{silent_server}/atmp"
    started = time.monotonic()
    status, err = in_process(["--db", f"{silent}?connect_timeout=1", "scenarios"], capsys)
    assert status == 1
    assert time.monotonic() - started < 8
    assert_one_line(err, "cannot reach database", f":{silent_server}/atmp", "planner:***@")


# PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on a fresh schema of the test PostgreSQL, dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV, "").strip()
    if not base:
        message = f"{POSTGRES_ENV} is not set, so the PostgreSQL tests cannot run."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI must test PostgreSQL.")
        pytest.skip(message)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _postgres_state(engine_url: str) -> tuple[object, ...]:
    engine = create_engine(engine_url)
    try:
        with engine.connect() as connection:
            return (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar(),
                connection.execute(text("SELECT count(*) FROM product")).scalar(),
                connection.execute(text("SELECT storage FROM product")).scalar(),
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_newer_revision_and_unknown_enum_are_one_line(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On PostgreSQL too: an unknown enum value and a newer schema are named; nothing changes."""
    engine = open_database(postgres_url)
    Repository(engine).save_scenario(tiny_scenario())
    with engine.begin() as connection:
        connection.execute(text("UPDATE product SET storage = 'plasma'"))
    engine.dispose()
    state = _postgres_state(postgres_url)
    status, err = in_process(["--db", postgres_url, "solve", "--scenario", "tiny", *FAST], capsys)
    assert status == 1
    assert_one_line(err, "table product", "column storage", "'plasma'")
    assert _postgres_state(postgres_url) == state

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    state = _postgres_state(postgres_url)
    status, err = in_process(["--db", postgres_url, "scenarios"], capsys)
    assert status == 1
    assert_one_line(err, "newer atmp-planner", "upgrade")
    assert "atmp:atmp@" not in err[0]
    assert _postgres_state(postgres_url) == state


@pytest.mark.postgres
def test_postgres_statement_timeout_is_set_unless_the_url_sets_it(postgres_url: str) -> None:
    """Every connection carries a statement timeout; one given in the URL wins."""
    from data.db import STATEMENT_TIMEOUT_MS, make_engine

    def timeout(of: str) -> str:
        engine = make_engine(of)
        try:
            with engine.connect() as connection:
                return str(
                    connection.execute(
                        text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                    ).scalar()
                )
        finally:
            engine.dispose()

    assert timeout(postgres_url) == str(STATEMENT_TIMEOUT_MS)
    own = make_url(postgres_url)
    own = own.update_query_dict({"options": f"{own.query['options']} -c statement_timeout=1234"})
    assert timeout(own.render_as_string(hide_password=False)) == "1234"
