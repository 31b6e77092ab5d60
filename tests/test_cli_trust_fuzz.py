"""Hostile arguments to the commands of the audit trail and backups (hypothesis): every
case exits 0, 1 or 2 with at most one error line and no traceback, and the database is
left exactly as it was (digest of every row), its audit trail intact."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.fuzz import fuzz_campaign

#: Cases per run: enough to find a class of crash, few enough for CI (0.2 to 0.6 s each);
#: scripts/reliability.py runs more.
CASES = 40


def test_hostile_arguments_give_one_line_and_change_nothing(tmp_path: Path) -> None:
    """Every case: exit 0/1/2, no traceback, one `atmp-planner: error:` line on failure,
    nothing written."""
    stats = fuzz_campaign(tmp_path, CASES, seed=14)
    assert stats.problems == []
    assert stats.crashes == 0 and stats.partial_writes == 0
    assert sum(stats.outcomes.values()) >= CASES // 2  # hypothesis may stop early on dupes
    assert stats.outcomes["exit 1"] + stats.outcomes["exit 2"] > 0  # bad input was tried
