"""Rosters the way Nordic staffing offices export them (Heroma, Time Care, GAT, Medvind,
Visma, Titania, a unit manager's own sheet), written with openpyxl and read for the demo
centre: the merged roster is exactly what the file says, or each problem is located.

docs/roster-layouts.md lists these layouts with how they fared before and after the fixes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from data.demo import build_demo_scenario
from data.roster_import import read_roster
from data.scenario_json import ScenarioFileError
from planner import Scenario
from planner.imports import merge_roster

Expect = dict[tuple[str, date], str | None]


@cache
def demo() -> Scenario:
    """The demo centre, staff known by codes (OP01, QC02, ...)."""
    return build_demo_scenario()


@cache
def staff() -> tuple[str, ...]:
    return tuple(s.code for s in demo().staff)


@cache
def emp() -> dict[str, str]:
    """Employee numbers (Anst.nr) for the demo's staff codes: a centre keyed by them."""
    return {code: str(104507 + 7 * i) for i, code in enumerate(staff())}


@cache
def nordic() -> Scenario:
    """The demo centre with staff codes that are the staffing office's employee numbers."""
    scenario = demo()
    number = emp()
    return replace(
        scenario,
        name="nordic",
        staff=tuple(replace(s, code=number[s.code]) for s in scenario.staff),
        roster=tuple(replace(e, staff_code=number[e.staff_code]) for e in scenario.roster),
    )


NAMES = (
    "Andersson, Anna", "Berg, Karin", "Carlsson, Erik", "Dahl, Maria", "Eriksson, Lars",
    "Forsberg, Sara", "Gustafsson, Johan", "Holm, Elin", "Isaksson, Per", "Johansson, Eva",
    "Karlsson, Nils", "Lindqvist, Emma", "Magnusson, Ola", "Nilsson, Ida", "Olsson, Karl",
    "Persson, Lena", "Qvist, Jonas", "Rask, Hanna", "Svensson, Björn", "Torstensson, Linnea",
    "Ulfsson, Mats", "Vik, Sofia", "Wallin, Anders", "Åberg, Frida",
)  # fmt: skip
SV_DAYS = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"]
NO_DAYS = ["man", "tir", "ons", "tor", "fre", "lør", "søn"]
FI_DAYS = ["ma", "ti", "ke", "to", "pe", "la", "su"]
GROUPS = {"OP": "Tillverkning", "QC": "Kvalitetskontroll", "QP": "QP", "AN": "Aferes"}


def name(code: str) -> str:
    """A person's name as the office writes it: "Efternamn, Förnamn"."""
    return NAMES[staff().index(code)]


@cache
def roster() -> dict[tuple[str, date], str]:
    return {(e.staff_code, e.day): e.shift_code for e in demo().roster}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(d) for d in range((last - first).days + 1)]


def planned(first: date, last: date) -> dict[tuple[str, date], str | None]:
    """The demo roster over the days, with a few changes an office would make."""
    out: dict[tuple[str, date], str | None] = {}
    for s in staff():
        for d in days(first, last):
            out[(s, d)] = roster().get((s, d))
    # OP03 takes a week off, QC02 is sick two days, OP07 swaps a night with OP08.
    for d in days(date(2027, 1, 11), date(2027, 1, 15)):
        if (("OP03", d)) in out:
            out[("OP03", d)] = "L"
    for d in (date(2027, 1, 5), date(2027, 1, 6)):
        if ("QC02", d) in out:
            out[("QC02", d)] = "S"
    if ("OP07", date(2027, 1, 7)) in out:
        out[("OP07", date(2027, 1, 7))] = "N"
        out[("OP08", date(2027, 1, 7))] = "D"
    return out


def col(n: int) -> str:
    return get_column_letter(n)


def hours(code: str | None) -> int:
    return {"D": 8, "W": 8, "N": 16, "K": 8}.get(code or "", 0)


