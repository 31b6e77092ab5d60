"""Two people on one database (real SQLite file, real PostgreSQL; separate engines, so
separate connections): saves are diffs, and a save based on an outdated version, or a
scenario created twice at once, is refused naming who changed what; nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

import data.repository as repository_module
from data.db import make_engine
from data.orm import SCENARIO_CHILDREN, ScenarioRow, StaffMemberRow
from data.repository import ConcurrentEditError, Repository, ScenarioExistsError
from data.scenario_files import write_scenario
from planner import Holiday, Scenario
from tests.factories import rich_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def second_engine(engine: Engine) -> Iterator[Engine]:
    """Another engine on the same database: another person's connection."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        yield other
    finally:
        other.dispose()


def _rows(engine: Engine) -> dict[str, dict[int, int]]:
    """Version of every row by table and id."""
    with engine.connect() as connection:
        return {
            model.__tablename__: dict(connection.execute(select(model.id, model.version)).all())  # type: ignore[attr-defined, arg-type]
            for model in SCENARIO_CHILDREN
        }


def _part_time(scenario: Scenario, hours: float = 30.0) -> Scenario:
    first = replace(scenario.staff[0], contracted_hours_per_week=hours)
    return replace(scenario, staff=(first, *scenario.staff[1:]))


def test_a_resave_updates_only_the_rows_that_changed(engine: Engine) -> None:
    """Changing one staff member's hours and adding a holiday: that row's version goes up,
    one row is added, every other row keeps its id and version."""
    repo = Repository(engine)
    scenario = rich_scenario()
    repo.save_scenario(scenario)
    before = _rows(engine)
    changed = replace(
        _part_time(scenario), holidays=(*scenario.holidays, Holiday(scenario.horizon_end, "X"))
    )
    assert repo.save_scenario(changed, expected_version=1) == 2
    after = _rows(engine)
    assert repo.load_scenario("rich") == changed
    for table, versions in before.items():
        kept = {i: v for i, v in after[table].items() if i in versions}
        assert set(kept) == set(versions), table  # nothing deleted and re-inserted
        bumped = {i for i in versions if kept[i] != versions[i]}
        assert len(bumped) == (1 if table == "staff_member" else 0), table
    assert len(after["holiday"]) == len(before["holiday"]) + 1
    with engine.connect() as connection:
        hours = connection.scalar(
            select(StaffMemberRow.version).where(StaffMemberRow.code == scenario.staff[0].code)
        )
    assert hours == 2


def test_removing_a_parent_and_re_pointing_its_children_keeps_the_rest(engine: Engine) -> None:
    """A shift code removed while roster entries move to another, a patient removed, one
    renamed: the diff deletes and updates in an order the foreign keys accept."""
    repo = Repository(engine)
    scenario = rich_scenario()
    repo.save_scenario(scenario)
    roster = tuple(
        replace(e, shift_code="D") if e.shift_code == "N" else e for e in scenario.roster
    )
    shift_codes = tuple(c for c in scenario.shift_codes if c.code != "N")
    patients = (replace(scenario.patients[0], code="P1-renamed"), *scenario.patients[2:])
    changed = replace(scenario, roster=roster, shift_codes=shift_codes, patients=patients)
    repo.save_scenario(changed)
    assert repo.load_scenario("rich") == changed
    repo.save_scenario(scenario)
    assert repo.load_scenario("rich") == scenario


def test_the_second_of_two_editors_is_refused_naming_who_changed_what(
    engine: Engine, second_engine: Engine
) -> None:
    """Alice and Bob load version 1; Alice saves; Bob's save is refused with Alice's name
    and her change, and Alice's change is kept."""
    alice, bob = Repository(engine, user="alice"), Repository(second_engine, user="bob")
    alice.save_scenario(rich_scenario())
    loaded_a, loaded_b = alice.scenario_version("rich"), bob.scenario_version("rich")
    mine = alice.load_scenario("rich")
    theirs = bob.load_scenario("rich")
    alice.save_scenario(_part_time(mine), expected_version=loaded_a, reason="OP1 part time")
    with pytest.raises(ConcurrentEditError) as refused:
        bob.save_scenario(replace(theirs, holidays=()), expected_version=loaded_b)
    message = str(refused.value)
    assert "changed by alice" in message
    assert "staff_member OP1 contracted_hours_per_week 40.0 -> 30.0" in message
    assert "stored version 2, yours 1" in message
    assert "Nothing of yours was saved" in message
    assert bob.load_scenario("rich") == _part_time(mine)
    assert bob.scenario_version("rich") == 2


