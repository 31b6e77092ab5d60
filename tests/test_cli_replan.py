"""Publish, pin, re-plan and diff on the command line, on the demo centre and a tiny one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from atmp_planner.cli import DEMO_NAME, main
from data.db import open_database
from data.repository import Repository
from planner import ResourceType
from tests.factories import tiny_scenario
from tests.test_cli import FAST

HEADER = [
    "Code", "Product", "Trial", "Cohort", "Referral date", "Earliest apheresis",
    "Latest apheresis", "Clinically needed date", "Priority",
]  # fmt: skip


@pytest.fixture
def tiny_url(tmp_path: Path) -> str:
    """The tiny scenario (under the demo's name, the default) with one current plan."""
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    Repository(open_database(url, create=True)).save_scenario(tiny_scenario(name=DEMO_NAME))
    assert main(["--db", url, "solve", *FAST]) == 0
    return url


def _referrals(path: Path, *rows: list[object]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_one_referral_on_the_published_demo_moves_a_handful_and_nothing_frozen(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Publish the demo plan, add one referral, re-plan: no step in the 14-day frozen window
    moves, no published patient is dropped unless the diff names a higher-priority reason,
    and at most a handful of patients move."""
    assert main(["--db", demo_url, "publish", "--without-approval"]) == 0
    book = _referrals(
        tmp_path / "ref.xlsx",
        ["NEW1", "CART19", None, None, "2027-01-11", "2027-01-14", "2027-02-12", "2027-02-26", 3],
    )
    assert main(["--db", demo_url, "import", str(book), "--as", "referrals", "--scenario",
                 DEMO_NAME]) == 0  # fmt: skip
    assert main(["--db", demo_url, "solve", *FAST]) == 0
    repo = Repository(open_database(demo_url))
    published, replanned = repo.load_plan(1), repo.load_plan(2)
    frozen_until = datetime(2027, 1, 18)

    frozen = {
        (a.patient_code, a.step_code, a.resource_type, a.resource_code, a.start, a.end)
        for a in published.assignments
        if a.start < frozen_until and a.resource_type is not ResourceType.STAFF
    }
    kept = {
        (a.patient_code, a.step_code, a.resource_type, a.resource_code, a.start, a.end)
        for a in replanned.assignments
    }
    assert frozen and frozen <= kept
    capsys.readouterr()
    assert main(["--db", demo_url, "diff", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert (diff["plan_a"], diff["plan_b"]) == (1, 2)
    added = {c["patient"] for c in diff["changes"] if c["change"] == "added"}
    # Patients scheduled rank above stability: moves beyond a handful must have let
    # patients the published plan left out in, and the plan says who.
    left_out_now_in = added - {"NEW1"}
    assert diff["moved"] <= 5 or left_out_now_in, diff["moved"]
    if left_out_now_in:
        (newly,) = [n for n in replanned.notes if n.startswith("Newly scheduled: ")]
        assert all(code in newly for code in left_out_now_in)
    for change in diff["changes"]:
        if change["change"] == "dropped":
            assert (
                "is dropped: its capacity went to newly scheduled patients of higher"
                in (change["reason"])
            )
    assert "NEW1" in added or "NEW1" in {u.patient_code for u in replanned.unscheduled}
    assert any(n.startswith("Stability: ") for n in replanned.notes)


def test_publish_supersedes_and_plans_shows_the_state(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Publishing a second plan supersedes the first; `plans` says which is which."""
    assert main(["--db", tiny_url, "publish", "--without-approval"]) == 0
    assert "Plan #1 is now the published plan" in capsys.readouterr().out
    assert main(["--db", tiny_url, "solve", "--fresh", *FAST]) == 0
    assert main(["--db", tiny_url, "publish", "--plan", "2", "--without-approval"]) == 0
    assert "plan #1 is superseded" in capsys.readouterr().out
    assert main(["--db", tiny_url, "plans"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].rstrip().endswith("superseded")
    assert lines[3].split()[-2:] == ["published", "current"]
    assert Repository(open_database(tiny_url)).published_plan_id(DEMO_NAME) == 2


def test_solve_replans_against_the_published_plan_unless_fresh(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`solve` says it re-plans and notes the stability; `solve --fresh` does not."""
    assert main(["--db", tiny_url, "publish", "--without-approval"]) == 0
    capsys.readouterr()
    assert main(["--db", tiny_url, "solve", "--deterministic-time", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "Re-planning against published plan #1 from 2027-01-04" in captured.err
    assert "Stability: 0 of 2 published patients moved" in captured.out
    assert main(["--db", tiny_url, "solve", "--fresh", *FAST]) == 0
    assert "Re-planned against" not in capsys.readouterr().out
    assert main(["--db", tiny_url, "solve", "--today", "2027-01-20", *FAST]) == 0
    assert "from 2027-01-20" in capsys.readouterr().out


def test_pin_lists_and_unpin_removes(tiny_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Pins are stored per scenario, listed, and removed one step or all at once."""
    assert main(["--db", tiny_url, "pin", "P1"]) == 0
    assert main(["--db", tiny_url, "pin", "P2", "--step", "seed"]) == 0
    assert main(["--db", tiny_url, "pin", "P2", "--step", "seed"]) == 0
    assert "was pinned already" in capsys.readouterr().out
    assert main(["--db", tiny_url, "pin"]) == 0
    assert capsys.readouterr().out.splitlines() == ["P1", "P2 step seed"]
    assert main(["--db", tiny_url, "unpin", "P2"]) == 0
    assert main(["--db", tiny_url, "pin"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "P1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pin", "P9"], "No patient 'P9' in scenario"),
        (["pin", "P1", "--step", "bake"], "has no step 'bake'; its steps are apheresis, seed"),
        (["pin", "--step", "seed"], "--step needs a patient"),
        (["unpin", "P1"], "P1 is not pinned"),
        (["diff"], "has no published plan"),
        (["diff", "1"], "give two plan ids"),
        (["diff", "1", "9"], "9"),
        (["publish", "--plan", "9"], "9"),
    ],
)
def test_bad_replan_input_is_one_line_and_changes_nothing(
    tiny_url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Unknown patients, steps, pins and plans: one error line, exit 1, nothing stored."""
    repo = Repository(open_database(tiny_url))
    before = repo.count_rows()
    capsys.readouterr()
    assert main(["--db", tiny_url, *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("atmp-planner: error: ") and err.count("\n") == 1
    assert message in err
    assert repo.count_rows() == before
    assert repo.published_plan_id(DEMO_NAME) is None


def test_a_plan_stopped_early_is_not_published(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stopped search's plan can be used but not published: one line, nothing changes."""
    repo = Repository(open_database(tiny_url))
    plan = repo.load_plan(1)
    stopped = repo.save_plan(replace(plan, solver=replace(plan.solver, stopped=True)))
    capsys.readouterr()
    assert main(["--db", tiny_url, "publish", "--plan", str(stopped)]) == 1
    assert "was stopped early" in capsys.readouterr().err
    assert repo.published_plan_id(DEMO_NAME) is None


def test_a_disruption_under_a_kept_step_is_one_line_and_saves_nothing(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cleanroom goes down under P1's published seeding: `solve` names patient, step and
    what to do, saves no plan; `solve --fresh` plans around the downtime."""
    from planner import Window

    assert main(["--db", tiny_url, "publish", "--without-approval"]) == 0
    repo = Repository(open_database(tiny_url))
    seed = next(
        a for a in repo.load_plan(1).assignments if a.patient_code == "P1" and a.step_code == "seed"
    )
    scenario = repo.load_scenario(DEMO_NAME)
    room = replace(scenario.cleanrooms[0], downtime=(Window(seed.start, seed.end, "leak"),))
    repo.save_scenario(replace(scenario, cleanrooms=(room,)))
    before = repo.count_rows()
    capsys.readouterr()
    assert main(["--db", tiny_url, "solve", *FAST]) == 1
    err = capsys.readouterr().err
    assert err.startswith("atmp-planner: error: Patient 'P1': step 'seed'") and err.count("\n") == 1
    assert "re-plan with --fresh" in err
    assert repo.count_rows() == before
    assert main(["--db", tiny_url, "solve", "--fresh", *FAST]) == 0


def test_pins_without_a_published_plan_keep_the_current_plans_times(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing published: a pinned patient keeps its times from the current plan while an
    urgent referral arrives; without the pin it would give up its day."""
    from planner import ResourceType
    from tests.factories import patient

    repo = Repository(open_database(tiny_url))
    scenario = repo.load_scenario(DEMO_NAME)
    urgent = patient("P0", window_days=0, priority=1)
    repo.save_scenario(replace(scenario, patients=(urgent, *scenario.patients)))

    # The patient collected on the urgent referral's only day (whichever the solver chose).
    first = min(repo.load_plan(1).schedules, key=lambda s: s.apheresis_day).patient_code

    def held(plan_id: int) -> list[tuple[object, ...]]:
        return sorted(
            (a.step_code, a.resource_code, a.start)
            for a in repo.load_plan(plan_id).assignments
            if a.patient_code == first and a.resource_type is not ResourceType.STAFF
        )

    assert main(["--db", tiny_url, "pin", first]) == 0
    assert main(["--db", tiny_url, "solve", *FAST]) == 0
    assert held(2) == held(1)
    assert any(n.startswith("Re-planned against current plan #1") for n in repo.load_plan(2).notes)
    assert main(["--db", tiny_url, "unpin", first]) == 0
    assert main(["--db", tiny_url, "solve", *FAST]) == 0
    assert held(3) != held(1)


def test_slot_with_moves_answers_both_ways_in_text_and_json(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`slot --with-moves`: the no-move slot, then the with-moves slot (never later) and who
    moves; JSON carries both."""
    args = ["--db", tiny_url, "slot", "--product", "CART", "--from", "2027-01-04"]
    assert main([*args, "--with-moves"]) == 0
    out = capsys.readouterr().out
    assert "moving no one:" in out and "With planned patients allowed to move" in out
    assert main([*args, "--with-moves", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    moves = answer["with_moves"]
    assert moves["infusion"] is not None and moves["infusion"] <= answer["infusion"]
    assert all({"patient", "apheresis_days", "infusion_days"} == set(m) for m in moves["moved"])


def test_fail_batch_releases_the_patient_and_the_next_solve_collects_it_again(
    tiny_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fail-batch` stores the new window with its reason in the audit trail; `solve`
    re-plans the patient from the failure day and keeps the others; a bad day is refused
    with nothing stored."""
    from datetime import timedelta

    assert main(["--db", tiny_url, "publish", "--without-approval"]) == 0
    repo = Repository(open_database(tiny_url))
    first = repo.load_plan(1)
    code = first.schedules[0].patient_code
    failed_on = first.schedules[0].apheresis_day + timedelta(days=2)
    version = repo.scenario_version(DEMO_NAME)
    too_early = str(failed_on - timedelta(days=400))
    assert main(["--db", tiny_url, "fail-batch", code, "--on", str(failed_on),
                 "--apheresis-until", too_early]) == 1  # fmt: skip
    assert "would end" in capsys.readouterr().err
    assert repo.scenario_version(DEMO_NAME) == version
    assert main(["--db", tiny_url, "fail-batch", code, "--on", str(failed_on)]) == 0
    assert f"Recorded the failed batch of {code}" in capsys.readouterr().out
    assert main(["--db", tiny_url, "audit", "show", "--last", "5"]) == 0
    assert f"batch of {code} failed on {failed_on}" in capsys.readouterr().out
    assert main(["--db", tiny_url, "solve", *FAST]) == 0
    again = repo.load_plan(2)
    schedule = again.schedule_of(code)
    assert schedule is not None and schedule.apheresis_day >= failed_on
    assert any(n.startswith(f"Released: {code}: ") for n in again.notes)
