"""The repository stores scenarios and plans and gives back exactly what was saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import data.repository as repository_module
from data.db import open_database
from data.orm import APPEND_ONLY, Base
from data.repository import (
    ConcurrentEditError,
    NotFoundError,
    Repository,
    ScenarioExistsError,
    StorageError,
    StoredDataError,
)
from planner import (
    Assignment,
    Kpis,
    PatientSchedule,
    PatientStatus,
    Plan,
    ResourceType,
    Role,
    RosterEntry,
    SolverInfo,
    SolveSettings,
    StaffMember,
    Unscheduled,
    UnscheduledReason,
)
from planner.plan import ObjectiveLevel
from tests.factories import rich_scenario, tiny_scenario


def sample_plan(scenario_name: str = "rich", created: datetime | None = None) -> Plan:
    """A hand-built plan with an assignment of every resource type and odd floats."""
    t0 = datetime(2027, 1, 4, 8)
    assignments = tuple(
        Assignment(
            f"P{i % 2 + 1}",
            "CART",
            "seed",
            kind,
            f"RES-{kind.value}",
            t0 + timedelta(hours=i),
            t0 + timedelta(hours=i + 1, seconds=1, microseconds=7),
            quantity=i + 1,
        )
        for i, kind in enumerate(ResourceType)
    )
    schedule = PatientSchedule(
        "P1",
        "CART",
        date(2027, 1, 4),
        datetime(2027, 1, 5, 8),
        datetime(2027, 1, 9, 16),
        date(2027, 1, 11),
        date(2027, 1, 12),
        date(2027, 1, 15),
        date(2027, 1, 15),
        date(2027, 1, 18),
        lateness_days=2,
    )
    return Plan(
        scenario_name=scenario_name,
        created=created or datetime(2026, 11, 23, 14, 5, 6, 789, tzinfo=UTC),
        assignments=assignments,
        schedules=(schedule, replace(schedule, patient_code="P-IP", lateness_days=0)),
        unscheduled=tuple(
            Unscheduled(f"U{i}", reason, f"Because {reason.value}.")
            for i, reason in enumerate(UnscheduledReason)
        ),
        kpis=Kpis(2, 9, 11.5, None, 2, (("cleanrooms", 0.1 + 0.2), ("beds", 1 / 3))),
        solver=SolverInfo(
            "FEASIBLE",
            "cp-sat 9.15",
            1234.5,
            1300.25,
            1.2345678901234567,
            SolveSettings(False, 7.5, 30.0, 8, 42, False),
            greedy_objective=999.0,
            cp_sat_status="UNKNOWN",
            stopped=True,
            versions="atmp-planner 0.1.0, ortools 9.15.6755",
            levels=(
                ObjectiveLevel("patients scheduled (priority weight)", 70, 75, True),
                ObjectiveLevel("weighted lateness + waiting (days)", 12, 9),
            ),
        ),
        notes=("first note", "second note"),
    )


def test_every_table_has_an_optimistic_version_column() -> None:
    """Every mapped table but the append-only ones uses its integer `version` column as
    SQLAlchemy version_id_col."""
    mappers = [m for m in Base.registry.mappers if m.class_ not in APPEND_ONLY]
    assert len(mappers) == len(Base.metadata.tables) - len(APPEND_ONLY)
    for mapper in mappers:
        assert mapper.version_id_col is mapper.local_table.c.version, mapper.class_.__name__


def test_scenario_round_trip_is_exact(repo: Repository) -> None:
    """A scenario with every optional feature loads back equal to what was saved."""
    scenario = rich_scenario()
    assert repo.save_scenario(scenario) == 1
    loaded = repo.load_scenario("rich")
    assert loaded == scenario
    assert isinstance(loaded.patients[-1].status, PatientStatus)
    assert isinstance(loaded.staff[0].roles, tuple)
    assert loaded.patients[2].done_steps[1].start == datetime(2027, 1, 5, 9, 30, 15, 123456)
    assert loaded.patients[2].done_steps[1].start.tzinfo is None


def test_large_roster_round_trip_keeps_order(repo: Repository) -> None:
    """A year of roster for a dozen staff (~4,400 rows) comes back in the same order."""
    base = tiny_scenario(days=365)
    staff = tuple(StaffMember(f"OP{i}", (Role.OPERATOR,), ("CART",)) for i in range(12))
    roster = tuple(
        RosterEntry(s.code, base.horizon_start + timedelta(days=d), "D" if d % 7 < 5 else "L")
        for d in reversed(range(365))
        for s in staff
    )
    scenario = replace(base, name="year", staff=staff, roster=roster)
    repo.save_scenario(scenario)
    assert repo.load_scenario("year") == scenario


def test_plan_round_trip_is_exact(repo: Repository) -> None:
    """A plan with every resource type, reasons, KPIs and solver info loads back equal."""
    repo.save_scenario(rich_scenario())
    plan = sample_plan()
    plan_id = repo.save_plan(plan)
    loaded = repo.load_plan(plan_id)
    assert loaded == plan
    assert {a.resource_type for a in loaded.assignments} == set(ResourceType)
    assert loaded.kpis.utilisation[0][1] == 0.1 + 0.2


def test_latest_plan_is_the_most_recently_created(repo: Repository) -> None:
    """latest_plan returns the newest plan of the scenario, and None when it has none."""
    repo.save_scenario(rich_scenario())
    repo.save_scenario(rich_scenario("other"))
    assert repo.latest_plan("rich") is None
    newer = sample_plan(created=datetime(2026, 11, 23, 15, tzinfo=UTC))
    older = sample_plan(created=datetime(2026, 11, 22, 15, tzinfo=UTC))
    repo.save_plan(newer)
    repo.save_plan(older)
    repo.save_plan(sample_plan("other", created=datetime(2026, 11, 24, tzinfo=UTC)))
    assert repo.latest_plan("rich") == newer
    assert repo.latest_plan("unknown") is None
    assert len(repo.plan_ids("rich")) == 2


def test_created_is_stored_as_utc_and_read_back_aware(repo: Repository) -> None:
    """A plan made at 10:00 in Stockholm (UTC+1) comes back as 09:00 UTC, timezone-aware."""
    repo.save_scenario(rich_scenario())
    stockholm = timezone(timedelta(hours=1))
    plan_id = repo.save_plan(sample_plan(created=datetime(2026, 11, 24, 10, tzinfo=stockholm)))
    loaded = repo.load_plan(plan_id).created
    assert loaded == datetime(2026, 11, 24, 9, tzinfo=UTC) and loaded.tzinfo is UTC


def test_only_a_plan_saved_or_made_current_becomes_current(repo: Repository) -> None:
    """A plan saved without current=True never replaces the current one; make_current does."""
    repo.save_scenario(rich_scenario())
    repo.save_scenario(rich_scenario("other"))
    assert repo.current_plan("rich") is None
    first = repo.save_plan(sample_plan(created=datetime(2026, 11, 23, 9, tzinfo=UTC)), current=True)
    stopped = sample_plan(created=datetime(2026, 11, 23, 10, tzinfo=UTC))
    kept = repo.save_plan(stopped)
    other = repo.save_plan(sample_plan("other"), current=True)
    current = repo.current_plan("rich")
    assert current is not None and current.created.hour == 9
    assert repo.latest_plan("rich") == stopped  # newest, but not chosen
    summaries = repo.plan_summaries("rich")
    assert [(s.plan_id, s.current) for s in summaries] == [(first, True), (kept, False)]
    assert summaries[1].stopped and summaries[1].cp_sat_status == "UNKNOWN"
    repo.make_current(kept, "rich")
    assert repo.current_plan("rich") == stopped
    assert [s.current for s in repo.plan_summaries("rich")] == [False, True]
    repo.make_current(first)
    assert [s.current for s in repo.plan_summaries("rich")] == [True, False]
    with pytest.raises(NotFoundError, match="belongs to scenario 'other'"):
        repo.make_current(other, "rich")
    with pytest.raises(NotFoundError, match="No plan #99"):
        repo.make_current(99)
    assert [s.current for s in repo.plan_summaries("rich")] == [True, False]


def test_resave_replaces_contents_and_bumps_version(repo: Repository) -> None:
    """Saving an existing name replaces its contents in place and bumps the version."""
    scenario = rich_scenario()
    assert repo.save_scenario(scenario) == 1
    plan_id = repo.save_plan(sample_plan())
    changed = replace(scenario, patients=scenario.patients[:2], holidays=())
    assert repo.save_scenario(changed) == 2
    assert repo.scenario_version("rich") == 2
    assert repo.load_scenario("rich") == changed
    assert repo.save_scenario(changed) == 3  # even an unchanged save is a new version
    assert repo.list_scenarios() == ["rich"]
    assert repo.load_plan(plan_id) == sample_plan()  # plans survive a re-save


def test_save_without_replace_refuses_a_stored_name(repo: Repository) -> None:
    """replace=False stores a new name but refuses a stored one, changing nothing."""
    assert repo.save_scenario(rich_scenario(), replace=False) == 1
    rows = repo.count_rows()
    with pytest.raises(ScenarioExistsError, match="'rich' is stored already"):
        repo.save_scenario(tiny_scenario(name="rich"), replace=False)
    assert repo.count_rows() == rows
    assert repo.load_scenario("rich") == rich_scenario()
    assert repo.scenario_version("rich") == 1


def test_matching_expected_version_saves(repo: Repository) -> None:
    """A save naming the version that is stored succeeds and returns the next version."""
    version = repo.save_scenario(rich_scenario())
    assert repo.save_scenario(tiny_scenario(name="rich"), expected_version=version) == 2
    assert repo.load_scenario("rich") == tiny_scenario(name="rich")


def test_stale_expected_version_is_refused_and_changes_nothing(repo: Repository) -> None:
    """A save based on an outdated version raises ConcurrentEditError and keeps the stored one."""
    first = rich_scenario()
    repo.save_scenario(first)
    other_user = replace(first, holidays=())
    repo.save_scenario(other_user, expected_version=1)
    with pytest.raises(ConcurrentEditError, match=r"'rich'.*version 2.*yours 1"):
        repo.save_scenario(tiny_scenario(name="rich"), expected_version=1)
    assert repo.scenario_version("rich") == 2
    assert repo.load_scenario("rich") == other_user


def test_expected_version_of_a_missing_scenario_is_refused(repo: Repository) -> None:
    """Expecting a version of a scenario that is not stored is a concurrent edit."""
    with pytest.raises(ConcurrentEditError, match="no longer stored"):
        repo.save_scenario(rich_scenario(), expected_version=3)
    assert not repo.has_scenario("rich")


def test_unknown_names_and_ids_raise_not_found(repo: Repository) -> None:
    """Loading or versioning an unknown scenario or plan raises NotFoundError naming it."""
    with pytest.raises(NotFoundError, match="'nowhere'"):
        repo.load_scenario("nowhere")
    with pytest.raises(NotFoundError, match="'nowhere'"):
        repo.scenario_version("nowhere")
    with pytest.raises(NotFoundError, match="#424242"):
        repo.load_plan(424242)
    with pytest.raises(NotFoundError, match="'nowhere'"):
        repo.save_plan(sample_plan("nowhere"))


def test_list_and_has_scenarios(repo: Repository) -> None:
    """list_scenarios gives stored names sorted; has_scenario tells stored from unknown."""
    assert repo.list_scenarios() == []
    for name in ("zeta", "Alpha", "beta"):
        repo.save_scenario(tiny_scenario(name=name))
    assert repo.list_scenarios() == sorted(["zeta", "Alpha", "beta"])
    assert repo.has_scenario("beta")
    assert not repo.has_scenario("gamma")


def test_delete_scenario_removes_it_and_its_plans(repo: Repository) -> None:
    """delete_scenario removes the scenario and its plans and leaves others alone."""
    repo.save_scenario(rich_scenario())
    repo.save_scenario(tiny_scenario(name="keep"))
    rows_of_keep_only = repo.count_rows()
    repo.save_plan(sample_plan())
    repo.delete_scenario("rich")
    assert repo.list_scenarios() == ["keep"]
    assert repo.latest_plan("rich") is None
    assert repo.load_scenario("keep") == tiny_scenario(name="keep")
    assert repo.count_rows() < rows_of_keep_only
    with pytest.raises(NotFoundError):
        repo.delete_scenario("rich")


def _fail_at_the_end(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("disk on fire")


def test_failing_resave_leaves_database_unchanged(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that fails at its end (rows updated, inserted and deleted, the audit trail
    not yet appended) changes nothing."""
    scenario = rich_scenario()
    repo.save_scenario(scenario)
    rows = repo.count_rows()
    monkeypatch.setattr(repository_module.audit, "append", _fail_at_the_end)
    with pytest.raises(RuntimeError, match="disk on fire"):
        repo.save_scenario(replace(scenario, holidays=()))
    assert repo.count_rows() == rows
    assert repo.scenario_version("rich") == 1
    assert repo.load_scenario("rich") == scenario


