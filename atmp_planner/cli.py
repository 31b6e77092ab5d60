"""The `atmp-planner` command line: wires data, solver and ui; holds no business rules."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import NoReturn, TextIO

from atmp_planner import bench
from data.db import DatabaseError, open_database, resolve_url
from data.repository import Repository, RepositoryError
from planner import Plan, Scenario, SolveProgress, SolveSettings, ValidationError
from planner.kpis import format_plan, format_plan_list, format_progress

DEMO_NAME = "Demo: Nordic university hospital"
DEFAULT_DET_TIME = 3.0


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that prints one line (plus a hint) and exits 2 on bad arguments."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _plan_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a plan id (a whole number): {text!r}") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"not a plan id: {text!r}")
    return value


def _version() -> str:
    try:
        return metadata.version("atmp-planner")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(
        prog="atmp-planner",
        description="Plan the vein-to-vein chain of an ATMP (CAR-T, TIL) centre.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $ATMP_PLANNER_DB, else a SQLite file in the "
        "user data directory); PostgreSQL: postgresql+psycopg://user:pw@host/db",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def solver_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--deterministic-time",
            type=_positive,
            default=DEFAULT_DET_TIME,
            metavar="T",
            help=f"CP-SAT work budget in deterministic time units (default {DEFAULT_DET_TIME}); "
            "the same inputs then give the same plan",
        )
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument(
            "--workers",
            type=int,
            default=1,
            help="search workers; more than 1 interleaves them, still deterministic",
        )
        p.add_argument(
            "--wall-clock",
            type=_positive,
            metavar="SECONDS",
            help="bound the search by wall time instead (faster to reason about, "
            "but not reproducible)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress lines")

    demo = sub.add_parser(
        "demo",
        help="load the demo centre if absent, plan it and write the weekly plan workbook",
        description="Load the bundled demo centre into the database (if absent), solve it, "
        "save the plan, write the first weeks to a workbook and print a KPI summary.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-plan.xlsx"), help="workbook path")
    demo.add_argument("--weeks", type=int, default=4, help="weeks to export (default 4)")
    demo.add_argument("--reload", action="store_true", help="replace the stored demo scenario")
    solver_options(demo)

    solve = sub.add_parser(
        "solve",
        help="plan a stored scenario and save the plan",
        description="Plan a stored scenario, save the plan and print its KPI summary.",
    )
    solve.add_argument("--scenario", default=DEMO_NAME, help="scenario name")
    solver_options(solve)

    export = sub.add_parser(
        "export",
        help="write the current plan of a scenario (or --plan ID) to an xlsx workbook",
        description="Write a scenario's current plan, or the plan given by --plan, for a "
        "window of dates.",
    )
    export.add_argument("--out", type=Path, required=True, help="workbook path (.xlsx)")
    export.add_argument("--from", dest="start", type=_date, required=True, help="first date")
    export.add_argument("--to", dest="end", type=_date, required=True, help="last date")
    export.add_argument(
        "--scenario", help=f"scenario name (default: the plan's, else {DEMO_NAME!r})"
    )
    export.add_argument(
        "--plan", type=_plan_id, metavar="ID", help="plan id (see `plans`; default: current)"
    )

    plans = sub.add_parser(
        "plans",
        help="list a scenario's plans; --use ID makes one the current plan",
        description="List a scenario's stored plans (id, created, status, scheduled, "
        "objective). The current plan is the one `export` and the window use by default: "
        "the last one a finished solve saved, or the one chosen with --use.",
    )
    plans.add_argument("--scenario", default=DEMO_NAME, help="scenario name")
    plans.add_argument(
        "--use", type=_plan_id, metavar="ID", help="make this plan the scenario's current plan"
    )

    scenarios = sub.add_parser("scenarios", help="list stored scenarios")
    scenarios.set_defaults()

    gui = sub.add_parser("gui", help="open the desktop window on a stored scenario")
    gui.add_argument("--scenario", default=DEMO_NAME, help="scenario name")
    gui.add_argument(
        "--plan", type=_plan_id, metavar="ID", help="plan to show first (default: current)"
    )
    gui.add_argument(
        "--screenshot",
        type=Path,
        help="render the window to this PNG (offscreen, no display needed) and exit",
    )
    bench_cmd = sub.add_parser(
        "bench",
        help="benchmark greedy bookings and the planner on generated centres",
        description="Generate centres of several sizes (seeded), plan each by first-come-"
        "first-served booking, earliest-due-date booking and the planner, each run in a "
        "fresh process, and print one row per run. Runs one at a time.",
    )
    bench_cmd.add_argument(
        "--quick", action="store_true", help="S and M only, fast planner setting only"
    )
    bench_cmd.add_argument(
        "--sizes",
        nargs="+",
        choices=bench.SIZES,
        metavar="SIZE",
        help=f"size classes to run (default: all; --quick: S M); of {', '.join(bench.SIZES)}",
    )
    bench_cmd.add_argument(
        "--methods",
        nargs="+",
        choices=bench.METHODS,
        metavar="METHOD",
        help=f"methods to run (default: all; --quick: all but planner-default); of "
        f"{', '.join(bench.METHODS)}",
    )
    bench_cmd.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    bench_cmd.add_argument("--json", type=Path, metavar="FILE", help="write the rows as JSON")
    bench_cmd.add_argument(
        "--plot", type=Path, metavar="FILE", help="write a PNG plot (needs the bench extra)"
    )
    bench_cmd.add_argument(
        "--instances", type=Path, metavar="DIR", help="write each generated instance to DIR"
    )
    bench_cmd.add_argument(
        "--timeout", type=_positive, metavar="SECONDS", help="kill a run after this long"
    )
    bench_cmd.add_argument(
        "--rows",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="print (and --json/--plot) the rows of earlier --json files instead of running",
    )
    # The fast setting's budget; tests make it smaller.
    bench_cmd.add_argument("--fast-time", type=_positive, default=None, help=argparse.SUPPRESS)
    return parser


def _settings(args: argparse.Namespace) -> SolveSettings:
    if args.workers < 1:
        raise CliError("--workers must be 1 or more")
    if args.wall_clock is not None:
        return SolveSettings(
            deterministic=False, time_limit_s=args.wall_clock, workers=args.workers, seed=args.seed
        )
    return SolveSettings(
        deterministic_time=args.deterministic_time, workers=args.workers, seed=args.seed
    )


def _progress_printer(out: TextIO, quiet: bool) -> Callable[[SolveProgress], None]:
    last = [0.0]

    def report(p: SolveProgress) -> None:
        if quiet:
            return
        now = time.monotonic()
        if p.phase == "cp-sat" and now - last[0] < 1.0:
            return
        last[0] = now
        print(format_progress(p), file=out, flush=True)

    return report


def _solve_and_save(
    repo: Repository, scenario: Scenario, args: argparse.Namespace
) -> tuple[Plan, int]:
    from solver import solve

    settings = _settings(args)
    if not args.quiet:
        mode = (
            f"deterministic, {settings.deterministic_time:g} units, seed {settings.seed}"
            if settings.deterministic
            else f"wall clock {settings.time_limit_s:g} s"
        )
        print(
            f"Planning {len(scenario.patients_to_plan())} patients of '{scenario.name}' "
            f"({mode})...",
            file=sys.stderr,
            flush=True,
        )
    plan = _solve_interruptibly(
        lambda cancel: solve(
            scenario,
            settings,
            on_progress=_progress_printer(sys.stderr, args.quiet),
            cancel=cancel,
        )
    )
    if plan.solver.stopped:
        # Stopped by Ctrl-C: keep the work, but the current plan stays as the user chose it.
        plan_id = repo.save_plan(plan, current=False)
        raise StoppedError(
            f"stopped early: the best plan so far ({plan.kpis.scheduled}/{plan.kpis.total} "
            f"scheduled) is saved as plan #{plan_id}, NOT current; the current plan is "
            f"unchanged (`atmp-planner plans --use {plan_id}` to use it)"
        )
    # The search ran to its budget: the user asked for this plan, so it becomes current.
    plan_id = repo.save_plan(plan, current=True)
    if not args.quiet:
        print(f"Saved plan #{plan_id}; it is now the current plan.", file=sys.stderr)
    return plan, plan_id


class StoppedError(Exception):
    """The user stopped a solve (Ctrl-C); printed as one line, exit status 130."""


def _solve_interruptibly(run: Callable[[Callable[[], bool]], Plan]) -> Plan:
    """Run a solve in a thread; the first Ctrl-C stops it with its best plan, a second aborts.

    The main thread waits in short steps so Python sees Ctrl-C at once, even while
    CP-SAT is busy in native code.
    """
    stop = threading.Event()
    done = threading.Event()
    outcome: list[Plan | BaseException] = []

    def target() -> None:
        try:
            outcome.append(run(stop.is_set))
        except BaseException as error:  # handed to the main thread
            outcome.append(error)
        finally:
            done.set()

    # Not Thread.join: on Python 3.11 a join interrupted by Ctrl-C can report a live thread
    # as finished.
    threading.Thread(target=target, name="solve", daemon=True).start()
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            if stop.is_set():
                raise
            stop.set()
            print(
                "Stopping: finishing with the best plan so far (Ctrl-C again to abort)...",
                file=sys.stderr,
                flush=True,
            )
    (result,) = outcome
    if isinstance(result, BaseException):
        raise result
    return result


def _open(args: argparse.Namespace) -> Repository:
    return Repository(open_database(resolve_url(args.db)))


def _load_name(repo: Repository, name: str) -> None:
    """Check that a scenario of this name is stored."""
    if not repo.has_scenario(name):
        known = ", ".join(repo.list_scenarios()) or "none; run `atmp-planner demo` first"
        raise CliError(f"no scenario named {name!r} (stored: {known})")


def _load(repo: Repository, name: str) -> Scenario:
    _load_name(repo, name)
    return repo.load_scenario(name)


def _write(
    path: Path, scenario: Scenario, plan: Plan, start: date, end: date, plan_id: int | None
) -> Path:
    from data.excel_export import write_plan_workbook

    if path.suffix.lower() != ".xlsx":
        raise CliError(f"--out must end in .xlsx: {path}")
    if end < start:
        raise CliError(f"--to {end} is before --from {start}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_plan_workbook(path, scenario, plan, start, end, plan_id)


def cmd_demo(args: argparse.Namespace) -> int:
    """Load, plan and export the demo centre."""
    from data.demo import build_demo_scenario

    if args.weeks < 1:
        raise CliError("--weeks must be 1 or more")
    repo = _open(args)
    if args.reload or not repo.has_scenario(DEMO_NAME):
        scenario = build_demo_scenario()
        if scenario.name != DEMO_NAME:
            scenario = _renamed(scenario)
        repo.save_scenario(scenario)
        print(f"Loaded the demo scenario '{DEMO_NAME}'.", file=sys.stderr)
    scenario = _load(repo, DEMO_NAME)
    plan, plan_id = _solve_and_save(repo, scenario, args)
    start = scenario.horizon_start
    end = start + timedelta(weeks=args.weeks) - timedelta(days=1)
    path = _write(args.out, scenario, plan, start, end, plan_id)
    print(format_plan(plan))
    print(f"Weekly plan {start} to {end}: {path}")
    return 0


def _renamed(scenario: Scenario) -> Scenario:
    from dataclasses import replace

    return replace(scenario, name=DEMO_NAME)


def cmd_solve(args: argparse.Namespace) -> int:
    """Plan a stored scenario."""
    repo = _open(args)
    plan, _ = _solve_and_save(repo, _load(repo, args.scenario), args)
    print(format_plan(plan))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the current plan, or a chosen one, for a window."""
    repo = _open(args)
    plan_id = args.plan
    if plan_id is not None:
        plan = repo.load_plan(plan_id, args.scenario)
        scenario = _load(repo, plan.scenario_name)
    else:
        name = args.scenario or DEMO_NAME
        scenario = _load(repo, name)
        plan_id = next((p.plan_id for p in repo.plan_summaries(name) if p.current), None)
        if plan_id is None:
            raise CliError(
                f"scenario {name!r} has no current plan; run `atmp-planner solve`, or pick "
                "one with `atmp-planner plans --use ID` or `export --plan ID`"
            )
        plan = repo.load_plan(plan_id, name)
    path = _write(args.out, scenario, plan, args.start, args.end, plan_id)
    print(f"Wrote {path}")
    return 0