def heroma_matrix(path: Path) -> tuple[str, Expect]:
    """Heroma 'Schemarapport': Anst.nr + name, hidden title column, weeks merged, totals."""
    first, last = date(2027, 1, 4), date(2027, 1, 17)
    plan = planned(first, last)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schemarapport"
    dl = days(first, last)
    c0 = 4
    ws["A1"] = "Schemarapport"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=c0 + len(dl) + 1)
    ws["A2"] = "Kostnadsställe: 4711 ATMP-enheten, Cellterapi"
    ws["A3"] = "Period: 2027-01-04 - 2027-01-17"
    for w in range(2):
        c = c0 + 7 * w
        ws.cell(5, c, f"v. {w + 1}")
        ws.merge_cells(start_row=5, start_column=c, end_row=5, end_column=c + 6)
    ws.cell(6, 1, "Anst.nr")
    ws.cell(6, 2, "Namn")
    ws.cell(6, 3, "Befattning")
    for i, d in enumerate(dl):
        ws.cell(6, c0 + i, f"{d.day}/{d.month}")
        ws.cell(7, c0 + i, SV_DAYS[d.weekday()])
    tc = c0 + len(dl)
    ws.cell(6, tc, "Tim v.1")
    ws.cell(6, tc + 1, "Tim v.2")
    ws.column_dimensions["C"].hidden = True
    r = 8
    group = None
    for s in staff():
        if s[:2] != group:
            group = s[:2]
            ws.cell(r, 1, GROUPS[group])
            r += 1
        ws.cell(r, 1, int(emp()[s]))
        ws.cell(r, 2, name(s))
        ws.cell(r, 3, "Biomedicinsk analytiker" if s[:2] == "QC" else "Sjuksköterska")
        for i, d in enumerate(dl):
            ws.cell(r, c0 + i, plan[(s, d)])
        ws.cell(r, tc, sum(hours(plan[(s, d)]) for d in dl[:7]))
        ws.cell(r, tc + 1, sum(hours(plan[(s, d)]) for d in dl[7:]))
        r += 1
    ws.cell(r, 2, "Summa dag")
    for i, d in enumerate(dl):
        ws.cell(r, c0 + i, sum(1 for s in staff() if plan[(s, d)] in ("D", "W")))
    ws.cell(r + 2, 1, "Utskrivet 2026-12-20 14:32 av Berg, Karin")
    ws.cell(r + 3, 1, "Schemat är preliminärt. Ändringar meddelas enhetschef.")
    ws.freeze_panes = "D8"
    wb.save(path)
    return "nordic", {(emp()[s], d): c for (s, d), c in plan.items()}


def timecare_times(path: Path) -> tuple[str, Expect]:
    """Time Care 'Schemaöversikt': date cells, 'Mån' names, times in cells instead of codes."""
    first, last = date(2027, 1, 4), date(2027, 1, 10)
    plan = planned(first, last)
    text = {"D": "08:00-16:00", "W": "08:00-16:00", "N": "16:00-08:00", "K": "08:00-16:00"}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schemaöversikt"
    ws["A1"] = "ATMP Cellterapi – Schemaöversikt vecka 1 2027"
    ws["C2"] = "Vecka 1"
    dl = days(first, last)
    for i, d in enumerate(dl):
        ws.cell(3, 3 + i, SV_DAYS[d.weekday()].capitalize())
        ws.cell(4, 3 + i, datetime(d.year, d.month, d.day)).number_format = "yyyy-mm-dd"
    ws["A4"] = "Namn"
    ws["B4"] = "Anst.nr"
    ws.cell(4, 3 + len(dl), "Schemalagd tid")
    expect: Expect = {}
    for r, s in enumerate([s for s in staff() if s[:2] in ("OP", "QC")], start=5):
        ws.cell(r, 1, name(s))
        ws.cell(r, 2, emp()[s])
        for i, d in enumerate(dl):
            code = plan[(s, d)]
            if code in ("L", "S"):
                code = None  # Time Care leaves absence to another report
            ws.cell(r, 3 + i, text.get(code or ""))
            expect[(emp()[s], d)] = {"K": "D", "W": "D"}.get(code or "", code)
        ws.cell(r, 3 + len(dl), f"{sum(hours(plan[(s, d)]) for d in dl)}:00")
    wb.save(path)
    return "nordic", expect


