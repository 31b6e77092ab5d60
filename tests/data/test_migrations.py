"""Alembic migrations build the ORM's schema, and the database opens from any URL source."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import data.db as db
from data.db import DatabaseError, alembic_config, downgrade, open_database, resolve_url, upgrade
from data.orm import Base
from data.repository import Repository
from planner import Storage
from tests.factories import product, rich_scenario, tiny_scenario


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_single_head() -> None:
    """The migration history has exactly one head (no unmerged branches), and it is the
    revision a database must be at to open without Alembic."""
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [db.SCHEMA_HEAD]


def test_an_up_to_date_database_opens_without_importing_alembic(tmp_path: Path) -> None:
    """Opening a database at the newest revision skips Alembic (about a second of import
    for every command); an older one is still migrated, in the same process."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    open_database(url).dispose()
    probe = (
        "import sys; from data.db import open_database; "
        f"open_database({url!r}).dispose(); print('alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    downgrade(url, "0007")
    engine = open_database(url)
    with engine.connect() as connection:
        assert db.current_revision(connection) == db.SCHEMA_HEAD
    engine.dispose()


def test_upgrade_downgrade_upgrade_with_data(
    empty_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrade creates a usable schema, downgrade drops it with data in it, upgrade rebuilds."""
    monkeypatch.chdir(tmp_path)  # migrations must not depend on the working directory
    upgrade(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)
    repo = Repository(empty_engine)
    repo.save_scenario(tiny_scenario())
    downgrade(empty_engine, "base")
    assert _tables(empty_engine) == set()
    upgrade(empty_engine, "head")
    assert repo.list_scenarios() == []
    repo.save_scenario(tiny_scenario())
    assert repo.load_scenario("tiny") == tiny_scenario()


def test_migrated_schema_matches_orm_metadata(engine: Engine) -> None:
    """The schema the migrations build has no differences from the ORM metadata."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    """Upgrading a database already at head changes nothing and keeps its data."""
    repo = Repository(engine)
    repo.save_scenario(tiny_scenario())
    upgrade(engine)
    assert repo.load_scenario("tiny") == tiny_scenario()


def test_open_database_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    """open_database on a new SQLite file creates the schema and enforces foreign keys."""
    engine = open_database(f"sqlite:///{tmp_path / 'new.sqlite'}")
    try:
        assert _tables(engine) == set(Base.metadata.tables)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_unreachable_postgres_raises_database_error_with_masked_password() -> None:
    """A database that cannot be reached raises DatabaseError naming the URL, password masked."""
    url = "postgresql+psycopg://atmp:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseError) as raised:
        open_database(url)
    message = str(raised.value)
    assert "127.0.0.1:1/nowhere" in message
    assert "s3cret" not in message
    assert "***" in message
    assert "\n" not in message


def test_unopenable_sqlite_file_raises_database_error(tmp_path: Path) -> None:
    """A SQLite file in a missing directory raises DatabaseError naming the file."""
    url = f"sqlite:///{tmp_path / 'missing' / 'x.sqlite'}"
    with pytest.raises(DatabaseError, match=r"x\.sqlite"):
        open_database(url)


def test_invalid_url_raises_database_error() -> None:
    """A URL that is not a database URL raises DatabaseError."""
    with pytest.raises(DatabaseError, match="invalid database URL"):
        open_database("no-such-dialect://x")


def test_resolve_url_prefers_cli_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--db wins over $ATMP_PLANNER_DB, which wins over a SQLite file in the data dir."""
    data_dir = tmp_path / "user-data"
    monkeypatch.setattr(db.platformdirs, "user_data_dir", lambda app: str(data_dir / app))
    monkeypatch.setenv(db.ENV_VAR, "sqlite:///from-env.sqlite")
    assert resolve_url("sqlite:///cli.sqlite") == "sqlite:///cli.sqlite"
    assert resolve_url(None) == "sqlite:///from-env.sqlite"
    monkeypatch.delenv(db.ENV_VAR)
    default = resolve_url(None)
    expected = data_dir / "atmp-planner" / "atmp-planner.sqlite"
    assert default == f"sqlite:///{expected}"
    assert expected.parent.is_dir()


def _insert_0001_plan(engine: Engine, scenario_id: int, created: str, status: str) -> None:
    """A plan row as revision 0001 stored it (solver_status held CP-SAT's status)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO plan (scenario_id, created, notes, scheduled, total,"
                " total_lateness_days, solver_status, solver_engine, solver_objective,"
                " solver_bound, solver_wall_time_s, solver_greedy_objective,"
                " settings_deterministic, settings_deterministic_time, settings_time_limit_s,"
                " settings_workers, settings_seed, settings_use_greedy_hint, version)"
                " VALUES (:sid, :created, '[]', 1, 2, 0, :status, 'greedy-fcfs', 10.0, 12.0,"
                " 1.0, 10.0, :true, 3.0, 60.0, 1, 0, :true, 1)"
            ),
            {"sid": scenario_id, "created": created, "status": status, "true": True},
        )


def test_0002_keeps_the_newest_plan_current_and_splits_the_status(empty_engine: Engine) -> None:
    """Plans stored by 0001: the newest stays current; CP-SAT's status moves to its column."""
    upgrade(empty_engine, "head")
    Repository(empty_engine).save_scenario(tiny_scenario())
    downgrade(empty_engine, "0001")
    with empty_engine.connect() as connection:
        sid = connection.execute(text("SELECT id FROM scenario")).scalar_one()
    _insert_0001_plan(empty_engine, sid, "2026-11-20 08:00:00", "UNKNOWN")
    _insert_0001_plan(empty_engine, sid, "2026-11-21 08:00:00", "CANCELLED")
    upgrade(empty_engine, "head")
    repo = Repository(empty_engine)
    old, new = repo.plan_summaries("tiny")
    assert (old.current, new.current) == (False, True)
    assert (old.status, old.cp_sat_status, old.stopped) == ("FEASIBLE", "UNKNOWN", False)
    assert (new.status, new.cp_sat_status, new.stopped) == ("FEASIBLE", "NOT_RUN", True)
    current = repo.current_plan("tiny")
    assert current is not None and current.solver.stopped
    downgrade(empty_engine, "0001")
    with empty_engine.connect() as connection:
        statuses = connection.execute(text("SELECT solver_status FROM plan ORDER BY id")).scalars()
        assert list(statuses) == ["UNKNOWN", "CANCELLED"]


def test_0003_lets_fresh_products_start_lymphodepletion_before_release(
    empty_engine: Engine,
) -> None:
    """Products stored by 0002: fresh ones may start LD before release, the shelf life
    counts from the last step, cryopreserved ones wait for release."""
    fresh = product(
        "CARTF",
        storage=Storage.FRESH,
        fresh_shelf_days=3,
        shelf_life_from_step="harvest",
        ld_before_release=True,
    )
    scenario = tiny_scenario(products=(product(), fresh))
    upgrade(empty_engine, "head")
    Repository(empty_engine).save_scenario(scenario)
    downgrade(empty_engine, "0002")
    with empty_engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("product")}
    assert "ld_before_release" not in columns and "shelf_life_from_step" not in columns
    upgrade(empty_engine, "head")
    loaded = {p.code: p for p in Repository(empty_engine).load_scenario("tiny").products}
    assert (loaded["CART"].ld_before_release, loaded["CARTF"].ld_before_release) == (False, True)
    assert loaded["CART"].shelf_life_from_step is None
    assert loaded["CARTF"].shelf_life_from_step is None


def test_0004_keeps_products_and_makes_infusions_clinical_days_only(empty_engine: Engine) -> None:
    """Products stored by 0003 come back with infusion_any_day false, steps intact."""
    scenario = tiny_scenario(products=(product(), product("TIL", infusion_any_day=True)))
    upgrade(empty_engine, "head")
    Repository(empty_engine).save_scenario(scenario)
    downgrade(empty_engine, "0003")
    with empty_engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("product")}
    assert "infusion_any_day" not in columns
    upgrade(empty_engine, "head")
    loaded = {p.code: p for p in Repository(empty_engine).load_scenario("tiny").products}
    assert (loaded["CART"].infusion_any_day, loaded["TIL"].infusion_any_day) == (False, False)
    assert loaded["TIL"].steps == scenario.products[1].steps


