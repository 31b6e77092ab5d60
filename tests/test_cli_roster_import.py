"""`import` of rosters and referral lists into a stored scenario, detected or named by --as."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from atmp_planner.cli import main
from data.db import open_database
from data.repository import Repository
from planner import Patient
from tests.factories import rich_scenario
from tests.reliability.files import write_book as book


def run(rich_url: str, *args: str) -> int:
    return main(["--db", rich_url, *args])


def stored_state(rich_url: str) -> tuple[int, Any]:
    """Rows in all tables and the stored scenario: what a refused import must not change."""
    repo = Repository(open_database(rich_url))
    return repo.count_rows(), repo.load_scenario("rich")


MATRIX = [
    ["Schema vecka 1 2027"],
    ["Namn", datetime(2027, 1, 4), "2027-01-05", "6/1", "Summa"],
    [None, "mån", "tis", "ons"],
    ["Operatörer"],
    ["OP1", "L", "L", None, 2],
    ["QC1", "D", "D", "N", 3],
]


def test_a_roster_is_detected_merged_and_reported(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --as: the matrix is recognised; the three days of two people are replaced."""
    path = book(tmp_path / "schema.xlsx", "Januari", MATRIX)
    before = Repository(open_database(rich_url)).load_scenario("rich")
    assert run(rich_url, "import", str(path), "--scenario", "rich") == 0
    out = capsys.readouterr().out
    assert f"{path}: detected a roster" in out
    assert (
        "Merged into 'rich' (version 2) a matrix roster (sheets Januari): 2 people, 3 days " in out
    )
    # OP1: D, D, D -> L, L, blank; QC1: N, L, none -> D, D, N.
    assert "shifts 1 added, 1 removed, 4 changed, 0 unchanged." in out
    assert "  OP1: 0 added, 1 removed, 2 changed, 0 unchanged" in out
    assert "  QC1: 1 added, 0 removed, 2 changed, 0 unchanged" in out
    after = Repository(open_database(rich_url)).load_scenario("rich")
    days = {date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)}
    touched = {"OP1", "QC1"}
    got = {(e.staff_code, e.day): e.shift_code for e in after.roster}
    kept = {
        (e.staff_code, e.day): e.shift_code
        for e in before.roster
        if not (e.staff_code in touched and e.day in days)
    }
    assert got == kept | {
        ("OP1", date(2027, 1, 4)): "L",
        ("OP1", date(2027, 1, 5)): "L",
        ("QC1", date(2027, 1, 4)): "D",
        ("QC1", date(2027, 1, 5)): "D",
        ("QC1", date(2027, 1, 6)): "N",
    }


