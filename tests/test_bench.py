"""`atmp-planner bench` end to end on the small class, in fresh processes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from atmp_planner import bench
from atmp_planner.cli import main
from data.scenario_json import read_scenario_json
from solver import model_size


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    """`bench --quick` on S only at deterministic time 0.2: the JSON record and instances."""
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "rows.json"
    code = main(
        [
            "bench",
            "--quick",
            "--sizes",
            "S",
            "--fast-time",
            "0.2",
            "--json",
            str(out),
            "--instances",
            str(folder / "instances"),
        ]
    )
    assert code == 0
    return json.loads(out.read_text()), folder


def rows_of(record: dict[str, object]) -> dict[str, dict[str, object]]:
    rows = record["rows"]
    assert isinstance(rows, list)
    return {row["method"]: row for row in rows}


def test_quick_writes_a_row_per_method_with_every_key(quick) -> None:
    record, _ = quick
    rows = rows_of(record)
    assert set(rows) == set(bench.QUICK_METHODS)
    for row in rows.values():
        assert set(row) == set(bench.COLUMNS)
        assert row["instance"] == "S" and row["error"] is None
    assert "--fast-time 0.2" in record["command"]
    assert {"nproc", "cpu", "ram_gb", "python", "ortools"} <= set(record["machine"])


def test_numbers_are_in_range(quick) -> None:
    for row in rows_of(quick[0]).values():
        patients = row["patients"]
        assert patients == 20
        assert 0 <= row["scheduled"] <= patients
        assert 0 <= row["weight"] <= row["weight_bound"]
        assert row["lateness_days"] >= 0 and row["weighted_lateness_days"] >= row["lateness_days"]
        # S is overloaded: a patient left out is counted as late past the horizon.
        unscheduled = patients - row["scheduled"]
        assert row["weighted_lateness_all_days"] >= row["weighted_lateness_days"] + unscheduled
        assert 0 <= row["gap"] <= 1
        assert row["bound"] >= row["objective"]
        assert 0 < row["seconds_to_first_plan"] <= row["seconds"] < 120
        assert 50 < row["peak_rss_mb"] < 4000
        assert row["violations"] == 0
        assert 0 < row["vein_to_vein_median"] <= row["vein_to_vein_p90"] < 100
        assert row["load"] > 1  # S is overloaded
        if str(row["method"]).startswith("planner"):
            variables, constraints = model_size(
                read_scenario_json(quick[1] / "instances" / "S-seed1.json")
            )
            assert (row["model_variables"], row["model_constraints"]) == (variables, constraints)
            assert row["variables_per_patient"] == round(variables / patients, 1) > 1
        else:
            assert row["model_variables"] is None and row["variables_per_patient"] is None


def test_planner_is_never_worse_than_fcfs_on_the_first_level(quick) -> None:
    """The planner starts from the better of FCFS and priority booking and keeps it if
    CP-SAT finds nothing better: scheduled priority weight, then the whole objective."""
    rows = rows_of(quick[0])
    planner, fcfs = rows["planner-fast"], rows["fcfs"]
    assert planner["weight"] >= fcfs["weight"]
    assert planner["objective"] >= fcfs["objective"]
    assert planner["seconds_to_first_cp_sat"] is not None
    assert planner["seconds_to_first_plan"] <= planner["seconds_to_first_cp_sat"]


def test_greedy_rows_have_a_consistent_objective(quick) -> None:
    """The objective's first level dominates: weight x scale minus the time terms."""
    for method in ("fcfs", "edd"):
        row = rows_of(quick[0])[method]
        assert row["engine"] == f"greedy-{method}" and row["cp_sat_status"] == "NOT_RUN"
        scale = row["bound"] / row["weight_bound"]
        assert math.ceil(row["objective"] / scale) == row["weight"]


def test_rows_carry_each_objective_level_with_its_bound(quick) -> None:
    """Per level: scheduled weight first, the time level last (with the table's time
    column); a planner that proved S optimal proves the time level's bound equal to it."""
    for method, row in rows_of(quick[0]).items():
        levels = row["levels"]
        assert isinstance(levels, list) and len(levels) == 2
        assert levels[0]["value"] == row["weight"] and levels[0]["maximise"]
        assert levels[-1]["value"] == row["time_level"] and not levels[-1]["maximise"]
        assert row["time_bound"] == levels[-1]["bound"]
        if row["cp_sat_status"] == "OPTIMAL":
            assert levels[0]["bound"] == row["weight"] and row["time_bound"] == row["time_level"]
        elif method in ("fcfs", "edd"):
            assert row["time_bound"] is None  # the trivial bound proves no time level


def test_instances_are_written(quick) -> None:
    """Each instance is a JSON scenario anyone can import, with its generator parameters."""
    folder = quick[1] / "instances"
    scenario = read_scenario_json(folder / "S-seed1.json")
    assert len(scenario.patients) == 20
    written = json.loads((folder / "S-seed1.params.json").read_text())
    assert written["class"] == "S" and written["seed"] == 1 and written["patients"] == 20


