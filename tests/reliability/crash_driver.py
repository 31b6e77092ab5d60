"""Subprocess driver of the kill tests: repeats one kind of write until it is killed.

    python -m tests.reliability.crash_driver URL OP DIR START

OP is `import` (the CLI's import of DIR/a.json and DIR/b.json in turn), `save` (the
repository's scenario save) or `plan` (the repository's plan save, as a solve does).
START is the variant stored now (import, save) or the number of plans stored (plan).
Prints `ready`, then for each write `begin K`, once committed `commit K`, then
`digest K DIGEST` of every row.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from atmp_planner.cli import main
from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from tests.reliability.workload import NAME, VARIANTS, plan, variants


def _say(line: str) -> None:
    print(line, flush=True)


def run(url: str, op: str, folder: Path, start: int) -> None:
    """Write forever (until killed), reporting each write's start and commit."""
    engine = open_database(url, create=False)
    repo = Repository(engine)
    version = repo.scenario_version(NAME)
    files = [folder / "a.json", folder / "b.json"]
    if op == "save":
        variants()  # built before `ready`, so that kills land in writes
    _say("ready")
    k = 0
    while True:
        target = (start + k + 1) % VARIANTS
        _say(f"begin {k}")
        if op == "import":
            with contextlib.redirect_stdout(io.StringIO()):
                status = main(
                    ["--db", url, "import", str(files[target]), "--replace", "--scenario", NAME]
                )
            if status != 0:
                raise SystemExit(f"import failed with status {status}")
        elif op == "save":
            version = repo.save_scenario(variants()[target], expected_version=version)
        elif op == "plan":
            repo.save_plan(plan(start + k), current=True)
        else:
            raise SystemExit(f"unknown operation {op!r}")
        _say(f"commit {k}")
        _say(f"digest {k} {database_digest(engine)}")
        k += 1


if __name__ == "__main__":
    url_arg, op_arg, folder_arg, start_arg = sys.argv[1:5]
    run(url_arg, op_arg, Path(folder_arg), int(start_arg))
