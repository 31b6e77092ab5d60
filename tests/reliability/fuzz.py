"""Hostile arguments to every subcommand of the command line (hypothesis strategies) and
the check every case must pass; shared by tests/test_cli_trust_fuzz.py,
tests/test_cli_hostile_arguments.py and scripts/reliability.py.

Each case runs `main` in this process on a fresh copy of a small stored database. It must
exit 0, 1 or 2 without a traceback and print exactly one `atmp-planner: error:` line, the
last, when it fails. A failed command, or one that only reads, leaves every row as it was
(digest of every row); a command that succeeded in writing leaves the audit trail intact
with the change recorded, every scenario loading, and did what it says (a pin is there, a
plan approved, published or current, a solve's plan stored, an import's scenario stored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from atmp_planner.cli import build_parser, main
from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from data.scenario_files import write_scenario
from tests.factories import rich_scenario

T = TypeVar("T")

junk = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=40,
)
since = st.one_of(
    junk, st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()), st.just("2027-13-40")
)
numbers = st.one_of(junk, st.integers(-(2**70), 2**70).map(str))
entities = st.one_of(junk, st.sampled_from(["plan", "scenario", "roster_entry", "staff_member"]))


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """An argument list for audit show/verify, backup or restore, often a bad one."""
    head: list[str] = []
    if draw(st.booleans()):
        head += ["--user", draw(junk)]
    command = draw(st.sampled_from(["show", "verify", "backup", "restore"]))
    if command == "show":
        args = ["audit", "show"]
        for option, values in (
            ("--entity", entities),
            ("--key", junk),
            ("--since", since),
            ("--last", numbers),
            ("--by", junk),
            ("--scenario", junk),
        ):
            if draw(st.booleans()):
                args += [option, draw(values)]
        return head + args
    if command == "verify":
        return [*head, "audit", "verify", *draw(st.lists(junk, max_size=1))]
    name = draw(st.one_of(junk, st.sampled_from(["b.gz", "x/b.gz", "b.json", ".", "", "-"])))
    return [*head, command, name]


# Every other subcommand -------------------------------------------------------------------

#: Files a case may name (made once by make_files, copied into every case's folder).
FILES = (
    "other.json", "rich.json", "rich.xlsx", "broken.json", "roster.xlsx", "referrals.xlsx",
    "list.json", "rows.json", "empty.xlsx", "text.xlsx", "folder.json",
)  # fmt: skip


def _mostly(plausible: list[T], hostile: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """A plausible value three times in four, else a hostile one."""
    return st.integers(0, 3).flatmap(lambda k: hostile if k == 0 else st.sampled_from(plausible))


plan_ids = _mostly(["1", "2", "3", "99"], st.one_of(st.sampled_from(["0", "-1", "1.0"]), numbers))
days = _mostly(
    ["2027-01-04", "2027-01-20", "2027-03-04", "2027-02-01"],
    st.one_of(st.sampled_from(["2026-01-01", "2099-12-31"]), st.dates().map(str), since),
)
scenario_names = _mostly(
    ["rich", "other"], st.one_of(st.sampled_from(["RICH", " rich", "n" * 300, "a\tb"]), junk)
)
codes = _mostly(
    ["P1", "P2", "P-IP", "T1", "DONE", "seed", "harvest", "apheresis", "infusion", "wash",
     "CART", "TIL", "TR-1", "DL1", "DL2"],
    st.one_of(st.sampled_from(["p1", "XX", "P1 "]), junk),
)  # fmt: skip
files = _mostly(list(FILES), st.one_of(junk, st.sampled_from(["x/y.xlsx", "no.xlsx"])))
outs = _mostly(
    ["out.xlsx", "out.json", "cal.xlsx"],
    st.one_of(st.sampled_from(["out.txt", "x/out.xlsx", "planner.sqlite", ".", "rich.json"]), junk),
)
budgets = _mostly(["0.01", "0.05"], st.one_of(st.sampled_from(["0", "-1", "nan", "inf"]), numbers))
#: Databases a case may name instead of its own (no server is contacted).
db_urls = st.one_of(
    st.sampled_from(
        ["sqlite:///rich.json", "sqlite:///files", "sqlite:///nope/x.sqlite", "sqlite://",
         "sqlite:///new.sqlite", "sqlite:///:memory:", "mysql://u@h/db", "junk", " ",
         "postgresql+psycopg://nobody@127.0.0.1:1/x"]
    ),
    junk,
)  # fmt: skip
seeds = _mostly(["0", "1", "7"], numbers)
reasons = _mostly(["because"], st.one_of(junk, st.sampled_from(["r" * 5000, " ", "a\nb"])))


def _options(draw: st.DrawFn, options: dict[str, st.SearchStrategy[str] | None]) -> list[list[str]]:
    """Some of the options, each with a drawn value (None: a flag)."""
    out: list[list[str]] = []
    for option, values in options.items():
        if draw(st.integers(0, 2)) == 0:
            out.append([option] if values is None else [option, draw(values)])
    return out


def _args(
    command: list[str],
    options: dict[str, st.SearchStrategy[str] | None],
    positional: st.SearchStrategy[list[str]] | None = None,
    required: dict[str, st.SearchStrategy[str]] | None = None,
) -> st.SearchStrategy[list[str]]:
    """The command, its positional arguments, its required options (left out one time in
    ten) and some of its other options, in any order, now and then with a junk --user."""

    @st.composite
    def draw_argv(draw: st.DrawFn) -> list[str]:
        head = ["--user", draw(junk)] if draw(st.integers(0, 5)) == 0 else []
        if draw(st.integers(0, 7)) == 0:  # another database, most often none usable
            head += ["--db", draw(db_urls)]
        groups = _options(draw, options)
        for option, values in (required or {}).items():
            if draw(st.integers(0, 9)) > 0:
                groups.append([option, draw(values)])
        if positional is not None:
            groups.append(draw(positional))
        order = draw(st.permutations(groups))
        return [*head, *command, *(word for group in order for word in group)]

    return draw_argv()


def _one(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(values, min_size=1, max_size=1)


def _always_failing(
    command: str, options: dict[str, st.SearchStrategy[str] | None]
) -> st.SearchStrategy[list[str]]:
    """demo and bench with one argument sure to be refused before any work starts, so no
    case runs the demo's full solve or a benchmark."""
    bad = st.sampled_from(
        [["--out", "demo.txt"], ["--out", "x/demo.xlsx"], ["--weeks", "0"], ["--seed", "-1"]]
        if command == "demo"
        else [["--rows", "nothing.json"], ["--rows", "rows.json", "list.json"],
              ["--rows", "broken.json"], ["--rows", "planner.sqlite"], ["--plot", "p.txt"],
              ["--rows", "folder.json"], ["--sizes", "XXL"], ["--timeout", "0"]]
    )  # fmt: skip

    @st.composite
    def draw_argv(draw: st.DrawFn) -> list[str]:
        return [command, *draw(bad), *(w for group in _options(draw, options) for w in group)]

    return draw_argv()


