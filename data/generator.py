"""Seeded synthetic centres for benchmarks: the same (size class, seed) gives the same scenario.

Resources, rosters and referrals are drawn from the demo centre's products (a cryopreserved
CAR-T, a fresh CAR-T on closed devices, a TIL) and its calendar. The `-over` classes keep
their base centre and draw referrals until the bottleneck resource reaches the target load
(`planner.load`).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from data.demo import CART, FRESH, TIL, demo_products, demo_shift_codes, demo_site, swedish_holidays
from data.scenario_json import write_scenario_json
from planner import (
    ApheresisCapacity,
    Cleanroom,
    Cohort,
    Device,
    Grade,
    Patient,
    Role,
    RosterEntry,
    Scenario,
    StaffMember,
    Trial,
    Ward,
    Window,
)
from planner.load import bottleneck

START = date(2027, 1, 4)  # a Monday
PHASE1 = "GEN-P1"
PHASE2 = "GEN-P2"


@dataclass(frozen=True)
class CentreClass:
    """The shape of a generated centre; patients is the count, or the start of a load search."""

    name: str
    weeks: int
    open_rooms: int
    device_rooms: int
    devices: int
    beds: int
    patients: int
    #: Shares of CART19, CARTF (fresh, device) and TIL referrals.
    mix: tuple[float, float, float]
    #: When set, referrals are added until the bottleneck's load reaches this.
    target_load: float | None = None
    #: Patients the staff, apheresis slots and trial cohorts are sized for.
    staffed_for: int = 0

    @property
    def rooms(self) -> int:
        """All cleanrooms, open-processing and device rooms."""
        return self.open_rooms + self.device_rooms


_M = CentreClass("M", 26, 4, 1, 5, 10, 120, (0.25, 0.67, 0.08), staffed_for=160)
_L = CentreClass("L", 52, 10, 2, 24, 30, 600, (0.25, 0.67, 0.08), staffed_for=800)
CLASSES: dict[str, CentreClass] = {
    c.name: c
    for c in (
        CentreClass("S", 8, 1, 1, 2, 3, 20, (0.40, 0.45, 0.15), staffed_for=20),
        _M,
        replace(_M, name="M-over", target_load=0.9),
        _L,
        replace(_L, name="L-over", target_load=0.9),
        CentreClass("XL", 52, 34, 6, 80, 100, 2000, (0.25, 0.67, 0.08), staffed_for=2600),
    )
}


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def _rooms(c: CentreClass, rng: random.Random) -> tuple[Cleanroom, ...]:
    """Open-processing suites (CAR-T and TIL) and device rooms; a requalification week each."""
    weeks = max(1, c.weeks - 1)
    rooms = []
    for i in range(c.rooms):
        device_room = i >= c.open_rooms
        monday = START + timedelta(weeks=rng.randrange(1, weeks))
        rooms.append(
            Cleanroom(
                f"CR{i + 1:02d}",
                f"{'Device room' if device_room else 'Suite'} {i + 1}",
                Grade.B,
                () if device_room else (CART, TIL),
                changeover_hours=8 if device_room else rng.choice((8, 8, 10, 12)),
                downtime=(
                    ()
                    if c.weeks < 26
                    else (Window(_at(monday), _at(monday + timedelta(days=5)), "Requalification"),)
                ),
            )
        )
    return tuple(rooms)


def _devices(c: CentreClass, rng: random.Random) -> tuple[Device, ...]:
    """Closed systems for the fresh CAR-T, spread over the device rooms; yearly maintenance."""
    devices = []
    for i in range(c.devices):
        room = f"CR{c.open_rooms + i % c.device_rooms + 1:02d}"
        downtime: tuple[Window, ...] = ()
        if c.weeks >= 26:
            day = START + timedelta(days=rng.randrange(7, 7 * c.weeks - 7))
            downtime = (Window(_at(day), _at(day + timedelta(days=4)), "Preventive maintenance"),)
        devices.append(
            Device(f"DEV{i + 1:02d}", f"Closed system {i + 1}", (room,), (FRESH,), 4, downtime)
        )
    return tuple(devices)


def _staff(c: CentreClass) -> tuple[StaffMember, ...]:
    """Operators sized so staff are not the only limit (about 22 operator-hours a week per
    patient-week of demand), with QC analysts, QPs and apheresis nurses in proportion."""
    operator_hours = 75 * c.staffed_for / c.weeks
    operators = max(6, math.ceil(operator_hours / 22))
    staff = [
        StaffMember(f"OP{i:03d}", (Role.OPERATOR,), (CART, FRESH, TIL)) for i in range(operators)
    ]
    staff += [StaffMember(f"QC{i:03d}", (Role.QC_ANALYST,)) for i in range(max(3, operators // 4))]
    staff += [StaffMember(f"QP{i:03d}", (Role.QP,)) for i in range(max(3, operators // 8))]
    staff += [
        StaffMember(f"AN{i:03d}", (Role.APHERESIS_NURSE,)) for i in range(max(2, operators // 6))
    ]
    return tuple(staff)


def _roster(
    c: CentreClass, staff: tuple[StaffMember, ...], holidays: frozenset[date], rng: random.Random
) -> tuple[RosterEntry, ...]:
    """Weekday days; a third of each group works weekends and holidays; a leave week per quarter."""
    days = [START + timedelta(days=i) for i in range(7 * c.weeks)]
    leave: dict[str, set[date]] = {s.code: set() for s in staff}
    for member in staff:
        for quarter in range(max(1, c.weeks // 13)):
            week = rng.randrange(13 * quarter, min(c.weeks, 13 * quarter + 13))
            monday = START + timedelta(weeks=week)
            leave[member.code].update(monday + timedelta(days=d) for d in range(5))
    entries = []
    for day in days:
        week = (day - START).days // 7
        off_day = day.weekday() >= 5 or day in holidays
        for i, member in enumerate(staff):
            if day in leave[member.code]:
                if not off_day:
                    entries.append(RosterEntry(member.code, day, "L"))
            elif not off_day:
                entries.append(RosterEntry(member.code, day, "D"))
            elif i % 3 == week % 3 and Role.APHERESIS_NURSE not in member.roles:
                entries.append(RosterEntry(member.code, day, "W"))
    return tuple(entries)


@dataclass(frozen=True)
class _Referral:
    product: str
    offset: int
    wait: int
    window: int
    need: int
    priority: int
    trial: str | None


def _referral(c: CentreClass, rng: random.Random) -> _Referral:
    """One referral: product by the mix, dates like the demo's, a trial for some."""
    product = rng.choices((CART, FRESH, TIL), weights=c.mix)[0]
    last = max(21, 7 * c.weeks - 56)
    trial = None
    if product == CART and rng.random() < 0.25:
        trial = PHASE1
    elif product == TIL and rng.random() < 0.5:
        trial = PHASE2
    urgent = trial is None and rng.random() < 0.1
    if urgent:
        priority, need = rng.choice((1, 2, 2)), rng.randint(21, 25)
    else:
        priority = {PHASE1: 4, PHASE2: 5}.get(trial or "", 3)
        need = rng.randint(45, 55) if product == TIL else rng.randint(30, 40)
    return _Referral(
        product,
        rng.randint(-14, last),
        rng.randint(7, 21),
        rng.randint(21, 35),
        need,
        priority,
        trial,
    )


