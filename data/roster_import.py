"""Rosters as staffing offices export them, read into a RosterChange for a stored scenario.

Two layouts are understood. *Long*: one row per person, date and shift code, under a
header naming those columns. *Matrix*: people down, dates across, codes in the cells, with
what surrounds a real one: title and period rows, week-number and day-name rows, group
headings, totals columns and rows, blank rows, merged cells. Shift codes come from a
legend sheet when there is one, else from the scenario; times typed instead of a code
(07:00-15:30 in a cell, or Från and Till columns) are read as the code with those hours.
Every problem is collected with its sheet, row and column; nothing is guessed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from data.scenario_json import MAX_PROBLEMS, Problem, ScenarioFileError
from data.scenario_xlsx import MAX_ROWS, open_checked_workbook
from planner import RosterEntry, Scenario, ShiftCode
from planner.imports import RosterChange
from planner.validation import ValidationError

#: Most columns read on one sheet of a roster or referral list: a year of days and labels.
MAX_ROSTER_COLUMNS = 400
#: Most cells in a roster or referral workbook: it is loaded whole to see merged cells.
MAX_ROSTER_CELLS = 250_000
#: Rows searched for a header (titles, periods and week rows come above it).
HEADER_SEARCH_ROWS = 40

PERSON_HEADERS = (
    "person", "staff", "staff code", "name", "employee", "employee id", "employee no",
    "employee number", "id", "namn", "personal", "anställd", "medarbetare", "anst nr",
    "anstnr", "anställningsnr", "anställningsnummer", "pers nr", "personnr", "sign",
    "efternamn förnamn", "förnamn efternamn", "ansatt", "ansattnr", "ansattnummer",
    "ansatt nr", "ansat", "medarbejder", "medarbejdernr", "medarbejder nr", "navn",
    "signatur", "nimi", "tunnus", "henkilönumero", "työntekijä",
)  # fmt: skip
DATE_HEADERS = ("date", "day", "datum", "dato", "dag")
SHIFT_HEADERS = ("shift", "shift code", "pass", "passkod", "skift", "vakt", "vagt", "kod")
#: A header that may name either the person or the shift column.
EITHER_HEADER = "code"
LEGEND_TITLES = (
    "legend", "förklaring", "forklaring", "teckenförklaring", "koder", "kodlista", "codes",
    "key", "selitteet", "koodit",
)  # fmt: skip
LEGEND_HEADERS = {
    "code": ("code", "kod", "kode", "shift", "pass", "skift", "koodi", "lyhenne", "tunnus"),
    "description": (
        "description", "beskrivning", "beskrivelse", "betydning", "name", "namn", "navn",
        "text", "selite", "kuvaus",
    ),
    "start": ("start", "från", "fra", "from", "begin", "starttid", "start time", "alkaa", "alku"),
    "end": ("end", "slut", "till", "til", "to", "sluttid", "end time", "stop", "päättyy", "loppu"),
}  # fmt: skip
#: Day names, Monday first: Swedish, Norwegian/Danish, Finnish, English; long and short.
_WEEKDAYS = (
    "måndag mandag maanantai monday mån man mon mo ma",
    "tisdag tirsdag tiistai tuesday tis tir tue ti tu",
    "onsdag keskiviikko wednesday ons wed on we ke",
    "torsdag torstai thursday tor thu to th",
    "fredag perjantai friday fre fri fr pe",
    "lördag lørdag lauantai saturday lör lør sat lö lø sa la",
    "söndag søndag sunnuntai sunday sön søn sun sö sø su",
)
#: The weekday (Monday 0) each day name means, to check day-name rows against the dates.
WEEKDAY_OF = {word: i for i, names in enumerate(_WEEKDAYS) for word in names.split()}
DAY_NAMES = frozenset(WEEKDAY_OF)
#: Labels of totals rows; a label starting with one ("Summa dag", "Antal D") is one too.
TOTAL_LABELS = frozenset(
    (
        "summa", "sum", "total", "totalt", "totals", "i alt", "antal", "count", "timmar",
        "hours", "timer", "tunnit", "yhteensä",
    )
)  # fmt: skip
_WEEK = re.compile(r"^(v|vecka|vek|week|wk|w|uke|uge|kw|vk|viikko)\.?\s*\d{1,2}$", re.IGNORECASE)
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?\.?$")
#: Danish and Norwegian offices also write 04-01-2027; only with the year (7-15 is a time).
_DMY_DASH = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
#: A time range typed where a code belongs: 07:00-15:30, 7-15:30, 0700-1530, 07.00-15.30.
_TIME_RANGE = re.compile(r"^(\d{1,2})(?:[:.]?(\d{2}))?\s*[-–—]\s*(\d{1,2})(?:[:.]?(\d{2}))?$")


@dataclass(frozen=True)
class Formula:
    """A formula found in a cell (its text); values must be typed, not computed."""

    text: str


@dataclass
class Grid:
    """One sheet's values, row by row (merged areas inside date columns filled in)."""

    title: str
    rows: list[list[Any]]
    hidden: bool = False
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def value(self, row: int, column: int) -> Any:
        """The value at a 1-based row and column (None outside the sheet)."""
        if 1 <= row <= len(self.rows) and 1 <= column <= len(self.rows[row - 1]):
            return self.rows[row - 1][column - 1]
        return None