def test_failing_first_save_stores_nothing(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first save that fails at its end leaves no scenario and no rows behind."""
    monkeypatch.setattr(repository_module.audit, "append", _fail_at_the_end)
    with pytest.raises(RuntimeError):
        repo.save_scenario(rich_scenario())
    assert not repo.has_scenario("rich")
    assert repo.count_rows() == 0


def test_demo_scenario_round_trip(repo: Repository) -> None:
    """The demo scenario (if the demo module exists) loads back equal to what was saved."""
    demo = pytest.importorskip("data.demo")
    build = getattr(demo, "build_demo_scenario", None)
    if build is None:
        pytest.skip("data.demo has no build_demo_scenario yet")
    scenario = build()
    repo.save_scenario(scenario)
    assert repo.load_scenario(scenario.name) == scenario


@pytest.mark.parametrize(
    ("table", "column", "stored", "load"),
    [
        ("patient", "status", "'zombie'", "scenario"),
        ("staff_member", "roles", "'[\"wizard\"]'", "scenario"),
        ("plan_unscheduled", "reason", "'moon'", "plan"),
    ],
)
def test_an_unknown_stored_enum_value_names_table_row_and_column(
    repo: Repository, table: str, column: str, stored: str, load: str
) -> None:
    """A value no member of the enum has raises StoredDataError saying where it is."""
    scenario = rich_scenario()
    repo.save_scenario(scenario)
    plan_id = repo.save_plan(sample_plan(scenario.name))
    with repo._engine.begin() as connection:
        row_id = connection.execute(text(f"SELECT min(id) FROM {table}")).scalar()
        assert row_id is not None
        connection.execute(text(f"UPDATE {table} SET {column} = {stored} WHERE id = {row_id}"))
    with pytest.raises(StoredDataError) as raised:
        if load == "scenario":
            repo.load_scenario(scenario.name)
        else:
            repo.load_plan(plan_id)
    message = str(raised.value)
    assert f"table {table}, row id {row_id}" in message and f"column {column}" in message
    assert "\n" not in message


def test_a_read_only_database_is_found_out_before_writing(tmp_path: Path) -> None:
    """check_writable raises StorageError on a database opened read-only, and passes otherwise."""
    path = tmp_path / "plans.sqlite"
    Repository(open_database(f"sqlite:///{path}")).check_writable()
    before = path.read_bytes()
    read_only = Repository(open_database(f"sqlite:///file:{path}?mode=ro&uri=true"))
    with pytest.raises(StorageError, match="cannot write"):
        read_only.check_writable()
    assert path.read_bytes() == before