def _patients(
    referrals: list[_Referral], cohorts: int
) -> tuple[tuple[Patient, ...], tuple[Trial, ...]]:
    patients = []
    per_cohort: dict[str, int] = {}
    phase1 = 0
    for i, r in enumerate(referrals):
        referral = START + timedelta(days=r.offset)
        earliest = max(referral + timedelta(days=r.wait), START)
        cohort = None
        if r.trial == PHASE1:
            cohort = f"DL{phase1 % cohorts + 1}"
            phase1 += 1
        elif r.trial == PHASE2:
            cohort = "ALL"
        if cohort is not None:
            per_cohort[cohort] = per_cohort.get(cohort, 0) + 1
        patients.append(
            Patient(
                f"G{i + 1:05d}",
                r.product,
                referral_date=referral,
                earliest_apheresis=earliest,
                latest_apheresis=earliest + timedelta(days=r.window),
                needed_infusion=earliest + timedelta(days=r.need),
                priority=r.priority,
                trial_code=r.trial,
                cohort_code=cohort,
            )
        )
    open_from, open_to = START - timedelta(days=60), START + timedelta(weeks=60)
    trials = (
        Trial(
            PHASE1,
            "Phase I CAR-T dose escalation (generated)",
            CART,
            tuple(
                Cohort(f"DL{k + 1}", max(1, per_cohort.get(f"DL{k + 1}", 0)), 14)
                for k in range(cohorts)
            ),
            open_from,
            open_to,
            priority=4,
            apheresis_within_days=28,
        ),
        Trial(
            PHASE2,
            "Phase II TIL (generated)",
            TIL,
            (Cohort("ALL", max(1, per_cohort.get("ALL", 0))),),
            open_from,
            open_to,
            priority=5,
        ),
    )
    return tuple(patients), trials


