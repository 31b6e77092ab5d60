"""Approving, publishing approved plans and reproducing plans on the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from atmp_planner.cli import DEMO_NAME, main
from data.db import open_database
from data.excel_export import plan_span, plan_workbook_bytes
from data.repository import Repository
from planner.audit import AuditFilter
from tests.factories import tiny_scenario
from tests.test_cli import FAST

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_url(tmp_path: Path) -> str:
    """The tiny scenario (under the demo's name, the default) with one current plan."""
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    Repository(open_database(url, create=True)).save_scenario(tiny_scenario(name=DEMO_NAME))
    assert main(["--db", url, "solve", *FAST]) == 0
    return url


def _sql(url: str, statement: str) -> None:
    with open_database(url).begin() as connection:
        connection.execute(text(statement))


def test_approve_records_who_when_and_why_and_plans_shows_it(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`approve` stores the approver and reason in the plan and the audit trail; `plans`
    shows the state and who approved; a second approval is one line and changes nothing."""
    capsys.readouterr()
    assert main(["--db", tiny_url, "--user", "bob", "approve", "1", "--reason", "W01 board"]) == 0
    assert "Plan #1 is approved by bob" in capsys.readouterr().out
    repo = Repository(open_database(tiny_url))
    (summary,) = repo.plan_summaries(DEMO_NAME)
    assert (summary.state, summary.approved_by) == ("approved", "bob")
    assert summary.approved_at is not None and summary.approved_at.tzinfo is not None
    (record,) = repo.audit_entries(AuditFilter(entity="plan"))[-1:]
    assert (record.action, record.user, record.reason) == ("approve", "bob", "W01 board")
    assert main(["--db", tiny_url, "plans"]) == 0
    row = capsys.readouterr().out.splitlines()[2]
    assert "approved" in row.split() and row.rstrip().endswith("approved by bob")

    before, trail = repo.count_rows(), len(repo.audit_entries())
    assert main(["--db", tiny_url, "--user", "eve", "approve", "1", "--reason", "again"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "plan #1 was approved by bob on " in err and "cannot be approved again" in err
    assert repo.count_rows() == before and len(repo.audit_entries()) == trail
    assert repo.plan_summaries(DEMO_NAME)[0].approved_by == "bob"


def test_approve_needs_a_reason(tiny_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --reason (or with an empty one) nothing is approved: argument error, exit 2."""
    for args in (["approve", "1"], ["approve", "1", "--reason", " "]):
        with pytest.raises(SystemExit) as exit_:
            main(["--db", tiny_url, *args])
        assert exit_.value.code == 2
    assert "--reason" in capsys.readouterr().err
    assert Repository(open_database(tiny_url)).plan_summaries(DEMO_NAME)[0].state == "draft"


def test_publish_refuses_a_draft_unless_without_approval(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A draft is published only --without-approval (recorded so); an approved plan is."""
    repo = Repository(open_database(tiny_url))
    assert main(["--db", tiny_url, "publish"]) == 1
    assert "plan #1 is a draft; approve it first" in capsys.readouterr().err
    assert repo.published_plan_id(DEMO_NAME) is None
    assert main(["--db", tiny_url, "publish", "--without-approval"]) == 0
    assert repo.audit_entries()[-1].field == "published without approval"
    assert main(["--db", tiny_url, "solve", "--fresh", *FAST]) == 0
    assert main(["--db", tiny_url, "approve", "2", "--reason", "checked"]) == 0
    assert main(["--db", tiny_url, "publish"]) == 0
    assert repo.audit_entries()[-1].field == "published"
    states = [p.state for p in repo.plan_summaries(DEMO_NAME)]
    assert states == ["superseded", "published"]


def test_an_approved_plan_reproduces_byte_identically(
    tiny_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Approve, reproduce: exit 0, and the regenerated workbook is the stored plan's export
    byte for byte."""
    assert main(["--db", tiny_url, "approve", "1", "--reason", "W01"]) == 0
    capsys.readouterr()
    out = tmp_path / "again.xlsx"
    assert main(["--db", tiny_url, "reproduce", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    repo = Repository(open_database(tiny_url))
    stored, scenario = repo.load_plan(1), repo.plan_inputs(1).scenario
    start, end = plan_span(scenario, stored)
    expected = plan_workbook_bytes(scenario, stored, start, end, 1)
    assert out.read_bytes() == expected
    assert "Byte-identical: plan #1's export and the regenerated one, sha256 " in printed
    assert hashlib.sha256(expected).hexdigest() in printed


def test_reproducing_in_two_processes_gives_the_same_bytes(tiny_url: str, tmp_path: Path) -> None:
    """A re-plan against a published plan, reproduced in two fresh processes: both write the
    same workbook bytes, equal to the stored plan's export."""
    assert main(["--db", tiny_url, "approve", "1", "--reason", "W01"]) == 0
    assert main(["--db", tiny_url, "publish"]) == 0
    assert main(["--db", tiny_url, "solve", *FAST]) == 0  # re-plans against #1
    repo = Repository(open_database(tiny_url))
    inputs = repo.plan_inputs(2)
    assert inputs.replan is not None and inputs.replan.published_id == 1
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"process{n}.xlsx"
        command = ["--db", tiny_url, "reproduce", "2", "--out", str(out)]
        done = subprocess.run(
            [sys.executable, "-m", "atmp_planner", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Byte-identical" in done.stdout
        outputs.append(out.read_bytes())
    stored = repo.load_plan(2)
    start, end = plan_span(inputs.scenario, stored)
    assert outputs[0] == outputs[1] == plan_workbook_bytes(inputs.scenario, stored, start, end, 2)


def test_reproduce_names_the_versions_that_differ(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan recorded under other versions: not identical (exit 1), saying which differ and
    that the plan itself is the same."""
    recorded = "atmp-planner 0.0.9, source 000000000000, ortools 9.8.3296"
    _sql(tiny_url, f"UPDATE plan SET solver_versions = '{recorded}'")
    capsys.readouterr()
    assert main(["--db", tiny_url, "reproduce", "1"]) == 1
    out = capsys.readouterr().out
    assert "NOT byte-identical" in out
    assert "Versions differ: atmp-planner 0.0.9 recorded, " in out
    assert "ortools 9.8.3296 recorded, " in out
    assert "source 000000000000 recorded, " in out
    assert "First difference: none in the plan itself." in out


def test_reproduce_names_the_first_differing_patient(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stored milestone edited by hand: reproduce says which patient differs."""
    _sql(tiny_url, "UPDATE plan_schedule SET apheresis_day = '2027-01-01' WHERE position = 0")
    patient = Repository(open_database(tiny_url)).load_plan(1).schedules[0].patient_code
    capsys.readouterr()
    assert main(["--db", tiny_url, "reproduce", "1"]) == 1
    out = capsys.readouterr().out
    assert f"First difference: patient {patient}: apheresis 2027-01-01 vs " in out
    assert "Versions differ" not in out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "UPDATE plan SET settings_deterministic = 0",
            "plan #1 was made with a wall-clock budget (60 s), which no run repeats",
        ),
        ("UPDATE plan SET solver_stopped = 1", "plan #1 was stopped early by hand"),
        ("UPDATE plan SET inputs_json = NULL", "plan #1 has no stored inputs"),
        (
            "UPDATE plan SET inputs_json = replace(inputs_json, 'P1', 'P7')",
            "the stored inputs of plan #1 do not match their SHA-256",
        ),
        (
            """UPDATE plan SET replan_inputs = '{"published_id": 1}'""",
            "the stored re-plan basis cannot be read",
        ),
    ],
)
def test_reproduce_refuses_what_cannot_be_reproduced(
    tiny_url: str, capsys: pytest.CaptureFixture[str], edit: str, message: str
) -> None:
    """Wall-clock and stopped plans, plans without inputs and edited inputs: one line, exit 1."""
    _sql(tiny_url, edit)
    capsys.readouterr()
    assert main(["--db", tiny_url, "reproduce", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("atmp-planner: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    "argv", [["approve", "0", "--reason", "ok"], ["reproduce", "x1"], ["reproduce", "-3"]]
)
def test_a_bad_plan_id_is_an_argument_error(
    tiny_url: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Not a plan id: exit 2, one line, nothing approved."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["--db", tiny_url, *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a plan id" in err
    assert Repository(open_database(tiny_url)).plan_summaries(DEMO_NAME)[0].state == "draft"


def test_reproduce_of_an_unknown_plan_is_one_line(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An id no plan has: one line naming it."""
    capsys.readouterr()
    assert main(["--db", tiny_url, "reproduce", "9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "9" in err