def gat_norway(path: Path) -> tuple[str, Expect]:
    """GAT 'Arbeidsplan': one sheet a month, Uke rows, dd.mm.yyyy text, Norwegian legend."""
    plan = planned(date(2027, 1, 4), date(2027, 2, 28))
    nor = {"L": "FE", "S": "SYK", None: "F1"}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    expect: Expect = {}
    for title, first, last in (
        ("Januar 2027", date(2027, 1, 4), date(2027, 1, 31)),
        ("Februar 2027", date(2027, 2, 1), date(2027, 2, 28)),
    ):
        ws = wb.create_sheet(title)
        ws["A1"] = f"Arbeidsplan Celleterapi {title}"
        dl = days(first, last)
        for i, d in enumerate(dl):
            if d.weekday() == 0:
                ws.cell(2, 4 + i, f"Uke {d.isocalendar()[1]}")
                ws.merge_cells(start_row=2, start_column=4 + i, end_row=2, end_column=4 + i + 6)
            ws.cell(3, 4 + i, d.strftime("%d.%m.%Y"))
            ws.cell(4, 4 + i, NO_DAYS[d.weekday()])
        ws["A3"] = "Ansattnr"
        ws["B3"] = "Navn"
        ws["C3"] = "Stilling %"
        ws.cell(3, 4 + len(dl), "Timer")
        for r, s in enumerate(staff(), start=5):
            ws.cell(r, 1, emp()[s])
            ws.cell(r, 2, name(s))
            ws.cell(r, 3, 100)
            for i, d in enumerate(dl):
                code = plan[(s, d)]
                ws.cell(r, 4 + i, nor.get(code, code))
                expect[(emp()[s], d)] = nor.get(code, code)
            ws.cell(r, 4 + len(dl), sum(hours(plan[(s, d)]) for d in dl))
    lg = wb.create_sheet("Koder")
    for row in (
        ["Kode", "Beskrivelse", "Fra", "Til"],
        ["D", "Dagvakt", "08:00", "16:00"],
        ["N", "Nattevakt", "16:00", "08:00"],
        ["W", "Helgevakt", "08:00", "16:00"],
        ["K", "Kurs", "08:00", "16:00"],
        ["FE", "Ferie", None, None],
        ["F1", "Fridag", None, None],
        ["SYK", "Sykefravær", None, None],
    ):
        lg.append(row)
    wb.save(path)
    return "nordic", expect


def medvind_long(path: Path) -> tuple[str, Expect]:
    """Medvind 'Schemarader': one row per person and day, Anst.nr as numbers, times."""
    first, last = date(2027, 1, 4), date(2027, 1, 17)
    plan = planned(first, last)
    times = {
        "D": ("08:00", "16:00"),
        "W": ("08:00", "16:00"),
        "N": ("16:00", "08:00"),
        "K": ("08:00", "16:00"),
    }
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schemarader"
    ws.append(["Schemarader 2027-01-04 -- 2027-01-17, Enhet: ATMP Cellterapi (Kst 4711)"])
    ws.append([])
    ws.append(["Anst.nr", "Namn", "Datum", "Veckodag", "Pass", "Från", "Till", "Tim", "Kst"])
    expect: Expect = {}
    for s in staff():
        for d in days(first, last):
            code = plan[(s, d)]
            expect[(emp()[s], d)] = code
            if code is None:
                continue  # free days are not exported as rows
            f, t = times.get(code, (None, None))
            ws.append(
                [
                    int(emp()[s]),
                    name(s),
                    datetime(d.year, d.month, d.day),
                    SV_DAYS[d.weekday()],
                    code,
                    f,
                    t,
                    hours(code),
                    4711,
                ]
            )
    for c in range(3, ws.max_row + 1):
        ws.cell(c, 3).number_format = "yyyy-mm-dd"
    ws.append([])
    ws.append(["Antal rader:", ws.max_row - 4])
    wb.save(path)
    # free days are simply absent: the file speaks only for the rows given
    return "nordic", {k: v for k, v in expect.items() if v is not None}


