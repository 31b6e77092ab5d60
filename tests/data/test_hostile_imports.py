"""Generated scenario files (JSON values, JSON text, workbooks), rosters and referral lists
imported by the command line into a database (hypothesis, seeded): each is refused with
located problems and nothing written (digest of every row), or stored whole, a scenario
file loading back equal to what the reader makes of it. scripts/reliability.py runs more."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.files import IMPORTERS, import_campaign

#: Files per importer: about 0.4 s each.
PER_IMPORTER = 5


def test_every_importer_stores_all_or_nothing(tmp_path: Path) -> None:
    stats = import_campaign(tmp_path, PER_IMPORTER * len(IMPORTERS), seed=2026)
    assert stats.problems == []
    assert stats.crashes == 0 and stats.partial_writes == 0
    assert {target for target, _ in stats.per_command} == set(IMPORTERS)
    assert stats.outcomes["exit 1"] > 0  # bad files were refused
