"""`atmp-planner bench`: generated centres planned by greedy bookings and by the planner.

Every (instance, method) runs in a fresh spawned process, so its peak memory is its own.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import platform
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from planner import Plan, Scenario, SolveProgress, SolveSettings
from planner.checks import check_plan
from planner.load import bottleneck

SIZES = ("S", "M", "M-over", "L", "L-over", "XL")
QUICK_SIZES = ("S", "M")
METHODS = ("fcfs", "edd", "planner-fast", "planner-default")
#: Also offered, not run by default: CP-SAT alone on the planner's model (solver/alone.py)
#: for as long as planner-default took on the same instance in the same run.
ALONE = "cp-sat-alone"
ALL_METHODS = (*METHODS, ALONE)
QUICK_METHODS = ("fcfs", "edd", "planner-fast")
FAST_TIME = 0.5

#: Every row has these keys (None where a method has no such figure, or the run failed).
COLUMNS = (
    "instance",
    "seed",
    "method",
    "patients",
    "load",
    "bottleneck",
    "scheduled",
    "weight",
    "weight_bound",
    "time_level",
    "time_bound",
    "levels",
    "lateness_days",
    "vein_to_vein_days",
    "objective",
    "greedy_objective",
    "bound",
    "gap",
    "engine",
    "cp_sat_status",
    "seconds_to_first_plan",
    "seconds_to_first_cp_sat",
    "seconds_to_last_improvement",
    "seconds",
    "weighted_lateness_days",
    "weighted_lateness_all_days",
    "vein_to_vein_median",
    "vein_to_vein_p90",
    "peak_rss_mb",
    "model_variables",
    "model_constraints",
    "variables_per_patient",
    "constraints_per_patient",
    "violations",
    "error",
)


@dataclass(frozen=True)
class Run:
    """One benchmark run: an instance (size class and seed, or a scenario file) and a
    method."""

    instance: str
    seed: int | None
    method: str
    fast_time: float = FAST_TIME
    #: cp-sat-alone's wall-clock budget (planner-default's seconds on the instance).
    seconds: float | None = None
    #: A scenario file to plan instead of a generated centre (`instance` names it).
    path: str | None = None


def file_run(path: Path, method: str, fast_time: float = FAST_TIME) -> Run:
    """A run on a scenario file, named by the file's stem (it has no generator seed)."""
    return Run(path.stem, None, method, fast_time, path=str(path))


def settings_of(run: Run) -> SolveSettings:
    """The planner's settings for a planner method."""
    if run.method == "planner-default":
        return SolveSettings()
    return SolveSettings(deterministic_time=run.fast_time)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _greedy_plan(scenario: Scenario, method: str) -> Plan:
    """Book every patient once in referral (fcfs) or needed-infusion (edd) order."""
    from solver.api import info_of
    from solver.chain import ChainTimes, trivial_bound
    from solver.extract import build_plan
    from solver.greedy import ORDERS, book_in_order
    from solver.instance import compile_instance

    started = time.monotonic()
    instance = compile_instance(scenario)
    booking = book_in_order(instance, ORDERS[method](instance), method).booking
    chains: list[ChainTimes] = booking.chains
    info = info_of(
        instance,
        chains,
        engine=f"greedy-{method}",
        bound=float(trivial_bound(instance)),
        started=started,
        settings=SolveSettings(),
    )
    return build_plan(instance, chains, info, datetime.now(UTC))