def medvind_worked_times(path: Path) -> tuple[str, Expect]:
    """Medvind 'Arbetstid': worked rows carry only Från and Till; leave rows carry the code."""
    first, last = date(2027, 1, 4), date(2027, 1, 10)
    plan = planned(first, last)
    times = {"D": ("08:00", "16:00"), "W": ("08:00", "16:00"), "N": ("16:00", "08:00")}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Arbetstid"
    ws.append(["Anst.nr", "Namn", "Datum", "Pass", "Från", "Till", "Arbetad tid"])
    expect: Expect = {}
    for s in staff()[:12]:
        for d in days(first, last):
            code = plan[(s, d)]
            if code is None or code == "K":
                continue
            f, t = times.get(code, (None, None))
            worked = code in times
            when = datetime(d.year, d.month, d.day)
            ws.append([emp()[s], name(s), when, None if worked else code, f, t, hours(code)])
            expect[(emp()[s], d)] = "D" if code == "W" else code
    wb.save(path)
    return "nordic", expect


def visma_danish(path: Path) -> tuple[str, Expect]:
    """Visma (Danish) vagtplan export: dd-mm-yyyy text, Vagt column, legend 'Forklaring'."""
    first, last = date(2027, 1, 4), date(2027, 1, 10)
    plan = planned(first, last)
    dk = {"L": "Ferie", None: "Fri"}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Vagtplan"
    ws.append(["Vagtplan uge 1 2027", None, None, "Afdeling: Celleterapi"])
    ws.append(["Medarbejdernr.", "Navn", "Dato", "Ugedag", "Vagt", "Start", "Slut"])
    expect: Expect = {}
    for s in staff()[:12]:
        for d in days(first, last):
            code = plan[(s, d)]
            v = dk.get(code, code)
            ws.append([s, name(s), d.strftime("%d-%m-%Y"), NO_DAYS[d.weekday()], v, None, None])
            expect[(s, d)] = v
    ws.append(["I alt", None, None, None, ws.max_row - 2])
    lg = wb.create_sheet("Forklaring")
    for row in (
        ["Kode", "Betydning", "Start", "Slut"],
        ["D", "Dagvagt", "08:00", "16:00"],
        ["N", "Nattevagt", "16:00", "08:00"],
        ["W", "Weekendvagt", "08:00", "16:00"],
        ["S", "Syg", None, None],
        ["Ferie", "Ferie", None, None],
        ["Fri", "Fridag", None, None],
    ):
        lg.append(row)
    wb.save(path)
    return "demo", expect


def titania_finnish(path: Path) -> tuple[str, Expect]:
    """Titania (Finnish) työvuorolista: '4.1.' dates, ma ti ke, vk rows, 'Selitteet' legend."""
    first, last = date(2027, 1, 4), date(2027, 1, 17)
    plan = planned(first, last)
    fi = {"D": "A", "W": "A", "K": "KO", "N": "Y", "L": "LO", "S": "SA", None: "V"}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Työvuorolista"
    ws["A1"] = "Työvuorolista 4.1.2027 - 17.1.2027, Soluterapiayksikkö"
    dl = days(first, last)
    for i, d in enumerate(dl):
        if d.weekday() == 0:
            ws.cell(2, 3 + i, f"vk {d.isocalendar()[1]}")
        ws.cell(3, 3 + i, f"{d.day}.{d.month}.")
        ws.cell(4, 3 + i, FI_DAYS[d.weekday()])
    ws["A3"] = "Nimi"
    ws["B3"] = "Tunnus"
    ws.cell(3, 3 + len(dl), "Tunnit")
    expect: Expect = {}
    for r, s in enumerate(staff(), start=5):
        last_first = name(s).replace(",", "")
        ws.cell(r, 1, last_first)
        ws.cell(r, 2, s)
        for i, d in enumerate(dl):
            ws.cell(r, 3 + i, fi[plan[(s, d)]])
            expect[(s, d)] = fi[plan[(s, d)]]
        ws.cell(r, 3 + len(dl), sum(hours(plan[(s, d)]) for d in dl))
    lg = wb.create_sheet("Selitteet")
    for row in (
        ["Lyhenne", "Selite", "Alkaa", "Päättyy"],
        ["A", "Aamuvuoro", "8.00", "16.00"],
        ["KO", "Koulutus", "8.00", "16.00"],
        ["Y", "Yövuoro", "16.00", "8.00"],
        ["LO", "Vuosiloma", None, None],
        ["SA", "Sairausloma", None, None],
        ["V", "Vapaa", None, None],
    ):
        lg.append(row)
    wb.save(path)
    return "demo", expect


