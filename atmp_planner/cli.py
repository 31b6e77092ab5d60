"""The `atmp-planner` command line: wires data, solver and ui; holds no business rules."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import NoReturn, TextIO

from atmp_planner import bench
from data.access import DEFAULT_PREFIX
from data.backup import BackupError
from data.db import DatabaseError, open_database, resolve_url, sqlite_path
from data.repository import Repository, RepositoryError
from data.scenario_json import ScenarioFileError
from planner import Plan, Scenario, SolveProgress, SolveSettings, ValidationError
from planner.audit import format_check
from planner.kpis import format_plan, format_plan_list, format_progress
from planner.plan import MAX_DETERMINISTIC_TIME, MAX_SEED, MAX_TIME_LIMIT_S, MAX_WORKERS
from planner.replan import Replan, planning_date
from planner.roles import Action, UserRole
from planner.sanity import NeverFeasibleError
from planner.slot import Referral, SlotOffer

DEMO_NAME = "Demo: Nordic university hospital"
DEFAULT_DET_TIME = 3.0
#: Most weeks `demo` exports (ten years; the export is clipped to the plan anyway).
MAX_WEEKS = 520


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that prints one line (plus a hint) and exits 2 on bad arguments."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"atmp-planner: error: {_one_line(message)} (see `{self.prog} --help`)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _budget(maximum: float) -> Callable[[str], float]:
    """An argument type: a finite number more than 0 and at most maximum."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or not 0 < value <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be more than 0 and at most {maximum:g}: {text!r}"
            )
        return value

    return parse


