"""Plans on the command line: which plan is current, `plans`, `export --plan`, the window."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from atmp_planner.cli import DEMO_NAME, main
from data.db import open_database
from data.repository import Repository
from planner import Assignment, Plan, ResourceType
from tests.test_cli import read_assignments
from ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
WEEK_START, WEEK_END = date(2027, 1, 4), date(2027, 1, 10)
WEEK = ["--from", WEEK_START.isoformat(), "--to", WEEK_END.isoformat()]


def _key(a: Assignment) -> tuple[str, ...]:
    return (*a.key, str(a.start))


def _exported(url: str, tmp_path: Path, *extra: str) -> list[Assignment]:
    """The Assignments sheet of `export` for the week, sorted."""
    out = tmp_path / f"export-{len(list(tmp_path.iterdir()))}.xlsx"
    assert main(["--db", url, "export", "--out", str(out), *WEEK, *extra]) == 0
    return sorted(read_assignments(out), key=_key)


def _week(plan: Plan | None) -> list[Assignment]:
    """A plan's assignments touching the week, sorted."""
    assert plan is not None
    return sorted(
        (a for a in plan.assignments if a.start.date() <= WEEK_END and a.end.date() >= WEEK_START),
        key=_key,
    )


def test_plans_lists_and_use_switches_what_export_writes(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second solve becomes current; `plans --use` switches back; export follows, --plan picks."""
    assert (
        main(["--db", demo_url, "solve", "--deterministic-time", "0.2", "--seed", "7", "--quiet"])
        == 0
    )
    capsys.readouterr()
    assert main(["--db", demo_url, "plans"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "created" in listing[0] and "status" in listing[0] and "objective" in listing[0]
    assert listing[2].startswith("      1 ") and listing[3].startswith("*     2 ")
    assert listing[3].endswith("current") and "current" not in listing[2]
    repo = Repository(open_database(demo_url))
    first, second = repo.load_plan(1), repo.load_plan(2)
    assert first.assignments != second.assignments  # another search, another plan
    assert _exported(demo_url, tmp_path) == _week(second)
    assert main(["--db", demo_url, "plans", "--use", "1"]) == 0
    assert "Plan #1 is now the current plan" in capsys.readouterr().out
    assert _exported(demo_url, tmp_path) == _week(first)
    assert _exported(demo_url, tmp_path, "--plan", "2") == _week(second)


@pytest.mark.parametrize(
    ("argv", "status", "words"),
    [
        (["plans", "--use", "99"], 1, "No plan #99"),
        (["plans", "--use", "x"], 2, "not a plan id"),
        (["plans", "--scenario", "nope"], 1, "no scenario named 'nope'"),
        (["export", "--out", "x.xlsx", *WEEK, "--plan", "99"], 1, "No plan #99"),
        (["export", "--out", "x.xlsx", *WEEK, "--plan", "1", "--scenario", "x"], 1, "belongs"),
        (["export", "--out", "x.xlsx", *WEEK, "--plan", "0"], 2, "not a plan id"),
        (["gui", "--screenshot", "x.jpg"], 1, ".png"),
    ],
)
def test_bad_plan_choices_give_one_line(
    demo_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    words: str,
) -> None:
    """Unknown or foreign plan ids: one line, exit 1 (2 for malformed ids); nothing changes."""
    argv = [str(tmp_path / a) if a.startswith("x.") else a for a in argv]
    before = Repository(open_database(demo_url)).plan_summaries(DEMO_NAME)
    if status == 2:
        with pytest.raises(SystemExit) as exited:
            main(["--db", demo_url, *argv])
        assert exited.value.code == 2
    else:
        assert main(["--db", demo_url, *argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert Repository(open_database(demo_url)).plan_summaries(DEMO_NAME) == before
    assert not list(tmp_path.glob("x.*"))


def test_a_cancelled_solve_in_the_window_leaves_plans_and_export_alone(
    qtbot, demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cancel in the window, then Discard: `plans` and `export` still give the chosen plan."""
    repo = Repository(open_database(demo_url))
    scenario = repo.load_scenario(DEMO_NAME)
    chosen = repo.current_plan(DEMO_NAME)
    window = MainWindow(scenario, chosen, repo, plan_id=1)
    qtbot.addWidget(window)
    window.time_spin.setValue(3600.0)
    with qtbot.waitSignal(window.plan_changed, timeout=60_000) as blocker:
        window.solve_action.trigger()
        window.cancel_action.trigger()
    assert blocker.args[0].solver.stopped and window.pending is not None
    window.close()  # closing with the decision open discards the stopped plan
    capsys.readouterr()
    assert main(["--db", demo_url, "plans"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert len(rows) == 1 and rows[0].startswith("*     1 ")
    assert _exported(demo_url, tmp_path) == _week(chosen)


def _headless_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }


def test_gui_screenshot_renders_offscreen_without_any_qt_setting(
    demo_url: str, tmp_path: Path
) -> None:
    """`gui --screenshot` with no display and no QT_QPA_PLATFORM writes a real PNG."""
    out = tmp_path / "window.png"
    done = subprocess.run(
        [sys.executable, "-m", "atmp_planner", "--db", demo_url, "gui", "--screenshot", str(out)],
        cwd=ROOT,
        env=_headless_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    assert done.stderr == "", done.stderr  # no Qt chatter either


def test_gui_without_a_display_says_so_in_one_line(demo_url: str) -> None:
    """`gui` with nowhere to open a window: one line naming xvfb-run, exit 1, no Qt abort."""
    done = subprocess.run(
        [sys.executable, "-m", "atmp_planner", "--db", demo_url, "gui"],
        cwd=ROOT,
        env=_headless_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0] and "xvfb-run" in err[0]


def test_ctrl_c_during_solve_saves_a_stopped_plan_that_is_not_current(demo_url: str) -> None:
    """Ctrl-C stops a long solve within seconds: its plan is kept aside, the current one stays."""
    repo = Repository(open_database(demo_url))
    current = repo.current_plan(DEMO_NAME)
    assert current is not None
    before = [s.plan_id for s in repo.plan_summaries(DEMO_NAME)]
    command = [sys.executable, "-m", "atmp_planner", "--db", demo_url, "solve"]
    solve = subprocess.Popen(
        [*command, "--deterministic-time", "1000"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        # A shell's background job ignores SIGINT and its children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert solve.stderr is not None
    seen = []
    for line in solve.stderr:  # wait until CP-SAT itself is searching
        seen.append(line)
        if line.startswith("cp-sat"):
            break
    solve.send_signal(signal.SIGINT)
    _, rest = solve.communicate(timeout=60)
    assert solve.returncode == 130, "".join(seen) + rest
    last = rest.strip().splitlines()[-1]
    after = repo.plan_summaries(DEMO_NAME)
    assert [s.plan_id for s in after][:-1] == before
    assert f"plan #{after[-1].plan_id}, NOT current" in last
    still = repo.current_plan(DEMO_NAME)
    assert still is not None and still.same_content(current)


def test_the_demo_plan_names_a_person_for_every_staffed_step(demo_url: str) -> None:
    """Issue 15: the pooled demo plan could not be staffed on 18 days; now every need is named."""
    plan = Repository(open_database(demo_url)).current_plan(DEMO_NAME)
    assert plan is not None
    scenario = Repository(open_database(demo_url)).load_scenario(DEMO_NAME)
    done = {(p.code, d.step_code) for p in scenario.patients for d in p.done_steps}
    pools = [
        a
        for a in plan.assignments
        if a.resource_type is ResourceType.STAFF_POOL and (a.patient_code, a.step_code) not in done
    ]
    named = [a for a in plan.assignments if a.resource_type is ResourceType.STAFF]
    assert len(pools) > 200 and len(named) == sum(a.quantity for a in pools)
    assert f"Named staff for {len(pools)} of {len(pools)} staffed steps." in plan.notes


def test_slot_answers_without_changing_anything(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`slot` prints the earliest dates around the current plan and saves nothing."""
    repo = Repository(open_database(demo_url))
    before = repo.plan_summaries(DEMO_NAME)
    argv = ["--db", demo_url, "slot", "--product", "CARTF", "--from", "2027-01-11"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "moving no one" in text and "apheresis" in text and "infusion" in text
    assert main([*argv, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] and answer["apheresis"] >= "2027-01-11"
    assert answer["apheresis"] < answer["release"] <= answer["infusion"]
    assert answer["plan"] == next(s.plan_id for s in before if s.current)
    assert repo.plan_summaries(DEMO_NAME) == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--product", "NOPE"], "no product 'NOPE'"),
        (["--product", "CART19", "--trial", "CAR101"], "--trial and --cohort go together"),
        (["--product", "CART19", "--from", "2031-01-01"], "outside the scenario's horizon"),
        (["--product", "CART19", "--trial", "XX", "--cohort", "DL1"], "no trial 'XX'"),
        (["--product", "CART19", "--trial", "CAR101", "--cohort", "DL9"], "no cohort 'DL9'"),
    ],
)
def test_slot_bad_requests_get_one_line(
    demo_url: str, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    assert main(["--db", demo_url, "slot", *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