def manager_handmade(path: Path) -> tuple[str, Expect]:
    """A unit manager's own sheet: serial dates, groups, merged leave, comments, COUNTIF row."""
    first, last = date(2027, 1, 4), date(2027, 1, 31)
    plan = planned(first, last)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Jan 2027"
    dl = days(first, last)
    ws["A1"] = "Schema ATMP-enheten januari 2027"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2 + len(dl))
    ws["A3"] = "Sign"
    ws["B3"] = "Namn"
    for i, d in enumerate(dl):
        ws.cell(2, 3 + i, SV_DAYS[d.weekday()].capitalize())
        c = ws.cell(3, 3 + i, (d - date(1899, 12, 30)).days)
        c.number_format = "d/m"
    ws.cell(3, 3 + len(dl), "Tim")
    expect: Expect = {}
    r = 4
    group = None
    for s in staff():
        if s[:2] != group:
            group = s[:2]
            r += 1  # blank separator
            ws.cell(
                r,
                1,
                {
                    "OP": "Operatörer",
                    "QC": "QC-analytiker",
                    "QP": "QP",
                    "AN": "Aferessjuksköterskor",
                }[group],
            )
            r += 1
        ws.cell(r, 1, s)
        ws.cell(r, 2, name(s))
        for i, d in enumerate(dl):
            code = plan[(s, d)]
            v: Any = code
            if code == "D" and d.day % 3 == 0:
                v = " d"
            elif code == "N" and d.day % 2 == 0:
                v = "N "
            ws.cell(r, 3 + i, v)
            expect[(s, d)] = code
        if s == "OP03":
            ws.cell(r, 3 + 7, "L")
            for i in range(8, 12):
                ws.cell(r, 3 + i, None)
            ws.merge_cells(start_row=r, start_column=3 + 7, end_row=r, end_column=3 + 11)
        if s == "QC02":
            ws.cell(r, 4).comment = Comment("Sjuk, ringde 07:10", "Karin")
        ws.cell(r, 3 + len(dl), f'=COUNTIF(C{r}:{col(2 + len(dl))}{r},"D")*8')
        r += 1
    r += 1
    ws.cell(r, 1, "Summa D")
    for i in range(len(dl)):
        L = col(3 + i)
        ws.cell(r, 3 + i, f'=COUNTIF({L}5:{L}{r - 2},"D")')
    ws.cell(r + 2, 1, "OBS! Byten ska godkännas av enhetschef.")
    ws.freeze_panes = "C4"
    wb.save(path)
    return "demo", expect


def multi_month_legend(path: Path) -> tuple[str, Expect]:
    """Heroma, one sheet a month from the 1st, 'Teckenförklaring' with SEM/FL/Sjuk, hidden lists."""
    plan = planned(date(2027, 1, 4), date(2027, 2, 28))
    sv = {"L": "SEM", "S": "Sjuk"}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    expect: Expect = {}
    for title, first, last in (
        ("Januari", date(2027, 1, 1), date(2027, 1, 31)),
        ("Februari", date(2027, 2, 1), date(2027, 2, 28)),
    ):
        ws = wb.create_sheet(title)
        ws["A1"] = f"Schema {title} 2027"
        ws["A2"] = f"Period: {first:%Y-%m-%d} - {last:%Y-%m-%d}"
        dl = days(first, last)
        for i, d in enumerate(dl):
            ws.cell(4, 3 + i, f"{SV_DAYS[d.weekday()]} {d.day}/{d.month}")
        ws["A4"] = "Anst.nr"
        ws["B4"] = "Namn"
        ws.cell(4, 3 + len(dl), "Summa")
        for r, s in enumerate(staff(), start=5):
            ws.cell(r, 1, emp()[s])
            ws.cell(r, 2, name(s))
            for i, d in enumerate(dl):
                if d < date(2027, 1, 4):
                    continue  # before the horizon: blank
                code = plan[(s, d)]
                v = sv.get(code, code)
                if s == "OP11" and d.month == 2 and d.day < 8:
                    v = "FL"  # parental leave
                if code is None and s == "QP01":
                    v = "Ledig"
                ws.cell(r, 3 + i, v)
                expect[(emp()[s], d)] = v
    lg = wb.create_sheet("Teckenförklaring")
    for row in (
        ["Kod", "Beskrivning", "Start", "Slut"],
        ["D", "Dag", "08:00", "16:00"],
        ["W", "Helg", "08:00", "16:00"],
        ["N", "Natt/beredskap", "16:00", "08:00"],
        ["K", "Kurs", "08:00", "16:00"],
        ["SEM", "Semester", None, None],
        ["FL", "Föräldraledig", None, None],
        ["Sjuk", "Sjukfrånvaro", None, None],
        ["Ledig", "Ledig", None, None],
    ):
        lg.append(row)
    hid = wb.create_sheet("Listor")
    for v in ("D", "W", "N", "K", "SEM", "FL", "Sjuk", "Ledig"):
        hid.append([v])
    hid.sheet_state = "hidden"
    wb.save(path)
    return "nordic", expect