def _whole(what: str, low: int, high: int) -> Callable[[str], int]:
    """An argument type: a whole number from low to high."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be {low} to {high}: {text!r}")
        return value

    return parse


def _db_url(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a database URL, e.g. sqlite:///plans.db")
    return text


def _user(text: str) -> str:
    from data.audit import check_user

    try:
        return check_user(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _reason(text: str) -> str:
    from data.audit import MAX_REASON

    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; say why, or leave --reason out")
    if len(text) > MAX_REASON:
        raise argparse.ArgumentTypeError(f"is longer than {MAX_REASON} characters")
    return text


def _since(text: str) -> datetime:
    """A date or date-time (UTC unless it names an offset), as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        type=_db_url,
        metavar="URL",
        help="SQLAlchemy database URL (default: $ATMP_PLANNER_DB, else a SQLite file in the "
        "user data directory); PostgreSQL: postgresql+psycopg://user:pw@host/db",
    )
    parser.add_argument(
        "--user",
        type=_user,
        metavar="NAME",
        help="who is recorded in the audit trail for changes (default: $ATMP_PLANNER_USER, "
        "else your login name)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def reason_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--reason",
            type=_reason,
            metavar="TEXT",
            help="why: recorded in the audit trail with every change this command makes",
        )

    def solver_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--deterministic-time",
            type=_budget(MAX_DETERMINISTIC_TIME),
            default=DEFAULT_DET_TIME,
            metavar="T",
            help=f"CP-SAT work budget in deterministic time units (default {DEFAULT_DET_TIME}, "
            f"at most {MAX_DETERMINISTIC_TIME:g}); the same inputs then give the same plan",
        )
        p.add_argument(
            "--seed",
            type=_whole("the seed", 0, MAX_SEED),
            default=0,
            help=f"random seed, 0 to {MAX_SEED} (default 0)",
        )
        p.add_argument(
            "--workers",
            type=_whole("--workers", 1, MAX_WORKERS),
            default=SolveSettings().workers,
            help=f"search workers, 1 to {MAX_WORKERS} (default {SolveSettings().workers}): "
            "neighbourhood searches run at once on as many threads; the plan depends on "
            "this number, never on the machine's cores",
        )
        p.add_argument(
            "--wall-clock",
            type=_budget(MAX_TIME_LIMIT_S),
            metavar="SECONDS",
            help=f"bound the search by wall time instead, at most {MAX_TIME_LIMIT_S:g} s "
            "(faster to reason about, but not reproducible)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress lines")

    demo = sub.add_parser(
        "demo",
        help="load the demo centre if absent, plan it and write the weekly plan workbook",
        description="Load the bundled demo centre into the database (if absent), solve it, "
        "save the plan, write the first weeks to a workbook and print a KPI summary.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-plan.xlsx"), help="workbook path")
    demo.add_argument(
        "--weeks",
        type=_whole("--weeks", 1, MAX_WEEKS),
        default=4,
        help=f"weeks to export, 1 to {MAX_WEEKS} (default 4)",
    )
    demo.add_argument("--reload", action="store_true", help="replace the stored demo scenario")
    solver_options(demo)
    reason_option(demo)

    solve = sub.add_parser(
        "solve",
        help="plan a stored scenario and save the plan",
        description="Plan a stored scenario, save the plan and print its KPI summary.",
    )
    solve.add_argument("--scenario", help=SCENARIO_HELP)
    solve.add_argument(
        "--fresh",
        action="store_true",
        help="plan from scratch, ignoring the published plan (default: re-plan against it)",
    )
    solve.add_argument(
        "--today",
        type=_date,
        metavar="DATE",
        help="planning date: steps before it and in the frozen window after it keep their "
        "published times (default: today, not before the horizon)",
    )
    solve.add_argument(
        "--plan-what-it-can",
        action="store_true",
        help="plan even when some inputs can never be planned (a product no room runs, "
        "a qualification no one holds): the patients they hold back are left out, with why",
    )
    solver_options(solve)
    reason_option(solve)

    publish = sub.add_parser(
        "publish",
        help="make the current plan (or --plan ID) the one the centre works to",
        description="Publish a stored plan: re-plans keep its started, frozen and pinned "
        "steps and move as few of its patients as they can. The plan published before "
        "becomes superseded.",
    )
    publish.add_argument("--scenario", help=SCENARIO_HELP)
    publish.add_argument(
        "--plan", type=_plan_id, metavar="ID", help="plan id (see `plans`; default: current)"
    )
    publish.add_argument(
        "--without-approval",
        action="store_true",
        help="publish a draft nobody approved (default: only an approved plan is published)",
    )
    reason_option(publish)

    approve = sub.add_parser(
        "approve",
        help="approve a plan (who, when and why are recorded; it is immutable from then on)",
        description="Approve a stored plan as --user (or $ATMP_PLANNER_USER, else your login) "
        "with a reason; recorded in the plan and the audit trail. An approved plan never "
        "changes; `publish` publishes approved plans.",
    )
    approve.add_argument("plan_id", type=_plan_id, metavar="ID", help="plan id (see `plans`)")
    approve.add_argument("--scenario", help="the scenario the plan must belong to")
    approve.add_argument(
        "--reason", type=_reason, required=True, metavar="TEXT", help="why (required)"
    )

    reproduce = sub.add_parser(
        "reproduce",
        help="regenerate a plan from its stored inputs and compare the export byte for byte",
        description="Solve the plan's stored scenario again with its stored settings, seed "
        "and re-plan basis in this process, export the stored and the regenerated plan to "
        "the weekly workbook (same creation time and plan id) and compare the bytes. Exit 0 "
        "when identical, 1 otherwise (saying which versions differ, or the first difference). "
        "Only plans made with a deterministic budget can be reproduced.",
    )
    reproduce.add_argument("plan_id", type=_plan_id, metavar="ID", help="plan id (see `plans`)")
    reproduce.add_argument("--scenario", help="the scenario the plan must belong to")
    reproduce.add_argument(
        "--out",
        type=Path,
        metavar="FILE.xlsx",
        help="also write the regenerated plan's workbook to FILE.xlsx",
    )

    for name, verb in (("pin", "keep"), ("unpin", "stop keeping")):
        pin = sub.add_parser(
            name,
            help=f"{verb} a patient's chain (or its chain up to --step) in re-plans",
            description=f"{verb.capitalize()} a patient's published (or current) times in "
            "the next re-plans: the whole chain, or with --step the chain up to and "
            "including that step (apheresis, a process step, or infusion)."
            + (" Without a patient, list the pins." if name == "pin" else ""),
        )
        pin.add_argument(
            "patient", nargs="?" if name == "pin" else None, help="patient code, e.g. P001"
        )
        pin.add_argument("--step", metavar="CODE", help="step code (default: whole chain)")
        pin.add_argument("--scenario", help=SCENARIO_HELP)

    fail = sub.add_parser(
        "fail-batch",
        help="record a patient's failed batch: a new apheresis and batch are planned",
        description="Record that a patient's batch failed (manufacturing or QC): what was "
        "done for it is void, its published chain is released, and the next `solve` plans "
        "a new apheresis and batch from the day of the failure, within an apheresis window "
        "as long as the first (or until --apheresis-until). The needed date and priority "
        "stay, so the delay shows as lateness.",
    )
    fail.add_argument("patient", help="patient code, e.g. P012")
    fail.add_argument(
        "--on", type=_date, required=True, metavar="DATE", help="the day the batch failed"
    )
    fail.add_argument(
        "--apheresis-until", type=_date, metavar="DATE", help="last day for the new apheresis"
    )
    fail.add_argument("--scenario", help=SCENARIO_HELP)
    reason_option(fail)

    diff = sub.add_parser(
        "diff",
        help="who moved, was added or dropped between two plans (default: published vs current)",
        description="Compare plan A with plan B (default: the published plan with the "
        "current one): patients whose apheresis or infusion day moved and by how many days, "
        "patients added and dropped, with the reasons the plans give.",
    )
    diff.add_argument("plans", nargs="*", type=_plan_id, metavar="ID", help="plan A and plan B")
    diff.add_argument("--scenario", help=SCENARIO_HELP)
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")

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
    export.add_argument(
        "--ical",
        type=Path,
        metavar="DIR",
        help="also write one iCalendar file per person named in the plan into DIR",
    )

    plans = sub.add_parser(
        "plans",
        help="list a scenario's plans; --use ID makes one the current plan",
        description="List a scenario's stored plans (id, created, status, scheduled, "
        "objective). The current plan is the one `export` and the window use by default: "
        "the last one a finished solve saved, or the one chosen with --use.",
    )
    plans.add_argument("--scenario", help=SCENARIO_HELP)
    plans.add_argument(
        "--use", type=_plan_id, metavar="ID", help="make this plan the scenario's current plan"
    )
    reason_option(plans)

    slot = sub.add_parser(
        "slot",
        help="earliest apheresis and infusion for a new referral, moving no one",
        description="Book a prospective patient around the current plan (or --plan ID) as "
        "it stands: the earliest apheresis day whose whole chain fits what is left, with "
        "release and infusion dates. Nothing is saved.",
    )
    slot.add_argument("--product", required=True, help="product code, e.g. CART19")
    slot.add_argument("--trial", help="trial code (with --cohort)")
    slot.add_argument("--cohort", help="cohort code (with --trial)")
    slot.add_argument(
        "--from",
        dest="start",
        type=_date,
        help="earliest apheresis (default: today, or the horizon's start if later)",
    )
    slot.add_argument("--priority", type=int, default=3, choices=range(1, 10), metavar="1-9")
    slot.add_argument("--scenario", help=SCENARIO_HELP)
    slot.add_argument("--plan", type=_plan_id, metavar="ID", help="plan to book around")
    slot.add_argument("--json", action="store_true", help="print the answer as JSON")
    slot.add_argument(
        "--with-moves",
        action="store_true",
        help="also the earliest slot if planned patients may move (none dropped), and who "
        "would move (solves the whole centre: seconds to a minute)",
    )

    template = sub.add_parser(
        "template",
        help="write an empty scenario workbook (.xlsx) to fill in and import",
        description="Write a workbook with one sheet per part of a scenario, a note on each "
        "column and drop-downs for codes; fill it in and load it with `atmp-planner import`.",
    )
    template.add_argument("file", type=Path, help="workbook path (.xlsx)")

    load = sub.add_parser(
        "import",
        help="store a scenario from a filled template (.xlsx) or a .json file",
        description="Check a scenario file and store it. Every problem is listed with its "
        "sheet, row and column (or JSON path); nothing is stored unless the whole file is "
        "valid.",
    )
    load.add_argument("file", type=Path, help="scenario file (.xlsx or .json)")
    load.add_argument(
        "--as",
        dest="kind",
        choices=("scenario", "roster", "referrals"),
        help="what the file holds (default: detected); a roster or referral list is merged "
        "into the stored scenario --scenario names",
    )
    load.add_argument(
        "--scenario",
        metavar="NAME",
        help="store under this name instead (a roster or referrals: the scenario to merge into)",
    )
    load.add_argument(
        "--replace", action="store_true", help="replace a stored scenario of the same name"
    )
    load.add_argument(
        "--public-holidays",
        action="store_true",
        help="when the file lists no holidays, add the public holidays of the site's country",
    )
    reason_option(load)

    dump = sub.add_parser(
        "export-scenario",
        help="write a stored scenario to .xlsx (a filled template) or .json",
        description="Write a stored scenario to a file that `atmp-planner import` reads back "
        "unchanged: .xlsx or .json, by the file's suffix.",
    )
    dump.add_argument("file", type=Path, help="file path (.xlsx or .json)")
    dump.add_argument("--scenario", help=SCENARIO_HELP)

    scenarios = sub.add_parser("scenarios", help="list stored scenarios")
    scenarios.set_defaults()

    gui = sub.add_parser("gui", help="open the desktop window on a stored scenario")
    gui.add_argument("--scenario", help=SCENARIO_HELP)
    gui.add_argument(
        "--plan", type=_plan_id, metavar="ID", help="plan to show first (default: current)"
    )
    gui.add_argument(
        "--screenshot",
        type=Path,
        help="render the window to this PNG (offscreen, no display needed) and exit",
    )
    backup = sub.add_parser(
        "backup",
        help="write the whole database (audit trail included) to a backup file",
        description="Write every scenario, plan and audit record to one gzip'd JSON file, "
        "a consistent snapshot with its schema revision and a digest of every row.",
    )
    backup.add_argument("file", type=Path, help="backup file to write (e.g. planner.backup.gz)")
    restore = sub.add_parser(
        "restore",
        help="load a backup file into an empty database (SQLite or PostgreSQL)",
        description="Load a backup into the empty database --db names (a new SQLite file is "
        "made); a database holding anything is refused. Every id is kept, the digest is "
        "checked before committing, and the audit trail verifies afterwards.",
    )
    restore.add_argument("file", type=Path, help="backup file written by `atmp-planner backup`")
    audit_cmd = sub.add_parser(
        "audit",
        help="show or verify the audit trail (who changed what, when and why)",
        description="The audit trail records every change to scenario data, every import, "
        "solve and plan choice: user, time (UTC), entity, key, field, old and new value, "
        "reason. Records are append-only and chained by SHA-256 hashes.",
    )
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "verify",
        help="check that no record was edited, deleted or reordered (exit 1 if one was)",
    )
    show = audit_sub.add_parser("show", help="print the audit trail, oldest first")
    show.add_argument("--entity", help="only this entity, e.g. roster_entry, patient, plan")
    show.add_argument(
        "--key", help="only this entity key, e.g. OP1 or OP1/2027-02-01: one entity's history"
    )
    show.add_argument("--scenario", help="only records of this scenario")
    show.add_argument("--by", metavar="USER", help="only records of this user")
    show.add_argument(
        "--since",
        type=_since,
        metavar="WHEN",
        help="only records from this date or date-time on (UTC unless an offset is given)",
    )
    show.add_argument(
        "--last",
        type=_whole("--last", 1, 10**9),
        metavar="N",
        help="only the newest N of the records selected",
    )
    users = sub.add_parser(
        "users",
        help="who may do what: list, grant and revoke users' roles",
        description="Users' roles (director, coordinator, scheduler, viewer) decide who may "
        "edit resources, import rosters and referrals, solve, pin, publish and approve; a "
        "viewer changes nothing. A database without roles is single-user: everything is "
        "allowed until the first grant, which must make you director. See docs/roles.md.",
    )
    users_sub = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    users_sub.add_parser("list", help="every user's role, and yours")
    users_sub.add_parser("matrix", help="which role may take which action")
    grant = users_sub.add_parser(
        "grant", help="give a user a role (director only; recorded with who and why)"
    )
    grant.add_argument("name", type=_user, help="the user (on PostgreSQL: the login)")
    grant.add_argument("role", choices=[r.value for r in UserRole], help="the role")
    grant.add_argument("--reason", type=_reason, required=True, metavar="TEXT", help="why")
    revoke = users_sub.add_parser(
        "revoke", help="take a user's role away (they become a viewer); director only"
    )
    revoke.add_argument("name", type=_user, help="the user (on PostgreSQL: the login)")
    revoke.add_argument("--reason", type=_reason, required=True, metavar="TEXT", help="why")
    setup = users_sub.add_parser(
        "setup-postgres",
        help="make the PostgreSQL group roles and table privileges (or --print the SQL)",
        description="Create the group roles PREFIX_director, PREFIX_coordinator, "
        "PREFIX_scheduler and PREFIX_viewer (NOLOGIN), grant each the table privileges of "
        "its role and make the audit trail append-only in the database; from then on each "
        "person's role is their login's group membership and the login you use becomes a "
        "director. Run it as the login owning the tables (it needs CREATEROLE); again after "
        "each upgrade.",
    )
    setup.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        metavar="NAME",
        help=f"group role prefix (default {DEFAULT_PREFIX!r})",
    )
    setup.add_argument("--print", action="store_true", help="print the SQL, change nothing")
    reason_option(setup)
    bench_cmd = sub.add_parser(
        "bench",
        help="benchmark greedy bookings and the planner on generated centres",
        description="Generate centres of several sizes (seeded), or read scenario files, "
        "plan each by first-come-first-served booking, earliest-due-date booking and the "
        "planner, each run in a fresh process, and print one row per run. Runs one at a "
        "time.",
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
        "--scenarios",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="plan these scenario files (JSON or xlsx, e.g. your own centre) instead of "
        "generated centres; each row is named by its file",
    )
    bench_cmd.add_argument(
        "--methods",
        nargs="+",
        choices=bench.ALL_METHODS,
        metavar="METHOD",
        help=f"methods to run (default: {', '.join(bench.METHODS)}; --quick: all of "
        f"those but planner-default); {bench.ALONE} (CP-SAT alone on the planner's model, no "
        "greedy start, for as long as planner-default took) runs after planner-default",
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
        "--timeout",
        type=_budget(MAX_TIME_LIMIT_S),
        metavar="SECONDS",
        help="kill a run after this long",
    )
    bench_cmd.add_argument(
        "--rows",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="print (and --json/--plot) the rows of earlier --json files instead of running",
    )
    # The fast setting's budget; tests make it smaller.
    bench_cmd.add_argument(
        "--fast-time", type=_budget(MAX_DETERMINISTIC_TIME), default=None, help=argparse.SUPPRESS
    )
    return parser