def test_0007_keeps_trials_and_patients_and_adds_empty_dates(empty_engine: Engine) -> None:
    """Cohorts and patients stored before 0007 come back without gates or dates, the rest
    intact; after it the fields are stored."""
    scenario = rich_scenario()
    upgrade(empty_engine, "head")
    Repository(empty_engine).save_scenario(scenario)
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0007").down_revision
    downgrade(empty_engine, str(before))
    with empty_engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("patient")}
    assert not {"enrolled_on", "infused_on"} & columns
    upgrade(empty_engine, "head")
    loaded = Repository(empty_engine).load_scenario(scenario.name)
    assert loaded.patients == tuple(
        replace(p, enrolled_on=None, infused_on=None) for p in scenario.patients
    )
    assert [c.escalation_gate_days for c in loaded.trials[0].cohorts] == [None, None]
    Repository(empty_engine).save_scenario(scenario)
    assert Repository(empty_engine).load_scenario(scenario.name) == scenario


def test_open_database_without_create_refuses_a_missing_file_and_makes_none(
    tmp_path: Path,
) -> None:
    """Read-only callers ask for an existing database; a missing path stays missing."""
    missing = tmp_path / "none.sqlite"
    with pytest.raises(DatabaseError, match="no database at"):
        open_database(f"sqlite:///{missing}", create=False)
    assert not missing.exists()


