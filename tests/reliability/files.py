"""Generated scenario, roster and referral files (hypothesis strategies) shared by the
importer property tests (tests/data/test_scenario_io.py, test_import_fuzz.py), the
importer campaign (tests/data/test_hostile_imports.py) and scripts/reliability.py."""

from __future__ import annotations

import copy
import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import strategies as st

from data.db import open_database
from data.repository import Repository
from data.scenario_files import read_scenario
from data.scenario_json import scenario_to_dict
from data.scenario_xlsx import SHEETS, write_scenario_xlsx
from tests.factories import START, rich_scenario
from tests.reliability.fuzz import FuzzStats, make_source, run_case, run_hypothesis

#: The rich scenario as a JSON value: what mutated and plausible files start from.
BASE = scenario_to_dict(rich_scenario())


# Scenario JSON ----------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "2027-02-30", "2027-01-04T25:00", "CART", "operator", "B", "x" * 50]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (the root excluded)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*path, key))
            out.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):  # the first few items of long lists suffice
            out.append((*path, i))
            out.extend(_paths(value, (*path, i)))
    return out


PATHS = _paths(BASE)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """The rich scenario's JSON with a few keys dropped or values replaced by junk."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(junk)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return data


def _leaves(node: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every (key, value) of a scalar or list of scalars in a JSON value."""
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, k)]
    if isinstance(node, list) and node and isinstance(node[0], dict | list):
        return [leaf for v in node for leaf in _leaves(v, key)]
    return [(key, node)]


#: Values found in the rich scenario, by key: swapping them in gives files that pass the
#: schema more often, so the cross-references and the domain's rules are exercised.
_FOUND: dict[str, list[Any]] = {}
for _key, _value in _leaves(BASE):
    if _value not in _FOUND.setdefault(_key, []):
        _FOUND[_key].append(_value)
_PLAUSIBLE_PATHS = [p for p in PATHS if isinstance(p[-1], str) and p[-1] in _FOUND]


@st.composite
def plausible(draw: st.DrawFn) -> Any:
    """The rich scenario's JSON with values swapped for others of the same key, or recased."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PLAUSIBLE_PATHS))
        value = draw(st.sampled_from(_FOUND[path[-1]]))
        if isinstance(value, str) and draw(st.booleans()):
            value = value.swapcase()
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier swap changed the way there
    return data


CELLS = st.one_of(
    st.none(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(["=1+1", "yes", "cryo", "B", "CART", "2027-01-05", "D"]),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
)


# Rosters and referral lists ---------------------------------------------------------------

# Text a workbook can hold (no control characters; openpyxl refuses them when writing).
TEXT_CELL = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
_roster_days = st.dates(START - timedelta(days=40), START + timedelta(days=120))
_roster_cells = st.one_of(
    st.none(),
    st.sampled_from(["D", "N", "L", "d ", "", "X", "SEM", "07:00-15:30", "7-15", "=SUM(A1)"]),
    TEXT_CELL,
    st.integers(-5, 50_000),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    _roster_days,
    st.datetimes(datetime(2026, 11, 1), datetime(2027, 6, 1)),
)
_people = st.sampled_from(["OP1", "OP2", "QC1", "NU1", "op1", " OP2 ", "Nobody", "", "Summa"])


REF_HEADER = [
    "Code", "Product", "Trial", "Cohort", "Referral date", "Earliest apheresis",
    "Latest apheresis", "Clinically needed date", "Priority", "Enrolment date",
]  # fmt: skip
_referral_cells = st.one_of(
    _roster_cells,
    st.sampled_from(["CART", "TIL", "TR-1", "DL1", "dl2", "N1", "N1", "P1", "0", "10"]),
)


@st.composite
def roster_rows(draw: st.DrawFn) -> list[list[Any]]:
    """A matrix roster: title rows, a header of dates (and words), a row per person."""
    header = draw(
        st.lists(
            st.one_of(_roster_days, st.sampled_from(["Namn", "Name", "v. 1", "mån", "Summa"])),
            min_size=1,
            max_size=10,
        )
    )
    body = draw(st.lists(st.tuples(_people, st.lists(_roster_cells, max_size=10)), max_size=8))
    title = draw(st.lists(st.one_of(st.none(), TEXT_CELL), max_size=2))
    rows: list[list[Any]] = [[t] for t in title] + [["Name", *header]]
    return rows + [[person, *cells] for person, cells in body]


_legend_cells = st.one_of(
    _roster_cells, st.sampled_from(["07:00", "15:30", "7", "24:00", "25:00", "Day", "D", "N", "Q"])
)


@st.composite
def long_roster(draw: st.DrawFn) -> list[tuple[str, list[list[Any]]]]:
    """A long roster (a row per person and day, its columns in any order, headers in any
    of the languages read) and, half the time, a legend sheet of shift codes and times."""
    header = draw(
        st.permutations(
            [
                draw(st.sampled_from(["Staff", "Namn", "employee id", "Code", "Person"])),
                draw(st.sampled_from(["Date", "Datum", "dag", "Day"])),
                draw(st.sampled_from(["Shift", "Pass", "kod", "Skift", "Code"])),
                draw(st.sampled_from(["Note", "", "Timmar"])),
            ]
        )
    )
    rows = draw(
        st.lists(
            st.lists(st.one_of(_people, _roster_days, _roster_cells), min_size=3, max_size=4),
            max_size=10,
        )
    )
    sheets = [("Pass", [header, *rows])]
    if draw(st.booleans()):
        legend = draw(
            st.lists(st.lists(_legend_cells, min_size=2, max_size=4), min_size=1, max_size=5)
        )
        sheets.append(("Legend", [["Code", "Description", "Start", "End"], *legend]))
    return sheets


#: A referral list: the header, then rows of cells.
referral_rows = st.lists(st.lists(_referral_cells, min_size=1, max_size=10), max_size=6).map(
    lambda rows: [REF_HEADER, *rows]
)


def write_book(
    path: Path, title: str, rows: list[list[Any]], *more: tuple[str, list[list[Any]]]
) -> Path:
    """A workbook of one sheet holding rows (and more sheets: title, rows)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for other, lines in more:
        sheet = wb.create_sheet(other)
        for row in lines:
            sheet.append(row)
    wb.save(path)
    return path