def cmd_plans(args: argparse.Namespace) -> int:
    """List a scenario's plans, or make one current."""
    repo = _open(args)
    _load_name(repo, args.scenario)
    if args.use is not None:
        repo.make_current(args.use, args.scenario)
        print(f"Plan #{args.use} is now the current plan of {args.scenario!r}.")
        return 0
    print(format_plan_list(repo.plan_summaries(args.scenario)))
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List stored scenarios."""
    repo = _open(args)
    for name in repo.list_scenarios():
        print(name)
    return 0


def _has_display() -> bool:
    """Whether Qt can open a window here (X11, Wayland, or a platform the user chose)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the window (or render it to a PNG)."""
    if args.screenshot is not None and args.screenshot.suffix.lower() != ".png":
        raise CliError(f"--screenshot must end in .png: {args.screenshot}")
    if args.screenshot is None and not _has_display():
        raise CliError(
            "no display to open a window on (DISPLAY is not set): run it on a desktop, "
            "under `xvfb-run atmp-planner gui`, or render with `gui --screenshot FILE.png`"
        )
    repo = _open(args)
    scenario = _load(repo, args.scenario)
    plan_id = args.plan
    if plan_id is None:
        plan_id = next((p.plan_id for p in repo.plan_summaries(args.scenario) if p.current), None)
    plan = None if plan_id is None else repo.load_plan(plan_id, args.scenario)
    from ui.app import grab_screenshot, run_gui

    if args.screenshot is not None:
        grab_screenshot(scenario, plan, args.screenshot, store=repo, plan_id=plan_id)
        print(f"Wrote {args.screenshot}")
        return 0
    return run_gui(scenario, plan, repo, plan_id)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print its table (and JSON, plot, instances when asked)."""
    from data.generator import generate, parameters, write_instance
    from planner.load import format_loads, resource_loads

    if args.plot is not None and args.plot.suffix.lower() != ".png":
        raise CliError(f"--plot must end in .png: {args.plot}")
    if args.rows:
        rows = bench.read_rows(args.rows)
        print(bench.table_header())
        for row in rows:
            print(bench.format_row(row))
        return _bench_outputs(
            args, rows, f"atmp-planner bench --rows {' '.join(map(str, args.rows))}"
        )
    sizes = args.sizes or (bench.QUICK_SIZES if args.quick else bench.SIZES)
    methods = args.methods or (bench.QUICK_METHODS if args.quick else bench.METHODS)
    fast = args.fast_time or bench.FAST_TIME
    for size in sizes:
        scenario = generate(size, args.seed)
        loads = resource_loads(scenario)
        print(
            f"{size} seed {args.seed}: {len(scenario.patients)} patients, "
            f"{len(scenario.cleanrooms)} rooms, {len(scenario.devices)} devices, "
            f"{scenario.ward.beds} beds, {len(scenario.days()) // 7} weeks; load:",
            flush=True,
        )
        print(format_loads(loads), flush=True)
        if args.instances is not None:
            write_instance(
                scenario,
                args.instances / f"{size}-seed{args.seed}.json",
                parameters(size, args.seed),
            )
    print(
        f"\nfast = deterministic time {fast:g}; default = SolveSettings() "
        f"(deterministic time {SolveSettings().deterministic_time:g})\n",
        flush=True,
    )
    print(bench.table_header(), flush=True)
    runs = [bench.Run(size, args.seed, method, fast) for size in sizes for method in methods]
    rows = bench.run_all(
        runs, args.timeout, on_row=lambda row: print(bench.format_row(row), flush=True)
    )
    command = (
        f"atmp-planner bench --sizes {' '.join(sizes)} --methods {' '.join(methods)} "
        f"--seed {args.seed}"
        + ("" if args.fast_time is None else f" --fast-time {fast:g}")
        + ("" if args.timeout is None else f" --timeout {args.timeout:g}")
    )
    return _bench_outputs(args, rows, command)


def _bench_outputs(args: argparse.Namespace, rows: list[dict[str, object]], command: str) -> int:
    if args.json is not None:
        print(f"Wrote {bench.write_json(args.json, rows, command)}")
    if args.plot is not None:
        try:
            print(f"Wrote {bench.plot(args.plot, rows)}")
        except ImportError:
            raise CliError("--plot needs matplotlib: pip install 'atmp-planner[bench]'") from None
    return 0 if all(row["error"] is None for row in rows) else 1


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "solve": cmd_solve,
    "export": cmd_export,
    "plans": cmd_plans,
    "scenarios": cmd_scenarios,
    "gui": cmd_gui,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors print one line and return 1."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, ValidationError, DatabaseError, RepositoryError, OSError) as error:
        print(f"atmp-planner: error: {error}", file=sys.stderr)
        return 1
    except StoppedError as stopped:
        print(f"atmp-planner: {stopped}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("atmp-planner: interrupted; nothing was saved", file=sys.stderr)
        return 130