def measure(run: Run) -> dict[str, object]:
    """Generate the instance, plan it by the run's method and measure the plan."""
    from data.generator import generate
    from data.scenario_files import read_scenario
    from solver import model_size, solve
    from solver.chain import scheduled_scale
    from solver.instance import compile_instance

    if run.path is not None:
        scenario = read_scenario(run.path)
    else:
        assert run.seed is not None
        scenario = generate(run.instance, run.seed)
    top = bottleneck(scenario)
    reports: list[SolveProgress] = []
    started = time.monotonic()
    if run.method in ("fcfs", "edd"):
        plan = _greedy_plan(scenario, run.method)
    elif run.method == ALONE:
        from solver.alone import solve_alone

        if run.seconds is None:
            raise ValueError(f"{ALONE} needs planner-default's seconds on the instance")
        seed = SolveSettings().seed if run.seed is None else run.seed
        plan = solve_alone(scenario, run.seconds, seed=seed, workers=os.cpu_count() or 1)
    else:
        plan = solve(scenario, settings_of(run), on_progress=reports.append)
    seconds = time.monotonic() - started
    rss = _peak_rss_mb()  # before the model is built again to be counted
    size = model_size(scenario) if run.method.startswith("planner") else None
    first_plan = next((r.elapsed_s for r in reports if r.phase == "greedy"), seconds)
    cp_sat = [r.elapsed_s for r in reports if r.phase == "cp-sat"]
    scale = scheduled_scale(compile_instance(scenario))
    weights = {p.code: scenario.weight(scenario.effective_priority(p)) for p in scenario.patients}
    v2v = [float(s.vein_to_vein_days) for s in plan.schedules]
    after = scenario.horizon_end + timedelta(days=1)
    late_after = {
        p.code: 0 if p.needed_infusion is None else max(0, (after - p.needed_infusion).days)
        for p in scenario.patients
    }
    late = sum(weights[s.patient_code] * s.lateness_days for s in plan.schedules)
    info = plan.solver
    time_level = info.levels[-1] if info.levels else None
    return {
        "instance": run.instance,
        "seed": run.seed,
        "method": run.method,
        "patients": plan.kpis.total,
        "load": round(top.load, 4),
        "bottleneck": top.resource,
        "scheduled": plan.kpis.scheduled,
        "weight": sum(weights[s.patient_code] for s in plan.schedules),
        "weight_bound": math.ceil(info.bound / scale),
        # The last level: weighted lateness + waiting (days), and its proven bound if any.
        "time_level": None if time_level is None else time_level.value,
        "time_bound": None if time_level is None else time_level.bound,
        "levels": [
            {"name": lv.name, "value": lv.value, "bound": lv.bound, "maximise": lv.maximise}
            for lv in info.levels
        ],
        "lateness_days": plan.kpis.total_lateness_days,
        "vein_to_vein_days": int(sum(v2v)),
        "objective": info.objective,
        # The planner's own greedy start (the better of FCFS and priority-first booking).
        "greedy_objective": info.greedy_objective,
        "bound": info.bound,
        "gap": info.gap,
        "engine": info.engine,
        "cp_sat_status": info.cp_sat_status,
        "seconds_to_first_plan": round(first_plan, 3),
        "seconds_to_first_cp_sat": round(cp_sat[0], 3) if cp_sat else None,
        "seconds_to_last_improvement": round(cp_sat[-1], 3) if cp_sat else None,
        "seconds": round(seconds, 3),
        "weighted_lateness_days": late,
        # Unscheduled patients too, each as if infused the day after the horizon: a lower
        # bound of their lateness, so a method does not gain by leaving patients out.
        "weighted_lateness_all_days": late
        + sum(weights[u.patient_code] * late_after[u.patient_code] for u in plan.unscheduled),
        "vein_to_vein_median": plan.kpis.median_vein_to_vein_days,
        "vein_to_vein_p90": plan.kpis.p90_vein_to_vein_days,
        "peak_rss_mb": round(rss, 1),
        "model_variables": None if size is None else size[0],
        "model_constraints": None if size is None else size[1],
        "variables_per_patient": None if size is None else round(size[0] / plan.kpis.total, 1),
        "constraints_per_patient": None if size is None else round(size[1] / plan.kpis.total, 1),
        "violations": len(check_plan(scenario, plan)),
        "error": None,
    }


def _child(run: Run, out: multiprocessing.Queue[dict[str, object]]) -> None:
    try:
        out.put(measure(run))
    except Exception as error:  # reported as a row, the benchmark goes on
        out.put(_failed(run, f"{type(error).__name__}: {error}"))