def _settings(args: argparse.Namespace) -> SolveSettings:
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
    from planner.sanity import refuse_never_feasible
    from solver import solve

    if not getattr(args, "plan_what_it_can", False):
        refuse_never_feasible(scenario)
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
    replan = _replan(repo, scenario, args)
    if replan is not None and not args.quiet:
        print(
            f"Re-planning against {replan.name} from {replan.today} (frozen until "
            f"{replan.frozen_until:%Y-%m-%d}, {len(replan.pins)} pins; --fresh to ignore it).",
            file=sys.stderr,
            flush=True,
        )
    plan = _solve_interruptibly(
        lambda cancel: solve(
            scenario,
            settings,
            on_progress=_progress_printer(sys.stderr, args.quiet),
            cancel=cancel,
            replan=replan,
        )
    )
    if plan.solver.stopped:
        # Stopped by Ctrl-C: keep the work, but the current plan stays as the user chose it.
        plan_id = repo.save_plan(
            plan, current=False, reason=args.reason, scenario=scenario, replan=replan
        )
        raise StoppedError(
            f"stopped early: the best plan so far ({plan.kpis.scheduled}/{plan.kpis.total} "
            f"scheduled) is saved as plan #{plan_id}, NOT current; the current plan is "
            f"unchanged (`atmp-planner plans --use {plan_id}` to use it)"
        )
    # The search ran to its budget: the user asked for this plan, so it becomes current.
    plan_id = repo.save_plan(
        plan, current=True, reason=args.reason, scenario=scenario, replan=replan
    )
    if not args.quiet:
        print(f"Saved plan #{plan_id}; it is now the current plan.", file=sys.stderr)
    return plan, plan_id