def times_unmatched(path: Path) -> tuple[str, Expect]:
    """Times in cells in several spellings; some match a code's hours, some match none."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Vecka 2"
    dl = days(date(2027, 1, 11), date(2027, 1, 15))
    ws["A1"] = "Schema vecka 2 2027"
    ws["A2"] = "Personal"
    for i, d in enumerate(dl):
        ws.cell(2, 2 + i, f"{SV_DAYS[d.weekday()]} {d:%Y-%m-%d}")
    rows = {
        "OP01": ["08:00-16:00", "8-16", "0800-1600", "08.00-16.00", "16:00-08:00"],
        "OP02": ["07:00-15:30", "7-15:30", "0700-1530", "07.00-15.30", None],
        "OP04": ["8:00 - 16:00", "08:00–16:00", "16-08", None, "D"],
    }
    for r, (s, vals) in enumerate(rows.items(), start=3):
        ws.cell(r, 1, s)
        for i, v in enumerate(vals):
            ws.cell(r, 2 + i, v)
    wb.save(path)
    return "demo", {}


def problems_mixed(path: Path) -> tuple[str, Expect]:
    """An office export with what a coordinator must fix: new hire, unknown codes, Jan 1-3."""
    first, last = date(2027, 1, 1), date(2027, 1, 10)
    plan = planned(date(2027, 1, 4), last)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schema"
    ws["A1"] = "Schema ATMP 2027-01-01 - 2027-01-10"
    dl = days(first, last)
    ws["A3"] = "Anst.nr"
    ws["B3"] = "Namn"
    for i, d in enumerate(dl):
        ws.cell(2, 3 + i, SV_DAYS[d.weekday()])
        ws.cell(3, 3 + i, f"{d.day}/{d.month}")
    people = [(emp()[s], name(s), s) for s in staff()[:8]] + [("104999", "Nyström, Nils", None)]
    for r, (number, full_name, s) in enumerate(people, start=4):
        ws.cell(r, 1, number)
        ws.cell(r, 2, full_name)
        for i, d in enumerate(dl):
            if d < date(2027, 1, 4):
                ws.cell(r, 3 + i, "W" if r % 3 == 0 else None)
            elif s is None:
                ws.cell(r, 3 + i, "D" if d.weekday() < 5 else None)
            else:
                code = plan[(s, d)]
                ws.cell(r, 3 + i, {"L": "SEM", None: "Ledig"}.get(code, code))
    wb.save(path)
    return "nordic", {}


def long_times(path: Path) -> tuple[str, Expect]:
    """Time Care 'Passlista' long export: the pass is a time range, leave as words."""
    first, last = date(2027, 1, 4), date(2027, 1, 10)
    plan = planned(first, last)
    t = {
        "D": "08:00-16:00",
        "W": "08:00-16:00",
        "N": "16:00-08:00",
        "K": "08:00-16:00",
        "L": "L",
        "S": "S",
    }
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Passlista"
    ws.append(["Personnr/Anst.nr", "Efternamn, Förnamn", "Datum", "Pass", "Kommentar"])
    expect: Expect = {}
    for s in staff()[:12]:
        for d in days(first, last):
            code = plan[(s, d)]
            if code is None:
                continue
            ws.append([emp()[s], name(s), (d - date(1899, 12, 30)).days, t[code], None])
            expect[(emp()[s], d)] = {"K": "D", "W": "D"}.get(code, code)
    wb.save(path)
    return "nordic", expect


def gat_turnus_weeks(path: Path) -> tuple[str, Expect]:
    """GAT turnus: 'Uke 1' over day names, no dates; the year only in the title."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Turnus"
    ws["A1"] = "Turnus Celleterapi 2027"
    dl = days(date(2027, 1, 4), date(2027, 1, 17))
    for i, d in enumerate(dl):
        if d.weekday() == 0:
            ws.cell(2, 2 + i, f"Uke {d.isocalendar()[1]}")
            ws.merge_cells(start_row=2, start_column=2 + i, end_row=2, end_column=8 + i)
        ws.cell(3, 2 + i, NO_DAYS[d.weekday()])
    ws["A3"] = "Ansattnr"
    plan = planned(dl[0], dl[-1])
    expect: Expect = {}
    for r, s in enumerate(staff()[:6], start=4):
        ws.cell(r, 1, emp()[s])
        for i, d in enumerate(dl):
            ws.cell(r, 2 + i, plan[(s, d)])
            expect[(emp()[s], d)] = plan[(s, d)]
    wb.save(path)
    return "nordic", expect