# Importing into a database -----------------------------------------------------------------


@st.composite
def json_bytes(draw: st.DrawFn) -> bytes:
    """The rich scenario's JSON text with one to three slices cut, junk inserted or
    characters replaced, as UTF-8 (or, now and then, not)."""
    text = json.dumps(BASE, indent=1)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "replace"]))
        junk = draw(st.text(max_size=6))
        if how == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif how == "insert":
            text = text[:at] + junk + text[at:]
        else:
            text = text[:at] + junk + text[at + len(junk) :]
    data = text.encode("utf-8", "surrogatepass")
    return data if draw(st.integers(0, 9)) else b"\xff\xfe" + data


@st.composite
def edited_workbook(draw: st.DrawFn) -> list[tuple[str, int, int, Any]]:
    """Cells of the rich scenario's workbook to overwrite: (sheet, row, column, value)."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from([s.name for s in SHEETS]),
                st.integers(1, 8),
                st.integers(1, 10),
                CELLS,
            ),
            min_size=1,
            max_size=4,
        )
    )


#: Importer targets: what the generated file is, how it is written, the import's options.
IMPORTERS = (
    "scenario JSON", "scenario JSON text", "scenario workbook", "roster", "long roster",
    "referrals",
)  # fmt: skip


def _write_case(target: str, value: Any, folder: Path, workbook: bytes) -> tuple[Path, list[str]]:
    """Write a generated file into folder; the file and the import's options."""
    if target == "scenario JSON":
        path = folder / "scenario.json"
        path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        return path, ["--replace"]
    if target == "scenario JSON text":
        path = folder / "scenario.json"
        path.write_bytes(value)
        return path, ["--replace"]
    if target == "scenario workbook":
        wb = openpyxl.load_workbook(io.BytesIO(workbook))
        for sheet, row, column, cell in value:
            wb[sheet].cell(row=row, column=column, value=cell)
        path = folder / "scenario.xlsx"
        wb.save(path)
        return path, ["--replace"]
    if target == "long roster":
        path = write_book(folder / "long.xlsx", *value[0], *value[1:])
        return path, ["--as", "roster", "--scenario", "rich"] if len(value) > 1 else [
            "--scenario",
            "rich",
        ]
    path = write_book(
        folder / f"{target}.xlsx", "Schema" if target == "roster" else "Remisser", value
    )
    return path, ["--as", target, "--scenario", "rich"]


def _strategy(target: str) -> st.SearchStrategy[Any]:
    return {
        "scenario JSON": st.one_of(mutated(), plausible()),
        "scenario JSON text": json_bytes(),
        "scenario workbook": edited_workbook(),
        "roster": roster_rows(),
        "long roster": long_roster(),
        "referrals": referral_rows,
    }[target]


def import_campaign(folder: Path, cases: int, seed: int) -> FuzzStats:
    """About `cases` generated files, the same number per importer, each imported by the
    command line into a fresh copy of a database holding the rich scenario (run_case):
    refused with located problems and nothing written, or stored whole; a stored scenario
    file must load back equal to what the reader makes of the file."""
    folder.mkdir(parents=True, exist_ok=True)
    source = make_source(folder / "source.sqlite")
    workbook = write_scenario_xlsx(folder / "rich.xlsx", rich_scenario()).read_bytes()
    stats = FuzzStats()
    for target in IMPORTERS:

        def one(value: Any, target: str = target) -> None:
            files = folder / "files"
            shutil.rmtree(files, ignore_errors=True)
            files.mkdir()
            path, options = _write_case(target, value, files, workbook)
            argv = ["import", path.name, "--reason", "fuzz", *options]
            status = run_case(source, folder / "case", argv, stats, files, target)
            if status == 0 and target.startswith("scenario"):
                read = read_scenario(path)
                repo = Repository(open_database(f"sqlite:///{folder / 'case' / 'planner.sqlite'}"))
                try:
                    if repo.load_scenario(read.name) != read:
                        stats.per_command[(target, "fault")] += 1
                        stats.problems.append(f"{target}: stored scenario differs from the file")
                finally:
                    repo.close()

        run_hypothesis(_strategy(target), max(1, cases // len(IMPORTERS)), seed, one)
    return stats