def _replan(repo: Repository, scenario: Scenario, args: argparse.Namespace) -> Replan | None:
    """What a solve re-plans against, unless --fresh: the published plan with its frozen
    window and pins; with none published but pins set, the current plan with the pins."""
    if getattr(args, "fresh", False):
        return None
    today = planning_date(scenario, getattr(args, "today", None))
    pins = repo.pins(scenario.name)
    published = repo.published_plan_id(scenario.name)
    if published is not None:
        plan = repo.load_plan(published, scenario.name)
        return Replan(plan, today, scenario.frozen_days, pins, published)
    current = _current_id(repo, scenario.name)
    if not pins or current is None:
        return None
    plan = repo.load_plan(current, scenario.name)
    return Replan(plan, today, 0, pins, current, basis="current")


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


#: Repositories a command opened; closed when it ends, so a SQLite file is whole on its own.
_OPENED: list[Repository] = []


def _open(args: argparse.Namespace, *, create: bool = False) -> Repository:
    """The repository on --db; only create may make a new database (the others need one)."""
    url = resolve_url(args.db)
    repo = Repository(open_database(url, create=create), user=args.user)
    _OPENED.append(repo)
    out: Path | None = getattr(args, "out", None) or getattr(args, "screenshot", None)
    database = sqlite_path(url)
    if out is not None and database is not None and out.resolve() == database.resolve():
        raise CliError(f"--out {out} is the database file; give another path")
    return repo