CLEAN: list[Callable[[Path], tuple[str, Expect]]] = [
    heroma_matrix, timecare_times, gat_norway, medvind_long, medvind_worked_times,
    visma_danish, titania_finnish,
    manager_handmade, multi_month_legend, long_times,
]  # fmt: skip


def scenario_named(name: str) -> Scenario:
    return nordic() if name == "nordic" else demo()


@pytest.mark.parametrize("layout", CLEAN, ids=lambda f: f.__name__)
def test_nordic_layout_merges_exactly_what_it_says(
    tmp_path: Path, layout: Callable[[Path], tuple[str, Expect]]
) -> None:
    """Each (person, day) the file gives has its code after the merge; all else is kept."""
    path = tmp_path / f"{layout.__name__}.xlsx"
    which, expect = layout(path)
    scenario = scenario_named(which)
    change = read_roster(path, scenario)
    merged, _ = merge_roster(scenario, change)
    wanted = {(e.staff_code, e.day): e.shift_code for e in scenario.roster}
    for key, code in expect.items():
        if code is None:
            wanted.pop(key, None)
        else:
            wanted[key] = code
    assert {(e.staff_code, e.day): e.shift_code for e in merged.roster} == wanted
    assert len(merged.roster) == len(wanted)  # one entry per person and day


def test_legend_codes_of_each_language_are_added(tmp_path: Path) -> None:
    """Norwegian, Danish, Finnish and Swedish legends: codes without times are leave."""
    added = {}
    for layout in (gat_norway, visma_danish, titania_finnish, multi_month_legend):
        path = tmp_path / f"{layout.__name__}.xlsx"
        which, _ = layout(path)
        change = read_roster(path, scenario_named(which))
        added[layout.__name__] = {
            s.code: (s.start_hour, s.hours, s.is_leave) for s in change.new_shift_codes
        }
    assert added == {
        "gat_norway": {"FE": (0, 0, True), "F1": (0, 0, True), "SYK": (0, 0, True)},
        "visma_danish": {"Ferie": (0, 0, True), "Fri": (0, 0, True)},
        "titania_finnish": {
            "A": (8, 8, False),
            "KO": (8, 8, False),
            "Y": (16, 16, False),
            "LO": (0, 0, True),
            "SA": (0, 0, True),
            "V": (0, 0, True),
        },
        "multi_month_legend": {
            "SEM": (0, 0, True),
            "FL": (0, 0, True),
            "Sjuk": (0, 0, True),
            "Ledig": (0, 0, True),
        },
    }


def test_time_ranges_are_read_as_the_code_with_those_hours(tmp_path: Path) -> None:
    """08:00-16:00 is D (the first of D and W, which share the hours), and the report says so."""
    path = tmp_path / "times.xlsx"
    timecare_times(path)
    change = read_roster(path, nordic())
    assert change.times_read == ("16:00-08:00 as N", "08:00-16:00 as D (W has the same hours)")
    assert change.new_shift_codes == ()