_SOLVER = {"--deterministic-time": budgets, "--seed": seeds, "--workers": seeds,
           "--quiet": None}  # fmt: skip

#: An argument-list strategy per subcommand (gui is left out: it opens a window).
COMMAND_ARGS: dict[str, st.SearchStrategy[list[str]]] = {
    "demo": _always_failing("demo", {"--weeks": seeds, "--reload": None, **_SOLVER}),
    "bench": _always_failing(
        "bench", {"--json": outs, "--plot": outs, "--seed": seeds, "--quick": None}
    ),
    "solve": _args(
        ["solve", "--deterministic-time", "0.02"],
        {
            "--scenario": scenario_names,
            "--fresh": None,
            "--today": days,
            "--seed": numbers,
            "--workers": st.sampled_from(["1", "2", "0", "65"]),
            "--reason": reasons,
            "--wall-clock": st.sampled_from(["0", "-5", "nan", "x", "1e99"]),
        },
    ),
    "publish": _args(
        ["publish"],
        {
            "--scenario": scenario_names,
            "--plan": plan_ids,
            "--without-approval": None,
            "--reason": reasons,
        },
    ),
    "approve": _args(
        ["approve"], {"--scenario": scenario_names}, _one(plan_ids), {"--reason": reasons}
    ),
    "reproduce": _args(
        ["reproduce"], {"--scenario": scenario_names, "--out": outs}, _one(plan_ids)
    ),
    "pin": _args(
        ["pin"], {"--step": codes, "--scenario": scenario_names}, st.lists(codes, max_size=1)
    ),
    "unpin": _args(["unpin"], {"--step": codes, "--scenario": scenario_names}, _one(codes)),
    "fail-batch": _args(
        ["fail-batch"],
        {"--apheresis-until": days, "--scenario": scenario_names, "--reason": reasons},
        _one(_mostly(["P1", "P2"], codes)),
        {"--on": days},
    ),
    "users": _args(
        ["users"],
        {"--reason": reasons},
        _mostly(
            [["list"], ["matrix"], ["grant", "alice", "director"], ["revoke", "bob"]],
            st.lists(codes, max_size=3),
        ),
    ),
    "diff": _args(
        ["diff"],
        {"--scenario": scenario_names, "--json": None},
        st.lists(plan_ids, max_size=3),
    ),
    "export": _args(
        ["export"],
        {
            "--scenario": scenario_names,
            "--plan": plan_ids,
            "--ical": st.sampled_from(["cal", "x/cal", "planner.sqlite"]),
        },
        None,
        {"--out": outs, "--from": days, "--to": days},
    ),
    "plans": _args(
        ["plans"], {"--scenario": scenario_names, "--use": plan_ids, "--reason": reasons}
    ),
    "slot": _args(
        ["slot"],
        {
            "--from": days,
            "--priority": _mostly(["1", "3", "9"], numbers),
            "--scenario": scenario_names,
            "--plan": _mostly(["1", "2"], plan_ids),
            "--json": None,
        },
        _mostly(
            [[], [], ["--trial", "TR-1", "--cohort", "DL1"]],
            st.tuples(codes, codes).map(lambda tc: ["--trial", tc[0], "--cohort", tc[1]]),
        ),
        {"--product": _mostly(["CART", "TIL"], codes)},
    ),
    "template": _args(["template"], {}, _one(outs)),
    "import": _args(
        ["import"],
        {
            "--as": st.sampled_from(["scenario", "roster", "referrals", "junk"]),
            "--scenario": scenario_names,
            "--replace": None,
            "--public-holidays": None,
            "--reason": reasons,
        },
        _one(files),
    ),
    "export-scenario": _args(["export-scenario"], {"--scenario": scenario_names}, _one(outs)),
    "scenarios": _args(["scenarios"], {}, st.integers(0, 3).map(lambda k: [] if k else ["junk"])),
    "trust": argvs(),
}