def generate(size_class: str, seed: int) -> Scenario:
    """The centre of a size class (S, M, M-over, L, L-over, XL) drawn from a seed."""
    c = CLASSES[size_class]
    base = c.name.removesuffix("-over")
    # Resources come from the base class's stream so a variant keeps its base centre.
    rng = random.Random(f"atmp-planner/{base}/{seed}/centre")
    end = START + timedelta(weeks=c.weeks, days=-1)
    holidays = swedish_holidays(START, end)
    staff = _staff(c)
    slots = max(1, math.ceil(1.5 * c.staffed_for / (5 * c.weeks)))
    centre = Scenario(
        name=f"Generated {c.name} seed {seed}",
        site=demo_site(),
        horizon_start=START,
        horizon_end=end,
        cleanrooms=_rooms(c, rng),
        devices=_devices(c, rng),
        staff=staff,
        shift_codes=demo_shift_codes(),
        roster=_roster(c, staff, frozenset(h.day for h in holidays), rng),
        ward=Ward("WARD", "Cell-therapy beds", c.beds),
        apheresis=ApheresisCapacity((slots, slots, slots, slots, slots, 0, 0)),
        products=demo_products(),
        holidays=holidays,
    )
    # Each class draws its referrals from its own stream, one at a time, so the first n are
    # the same whatever n the load search settles on.
    referral_rng = random.Random(f"atmp-planner/{base}/{seed}/referrals")
    cohorts = max(3, math.ceil(0.25 * c.mix[0] * c.staffed_for * 14 / (7 * c.weeks * 0.6)))

    def with_patients(n: int) -> Scenario:
        while len(referrals) < n:
            referrals.append(_referral(c, referral_rng))
        patients, trials = _patients(referrals[:n], cohorts)
        return replace(centre, patients=patients, trials=trials)

    referrals: list[_Referral] = []
    if c.target_load is None:
        return with_patients(c.patients)
    lo, hi = 1, c.patients
    while bottleneck(with_patients(hi)).load < c.target_load:
        lo, hi = hi, 2 * hi
    while lo < hi:  # the fewest patients reaching the target
        mid = (lo + hi) // 2
        if bottleneck(with_patients(mid)).load >= c.target_load:
            hi = mid
        else:
            lo = mid + 1
    return with_patients(hi)


def parameters(size_class: str, seed: int) -> dict[str, object]:
    """The generator's parameters of a class and seed, enough to rebuild the scenario."""
    return {"class": size_class, "seed": seed, **asdict(CLASSES[size_class])}


def write_instance(scenario: Scenario, path: Path, params: dict[str, object]) -> Path:
    """Write a generated instance as a JSON scenario (docs/scenario-format.md) to path, and
    the generator parameters that rebuild it beside it (`<name>.params.json`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_scenario_json(path, scenario)
    record = {**params, "scenario": scenario.name, "patients": len(scenario.patients)}
    side = path.with_name(path.stem + ".params.json")
    side.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return path