def test_scenario_files_are_benched_as_read_and_named_by_file(quick, tmp_path: Path) -> None:
    """A centre's own file: its rows are the file's patients, named by the file; the
    greedy rows of an unchanged file equal the generated instance's."""
    record, folder = quick
    data = json.loads((folder / "instances" / "S-seed1.json").read_text())
    same = tmp_path / "our-centre.json"
    same.write_text(json.dumps(data))
    data["patients"] = data["patients"][:15]
    fewer = tmp_path / "fewer.json"
    fewer.write_text(json.dumps(data))
    out = tmp_path / "rows.json"
    args = ["bench", "--scenarios", str(same), str(fewer), "--methods", "fcfs", "edd"]
    assert main([*args, "--json", str(out)]) == 0
    rows = {(r["instance"], r["method"]): r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {(n, m) for n in ("our-centre", "fewer") for m in ("fcfs", "edd")}
    generated = rows_of(record)
    for method in ("fcfs", "edd"):
        mine = rows[("our-centre", method)]
        assert mine["seed"] is None and mine["violations"] == 0
        for key in ("patients", "scheduled", "weight", "time_level", "weighted_lateness_days"):
            assert mine[key] == generated[method][key]
        assert rows[("fewer", method)]["patients"] == 15


def test_a_bad_scenario_file_stops_the_bench_before_any_run(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1}')
    out = tmp_path / "rows.json"
    assert main(["bench", "--scenarios", str(bad), "--json", str(out)]) == 1
    assert "bad.json" in capsys.readouterr().err
    assert not out.exists()
    assert main(["bench", "--scenarios", str(bad), "--sizes", "S"]) == 1
    assert "no --sizes" in capsys.readouterr().err


def test_table_lines_align() -> None:
    header, rule = bench.table_header().splitlines()
    row = {key: None for key in bench.COLUMNS} | {"instance": "S", "method": "fcfs"}
    assert len(bench.format_row(row)) == len(header) == len(rule)


def test_a_run_over_its_timeout_is_a_row_with_an_error() -> None:
    row = bench.run_isolated(bench.Run("S", 1, "planner-default"), timeout_s=0.01)
    assert set(row) == set(bench.COLUMNS)
    assert row["error"] is not None and "timeout" in str(row["error"])
    assert row["scheduled"] is None


def test_plot_writes_a_png(tmp_path: Path, quick) -> None:
    pytest.importorskip("matplotlib")
    path = bench.plot(tmp_path / "bench.png", list(rows_of(quick[0]).values()))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_of_earlier_runs_are_printed_again_without_running(quick, capsys) -> None:
    record, folder = quick
    again = folder / "again.json"
    assert main(["bench", "--rows", str(folder / "rows.json"), "--json", str(again)]) == 0
    assert json.loads(again.read_text())["rows"] == record["rows"]
    assert "planner-fast" in capsys.readouterr().out


def test_cp_sat_alone_gets_planner_defaults_seconds_on_its_instance(monkeypatch) -> None:
    """cp-sat-alone runs for the seconds planner-default took on the same instance and seed
    earlier in the run; without such a row it is an error row and nothing is run."""
    ran: list[bench.Run] = []

    def fake(run: bench.Run, timeout_s: float | None = None) -> dict[str, object]:
        ran.append(run)
        row = dict.fromkeys(bench.COLUMNS)
        seconds = {("S", "planner-default"): 12.5, ("M", "planner-default"): 40.0}
        row.update(instance=run.instance, seed=run.seed, method=run.method)
        row.update(seconds=seconds.get((run.instance, run.method), 1.0))
        return row

    monkeypatch.setattr(bench, "run_isolated", fake)
    runs = [
        bench.Run("S", 1, "planner-default"),
        bench.Run("M", 1, "planner-default"),
        bench.Run("S", 1, bench.ALONE),
        bench.Run("S", 2, bench.ALONE),
    ]
    rows = bench.run_all(runs)
    assert [(r.instance, r.method, r.seconds) for r in ran[2:]] == [("S", bench.ALONE, 12.5)]
    assert rows[3]["error"] is not None and "after planner-default" in str(rows[3]["error"])
    assert len(ran) == 3


def test_the_bound_ratio_is_the_time_level_over_a_positive_bound() -> None:
    """The plot's fourth panel: found over proven bound; no point without a bound."""
    assert bench.bound_ratio({"time_level": 13209, "time_bound": 11024}) == 13209 / 11024
    assert bench.bound_ratio({"time_level": 188, "time_bound": 188}) == 1.0
    assert bench.bound_ratio({"time_level": 13875, "time_bound": 0}) is None
    assert bench.bound_ratio({"time_level": 8251, "time_bound": None}) is None