def test_times_matching_no_code_are_reported_with_the_codes_known(tmp_path: Path) -> None:
    """07:00-15:30 in any spelling matches no code: each cell says so; others are read."""
    path = tmp_path / "times.xlsx"
    times_unmatched(path)
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, demo())
    known = (
        f"which match no shift code of scenario {demo().name!r} "
        "(D 08-16, W 08-16, N 16-08, K 08-16); type a code, or add one with these times to a "
        "legend sheet"
    )
    assert error.value.lines() == [
        f"{path}: sheet 'Vecka 2', row 4, column {c} ({d}): found the times \"{t}\" "
        f"(whole hours 07-16), {known}"
        for c, d, t in (
            ("B", "2027-01-11", "07:00-15:30"),
            ("C", "2027-01-12", "7-15:30"),
            ("D", "2027-01-13", "0700-1530"),
            ("E", "2027-01-14", "07.00-15.30"),
        )
    ]


def test_what_a_coordinator_must_fix_is_located(tmp_path: Path) -> None:
    """Coded days before the horizon, unknown leave words, a new hire: each located."""
    path = tmp_path / "problems.xlsx"
    problems_mixed(path)
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, nordic())
    lines = error.value.lines()
    horizon = "expected a date in the scenario's horizon 2027-01-04 to 2027-07-04, found"
    assert lines[:3] == [
        f"{path}: sheet 'Schema', row 3, column C: {horizon} 2027-01-01",
        f"{path}: sheet 'Schema', row 3, column D: {horizon} 2027-01-02",
        f"{path}: sheet 'Schema', row 3, column E: {horizon} 2027-01-03",
    ]
    assert lines[3] == (
        f"{path}: sheet 'Schema', row 5, column H (2027-01-06): expected a shift code of "
        "scenario 'nordic' (D, K, L, N, S, W), found \"Ledig\""
    )
    assert all('found "Ledig"' in line for line in lines[3:-1])
    assert lines[-1] == (
        f"{path}: sheet 'Schema', row 12, column A (Anst.nr): expected a staff code of "
        "scenario 'nordic' (104507, 104514, 104521, 104528, 104535, 104542, 104549, 104556, "
        '104563, 104570, 104577, 104584, … (24 in all)), found "104999"'
    )


def test_blank_month_days_outside_the_horizon_are_skipped(tmp_path: Path) -> None:
    """A January sheet from the 1st, blank before the horizon, reads from the 4th."""
    path = tmp_path / "months.xlsx"
    multi_month_legend(path)
    change = read_roster(path, nordic())
    assert change.days[0] == date(2027, 1, 4)
    assert change.sheets == ("Januari", "Februari")


def test_week_numbers_without_dates_are_refused_plainly(tmp_path: Path) -> None:
    """A GAT turnus of week numbers and day names: no dates, nothing guessed."""
    path = tmp_path / "turnus.xlsx"
    gat_turnus_weeks(path)
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, nordic())
    assert error.value.lines() == [
        f"{path}: no roster found in sheet 'Turnus': expected a sheet headed person, date and "
        "shift (one row per shift) or a row of dates (not only week numbers and day names) "
        "with staff codes down the left"
    ]


def test_a_row_with_start_and_end_but_no_code_is_a_shift(tmp_path: Path) -> None:
    """Från and Till without a Pass code: read as the code with those hours, never a blank."""
    path = workbook_rows(
        tmp_path / "arbetstid.xlsx",
        [
            ["Anst.nr", "Datum", "Pass", "Från", "Till"],
            ["OP01", "2027-01-11", None, "16:00", "08:00"],
            ["OP01", "2027-01-12", None, "07:00", "15:30"],
            ["OP01", "2027-01-13", None, "8:00", None],
        ],
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, demo())
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Arbetstid', row 3, column D (Från): found the times \"07:00-15:30\" (whole "
        f"hours 07-16), which match no shift code of scenario {demo().name!r} (D 08-16, "
        "W 08-16, N 16-08, K 08-16); type a code, or add one with these times to a legend sheet",
        "sheet 'Arbetstid', row 4, column E (Till): empty; expected a time (HH:MM), or a code "
        "in the shift column",
    ]


def workbook_rows(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Arbetstid"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path