def place(sheet: str, row: int | None = None, column: int | None = None, header: str = "") -> str:
    """Where something is: sheet 'X', row N, column C (header)."""
    out = f"sheet '{sheet}'"
    if row is not None:
        out += f", row {row}"
    if column is not None:
        out += f", column {get_column_letter(column)}"
        if header:
            out += f" ({header})"
    return out


def show(value: object) -> str:
    """A cell's value as a message quotes it."""
    if isinstance(value, Formula):
        return f"a formula {value.text!r}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def blank(value: object) -> bool:
    """An empty cell."""
    return value is None or (isinstance(value, str) and not value.strip())


def normal(value: object) -> str:
    """A header as compared: folded case, single spaces, no _ or -."""
    text = str(value).strip().casefold().replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def header_names(value: object) -> tuple[str, ...]:
    """A header as compared, and each of its parts: "Personnr/Anst.nr" is personnr, anst nr."""
    text = normal(value)
    parts = [text, *text.split("/")]
    return tuple(
        dict.fromkeys(" ".join(p.replace(".", " ").replace(",", " ").split()) for p in parts)
    )


def is_total(value: object) -> bool:
    """A totals label: Summa, Total, I alt, ... or one starting so (Summa dag, Antal D)."""
    if blank(value) or not isinstance(value, str):
        return False
    text = normal(value).rstrip(":")
    return text in TOTAL_LABELS or text.split()[0].rstrip(":") in TOTAL_LABELS