def make_source(path: Path, plans: bool = False) -> Path:
    """A database with a scenario and its audit trail, closed (one self-contained file);
    with plans, made as the command line makes them: plan #1 approved and published,
    plan #2 (a re-plan against it) current, patient P1 pinned."""
    repo = Repository(open_database(f"sqlite:///{path}"), user="alice")
    repo.save_scenario(rich_scenario(), reason="load")
    repo.close()
    if plans:
        url = ["--db", f"sqlite:///{path}", "--user", "alice"]
        solve = ["solve", "--deterministic-time", "0.05", "--quiet", "--today", "2027-01-04"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for argv in (
                [*solve, "--fresh"],
                ["approve", "1", "--reason", "checked"],
                ["publish", "--reason", "go"],
                ["pin", "P1"],
                solve,
            ):
                assert main([*url, *argv]) == 0, argv
    return path


def make_files(folder: Path) -> Path:
    """Scenario files (valid, clashing with the stored name, broken), a roster, a referral
    list and files that are something else, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = rich_scenario()
    write_scenario(folder / "rich.json", scenario)
    write_scenario(folder / "rich.xlsx", scenario)
    write_scenario(folder / "other.json", replace(scenario, name="other"))
    (folder / "broken.json").write_text('{"format_version": 1, "name": "x", "site": ', "utf-8")
    (folder / "list.json").write_text("[1, 2, 3]", "utf-8")
    (folder / "rows.json").write_text(json.dumps({"command": "x", "rows": [{"a": 1}]}), "utf-8")
    (folder / "text.xlsx").write_text("not a workbook", "utf-8")
    (folder / "folder.json").mkdir(exist_ok=True)
    for name, title, rows in (
        ("roster.xlsx", "Januari", [["Namn", "2027-01-04", "2027-01-05"], ["OP1", "L", "D"]]),
        ("referrals.xlsx", "Referrals", [
            ["Code", "Product", "Referral date", "Earliest apheresis", "Latest apheresis"],
            ["N1", "CART", "2027-01-10", "2027-01-12", "2027-01-20"],
        ]),
        ("empty.xlsx", "Sheet", []),
    ):  # fmt: skip
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = title
        for row in rows:
            ws.append(row)
        wb.save(folder / name)
    return folder


@dataclass
class FuzzStats:
    """Cases tried by outcome (in all and per subcommand), and what went wrong."""

    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    partial_writes: int = 0
    problems: list[str] = field(default_factory=list)
    #: (subcommand, outcome) -> cases; outcome: exit 0/1/2, crash, partial write, fault.
    per_command: Counter[tuple[str, str]] = field(default_factory=Counter)


#: Subcommands that change the database when they succeed (pin only with a patient, plans
#: only with --use).
WRITERS = frozenset(
    {"solve", "publish", "approve", "pin", "unpin", "plans", "import", "fail-batch", "users"}
)


def _parsed(argv: list[str]) -> argparse.Namespace | None:
    """argv as the command line parses it (None: it does not parse)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return build_parser().parse_args(argv)
        except SystemExit:
            return None


def _command(argv: list[str]) -> str:
    """The subcommand an argument list names (the first word that is one)."""
    names = {*WRITERS, *COMMAND_ARGS, "audit", "backup", "restore"}
    return next((a for a in argv if a in names), "none")


@dataclass(frozen=True)
class _State:
    """What a writing command may change, read before and after it."""

    scenarios: tuple[str, ...]
    plans: tuple[tuple[int, bool, bool, bool], ...]  # id, current, approved, published
    pins: tuple[str, ...]
    version: int
    records: int


def _state(repo: Repository, name: str) -> _State:
    has = repo.has_scenario(name)
    return _State(
        tuple(repo.list_scenarios()),
        tuple(
            (p.plan_id, p.current, p.approved_by is not None, p.published)
            for p in (repo.plan_summaries(name) if has else [])
        ),
        tuple(p.label for p in (repo.pins(name) if has else ())),
        repo.scenario_version(name) if has else 0,
        len(repo.audit_entries()),
    )


def _effect_problem(args: argparse.Namespace, before: _State, after: _State) -> str | None:
    """Whether a writing command that exited 0 did what it says (None: it did)."""
    if after != before and after.records <= before.records:
        return "changed the database without an audit record"
    plan_id = getattr(args, "plan_id", None) or getattr(args, "use", None)
    plan_id = plan_id or getattr(args, "plan", None)
    plans = {p[0]: p for p in after.plans}
    checks = {
        "solve": lambda: len(after.plans) == len(before.plans) + 1,
        "approve": lambda: plans[plan_id][2],
        "publish": lambda: any(p[3] and (plan_id is None or p[0] == plan_id) for p in after.plans),
        "plans": lambda: args.use is None or plans[args.use][1],
        "pin": lambda: args.patient is None or any(p.startswith(args.patient) for p in after.pins),
        "unpin": lambda: (
            not any(
                p == args.patient + ("" if args.step is None else f" step {args.step}")
                for p in after.pins
            )
        ),
        "import": lambda: (
            after.version > before.version or len(after.scenarios) > len(before.scenarios)
        ),
        "fail-batch": lambda: after.version > before.version,
        "users": lambda: after.records > before.records or after == before,
    }
    try:
        ok = checks[args.command]()
    except KeyError:
        ok = False
    return None if ok else f"exit 0 but {args.command} did not do what it says"


def run_case(
    source: Path,
    work: Path,
    argv: list[str],
    stats: FuzzStats,
    files: Path | None = None,
    target: str | None = None,
) -> object:
    """Run the CLI on a fresh copy of source (and of files): exit 0/1/2, no traceback, one
    error line on failure, the database unchanged (digest of every row) unless a writing
    command succeeded, then its change recorded and done as it says; the trail intact."""
    shutil.rmtree(work, ignore_errors=True)
    if files is not None:
        shutil.copytree(files, work)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "planner.sqlite"
    shutil.copy(source, db)
    command = target or _command(argv)
    args = _parsed(["--db", f"sqlite:///{db}", *argv])
    writes = args is not None and args.command in WRITERS
    name = (getattr(args, "scenario", None) or "rich") if args is not None else "rich"
    engine = open_database(f"sqlite:///{db}", create=False)
    before = database_digest(engine)
    state = _state(Repository(engine), name) if writes else None
    engine.dispose()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(work), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status: object = main(["--db", f"sqlite:///{db}", *argv])
        except SystemExit as stopped:
            status = stopped.code
        except Exception as error:  # a crash: what this campaign looks for
            status = f"crash: {type(error).__name__}: {error}"
    lines = err.getvalue().splitlines()
    outcome = f"exit {status}" if status in (0, 1, 2) else "crash"
    stats.outcomes[outcome] += 1
    stats.per_command[(command, outcome)] += 1

    def fault(kind: str, problem: str) -> None:
        stats.per_command[(command, kind)] += 1
        stats.problems.append(f"{argv!r}: {problem}")

    if status not in (0, 1, 2) or "Traceback" in err.getvalue():
        stats.crashes += 1
        if outcome != "crash":  # exit 0, 1 or 2, but after a traceback
            stats.per_command[(command, "crash")] += 1
        stats.problems.append(f"{argv!r}: {status} {lines[-3:]}")
    elif status != 0:
        errors = [line for line in lines if line.startswith("atmp-planner: error:")]
        if not (len(errors) == 1 and lines[-1] == errors[0]):
            fault("fault", f"not one error line: {lines}")
        elif any(unicodedata.category(c) == "Cc" for c in errors[0]):
            fault("fault", f"a control character in the error line: {errors[0]!r}")
    engine = open_database(f"sqlite:///{db}", create=False)
    try:
        repo = Repository(engine)
        if not repo.verify_audit().intact:
            stats.partial_writes += 1
            fault("partial write", "the audit trail no longer verifies")
        elif writes and status == 0:
            for stored in repo.list_scenarios():
                repo.load_scenario(stored)
            assert args is not None and state is not None
            problem = _effect_problem(args, state, _state(repo, name))
            if problem:
                fault("fault", problem)
        elif database_digest(engine) != before:
            stats.partial_writes += 1
            fault("partial write", f"exit {status} but the database changed")
    finally:
        engine.dispose()
    return status


def fuzz_campaign(folder: Path, cases: int, seed: int) -> FuzzStats:
    """`cases` argument lists for the audit trail and backups drawn by hypothesis (seeded),
    each run by run_case."""
    folder.mkdir(parents=True, exist_ok=True)
    source = make_source(folder / "source.sqlite")
    stats = FuzzStats()
    run_hypothesis(
        argvs(), cases, seed, lambda argv: run_case(source, folder / "case", argv, stats)
    )
    return stats


def cli_campaign(
    folder: Path, cases: int, seed: int, commands: list[str] | None = None
) -> FuzzStats:
    """About `cases` argument lists in all, the same number for each subcommand (default:
    all but the audit trail's and backups', which fuzz_campaign covers), drawn by
    hypothesis (seeded) and run by run_case on a database with plans and a pin."""
    folder.mkdir(parents=True, exist_ok=True)
    source = make_source(folder / "source.sqlite", plans=True)
    inputs = make_files(folder / "files")
    chosen = commands or [c for c in COMMAND_ARGS if c != "trust"]
    stats = FuzzStats()
    for command in chosen:
        run_hypothesis(
            COMMAND_ARGS[command],
            max(1, cases // len(chosen)),
            seed,
            lambda argv: run_case(source, folder / "case", argv, stats, inputs),
        )
    return stats


def run_hypothesis(
    strategy: st.SearchStrategy[list[str]], cases: int, seed: int, run: Callable[[list[str]], None]
) -> None:
    @hypothesis_seed(seed)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(argv=strategy)
    def campaign(argv: list[str]) -> None:
        run(argv)

    campaign()