def _check_out(path: Path, suffix: str, option: str | None = None) -> None:
    """Refuse an output path that cannot be written, before anything is solved or saved."""
    option = option or ("--screenshot" if suffix == ".png" else "--out")
    if path.suffix.lower() != suffix:
        raise CliError(f"{option} must end in {suffix}: {path}")
    if not path.parent.is_dir():
        if path.parent.exists():
            raise CliError(f"{option} {path}: {path.parent} is not a directory")
        raise CliError(f"{option} {path}: the directory {path.parent} does not exist; create it")
    if path.is_dir():
        raise CliError(f"{option} {path} is a directory; give a file name")
    if path.exists() and not path.is_file():
        raise CliError(f"{option} {path} is not a regular file; give another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(f"{option} {path} is read-only; give another path")
    # The only sure test that the directory takes a new file is to make one.
    trial = path.with_name(f".{path.name}.{os.getpid()}.check")
    try:
        trial.touch(exist_ok=False)
        trial.unlink()
    except OSError as error:
        raise CliError(
            f"{option} {path}: cannot write to {path.parent} ({error.strerror})"
        ) from None


SCENARIO_HELP = "scenario name (default: the only one stored, else the demo's)"


def _pick(repo: Repository, name: str | None) -> str:
    """The scenario asked for; without --scenario the only one stored, else the demo."""
    if name is not None:
        return name
    stored = repo.list_scenarios()
    if len(stored) == 1:
        return stored[0]
    if DEMO_NAME in stored or not stored:
        return DEMO_NAME
    raise CliError(f"{len(stored)} scenarios are stored ({', '.join(stored)}); give --scenario")


def _current_id(repo: Repository, name: str) -> int | None:
    """The id of the scenario's current plan, if it has one."""
    return next((p.plan_id for p in repo.plan_summaries(name) if p.current), None)


def _load_name(repo: Repository, name: str) -> None:
    """Check that a scenario of this name is stored."""
    if not repo.has_scenario(name):
        known = ", ".join(repo.list_scenarios()) or "none; run `atmp-planner demo` first"
        raise CliError(f"no scenario named {name!r} (stored: {known})")


def _load(repo: Repository, name: str) -> Scenario:
    _load_name(repo, name)
    return repo.load_scenario(name)


def _clip(scenario: Scenario, plan: Plan, start: date, end: date) -> tuple[date, date]:
    """The window cut to the dates the plan covers; refused if it misses them all."""
    from data.excel_export import plan_span

    lo, hi = plan_span(scenario, plan)
    if end < lo or start > hi:
        raise CliError(
            f"the window {start} to {end} lies outside the plan, which covers {lo} to {hi}; "
            "give --from and --to in between"
        )
    return max(start, lo), min(end, hi)


def _write(
    path: Path, scenario: Scenario, plan: Plan, start: date, end: date, plan_id: int | None
) -> Path:
    from data.excel_export import write_plan_workbook

    return write_plan_workbook(path, scenario, plan, start, end, plan_id)


def cmd_demo(args: argparse.Namespace) -> int:
    """Load, plan and export the demo centre."""
    from data.demo import build_demo_scenario

    _check_out(args.out, ".xlsx")
    repo = _open(args, create=True)
    repo.check_writable()
    if args.reload or not repo.has_scenario(DEMO_NAME):
        scenario = build_demo_scenario()
        if scenario.name != DEMO_NAME:
            scenario = _renamed(scenario)
        repo.save_scenario(scenario, reason=args.reason)
        print(f"Loaded the demo scenario '{DEMO_NAME}'.", file=sys.stderr)
    scenario = _load(repo, DEMO_NAME)
    repo.require(Action.SOLVE)
    plan, plan_id = _solve_and_save(repo, scenario, args)
    start, end = _clip(
        scenario,
        plan,
        scenario.horizon_start,
        scenario.horizon_start + timedelta(weeks=args.weeks) - timedelta(days=1),
    )
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
    args.scenario = _pick(repo, args.scenario)
    repo.require(Action.SOLVE)
    repo.check_writable()
    plan, _ = _solve_and_save(repo, _load(repo, args.scenario), args)
    print(format_plan(plan))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the current plan, or a chosen one, for a window."""
    if args.end < args.start:
        raise CliError(f"--to {args.end} is before --from {args.start}")
    _check_out(args.out, ".xlsx")
    if args.ical is not None and not args.ical.parent.is_dir():
        raise CliError(
            f"--ical {args.ical}: the directory {args.ical.parent} does not exist; create it"
        )
    repo = _open(args)
    plan_id = args.plan
    if plan_id is not None:
        plan = repo.load_plan(plan_id, args.scenario)
        scenario = _load(repo, plan.scenario_name)
    else:
        name = _pick(repo, args.scenario)
        scenario = _load(repo, name)
        plan_id = _current_id(repo, name)
        if plan_id is None:
            raise CliError(
                f"scenario {name!r} has no current plan; run `atmp-planner solve`, or pick "
                "one with `atmp-planner plans --use ID` or `export --plan ID`"
            )
        plan = repo.load_plan(plan_id, name)
    start, end = _clip(scenario, plan, args.start, args.end)
    path = _write(args.out, scenario, plan, start, end, plan_id)
    clipped = "" if (start, end) == (args.start, args.end) else ", cut to the plan's dates"
    print(f"Wrote {path} ({start} to {end}{clipped})")
    if args.ical is not None:
        from data.ical_export import write_staff_calendars

        calendars = write_staff_calendars(args.ical, scenario, plan, plan_id, start, end)
        print(f"Wrote {len(calendars)} staff calendars (.ics) to {args.ical}")
    return 0


def cmd_plans(args: argparse.Namespace) -> int:
    """List a scenario's plans, or make one current."""
    repo = _open(args)
    args.scenario = _pick(repo, args.scenario)
    _load_name(repo, args.scenario)
    if args.use is not None:
        repo.make_current(args.use, args.scenario, reason=args.reason)
        print(f"Plan #{args.use} is now the current plan of {args.scenario!r}.")
        return 0
    print(format_plan_list(repo.plan_summaries(args.scenario)))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the current plan, or a chosen one."""
    repo = _open(args)
    name = _pick(repo, args.scenario)
    _load_name(repo, name)
    plan_id = args.plan if args.plan is not None else _current_id(repo, name)
    if plan_id is None:
        raise CliError(f"scenario {name!r} has no current plan; run `atmp-planner solve` first")
    plan = repo.load_plan(plan_id, name)
    if plan.solver.stopped:
        raise CliError(
            f"plan #{plan_id} was stopped early; publish a plan whose solve ran to its budget"
        )
    before = repo.publish(
        plan_id, name, reason=args.reason, require_approval=not args.without_approval
    )
    was = "" if before is None else f"; plan #{before} is superseded"
    print(f"Plan #{plan_id} is now the published plan of {name!r}{was}.")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve a plan: who, when and why, in the plan row and the audit trail."""
    repo = _open(args)
    repo.approve(args.plan_id, args.scenario, reason=args.reason)
    by = repo.actor().name
    print(f"Plan #{args.plan_id} is approved by {by}; it can no longer change.")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Regenerate a plan from its stored inputs; 0 when its export is byte-identical."""
    from dataclasses import replace

    from data.excel_export import plan_span, plan_workbook_bytes
    from planner.reproduce import first_difference, version_differences
    from solver import solve
    from solver.api import versions

    if args.out is not None:
        _check_out(args.out, ".xlsx")
    repo = _open(args)
    plan_id = args.plan_id
    stored = repo.load_plan(plan_id, args.scenario)
    settings = stored.solver.settings
    if not settings.deterministic:
        raise CliError(
            f"plan #{plan_id} was made with a wall-clock budget ({settings.time_limit_s:g} s), "
            "which no run repeats; only plans made with a deterministic budget can be reproduced"
        )
    if stored.solver.stopped:
        raise CliError(
            f"plan #{plan_id} was stopped early by hand, at a moment no run repeats; it cannot "
            "be reproduced"
        )
    inputs = repo.plan_inputs(plan_id, args.scenario)
    replan = None
    if inputs.replan is not None:
        basis = inputs.replan
        kept = repo.load_plan(basis.published_id, stored.scenario_name)
        replan = Replan(
            kept, basis.today, basis.frozen_days, basis.pins, basis.published_id, basis.basis
        )
    against = "" if replan is None else f", re-planned against {replan.name} from {replan.today}"
    print(
        f"Reproducing plan #{plan_id} of {stored.scenario_name!r} (deterministic, "
        f"{settings.deterministic_time:g} units, seed {settings.seed}, {settings.workers} "
        f"worker(s); inputs sha256 {inputs.sha256[:16]}{against})...",
        file=sys.stderr,
        flush=True,
    )
    began = time.monotonic()
    again = _solve_interruptibly(lambda cancel: solve(inputs.scenario, settings, replan=replan))
    took = time.monotonic() - began
    # When it was made and how long it took are the only content that differs by run.
    again = replace(
        again,
        created=stored.created,
        solver=replace(again.solver, wall_time_s=stored.solver.wall_time_s),
    )
    start, end = plan_span(inputs.scenario, stored)
    mine = plan_workbook_bytes(inputs.scenario, stored, start, end, plan_id)
    theirs = plan_workbook_bytes(inputs.scenario, again, start, end, plan_id)
    if args.out is not None:
        _write(args.out, inputs.scenario, again, start, end, plan_id)
    digest = hashlib.sha256(theirs).hexdigest()
    print(f"Regenerated in {took:.1f} s; workbook {start} to {end}, {len(theirs):,} bytes.")
    if mine == theirs:
        print(f"Byte-identical: plan #{plan_id}'s export and the regenerated one, sha256 {digest}.")
        return 0
    print(f"NOT byte-identical: plan #{plan_id}'s export differs from the regenerated one.")
    differing = version_differences(stored.solver.versions, versions())
    if differing:
        print(f"  Versions differ: {'; '.join(differing)}.")
    print(f"  First difference: {first_difference(stored, again) or 'none in the plan itself'}.")
    return 1


def cmd_pin(args: argparse.Namespace) -> int:
    """Pin a patient or step, or list the pins."""
    from planner.replan import Pin, check_pin

    repo = _open(args)
    name = _pick(repo, args.scenario)
    scenario = _load(repo, name)
    if args.patient is None:
        if args.step is not None:
            raise CliError("--step needs a patient: `atmp-planner pin P001 --step CODE`")
        pins = repo.pins(name)
        print("\n".join(p.label for p in pins) if pins else f"No pins in {name!r}.")
        return 0
    pin = Pin(args.patient, args.step)
    check_pin(scenario, pin)
    added = repo.add_pin(name, pin)
    print(f"Pinned {pin.label}." if added else f"{pin.label} was pinned already.")
    return 0


def cmd_fail_batch(args: argparse.Namespace) -> int:
    """Record a failed batch: the patient is planned again from a new apheresis."""
    from planner.replan import fail_batch

    repo = _open(args)
    name = _pick(repo, args.scenario)
    repo.check_writable()
    repo.require(Action.EDIT_PATIENTS)
    loaded = repo.scenario_version(name)
    changed = fail_batch(repo.load_scenario(name), args.patient, args.on, args.apheresis_until)
    reason = args.reason or f"batch of {args.patient} failed on {args.on}"
    version = repo.save_scenario(changed, loaded, reason=reason, source="fail-batch")
    patient = next(p for p in changed.patients if p.code == args.patient)
    needed = "" if patient.needed_infusion is None else f", needed by {patient.needed_infusion}"
    print(
        f"Recorded the failed batch of {patient.code} in {name!r} (version {version}): a new "
        f"apheresis from {patient.earliest_apheresis} to {patient.latest_apheresis}{needed}. "
        "`atmp-planner solve` plans it (nothing of its published chain is kept)."
    )
    return 0


def cmd_unpin(args: argparse.Namespace) -> int:
    """Remove a patient's pins (or its pin on one step)."""
    from planner.replan import Pin

    repo = _open(args)
    name = _pick(repo, args.scenario)
    _load_name(repo, name)
    pin = Pin(args.patient, args.step)
    removed = repo.remove_pins(name, args.patient, args.step)
    if not removed:
        raise CliError(f"{pin.label} is not pinned (see `atmp-planner pin`)")
    print(f"Unpinned {pin.label}.")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two plans: published vs current by default."""
    from planner.plan_diff import compare_plans, diff_json, format_diff

    repo = _open(args)
    name = _pick(repo, args.scenario)
    _load_name(repo, name)
    if len(args.plans) == 2:
        a_id, b_id = args.plans
    elif not args.plans:
        a_id, b_id = repo.published_plan_id(name), _current_id(repo, name)
        if a_id is None:
            raise CliError(
                f"scenario {name!r} has no published plan; `atmp-planner publish`, or give "
                "two plan ids"
            )
        if b_id is None:
            raise CliError(f"scenario {name!r} has no current plan; give two plan ids")
    else:
        raise CliError("give two plan ids (A B), or none for the published and current plans")
    diff = compare_plans(repo.load_plan(a_id, name), repo.load_plan(b_id, name))
    if args.json:
        print(json.dumps(diff_json(diff, a_id, b_id), indent=2))
    else:
        print(format_diff(diff, a_id, b_id))
    return 0


def cmd_slot(args: argparse.Namespace) -> int:
    """Earliest slot for a new referral around a stored plan."""
    from solver import earliest_slot, earliest_slot_with_moves

    repo = _open(args)
    args.scenario = _pick(repo, args.scenario)
    scenario = _load(repo, args.scenario)
    if (args.trial is None) != (args.cohort is None):
        raise CliError("--trial and --cohort go together")
    if args.trial is not None:
        trials = {t.code: t for t in scenario.trials}
        if args.trial not in trials:
            known = ", ".join(trials) or "none"
            raise CliError(f"no trial {args.trial!r} in {args.scenario!r} (trials: {known})")
        cohorts = [c.code for c in trials[args.trial].cohorts]
        if args.cohort not in cohorts:
            raise CliError(
                f"trial {args.trial} has no cohort {args.cohort!r} (cohorts: {', '.join(cohorts)})"
            )
    if args.product not in {p.code for p in scenario.products}:
        known = ", ".join(p.code for p in scenario.products)
        raise CliError(f"no product {args.product!r} in {args.scenario!r} (products: {known})")
    plan_id = args.plan
    if plan_id is None:
        plan_id = _current_id(repo, args.scenario)
    plan = None if plan_id is None else repo.load_plan(plan_id, args.scenario)
    start = args.start or max(date.today(), scenario.horizon_start)
    if not scenario.horizon_start <= start <= scenario.horizon_end:
        raise CliError(
            f"--from {start} is outside the scenario's horizon "
            f"({scenario.horizon_start} to {scenario.horizon_end})"
        )
    basis = (
        f"plan #{plan_id} of {args.scenario!r}, every patient kept as planned"
        if plan is not None
        else f"no plan of {args.scenario!r} yet: only this referral is booked"
    )
    referral = Referral(args.product, start, args.trial, args.cohort, args.priority)
    offer = earliest_slot(scenario, plan, referral, basis)
    moves = None
    if args.with_moves:
        if plan is None:
            raise CliError("--with-moves needs a plan to move patients in; run `solve` first")
        today = min(max(date.today(), scenario.horizon_start), scenario.horizon_end)
        moves = earliest_slot_with_moves(scenario, plan, referral, today)
    if args.json:
        answer = _offer_json(offer, plan_id)
        if moves is not None:
            answer["with_moves"] = {
                "apheresis": None if moves.apheresis_day is None else str(moves.apheresis_day),
                "infusion": None if moves.infusion_day is None else str(moves.infusion_day),
                "moved": [
                    {"patient": c, "apheresis_days": a, "infusion_days": i}
                    for c, a, i in moves.moved
                ],
                "reason": moves.reason,
            }
        print(json.dumps(answer, indent=2))
    else:
        print(offer.describe())
        if moves is not None:
            print(moves.describe())
    return 0


def _offer_json(offer: SlotOffer, plan_id: int | None) -> dict[str, object]:
    def day(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    r = offer.referral
    return {
        "product": r.product_code,
        "trial": r.trial_code,
        "cohort": r.cohort_code,
        "from": r.earliest.isoformat(),
        "plan": plan_id,
        "found": offer.found,
        "apheresis": day(offer.apheresis_day),
        "release": day(offer.release_day),
        "infusion": day(offer.infusion_day),
        "vein_to_vein_days": offer.vein_to_vein_days,
        "room": offer.room,
        "device": offer.device,
        "reason": offer.reason,
        "basis": offer.basis,
    }


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List stored scenarios."""
    repo = _open(args)
    for name in repo.list_scenarios():
        print(name)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Write the empty scenario workbook."""
    from data.scenario_xlsx import write_template

    if args.file.suffix.lower() != ".xlsx":
        raise CliError(f"the template is a workbook: the file name must end in .xlsx: {args.file}")
    _check_out(args.file, ".xlsx", "the file")
    print(f"Wrote {write_template(args.file)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Check a scenario, roster or referral file and store it (all or nothing)."""
    from dataclasses import replace

    from data.repository import ScenarioExistsError
    from data.scenario_files import SUFFIXES, detect_kind, read_scenario

    if args.file.suffix.lower() not in SUFFIXES:
        raise CliError(f"expected a .xlsx or .json file: {args.file}")
    kind = args.kind
    if kind is None:
        kind = detect_kind(args.file)
        print(f"{args.file}: detected a {_KIND_NAMES[kind]}")
    if kind != "scenario":
        return _merge_import(args, kind)
    scenario = read_scenario(args.file)
    scenario, holiday_note = _with_public_holidays(scenario, args.public_holidays)
    if args.scenario is not None:
        if not 1 <= len(args.scenario.strip()) <= 200:
            raise CliError("--scenario must be a name of 1-200 characters")
        scenario = replace(scenario, name=args.scenario)
    # Bringing a centre in is a first thing a new user does: it may make the database.
    repo = _open(args, create=True)
    try:
        version = repo.save_scenario(
            scenario, replace=args.replace, reason=args.reason, source=args.file.name
        )
    except ScenarioExistsError as error:
        raise CliError(
            f"{error}; add --replace to replace it, or --scenario NAME to store this one "
            "under another name"
        ) from None
    replaced = f" (replaced; version {version})" if version > 1 else ""
    print(
        f"Imported {scenario.name!r}{replaced} from {args.file}: {len(scenario.patients)} "
        f"patients, {len(scenario.products)} products, {len(scenario.cleanrooms)} cleanrooms, "
        f"{len(scenario.staff)} staff, {scenario.horizon_start} to {scenario.horizon_end}."
    )
    if holiday_note:
        warning = holiday_note.startswith("atmp-planner: warning")
        print(holiday_note, file=sys.stderr if warning else sys.stdout)
    _warn_never_feasible(scenario)
    return 0


def _with_public_holidays(scenario: Scenario, add: bool) -> tuple[Scenario, str]:
    """The scenario, with its country's public holidays if it lists none and they are
    wanted, and a line to print once it is stored (or a warning saying how to get them)."""
    from dataclasses import replace

    from data.demo import public_holidays

    if scenario.holidays:
        return scenario, ""
    country = scenario.site.country
    try:
        found = public_holidays(country, scenario.horizon_start, scenario.horizon_end)
    except ValueError as error:
        return scenario, f"atmp-planner: warning: {error}; list them in the Holidays sheet"
    if not add:
        return scenario, (
            f"atmp-planner: warning: the file lists no public holidays; {country} has "
            f"{len(found)} in the horizon (add --public-holidays, or list them in the "
            "Holidays sheet)"
        )
    note = f"Added {len(found)} public holidays of {country} (the holidays package)."
    return replace(scenario, holidays=found), note


def _warn_never_feasible(scenario: Scenario) -> None:
    """Say on stderr what no plan of this scenario can satisfy (it was stored anyway)."""
    from planner.sanity import ignored_inputs, never_feasible

    for sentence in [*never_feasible(scenario), *ignored_inputs(scenario)]:
        print(f"atmp-planner: warning: {sentence}", file=sys.stderr)


_KIND_NAMES = {"scenario": "scenario", "roster": "roster", "referrals": "referral list"}


def _merge_import(args: argparse.Namespace, kind: str) -> int:
    """Merge a roster or referral list into a stored scenario and report what changed."""
    from data.referral_import import read_referrals
    from data.roster_import import read_roster
    from planner.imports import add_referrals, merge_roster, roster_summary

    if args.file.suffix.lower() != ".xlsx":
        raise CliError(f"a {_KIND_NAMES[kind]} is read from a workbook (.xlsx): {args.file}")
    if args.scenario is None:
        raise CliError(f"give --scenario NAME: the stored scenario to merge the {kind} into")
    if args.replace:
        raise CliError(f"--replace is for whole scenarios; a {kind} is merged into one")
    repo = _open(args)
    _load_name(repo, args.scenario)
    # Saved only if nobody saved the scenario while the file was read (not a lost update).
    loaded = repo.scenario_version(args.scenario)
    scenario = repo.load_scenario(args.scenario)
    if kind == "roster":
        change = read_roster(args.file, scenario)
        merged, report = merge_roster(scenario, change)
        version = repo.save_scenario(merged, loaded, reason=args.reason, source=args.file.name)
        print(
            f"Merged into {scenario.name!r} (version {version}) {roster_summary(change, report)}."
        )
        if report.new_shift_codes:
            print(f"New shift codes from the legend: {', '.join(report.new_shift_codes)}")
        if report.times_read:
            print(f"Times read as shift codes: {'; '.join(report.times_read)}")
        for person in report.per_person:
            print(
                f"  {person.staff_code}: {person.added} added, {person.removed} removed, "
                f"{person.changed} changed, {person.unchanged} unchanged"
            )
        return 0
    referrals = read_referrals(args.file, scenario)
    version = repo.save_scenario(
        add_referrals(scenario, referrals), loaded, reason=args.reason, source=args.file.name
    )
    codes = ", ".join(p.code for p in referrals.patients) or "none"
    print(
        f"Added {len(referrals.patients)} referred patients from sheet '{referrals.sheet}' to "
        f"{scenario.name!r} (version {version}): {codes}."
    )
    return 0


def cmd_export_scenario(args: argparse.Namespace) -> int:
    """Write a stored scenario to .xlsx or .json."""
    from data.scenario_files import SUFFIXES, write_scenario

    if args.file.suffix.lower() not in SUFFIXES:
        raise CliError(f"the file name must end in .xlsx or .json: {args.file}")
    repo = _open(args)
    scenario = _load(repo, _pick(repo, args.scenario))
    _check_out(args.file, args.file.suffix.lower(), "the file")
    print(f"Wrote {write_scenario(args.file, scenario)}")
    return 0


#: Problems printed for one file; the rest are counted.
MAX_PRINTED_PROBLEMS = 50


def _print_problems(error: ScenarioFileError, out: TextIO) -> None:
    """Every problem on its own line (up to a cap), then one summary line."""
    lines = [_one_line(line) for line in error.lines()]
    if len(lines) == 1:
        print(f"atmp-planner: error: {lines[0]}", file=out)
        return
    for line in lines[:MAX_PRINTED_PROBLEMS]:
        print(line, file=out)
    if len(lines) > MAX_PRINTED_PROBLEMS:
        print(f"... and {len(lines) - MAX_PRINTED_PROBLEMS} more", file=out)
    print(f"atmp-planner: error: {_one_line(error.summary())}", file=out)


def _has_display() -> bool:
    """Whether Qt can open a window here (X11, Wayland, or a platform the user chose)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the window (or render it to a PNG)."""
    if args.screenshot is not None:
        _check_out(args.screenshot, ".png")
    if args.screenshot is None and not _has_display():
        raise CliError(
            "no display to open a window on (DISPLAY is not set): run it on a desktop, "
            "under `xvfb-run atmp-planner gui`, or render with `gui --screenshot FILE.png`"
        )
    repo = _open(args)
    args.scenario = _pick(repo, args.scenario)
    scenario = _load(repo, args.scenario)
    plan_id = args.plan
    if plan_id is None:
        plan_id = _current_id(repo, args.scenario)
    plan = None if plan_id is None else repo.load_plan(plan_id, args.scenario)
    from ui.app import grab_screenshot, run_gui

    if args.screenshot is not None:
        grab_screenshot(scenario, plan, args.screenshot, store=repo, plan_id=plan_id)
        print(f"Wrote {args.screenshot}")
        return 0
    return run_gui(scenario, plan, repo, plan_id)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write the whole database to a backup file."""
    if args.file.suffix.lower() != ".gz":
        raise CliError(f"the backup file name must end in .gz: {args.file}")
    _check_out(args.file, ".gz", "the backup file")
    repo = _open(args)
    counts = repo.backup(args.file)
    print(
        f"Wrote {args.file}: {counts['scenario']} scenarios, {counts['plan']} plans, "
        f"{counts['audit_record']} audit records, {sum(counts.values())} rows."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Load a backup file into an empty database."""
    url = resolve_url(args.db)
    path = sqlite_path(url)
    new_file = path is not None and not path.exists()
    try:
        repo = _open(args, create=True)
        counts = repo.restore(args.file)
        check = repo.verify_audit()
    except BaseException:
        if new_file and path is not None:  # a failed restore leaves no new file behind
            while _OPENED:
                _OPENED.pop().close()
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        raise
    print(
        f"Restored {args.file}: {counts['scenario']} scenarios, {counts['plan']} plans, "
        f"{counts['audit_record']} audit records, {sum(counts.values())} rows; digest "
        f"matches; {format_check(check)}"
    )
    return 0 if check.intact else 1


def cmd_audit(args: argparse.Namespace) -> int:
    """Verify the audit trail (exit 1 if it was tampered with) or print it."""
    from planner.audit import AuditFilter, format_audit, format_check

    repo = _open(args)
    if args.audit_command == "verify":
        check = repo.verify_audit()
        print(format_check(check), file=sys.stdout if check.intact else sys.stderr)
        if not check.intact:
            print(
                f"atmp-planner: error: the audit trail was tampered with: "
                f"{len(check.problems)} problem(s) in {check.records} records",
                file=sys.stderr,
            )
        return 0 if check.intact else 1
    which = AuditFilter(
        entity=args.entity,
        key=args.key,
        scenario=args.scenario,
        user=args.by,
        since=args.since,
        limit=args.last,
    )
    print(format_audit(repo.audit_entries(which)))
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """List, grant or revoke users' roles; set up PostgreSQL group roles."""
    from planner.roles import describe_matrix, format_grants

    if args.users_command == "matrix":
        print(describe_matrix())
        return 0
    repo = _open(args)
    if args.users_command == "list":
        me = repo.actor()
        print(format_grants(repo.users()))
        print(f"You act as {me.name}: " + (me.role or "no roles assigned, everything allowed"))
    elif args.users_command == "setup-postgres":
        if args.print:
            print(repo.postgres_script(args.prefix))
            return 0
        repo.setup_postgres(args.prefix, reason=args.reason)
        print(
            f"Group roles {args.prefix}_director, _coordinator, _scheduler and _viewer have "
            f"their privileges; {repo.actor().name} is a director. Roles are now read from "
            "PostgreSQL group membership."
        )
    elif args.users_command == "grant":
        repo.set_role(args.name, UserRole(args.role), reason=args.reason)
        print(f"{args.name} is now a {args.role}.")
    else:
        repo.set_role(args.name, None, reason=args.reason)
        print(f"{args.name} has no role any more (a viewer).")
    return 0


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
    if args.scenarios and (args.sizes or args.instances is not None):
        raise CliError("--scenarios plans the files given: no --sizes or --instances with it")
    methods = args.methods or (bench.QUICK_METHODS if args.quick else bench.METHODS)
    # CP-SAT alone takes planner-default's time on the instance, so it runs after it.
    methods = sorted(methods, key=lambda method: method == bench.ALONE)
    fast = args.fast_time or bench.FAST_TIME
    if args.scenarios:
        return _bench_files(args, methods, fast)
    sizes = args.sizes or (bench.QUICK_SIZES if args.quick else bench.SIZES)
    for size in sizes:
        scenario = generate(size, args.seed)
        loads = resource_loads(scenario)
        print(f"{size} seed {args.seed}: {_centre_line(scenario)}; load:", flush=True)
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
    runs = [bench.Run(size, args.seed, method, fast) for size in sizes for method in methods]
    command = (
        f"atmp-planner bench --sizes {' '.join(sizes)} --methods {' '.join(methods)} "
        f"--seed {args.seed}"
    )
    return _run_bench(args, runs, command, fast)


def _bench_files(args: argparse.Namespace, methods: list[str], fast: float) -> int:
    """`bench --scenarios`: every file read (and its loads printed) before any run."""
    from data.scenario_files import read_scenario
    from planner.load import format_loads, resource_loads

    for path in args.scenarios:
        scenario = read_scenario(path)  # a bad file stops here, its problems listed
        print(f"{path.stem} ({path}): {_centre_line(scenario)}; load:", flush=True)
        print(format_loads(resource_loads(scenario)), flush=True)
    runs = [bench.file_run(path, method, fast) for path in args.scenarios for method in methods]
    command = (
        f"atmp-planner bench --scenarios {' '.join(map(str, args.scenarios))} "
        f"--methods {' '.join(methods)}"
    )
    return _run_bench(args, runs, command, fast)


def _run_bench(args: argparse.Namespace, runs: list[bench.Run], command: str, fast: float) -> int:
    """Print the table row by row as the runs end, then the outputs asked for; `command`
    is recorded with the budget and timeout options."""
    print(bench.table_header(), flush=True)
    rows = bench.run_all(
        runs, args.timeout, on_row=lambda row: print(bench.format_row(row), flush=True)
    )
    command += "" if args.fast_time is None else f" --fast-time {fast:g}"
    command += "" if args.timeout is None else f" --timeout {args.timeout:g}"
    return _bench_outputs(args, rows, command)


def _centre_line(scenario: Scenario) -> str:
    """Patients, rooms, devices, beds and weeks of a centre."""
    return (
        f"{len(scenario.patients)} patients, {len(scenario.cleanrooms)} rooms, "
        f"{len(scenario.devices)} devices, {scenario.ward.beds} beds, "
        f"{len(scenario.days()) // 7} weeks"
    )


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
    "slot": cmd_slot,
    "scenarios": cmd_scenarios,
    "template": cmd_template,
    "import": cmd_import,
    "export-scenario": cmd_export_scenario,
    "gui": cmd_gui,
    "audit": cmd_audit,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "bench": cmd_bench,
    "publish": cmd_publish,
    "approve": cmd_approve,
    "reproduce": cmd_reproduce,
    "pin": cmd_pin,
    "unpin": cmd_unpin,
    "fail-batch": cmd_fail_batch,
    "diff": cmd_diff,
    "users": cmd_users,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors print one line and return 1."""
    args = build_parser().parse_args(argv)
    try:
        return _run_command(args)
    finally:
        while _OPENED:
            _OPENED.pop().close()


def _one_line(message: str) -> str:
    r"""The message with every line break (\n, \r, U+0085, U+2028, ...) written as \n and
    every other control character (a file name's escape sequence, a backspace) as \xNN,
    so that it neither breaks the line nor acts on the terminal."""
    return "".join(
        f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c
        for c in "\\n".join(message.splitlines())
    )


def _run_command(args: argparse.Namespace) -> int:
    """Run one parsed command; user errors print one line and return 1."""
    try:
        return COMMANDS[args.command](args)
    except ScenarioFileError as error:
        _print_problems(error, sys.stderr)
        return 1
    except NeverFeasibleError as error:
        for problem in error.problems:
            print(f"  - {_one_line(problem)}", file=sys.stderr)
        many = len(error.problems) != 1
        print(
            f"atmp-planner: error: nothing was planned: the {len(error.problems)} "
            f"input{'s' if many else ''} above can never be planned; fix "
            f"{'them' if many else 'it'}, or add --plan-what-it-can to plan the patients "
            "they do not hold back",
            file=sys.stderr,
        )
        return 1
    except (
        CliError,
        ValidationError,
        DatabaseError,
        RepositoryError,
        BackupError,
        bench.RowsError,
        OSError,
    ) as error:
        # One line even when a message quotes a name holding a line break.
        print(f"atmp-planner: error: {_one_line(str(error))}", file=sys.stderr)
        return 1
    except StoppedError as stopped:
        print(f"atmp-planner: {stopped}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("atmp-planner: interrupted; nothing was saved", file=sys.stderr)
        return 130