def test_simultaneous_saves_of_one_version_let_exactly_one_through(
    engine: Engine, second_engine: Engine
) -> None:
    """Two threads on two connections save the same loaded version at the same moment,
    ten times: each time one save wins and the other is refused, never both, never lost."""
    repos = [Repository(engine, user="alice"), Repository(second_engine, user="bob")]
    repos[0].save_scenario(rich_scenario())
    for round_ in range(10):
        version = repos[0].scenario_version("rich")
        edits = [_part_time(rich_scenario(), 30.0 + round_), _part_time(rich_scenario(), 20.0)]
        start = threading.Barrier(2)
        outcome: list[Any] = [None, None]

        def save(
            i: int,
            start: threading.Barrier = start,
            outcome: list[Any] = outcome,
            edits: list[Scenario] = edits,
            version: int = version,
        ) -> None:
            start.wait()
            try:
                outcome[i] = repos[i].save_scenario(edits[i], expected_version=version)
            except ConcurrentEditError as error:
                outcome[i] = error

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        won = [i for i in range(2) if isinstance(outcome[i], int)]
        assert len(won) == 1, outcome
        loser = outcome[1 - won[0]]
        assert isinstance(loser, ConcurrentEditError)
        assert f"changed by {repos[won[0]].user}" in str(loser)
        assert repos[0].load_scenario("rich") == edits[won[0]]
        assert repos[0].scenario_version("rich") == version + 1


def test_two_creators_of_one_name_get_a_message_not_an_integrity_error(
    engine: Engine, second_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both check that the name is free before either stores it (forced with a barrier on
    PostgreSQL; SQLite's write lock queues them instead): the second is refused with the
    first one's name, and the first one's scenario is stored whole."""
    repos = [Repository(engine, user="alice"), Repository(second_engine, user="bob")]
    race = engine.dialect.name == "postgresql"
    both_checked = threading.Barrier(2, timeout=30)
    real_fields = repository_module.scenario_fields
    waited = threading.local()

    def fields_after_both_checked(scenario: Scenario) -> dict[str, Any]:
        # Called right after the name was found free, before the new row is stored.
        if race and not getattr(waited, "done", False):
            waited.done = True
            both_checked.wait()
        return real_fields(scenario)

    monkeypatch.setattr(repository_module, "scenario_fields", fields_after_both_checked)
    versions = [rich_scenario(), replace(rich_scenario(), holidays=())]
    outcome: list[Any] = [None, None]

    def create(i: int) -> None:
        try:
            outcome[i] = repos[i].save_scenario(versions[i], replace=False)
        except (ScenarioExistsError, Exception) as error:
            outcome[i] = error

    threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [i for i in range(2) if outcome[i] == 1]
    assert len(won) == 1, outcome
    lost = outcome[1 - won[0]]
    assert isinstance(lost, ScenarioExistsError), repr(lost)
    assert f"by {repos[won[0]].user} at" in str(lost)
    if race:  # both passed the check: the database's unique name caught the second
        assert "while you were saving yours; nothing of yours was stored" in str(lost)
    assert repos[0].load_scenario("rich") == versions[won[0]]
    with engine.connect() as connection:
        assert connection.scalar(select(ScenarioRow.version)) == 1


def test_two_import_processes_of_one_name_one_stores_the_other_is_told(
    engine: Engine, tmp_path: Path
) -> None:
    """Two real `atmp-planner import` processes (alice, bob) store the same new name at once:
    exit 0 and 1, the refusal one line naming the one who stored it, no traceback."""
    url = engine.url.render_as_string(hide_password=False)
    from data.db import upgrade

    upgrade(engine)
    path = write_scenario(tmp_path / "rich.json", rich_scenario())
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "atmp_planner",
                "--db",
                url,
                "--user",
                user,
                "import",
                str(path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("alice", "bob")
    ]
    results = [(p.wait(60), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert sorted(status for status, _ in results) == [0, 1], results
    err = next(err for status, err in results if status == 1)
    winner = ("alice", "bob")[next(i for i, (status, _) in enumerate(results) if status == 0)]
    assert f"by {winner} at" in err
    assert "Traceback" not in err and "IntegrityError" not in err
    assert [line for line in err.splitlines() if line.startswith("atmp-planner: error:")]
    assert Repository(engine).load_scenario("rich") == rich_scenario()