def text_of(value: object) -> str:
    """A code-like cell as text (a whole number typed as 7.0 becomes "7")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _refuse(file: str, message: str) -> ScenarioFileError:
    return ScenarioFileError(file, [Problem("", message)])


def _prescan(path: str | Path, file: str) -> None:
    """Count rows, columns and cells streaming, before the whole workbook is loaded."""
    wb = open_checked_workbook(path, read_only=True)
    try:
        cells = 0
        for ws in wb.worksheets:
            ws.reset_dimensions()  # the declared size may lie; count what is there
            for number, row in enumerate(ws.iter_rows(), start=1):
                if number > MAX_ROWS:
                    raise _refuse(
                        file, f"sheet '{ws.title}' is too long: more than {MAX_ROWS:,} rows"
                    )
                if len(row) > MAX_ROSTER_COLUMNS:
                    raise _refuse(
                        file,
                        f"sheet '{ws.title}' is too wide: more than {MAX_ROSTER_COLUMNS} columns",
                    )
                cells += len(row)
                if cells > MAX_ROSTER_CELLS:
                    raise _refuse(file, f"too many cells: more than {MAX_ROSTER_CELLS:,} in all")
    except ScenarioFileError:
        raise
    except (zipfile.BadZipFile, EOFError, SyntaxError, ValueError, TypeError, KeyError) as error:
        raise _refuse(
            file, f"not a readable xlsx workbook ({type(error).__name__}: {error})"
        ) from None
    finally:
        wb.close()


def load_grids(path: str | Path) -> list[Grid]:
    """Every sheet of a workbook as values, within the limits of scenario workbooks."""
    file = str(path)
    _prescan(path, file)
    # Loaded whole (not streamed) because only then does openpyxl tell merged cells.
    wb = open_checked_workbook(path, read_only=False)
    try:
        grids: list[Grid] = []
        for ws in wb.worksheets:
            rows: list[list[Any]] = []
            for row in ws.iter_rows():
                values: list[Any] = []
                for cell in row:
                    value = cell.value
                    if cell.data_type == "f" or (
                        isinstance(value, str) and value.startswith("=") and cell.data_type != "s"
                    ):
                        value = Formula(str(value))
                    values.append(value)
                rows.append(values)
            merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
            grids.append(Grid(ws.title, rows, ws.sheet_state != "visible", merged))
        return grids
    except (zipfile.BadZipFile, EOFError, SyntaxError, ValueError, TypeError, KeyError) as error:
        raise _refuse(
            file, f"not a readable xlsx workbook ({type(error).__name__}: {error})"
        ) from None
    finally:
        wb.close()


# Dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayMonth:
    """A date typed without its year ("4/1", "04.01")."""

    day: int
    month: int


def as_date(value: object) -> date | DayMonth | None:
    """A cell as a date (a date cell, an Excel serial, or text), or None if it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Excel serials of 1955-2119; smaller numbers are counts, not dates.
        if 20_000 <= value <= 80_000 and float(value).is_integer():
            return date(1899, 12, 30) + timedelta(days=int(value))
        return None
    if not isinstance(value, str):
        return None
    text = value.strip().casefold()
    words = text.split()
    if len(words) == 2 and words[0].rstrip(".") in DAY_NAMES:
        text = words[1]  # "mån 4/1"
    try:
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY_DASH.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := _DMY.match(text):
            day, month = int(match[1]), int(match[2])
            if match[3] is None:
                date(2000, month, day)  # a real day of a month (29 February allowed)
                return DayMonth(day, month)
            year = int(match[3])
            return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class YearHint:
    """What the rows above a header say about the year: years named, and a period if any."""

    years: tuple[int, ...]
    period: tuple[date, date] | None = None


_DATE_IN_TEXT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}")


def years_in(values: Iterable[object]) -> YearHint:
    """The years and the period (first to last full date) named in title or period cells."""
    found: list[int] = []
    dates: list[date] = []
    for value in values:
        if isinstance(value, datetime | date):
            day = value.date() if isinstance(value, datetime) else value
            dates.append(day)
            years = [day.year]
        elif isinstance(value, str):
            years = [int(y) for y in _YEAR.findall(value)]
            for token in _DATE_IN_TEXT.findall(value):
                parsed = as_date(token)
                if isinstance(parsed, date):
                    dates.append(parsed)
        else:
            continue
        found += [y for y in dict.fromkeys(years) if y not in found]
    period = (min(dates), max(dates)) if len(dates) >= 2 else None
    return YearHint(tuple(found), period)


def with_year(value: DayMonth, hint: YearHint, scenario: Scenario) -> date | None:
    """A yearless date in the year the title or period rows give (None if not one).

    With several years (a period over New Year) the one inside the period decides, else
    the one inside the horizon.
    """
    dates = []
    for year in hint.years:
        try:
            dates.append(date(year, value.month, value.day))
        except ValueError:
            continue
    if len(dates) == 1:
        return dates[0]
    if hint.period is not None:
        lo, hi = hint.period
        inside = [d for d in dates if lo <= d <= hi]
        if len(inside) == 1:
            return inside[0]
    inside = [d for d in dates if scenario.horizon_start <= d <= scenario.horizon_end]
    return inside[0] if len(inside) == 1 else None


# Shift codes ---------------------------------------------------------------------------------


def _hour(value: object) -> tuple[int, int] | None:
    """A start or end cell as (hour, minute): 08:00, 8, a time cell, an Excel day fraction."""
    if isinstance(value, datetime):
        return value.hour, value.minute
    if isinstance(value, time):
        return value.hour, value.minute
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return divmod(minutes, 60)
    if isinstance(value, int | float) and float(value).is_integer() and 0 <= value <= 24:
        return int(value), 0
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?", value.strip())
        if match and int(match[1]) <= 24 and int(match[2] or 0) < 60:
            return int(match[1]), int(match[2] or 0)
    return None