def test_a_bad_roster_changes_nothing(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown code, unknown person, date outside the horizon: all listed, nothing written."""
    rows = [list(r) for r in MATRIX]
    rows[1][3] = "2027-06-01"
    rows[4][2] = "X"
    rows.append(["OP7", "D"])
    path = book(tmp_path / "bad.xlsx", "Januari", rows)
    before = stored_state(rich_url)
    assert run(rich_url, "import", str(path), "--as", "roster", "--scenario", "rich") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}: sheet 'Januari', row 2, column D: expected a date in the scenario's horizon "
        "2027-01-04 to 2027-03-04, found 2027-06-01",
        f"{path}: sheet 'Januari', row 5, column C (2027-01-05): expected a shift code of "
        "scenario 'rich' (D, L, N), found \"X\"",
        f"{path}: sheet 'Januari', row 7, column A (Namn): expected a staff code of scenario "
        "'rich' (OP1, OP2, QC1, NU1), found \"OP7\"",
        f"atmp-planner: error: {path}: 3 problems; nothing was imported",
    ]
    assert stored_state(rich_url) == before


def test_referrals_are_detected_and_added(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A referral list without --as is recognised and its patients are stored."""
    path = book(
        tmp_path / "ref.xlsx",
        "Referrals",
        [
            ["Code", "Product", "Referral date", "Earliest apheresis", "Latest apheresis"],
            ["N1", "CART", "2027-01-10", "2027-01-12", "2027-01-20"],
        ],
    )
    assert run(rich_url, "import", str(path), "--scenario", "rich") == 0
    out = capsys.readouterr().out
    assert f"{path}: detected a referral list" in out
    assert "Added 1 referred patients from sheet 'Referrals' to 'rich' (version 2): N1." in out
    after = Repository(open_database(rich_url)).load_scenario("rich")
    assert after.patients[-1] == Patient(
        "N1", "CART", date(2027, 1, 10), date(2027, 1, 12), date(2027, 1, 20)
    )


def test_a_bad_referral_list_changes_nothing(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patient already stored and an unknown product: both listed, nothing written."""
    path = book(
        tmp_path / "ref.xlsx",
        "Referrals",
        [
            ["Code", "Product", "Referral date", "Earliest apheresis", "Latest apheresis"],
            ["P2", "CART", "2027-01-10", "2027-01-12", "2027-01-20"],
            ["N2", "CAR-T", "2027-01-10", "2027-01-12", "2027-01-20"],
        ],
    )
    before = stored_state(rich_url)
    assert run(rich_url, "import", str(path), "--as", "referrals", "--scenario", "rich") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}: sheet 'Referrals', row 2, column A (Code): expected a new patient code, found "
        "\"P2\": scenario 'rich' has patient 'P2' already",
        f"{path}: sheet 'Referrals', row 3, column B (Product): expected a product code of "
        "scenario 'rich' (CART, TIL), found \"CAR-T\"",
        f"atmp-planner: error: {path}: 2 problems; nothing was imported",
    ]
    assert stored_state(rich_url) == before


def test_a_roster_needs_a_stored_scenario(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --scenario, or naming one not stored, a roster is refused in one line."""
    path = book(tmp_path / "schema.xlsx", "Januari", MATRIX)
    assert run(rich_url, "import", str(path), "--as", "roster") == 1
    assert "give --scenario NAME" in capsys.readouterr().err
    assert run(rich_url, "import", str(path), "--as", "roster", "--scenario", "nope") == 1
    assert "no scenario named 'nope'" in capsys.readouterr().err


def test_a_workbook_of_nothing_known_is_refused(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Detection that finds no layout says so and suggests --as."""
    path = book(tmp_path / "notes.xlsx", "Notes", [["Just notes"]])
    assert run(rich_url, "import", str(path), "--scenario", "rich") == 1
    assert "neither a scenario, a roster nor a referral list" in capsys.readouterr().err


def test_a_scenario_saved_meanwhile_is_not_overwritten(
    tmp_path: Path,
    rich_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone saving the scenario while the roster is read wins; the merge is refused."""
    import data.roster_import

    path = book(tmp_path / "schema.xlsx", "Januari", MATRIX)
    real = data.roster_import.read_roster

    def read_while_someone_saves(file: Any, scenario: Any) -> Any:
        Repository(open_database(rich_url)).save_scenario(scenario)  # the other user's save
        return real(file, scenario)

    monkeypatch.setattr(data.roster_import, "read_roster", read_while_someone_saves)
    assert run(rich_url, "import", str(path), "--as", "roster", "--scenario", "rich") == 1
    assert "was changed by tester" in capsys.readouterr().err
    assert Repository(open_database(rich_url)).load_scenario("rich") == rich_scenario()


def test_a_long_roster_with_a_legend_adds_its_codes(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--as roster` on a long sheet with a legend: the new code is stored and used."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pass"
    for row in [["Personal", "Datum", "Pass"], ["NU1", "2027-01-07", "AF"]]:
        ws.append(row)
    legend = wb.create_sheet("Koder")
    for row in [["Kod", "Beskrivning", "Start", "Slut"], ["AF", "Aferes", "07:00", "15:00"]]:
        legend.append(row)
    path = tmp_path / "pass.xlsx"
    wb.save(path)
    assert run(rich_url, "import", str(path), "--as", "roster", "--scenario", "rich") == 0
    out = capsys.readouterr().out
    assert "detected" not in out
    assert "New shift codes from the legend: AF" in out
    assert "  NU1: 1 added, 0 removed, 0 changed, 0 unchanged" in out
    after = Repository(open_database(rich_url)).load_scenario("rich")
    assert after.shift_codes[-1].code == "AF"
    assert (after.shift_codes[-1].start_hour, after.shift_codes[-1].hours) == (7, 8)
    assert {(e.staff_code, e.day, e.shift_code) for e in after.roster} >= {
        ("NU1", date(2027, 1, 7), "AF")
    }


def test_times_in_cells_are_read_as_codes_and_said(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Time Care sheet of times: 08:00-16:00 is D, 20-08 is N, and the output says so."""
    rows = [
        ["Namn", "Anst.nr", datetime(2027, 1, 4), datetime(2027, 1, 5)],
        ["Berg, Karin", "OP1", "08:00-16:00", "20:00-08:00"],
    ]
    path = book(tmp_path / "timecare.xlsx", "Schemaöversikt", rows)
    assert run(rich_url, "import", str(path), "--as", "roster", "--scenario", "rich") == 0
    out = capsys.readouterr().out
    assert "Times read as shift codes: 08:00-16:00 as D; 20:00-08:00 as N\n" in out
    roster = {
        (e.staff_code, e.day): e.shift_code
        for e in Repository(open_database(rich_url)).load_scenario("rich").roster
    }
    assert roster[("OP1", date(2027, 1, 4))] == "D"
    assert roster[("OP1", date(2027, 1, 5))] == "N"