def _failed(run: Run, error: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(instance=run.instance, seed=run.seed, method=run.method, error=error)
    return row


def run_isolated(run: Run, timeout_s: float | None = None) -> dict[str, object]:
    """Measure a run in a fresh spawned process; a run over timeout_s is killed."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[dict[str, object]] = context.Queue()
    process = context.Process(target=_child, args=(run, out), daemon=True)
    process.start()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    row: dict[str, object] | None = None
    while row is None:
        try:
            row = out.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                row = _failed(run, f"worker died (exit code {process.exitcode})")
            elif deadline is not None and time.monotonic() > deadline:
                process.kill()
                row = _failed(run, f"timeout after {timeout_s:g} s")
    process.join()
    return row


def run_all(
    runs: Sequence[Run],
    timeout_s: float | None = None,
    on_row: Callable[[dict[str, object]], None] | None = None,
) -> list[dict[str, object]]:
    """Measure runs one after another (never two at once: timings stay comparable).

    A cp-sat-alone run without seconds gets the seconds planner-default took on its
    instance earlier in the same runs; with none to take, it is a row with an error."""
    rows: list[dict[str, object]] = []
    for run in runs:
        if run.method == ALONE and run.seconds is None:
            mine = (run.instance, run.seed, "planner-default")
            took = [
                r["seconds"]
                for r in rows
                if (r["instance"], r["seed"], r["method"]) == mine and r["seconds"] is not None
            ]
            if took:
                run = replace(run, seconds=float(took[-1]))  # type: ignore[arg-type]
        if run.method == ALONE and run.seconds is None:
            row = _failed(run, f"{ALONE} runs after planner-default on the same instance")
        else:
            row = run_isolated(run, timeout_s)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


# Output -----------------------------------------------------------------------------------

_TABLE = (
    ("instance", "{}", 8),
    ("method", "{}", 15),
    ("patients", "{}", 8),
    ("scheduled", "{}", 9),
    ("weight", "{}", 6),
    ("weight_bound", "{}", 6),
    ("time_level", "{}", 6),
    ("time_bound", "{}", 6),
    ("lateness_days", "{}", 7),
    ("weighted_lateness_days", "{}", 8),
    ("weighted_lateness_all_days", "{}", 8),
    ("vein_to_vein_median", "{:.1f}", 6),
    ("vein_to_vein_p90", "{:.1f}", 6),
    ("gap", "{:.2e}", 8),
    ("engine", "{}", 15),
    ("cp_sat_status", "{}", 10),
    ("vs_greedy", "{}", 6),
    ("seconds_to_first_plan", "{:.1f}", 6),
    ("seconds", "{:.1f}", 7),
    ("peak_rss_mb", "{:.0f}", 6),
    ("variables_per_patient", "{:.0f}", 6),
    ("constraints_per_patient", "{:.0f}", 6),
    ("violations", "{}", 4),
)
_LEFT = ("instance", "method", "engine", "cp_sat_status", "vs_greedy")
_HEADERS = {
    "weight_bound": "w bnd",
    "time_level": "time",
    "time_bound": "t bnd",
    "lateness_days": "late d",
    "weighted_lateness_days": "w-late d",
    "weighted_lateness_all_days": "w-late+u",
    "vein_to_vein_median": "v2v md",
    "vein_to_vein_p90": "v2v 90",
    "seconds_to_first_plan": "1st s",
    "peak_rss_mb": "RSS MB",
    "violations": "viol",
    "variables_per_patient": "var/pt",
    "constraints_per_patient": "con/pt",
    "cp_sat_status": "CP-SAT",
    "vs_greedy": "vs gr",
}


def format_row(row: dict[str, object]) -> str:
    """One aligned table line (errors after the columns)."""
    cells = []
    row = {**row, "vs_greedy": _vs_greedy(row)}
    for key, fmt, width in _TABLE:
        value = row.get(key)
        text = "-" if value is None else fmt.format(value)
        cells.append(text.ljust(width) if key in _LEFT else text.rjust(width))
    line = " ".join(cells)
    return f"{line}  {row['error']}" if row.get("error") else line


def _vs_greedy(row: dict[str, object]) -> str | None:
    """Whether a planner run beat its own greedy start ('better') or returned it ('same')."""
    mine, start = row.get("objective"), row.get("greedy_objective")
    if not str(row.get("method", "")).startswith("planner") or mine is None or start is None:
        return None
    return "better" if float(mine) > float(start) else "same"  # type: ignore[arg-type]


def table_header() -> str:
    """The table's header and rule."""
    cells = [
        _HEADERS.get(key, key).ljust(width) if key in _LEFT else _HEADERS.get(key, key).rjust(width)
        for key, _, width in _TABLE
    ]
    line = " ".join(cells)
    return f"{line}\n{'-' * len(line)}"


def machine() -> dict[str, object]:
    """What the benchmark ran on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "ortools": metadata.version("ortools"),
    }


class RowsError(Exception):
    """A file given to `bench --rows` is not one `bench --json` wrote."""


#: What a row must hold for the table and the plot: numbers (or nothing) under the table's
#: numeric columns; a run without an error also its instance, method, patients (more than
#: none), scheduled, seconds and weighted lateness.
_NUMERIC = tuple(key for key, fmt, _ in _TABLE if ":" in fmt)
_PLOTTED = ("patients", "scheduled", "seconds", "weighted_lateness_days")


def _row_problem(row: object) -> str | None:
    """Why a row read from a file cannot be shown (None: it can)."""
    if not isinstance(row, dict):
        return "a row is not a table of named values"

    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    for key in _NUMERIC:
        if row.get(key) is not None and not number(row[key]):
            return f"{key} is not a number"
    if row.get("error") is None:
        for key in _PLOTTED:
            if not number(row.get(key)) or not math.isfinite(row[key]):
                return f"a run without an error has no number of {key}"
        if not isinstance(row.get("method"), str) or not isinstance(row.get("instance"), str):
            return "a run without an error names no instance and method"
        if row["patients"] <= 0:
            return "a run without an error has no patients"
    return None


def read_rows(paths: Sequence[Path]) -> list[dict[str, object]]:
    """Rows of earlier `--json` files, in order; RowsError names a file that holds none."""
    rows: list[dict[str, object]] = []
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise RowsError(f"{path}: not UTF-8 text; give a file `bench --json` wrote") from None
        except (json.JSONDecodeError, RecursionError):
            raise RowsError(f"{path}: not JSON; give a file `bench --json` wrote") from None
        found = record.get("rows") if isinstance(record, dict) else None
        if not isinstance(found, list):
            raise RowsError(f"{path}: no rows of a benchmark; give a file `bench --json` wrote")
        for k, row in enumerate(found):
            problem = _row_problem(row)
            if problem:
                raise RowsError(f"{path}: row {k + 1}: {problem}")
            rows.append({"error": None, **row})
    return rows


def write_json(path: Path, rows: list[dict[str, object]], command: str) -> Path:
    """Write the rows with the machine and the command."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "machine": machine(), "rows": rows}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def bound_ratio(row: dict[str, object]) -> float | None:
    """The time level found over its proven bound (None without a positive bound)."""
    found, bound = row.get("time_level"), row.get("time_bound")
    if not isinstance(found, int | float) or not isinstance(bound, int | float) or bound <= 0:
        return None
    return float(found) / float(bound)


def plot(path: Path, rows: list[dict[str, object]]) -> Path:
    """Time, scheduled share, weighted lateness and the time level against its proven
    bound, against patients: a marker per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    good = [r for r in rows if r.get("error") is None]
    fig, axes = plt.subplots(1, 4, figsize=(21, 5))
    markers = {"fcfs": "o", "edd": "s", "planner-fast": "^", "planner-default": "D"}
    methods = list(dict.fromkeys(str(r["method"]) for r in good))

    def value(row: dict[str, object], key: str) -> float:
        if key == "share":
            return float(row["scheduled"]) / float(row["patients"])  # type: ignore[arg-type]
        if key == "bound_ratio":
            return bound_ratio(row) or math.nan
        return float(row[key])  # type: ignore[arg-type]

    panels = (
        ("seconds", "seconds (wall, log)"),
        ("share", "scheduled share of patients"),
        ("weighted_lateness_days", "weighted lateness: sum of weight x days late (symlog)"),
        ("bound_ratio", "time level / proven bound (1 = optimal)"),
    )
    for ax, (key, label) in zip(axes, panels, strict=True):
        for k, method in enumerate(methods):
            # Methods side by side around each instance's patient count.
            nudge = 1 + 0.05 * (k - (len(methods) - 1) / 2)
            mine = [r for r in good if r["method"] == method and not math.isnan(value(r, key))]
            ax.scatter(
                [float(r["patients"]) * nudge for r in mine],  # type: ignore[arg-type]
                [value(r, key) for r in mine],
                marker=markers.get(method, "x"),
                label=method,
                s=42,
                alpha=0.85,
            )
        for name in dict.fromkeys(str(r["instance"]) for r in good):
            first = next(r for r in good if r["instance"] == name)
            values = [value(r, key) for r in good if r["instance"] == name]
            if all(math.isnan(v) for v in values):
                continue
            top = max(v for v in values if not math.isnan(v))
            ax.annotate(
                name,
                (float(first["patients"]), top),  # type: ignore[arg-type]
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
            )
        ax.set_ylabel(label)
        if all(math.isnan(value(r, key)) for r in good):
            ax.text(0.5, 0.5, "no run proved a bound", transform=ax.transAxes, ha="center")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.set_xscale("log")
        ax.margins(y=0.12)
        if key == "seconds":
            ax.set_yscale("log")
        elif key == "weighted_lateness_days":
            ax.set_yscale("symlog", linthresh=10)
            ax.set_ylim(bottom=0, top=3 * max([value(r, key) for r in good] + [10.0]))
        elif key == "bound_ratio":
            ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xlabel("patients (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle("atmp-planner bench: generated centres (one marker per instance and method)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