def time_range(text: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """A cell such as 07:00-15:30, 7-15:30 or 0700-1530 as (start, end), else None."""
    match = _TIME_RANGE.match(text.strip())
    if match is None:
        return None
    start = (int(match[1]), int(match[2] or 0))
    end = (int(match[3]), int(match[4] or 0))
    if any(h > 24 or m > 59 for h, m in (start, end)) or start == end:
        return None
    return start, end


def shift_from_times(
    code: str, name: str, start: tuple[int, int], end: tuple[int, int], scenario: Scenario
) -> ShiftCode:
    """A worked shift: whole hours covering it; it covers day work if it spans half the day."""
    first = start[0]
    last = end[0] + (1 if end[1] else 0)
    hours = (last - first) % 24 or 24
    site = scenario.site
    overlap = max(0, min(first + hours, site.day_end_hour) - max(first, site.day_start_hour))
    return ShiftCode(code, name or code, first % 24, hours, overlap * 2 >= site.working_hours)


def is_legend(grid: Grid) -> bool:
    """A sheet listing shift codes: named like one, or headed code and start (or description)."""
    title = normal(grid.title)
    if any(word in title for word in LEGEND_TITLES):
        return True
    columns = _legend_columns(grid)
    if columns is None or "start" not in columns[1]:
        return False
    # A long roster may carry times too; a legend has no dates.
    return not any(normal(v) in DATE_HEADERS for v in grid.rows[columns[0] - 1] if not blank(v))


def _legend_columns(grid: Grid) -> tuple[int, dict[str, int]] | None:
    for number in range(1, min(len(grid.rows), 10) + 1):
        found: dict[str, int] = {}
        for index, value in enumerate(grid.rows[number - 1], start=1):
            if blank(value):
                continue
            for key, names in LEGEND_HEADERS.items():
                if key not in found and normal(value) in names:
                    found[key] = index
                    break
        if "code" in found and ("start" in found or "description" in found):
            return number, found
    return None


def read_legend(
    grid: Grid, scenario: Scenario, fail: Any
) -> tuple[dict[str, ShiftCode], list[ShiftCode]]:
    """The legend's codes by folded code, and those the scenario does not know yet."""
    known = {s.code.casefold(): s for s in scenario.shift_codes}
    columns = _legend_columns(grid)
    if columns is None:
        fail(place(grid.title, 1), "a legend needs the columns code, description, start and end")
        return {}, []
    header, at = columns
    codes: dict[str, ShiftCode] = {}
    new: list[ShiftCode] = []
    for number in range(header + 1, len(grid.rows) + 1):
        code_value = grid.value(number, at["code"])
        if blank(code_value):
            continue
        code = text_of(code_value)
        if code.casefold() in codes:
            fail(place(grid.title, number, at["code"], "code"), f"the code {code!r} appears twice")
            continue
        name = "" if "description" not in at else str(grid.value(number, at["description"]) or "")
        starts = grid.value(number, at["start"]) if "start" in at else None
        ends = grid.value(number, at["end"]) if "end" in at else None
        shift: ShiftCode | None = None
        try:
            if blank(starts) and blank(ends):
                shift = ShiftCode(code, name.strip() or code, 0, 0, False, True)
            else:
                start, end = _hour(starts), _hour(ends)
                for key, value, found in (("start", starts, start), ("end", ends, end)):
                    if found is None:
                        where = place(grid.title, number, at.get(key), key)
                        fail(where, f"expected a time (HH:MM), found {show(value)}")
                if start is not None and end is not None:
                    shift = shift_from_times(code, name.strip(), start, end, scenario)
        except ValidationError as error:
            fail(place(grid.title, number), str(error))
        if shift is None:
            continue
        existing = known.get(code.casefold())
        if existing is None:
            new.append(shift)
            codes[code.casefold()] = shift
        else:
            codes[code.casefold()] = existing  # the scenario's definition stands
    return codes, new


# Layouts -------------------------------------------------------------------------------------


def long_columns(grid: Grid) -> tuple[int, int, int, int] | None:
    """The header row and the person, date and shift columns of a long roster, if it is one."""
    for number in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        headers = {
            i: header_names(v) for i, v in enumerate(grid.rows[number - 1], 1) if not blank(v)
        }
        person = next((i for i, h in headers.items() if set(h) & set(PERSON_HEADERS)), None)
        day = next((i for i, h in headers.items() if set(h) & set(DATE_HEADERS)), None)
        shift = next((i for i, h in headers.items() if set(h) & set(SHIFT_HEADERS)), None)
        either = [i for i, h in headers.items() if EITHER_HEADER in h]
        if person is None and either:
            person = either.pop(0)
        if shift is None and either:
            shift = either.pop(0)
        if None not in (person, day, shift) and len({person, day, shift}) == 3:
            assert person is not None and day is not None and shift is not None
            return number, person, day, shift
    return None


def matrix_header(grid: Grid) -> tuple[int, dict[int, date | DayMonth]] | None:
    """The row of dates heading a matrix (the one with most dates) and its date cells."""
    best: tuple[int, dict[int, date | DayMonth]] | None = None
    for number in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        found = {}
        for index, value in enumerate(grid.rows[number - 1], start=1):
            day = as_date(value)
            if day is not None:
                found[index] = day
        if len(found) >= 2 and (best is None or len(found) > len(best[1])):
            best = (number, found)
    return best


def layout_of(grid: Grid) -> str | None:
    """long, matrix or None: how a sheet holds a roster."""
    if long_columns(grid) is not None:
        return "long"
    if matrix_header(grid) is not None:
        return "matrix"
    return None


def _decorative(value: object) -> bool:
    """A day name or week label standing in a date column (not a shift code)."""
    if not isinstance(value, str):
        return False
    text = value.strip().casefold().rstrip(".")
    return text in DAY_NAMES or bool(_WEEK.match(text))


@dataclass
class _Collect:
    """Problems, in the order found, and the roster read so far."""

    file: str
    scenario: Scenario
    shifts: dict[str, ShiftCode]
    shift_source: str
    problems: list[Problem] = field(default_factory=list)
    entries: dict[tuple[str, date], tuple[str, str]] = field(default_factory=dict)
    people: dict[str, None] = field(default_factory=dict)
    days: dict[date, None] = field(default_factory=dict)
    covered: dict[tuple[str, date], str] = field(default_factory=dict)
    times: dict[str, str] = field(default_factory=dict)  # a time range typed -> how it was read

    staff: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.staff = {s.code.casefold(): s.code for s in self.scenario.staff}

    def fail(self, where: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(where, message))

    def person(self, value: object, where: str) -> str | None:
        code = self.staff.get(text_of(value).casefold())
        if code is None:
            self.fail(
                where,
                f"expected a staff code of scenario {self.scenario.name!r} "
                f"({_some(s.code for s in self.scenario.staff)}), found {show(value)}",
            )
        return code

    def decorative(self, value: object) -> bool:
        """A day name or week label in a date column; a shift code never is one."""
        return _decorative(value) and text_of(value).casefold() not in self.shifts

    def day(self, value: date, where: str) -> bool:
        start, end = self.scenario.horizon_start, self.scenario.horizon_end
        if not start <= value <= end:
            self.fail(
                where,
                f"expected a date in the scenario's horizon {start} to {end}, found {value}",
            )
            return False
        return True

    def shift(self, value: object, where: str) -> str | None:
        if isinstance(value, Formula):
            self.fail(where, f"found {show(value)}; type the code itself")
            return None
        shift = self.shifts.get(text_of(value).casefold())
        if shift is None and isinstance(value, str) and (times := time_range(value)):
            return self.shift_of_times(value, *times, where)
        if shift is None:
            codes = _some(sorted({s.code for s in self.shifts.values()}))
            self.fail(
                where, f"expected a shift code {self.shift_source} ({codes}), found {show(value)}"
            )
            return None
        return shift.code

    def shift_of_times(
        self, value: str, start: tuple[int, int], end: tuple[int, int], where: str
    ) -> str | None:
        """The code whose hours a typed time range covers (the first, if several do)."""
        worked = shift_from_times("X", "", start, end, self.scenario)
        matches = [
            s
            for s in dict.fromkeys(self.shifts.values())
            if not s.is_leave
            and (s.start_hour, s.hours, s.covers_day_work)
            == (worked.start_hour, worked.hours, worked.covers_day_work)
        ]
        if matches:
            code, others = matches[0].code, [s.code for s in matches[1:]]
            # Said in the report: a coordinator should see which of equal codes was taken.
            verb = "has" if len(others) == 1 else "have"
            also = f" ({', '.join(others)} {verb} the same hours)" if others else ""
            self.times.setdefault(value.strip(), f"{value.strip()} as {code}{also}")
            return code
        hours = f"{worked.start_hour:02d}-{(worked.start_hour + worked.hours) % 24:02d}"
        timed = _some(
            f"{s.code} {s.start_hour:02d}-{(s.start_hour + s.hours) % 24:02d}"
            for s in dict.fromkeys(self.shifts.values())
            if not s.is_leave
        )
        self.fail(
            where,
            f"found the times {show(value)} (whole hours {hours}), which match no shift code "
            f"{self.shift_source} ({timed}); type a code, or add one with these times to a "
            "legend sheet",
        )
        return None

    def put(self, person: str, day: date, code: str | None, where: str) -> None:
        self.people.setdefault(person)
        self.days.setdefault(day)
        key = (person, day)
        if key in self.covered:
            self.fail(where, f"{person} on {day} is given already at {self.covered[key]}")
            return
        self.covered[key] = where
        if code is not None:
            self.entries[key] = (code, where)


def _some(codes: Iterable[str], most: int = 12) -> str:
    listed = list(codes)
    shown = ", ".join(listed[:most])
    return shown + (f", … ({len(listed)} in all)" if len(listed) > most else "")


def _read_long(grid: Grid, out: _Collect, columns: tuple[int, int, int, int]) -> None:
    header, person_col, date_col, shift_col = columns
    heads = {i: str(v).strip() for i, v in enumerate(grid.rows[header - 1], 1) if not blank(v)}
    years = years_in(v for row in grid.rows[: header - 1] for v in row)
    person_col = _long_person_column(grid, out, header, columns)
    times = _time_columns(grid, header, columns)
    for number in range(header + 1, len(grid.rows) + 1):
        person_v = grid.value(number, person_col)
        date_v = grid.value(number, date_col)
        shift_v = grid.value(number, shift_col)
        if blank(person_v) and blank(date_v) and blank(shift_v):
            continue
        if is_total(person_v) and text_of(person_v).casefold() not in out.staff:
            continue  # "Antal rader: 312", "I alt"
        at = {c: place(grid.title, number, c, heads.get(c, "")) for c in heads}
        person = None
        if blank(person_v):
            out.fail(at[person_col], "empty; expected a staff code")
        else:
            person = out.person(person_v, at[person_col])
        day = _day_cell(date_v, years, out, at[date_col])
        worked = None if times is None else [grid.value(number, c) for c in times]
        if blank(shift_v) and worked is not None and not all(blank(v) for v in worked):
            # No code but a start and end (Från, Till): a worked shift, not a day cleared.
            assert times is not None
            code = _shift_of_cells(out, worked, [at[c] for c in times])
            if person is None or day is None or code is None:
                continue
        else:
            code = None if blank(shift_v) else out.shift(shift_v, at[shift_col])
            if person is None or day is None or (code is None and not blank(shift_v)):
                continue
        out.put(person, day, code, place(grid.title, number))


def _time_columns(
    grid: Grid, header: int, columns: tuple[int, int, int, int]
) -> tuple[int, int] | None:
    """The start and end columns of a long roster (Från, Till), if it has both."""
    found: dict[str, int] = {}
    for index, value in enumerate(grid.rows[header - 1], start=1):
        if index in columns[1:] or blank(value):
            continue
        for key in ("start", "end"):
            if key not in found and set(header_names(value)) & set(LEGEND_HEADERS[key]):
                found[key] = index
    return (found["start"], found["end"]) if len(found) == 2 else None


def _shift_of_cells(out: _Collect, values: list[Any], where: list[str]) -> str | None:
    """The code whose hours a start and an end cell give, or None (a problem noted)."""
    start, end = _hour(values[0]), _hour(values[1])
    for value, found, at in zip(values, (start, end), where, strict=True):
        if found is None:
            seen = "empty" if blank(value) else f"found {show(value)}"
            out.fail(at, f"{seen}; expected a time (HH:MM), or a code in the shift column")
    if start is not None and start == end:
        out.fail(where[1], f"found the end {show(values[1])} equal to the start; expected a shift")
    if start is None or end is None or start == end:
        return None
    text = f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
    return out.shift_of_times(text, start, end, where[0])


def _long_person_column(
    grid: Grid, out: _Collect, header: int, columns: tuple[int, int, int, int]
) -> int:
    """Of the columns headed like a person (Anst.nr and Namn, say), the one of staff codes."""
    _, first, date_col, shift_col = columns
    candidates = [
        i
        for i, v in enumerate(grid.rows[header - 1], 1)
        if i not in (date_col, shift_col)
        and not blank(v)
        and set(header_names(v)) & {*PERSON_HEADERS, EITHER_HEADER}
    ]
    best, best_count = first, -1
    for column in candidates:
        count = sum(
            1
            for number in range(header + 1, len(grid.rows) + 1)
            if text_of(grid.value(number, column) or "").casefold() in out.staff
        )
        if count > best_count:
            best, best_count = column, count
    return best


def _day_cell(
    value: object, years: YearHint, out: _Collect, where: str, horizon: bool = True
) -> date | None:
    found = as_date(value)
    if isinstance(found, DayMonth):
        found = with_year(found, years, out.scenario)
        if found is None:
            out.fail(
                where,
                f"found {show(value)} without a year, and the rows above the header name "
                f"{'no year' if not years.years else 'no one year it falls in'}",
            )
            return None
    if found is None:
        out.fail(where, f"expected a date (YYYY-MM-DD, DD.MM.YYYY or D/M), found {show(value)}")
        return None
    return found if not horizon or out.day(found, where) else None


def _read_matrix(grid: Grid, out: _Collect, header: int, found: dict[int, date | DayMonth]) -> None:
    above = [v for row in grid.rows[: header - 1] for v in row]
    hint = years_in(above)
    header_years = {d.year for d in found.values() if isinstance(d, date)}
    years = YearHint((*hint.years, *sorted(header_years - set(hint.years))), hint.period)
    first = min(found)
    person_col = _person_column(grid, out, header, first)
    # A code merged across days (a week of leave) holds for each of them.
    fill: dict[tuple[int, int], Any] = {}
    for r1, c1, r2, c2 in grid.merged:
        if r1 > header and c1 in found:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    fill[(r, c)] = grid.value(r1, c1)
    staff_rows = [
        number
        for number in range(header + 1, len(grid.rows) + 1)
        if person_col is not None
        and text_of(grid.value(number, person_col) or "").casefold() in out.staff
    ]
    columns: dict[int, date] = {}
    seen: dict[date, int] = {}
    for index in found:
        where = place(grid.title, header, index)
        day = _day_cell(grid.value(header, index), years, out, where, horizon=False)
        if day is None:
            continue
        if not out.scenario.horizon_start <= day <= out.scenario.horizon_end:
            # A month sheet runs from the 1st: days outside the horizon matter only if coded.
            if any(
                not blank(v := fill.get((r, index), grid.value(r, index))) and not out.decorative(v)
                for r in staff_rows
            ):
                out.day(day, where)
            continue
        if day in seen:
            out.fail(where, f"the date {day} heads column {get_column_letter(seen[day])} already")
            continue
        seen[day] = index
        columns[index] = day
    _check_day_names(grid, out, columns)
    if person_col is None:
        out.fail(place(grid.title, header), "no column of staff codes left of the dates")
        return
    people: dict[str, int] = {}
    head = grid.value(header, person_col)
    person_head = "" if blank(head) else str(head).strip()
    for number in range(header + 1, len(grid.rows) + 1):
        label = grid.value(number, person_col)
        is_person = not blank(label) and text_of(label).casefold() in out.staff
        if not is_person and any(is_total(grid.value(number, c)) for c in range(1, first)):
            continue  # "Summa dag" in the name column, counts or formulas under the days
        cells = {c: fill.get((number, c), grid.value(number, c)) for c in found}
        codes = {c: v for c, v in cells.items() if not blank(v) and not out.decorative(v)}
        if blank(label):
            if codes:
                out.fail(
                    place(grid.title, number, person_col, person_head),
                    "empty, but the row holds shift codes; expected a staff code",
                )
            continue  # blank, day-name and week rows
        text = text_of(label)
        person = out.staff.get(text.casefold())
        if person is None and not codes:
            continue  # a group heading such as "Operatörer"
        if person is None:
            out.person(label, place(grid.title, number, person_col, person_head))
            continue
        if person in people:
            out.fail(
                place(grid.title, number, person_col, person_head),
                f"{person} has a row already (row {people[person]})",
            )
            continue
        people[person] = number
        for index, day in columns.items():
            value = cells[index]
            if out.decorative(value):
                value = None
            where = place(grid.title, number, index, day.isoformat())
            code = None if blank(value) else out.shift(value, where)
            if code is None and not blank(value):
                continue
            out.put(person, day, code, where)
        if not columns:
            out.people.setdefault(person)


def _check_day_names(grid: Grid, out: _Collect, columns: dict[int, date]) -> None:
    """Day-name rows must agree with the dates: a disagreement means a misread date."""
    for number in range(1, min(len(grid.rows), HEADER_SEARCH_ROWS) + 1):
        names = {
            c: text_of(v).casefold().rstrip(".")
            for c in columns
            if not blank(v := grid.value(number, c))
        }
        if len(names) < 2 or not all(n in WEEKDAY_OF for n in names.values()):
            continue
        if any(n in out.shifts for n in names.values()):
            continue  # a row of shift codes that happen to read as day names
        for column, name in names.items():
            day = columns[column]
            if WEEKDAY_OF[name] != day.weekday():
                out.fail(
                    place(grid.title, number, column, day.isoformat()),
                    f"expected the day name of {day} (a {day:%A}), found "
                    f"{show(grid.value(number, column))}; is the date read as it was meant?",
                )


def _person_column(grid: Grid, out: _Collect, header: int, first: int) -> int | None:
    """The column left of the dates naming most staff members (else a column headed so)."""
    best, best_count = None, 0
    for column in range(1, first):
        count = sum(
            1
            for number in range(header + 1, len(grid.rows) + 1)
            if text_of(grid.value(number, column) or "").casefold() in out.staff
        )
        if count > best_count:
            best, best_count = column, count
    if best is not None:
        return best
    for column in range(1, first):
        names = header_names(grid.value(header, column) or "")
        if set(names) & {*PERSON_HEADERS, EITHER_HEADER}:
            return column
    return first - 1 if first > 1 else None


def read_roster(path: str | Path, scenario: Scenario) -> RosterChange:
    """A roster workbook for this scenario; ScenarioFileError lists every problem at once."""
    file = str(path)
    return roster_from_grids(load_grids(path), scenario, file)


def roster_from_grids(grids: Sequence[Grid], scenario: Scenario, file: str) -> RosterChange:
    """The roster the sheets hold (legend sheets give the codes)."""
    problems: list[Problem] = []
    legends = [g for g in grids if is_legend(g)]
    new: list[ShiftCode] = []
    if legends:
        shifts: dict[str, ShiftCode] = {}
        for legend in legends:
            found, added = read_legend(
                legend, scenario, lambda w, m: problems.append(Problem(w, m))
            )
            shifts.update(found)
            new += added
        source = "from sheet " + ", ".join(f"'{g.title}'" for g in legends)
    else:
        shifts = {s.code.casefold(): s for s in scenario.shift_codes}
        source = f"of scenario {scenario.name!r}"
    out = _Collect(file, scenario, shifts, source, problems)
    layouts: list[str] = []
    sheets: list[str] = []
    for grid in grids:
        if grid in legends:
            continue
        columns = long_columns(grid)
        header = None if columns is not None else matrix_header(grid)
        if columns is None and header is None:
            continue
        if grid.hidden:
            out.fail(place(grid.title), "hidden; unhide the sheet to import it, or delete it")
            continue
        sheets.append(grid.title)
        if columns is not None:
            layouts.append("long")
            _read_long(grid, out, columns)
        elif header is not None:
            layouts.append("matrix")
            _read_matrix(grid, out, *header)
    if not sheets and not out.problems:
        looked = ", ".join(f"'{g.title}'" for g in grids if g not in legends)
        out.fail(
            "",
            f"no roster found in sheet {looked}: expected a sheet headed person, date and "
            "shift (one row per shift) or a row of dates (not only week numbers and day "
            "names) with staff codes down the left",
        )
    if out.problems:
        raise ScenarioFileError(file, out.problems)
    entries = tuple(
        RosterEntry(person, day, code) for (person, day), (code, _) in out.entries.items()
    )
    return RosterChange(
        layout="+".join(dict.fromkeys(layouts)),
        sheets=tuple(sheets),
        people=tuple(out.people),
        days=tuple(sorted(out.days)),
        covered=tuple(out.covered),
        entries=entries,
        new_shift_codes=tuple(new),
        times_read=tuple(out.times.values()),
    )