def test_open_database_refuses_another_programs_database_untouched(tmp_path: Path) -> None:
    """A SQLite file with tables but no schema revision is not migrated into."""
    path = tmp_path / "other.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bookmarks (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not an atmp-planner database"):
        open_database(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_make_engine_adds_postgres_timeouts_unless_the_url_sets_them() -> None:
    """A PostgreSQL URL gets connect and statement timeouts; the user's own ones are kept."""
    plain = db.make_engine("postgresql+psycopg://u:pw@127.0.0.1/atmp").url.query
    assert plain["connect_timeout"] == str(db.CONNECT_TIMEOUT_S)
    assert f"statement_timeout={db.STATEMENT_TIMEOUT_MS}" in str(plain["options"])
    own = db.make_engine(
        "postgresql+psycopg://u:pw@127.0.0.1/atmp?connect_timeout=3"
        "&options=-csearch_path%3Dx%20-c%20statement_timeout%3D5"
    ).url.query
    assert own["connect_timeout"] == "3"
    assert own["options"] == "-csearch_path=x -c statement_timeout=5"
    searched = db.make_engine("postgresql+psycopg://u:pw@h/atmp?options=-csearch_path%3Dx")
    assert str(searched.url.query["options"]).startswith("-csearch_path=x -c statement_timeout")


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://u:pa@ss@h:abc/db", "postgresql+psycopg://u:pass@[::1/db"],
)
def test_an_unparseable_url_is_refused_with_its_password_masked(url: str) -> None:
    """A URL SQLAlchemy cannot parse still never shows its password."""
    with pytest.raises(DatabaseError) as raised:
        open_database(url)
    assert "u:***@" in str(raised.value)
    assert "pass" not in str(raised.value) and "pa@ss" not in str(raised.value)


def test_a_plain_path_is_refused_with_the_sqlite_url_to_give(tmp_path: Path) -> None:
    """A file path without a scheme is no URL; the message shows the URL that would work."""
    path = tmp_path / "plans.sqlite"
    with pytest.raises(DatabaseError, match=f"give sqlite:///{re.escape(str(path))}$"):
        open_database(str(path))
    assert not path.exists()


def test_0005_adds_frozen_days_published_plans_and_pins(empty_engine: Engine) -> None:
    """Scenarios stored before 0005 freeze 14 days, plans are unpublished; down and up again
    keeps both, and pins come and go with the table."""
    from planner.replan import Pin
    from tests.data.test_repository import sample_plan

    scenario = tiny_scenario()
    upgrade(empty_engine, "head")
    repo = Repository(empty_engine)
    repo.save_scenario(scenario)
    plan_id = repo.save_plan(sample_plan("tiny"), current=True)
    repo.publish(plan_id)
    repo.add_pin("tiny", Pin("P1"))
    downgrade(empty_engine, "0004")
    with empty_engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        plan_columns = {c["name"] for c in inspect(connection).get_columns("plan")}
    assert "pin" not in tables and "published_seq" not in plan_columns
    upgrade(empty_engine, "head")
    assert repo.load_scenario("tiny").frozen_days == 14
    assert repo.published_plan_id("tiny") is None and repo.pins("tiny") == ()
    assert repo.plan_summaries("tiny")[0].current


def test_0006_adds_an_empty_audit_trail_and_keeps_the_data(empty_engine: Engine) -> None:
    """Down to the revision before 0006 (whichever it is) and up again: the audit tables go
    and come back empty (an intact trail), the scenario is untouched, new saves are audited."""
    upgrade(empty_engine)
    repo = Repository(empty_engine)
    repo.save_scenario(tiny_scenario())
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0006").down_revision
    assert isinstance(before, str)
    downgrade(empty_engine, before)
    assert not {"audit_record", "audit_head"} & _tables(empty_engine)
    upgrade(empty_engine)
    assert repo.load_scenario("tiny") == tiny_scenario()
    assert repo.audit_entries() == [] and repo.verify_audit().intact
    repo.save_scenario(replace(tiny_scenario(), holidays=()))
    assert [e.action for e in repo.audit_entries()] == ["save"]
    assert repo.verify_audit().records == 1


def test_0008_adds_approval_and_inputs_and_older_plans_are_drafts(empty_engine: Engine) -> None:
    """Plans stored before 0008 come back as drafts without inputs; down and up again keeps
    the plans and drops approvals and inputs."""
    from data.repository import NotReproducibleError
    from tests.data.test_repository import sample_plan

    scenario = tiny_scenario()
    upgrade(empty_engine, "head")
    repo = Repository(empty_engine)
    repo.save_scenario(scenario)
    plan = sample_plan("tiny")
    plan_id = repo.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)))
    repo.approve(plan_id, reason="ok")
    downgrade(empty_engine, "0007")
    with empty_engine.connect() as connection:
        plan_columns = {c["name"] for c in inspect(connection).get_columns("plan")}
    assert not {"approved_by", "inputs_json", "inputs_sha256", "replan_inputs"} & plan_columns
    upgrade(empty_engine, "head")
    (summary,) = repo.plan_summaries("tiny")
    assert (summary.state, summary.approved_by) == ("draft", None)
    with pytest.raises(NotReproducibleError):
        repo.plan_inputs(plan_id)
