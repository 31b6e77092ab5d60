"""Hold-out ATMP centres: six scenario files to test the planner on centres it was not tuned on.

Written from ../shared/domain.md and docs/scenario-format.md only, never reading
data/generator.py, so the centres share none of the project generator's habits: a small
Norwegian centre, two loads of a mid-size Bavarian one, a bed-limited Danish one, a
trial-heavy Dutch one and a large Finnish hub. Seeded: every run writes the same files.
The number of patients of each centre is scaled until the bottleneck load, as the
planner's own estimate (planner.load) reports it, hits the centre's target. Usage:

    .venv/bin/python benchmarks/holdout_centres.py [--out DIR] [NAME ...]
    atmp-planner bench --scenarios DIR/*.json --methods fcfs edd planner-default cp-sat-alone
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import holidays as holidays_lib

from data.scenario_files import read_scenario
from planner.load import ResourceLoad, format_loads, resource_loads

StaffNeed = list[tuple[str, int, int]]
Bursts = list[tuple[date, date, float]]


def step(
    code: str,
    name: str,
    hours: int,
    room: bool = True,
    device: bool = False,
    staff: StaffNeed | None = None,
    min_lag: int = 0,
    max_lag: int | None = None,
) -> dict[str, Any]:
    """A process step; `staff` lists (role, count, hours)."""
    s: dict[str, Any] = {
        "code": code,
        "name": name,
        "duration_hours": hours,
        "needs_cleanroom": room,
        "needs_device": device,
        "working_hours_only": bool(staff),
        "min_lag_hours": min_lag,
        "max_lag_hours": max_lag,
        "staff": [],
    }
    for role, count, h in staff or []:
        s["staff"].append(
            {"role": role, "count": count, "hours": h, "product_trained": role == "operator"}
        )
    return s


def car19(code: str = "CAR19", qc_heavy: bool = False) -> dict[str, Any]:
    """Academic open-process anti-CD19 CAR-T in a grade B room, ~8-9 days, cryopreserved."""
    steps = [
        step(
            "seed",
            "Seeding / T-cell selection",
            7,
            staff=[("operator", 2, 6)],
            min_lag=3,
            max_lag=30,
        ),
        step("activ", "Activation (incubation)", 14),
        step("transd", "Lentiviral transduction", 4, staff=[("operator", 2, 4)], max_lag=20),
        step("exp1", "Expansion I", 70),
        step("feed", "Media exchange", 2, staff=[("operator", 1, 2)], max_lag=24),
        step("exp2", "Expansion II", 72),
        step("harv", "Harvest, formulation and freezing", 8, staff=[("operator", 2, 8)]),
        step(
            "qc", "Release testing set-up", 4, room=False, staff=[("qc_analyst", 1, 4)], max_lag=30
        ),
    ]
    if qc_heavy:
        steps.append(
            step("qc2", "VCN / potency assay", 6, room=False, staff=[("qc_analyst", 1, 6)])
        )
    return {
        "code": code,
        "name": "Academic CD19 CAR-T (open process)",
        "steps": steps,
        "storage": "cryo",
        "qc_release_days": 14 if qc_heavy else 7,
        "fresh_shelf_days": 3,
        "ld_days_before_infusion": 5,
        "inpatient_days": 9,
        "failure_probability": 0.08,
        "apheresis_hours": 5,
        "shelf_life_from_step": None,
        "ld_before_release": False,
        "infusion_any_day": False,
    }


def bcma(code: str = "BCMA", qc_heavy: bool = False) -> dict[str, Any]:
    """Anti-BCMA CAR-T on a closed automated device, 10 days, fill in a room, cryo."""
    steps = [
        step(
            "load",
            "Thaw apheresis and load device",
            5,
            room=False,
            device=True,
            staff=[("operator", 1, 5)],
            min_lag=20,
        ),
        step("culture", "Automated culture", 216, room=False, device=True),
        step("harv", "Harvest from device", 5, room=False, device=True, staff=[("operator", 1, 5)]),
        step(
            "fill",
            "Formulation and fill (grade B), after overnight hold",
            3,
            staff=[("operator", 2, 3)],
            max_lag=26,
        ),
        step(
            "qc", "Release testing set-up", 4, room=False, staff=[("qc_analyst", 1, 4)], max_lag=48
        ),
    ]
    if qc_heavy:
        steps.append(
            step("qc2", "Flow cytometry and potency", 7, room=False, staff=[("qc_analyst", 1, 7)])
        )
    return {
        "code": code,
        "name": "BCMA CAR-T (closed device)",
        "steps": steps,
        "storage": "cryo",
        "qc_release_days": 7,
        "fresh_shelf_days": 3,
        "ld_days_before_infusion": 5,
        "inpatient_days": 7,
        "failure_probability": 0.05,
        "apheresis_hours": 6,
        "shelf_life_from_step": None,
        "ld_before_release": False,
        "infusion_any_day": False,
    }


def til(code: str = "TIL") -> dict[str, Any]:
    """Tumour-infiltrating lymphocytes: ~3 weeks in a room, 14-day sterility, IL-2 stay."""
    steps = [
        step("frag", "Tumour fragmentation", 6, staff=[("operator", 2, 6)], min_lag=2, max_lag=24),
        step("prerep1", "Pre-REP culture I", 120),
        step("feed", "Pre-REP feed", 2, staff=[("operator", 1, 2)], max_lag=30),
        step("prerep2", "Pre-REP culture II", 140),
        step("rep", "REP initiation", 6, staff=[("operator", 2, 6)]),
        step("repcult", "Rapid expansion", 168),
        step("harv", "Harvest (LOVO), formulation and freezing", 8, staff=[("operator", 2, 8)]),
        step(
            "qc", "Release testing set-up", 6, room=False, staff=[("qc_analyst", 1, 6)], max_lag=48
        ),
    ]
    return {
        "code": code,
        "name": "TIL (melanoma)",
        "steps": steps,
        "storage": "cryo",
        "qc_release_days": 14,
        "fresh_shelf_days": 3,
        "ld_days_before_infusion": 7,
        "inpatient_days": 14,
        "failure_probability": 0.1,
        "apheresis_hours": 4,
        "shelf_life_from_step": None,
        "ld_before_release": False,
        "infusion_any_day": False,
    }


def fresh(code: str = "FRESH22") -> dict[str, Any]:
    """Trial CAR-T made fresh in a closed device, 7 days, rapid QC, infused within 3 days."""
    steps = [
        step(
            "load",
            "Load device (fresh apheresis)",
            4,
            room=False,
            device=True,
            staff=[("operator", 1, 4)],
            min_lag=1,
            max_lag=26,
        ),
        step("culture", "Automated culture", 160, room=False, device=True),
        step("harv", "Harvest", 4, room=False, device=True, staff=[("operator", 1, 4)]),
        step(
            "form",
            "Formulation (grade B), after overnight hold",
            3,
            staff=[("operator", 2, 3)],
            max_lag=26,
        ),
        step(
            "qc", "Rapid release testing", 3, room=False, staff=[("qc_analyst", 1, 3)], max_lag=30
        ),
    ]
    return {
        "code": code,
        "name": "Trial CAR-T, fresh",
        "steps": steps,
        "storage": "fresh",
        "qc_release_days": 2,
        "fresh_shelf_days": 3,
        "ld_days_before_infusion": 5,
        "inpatient_days": 10,
        "failure_probability": 0.06,
        "apheresis_hours": 5,
        "shelf_life_from_step": "form",
        "ld_before_release": True,
        "infusion_any_day": True,
    }


def days(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, both included."""
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def dt(d: date, hour: int = 0) -> str:
    """The day at the hour, as the scenario format's date-time."""
    return datetime(d.year, d.month, d.day, hour).isoformat(timespec="minutes")


def iso(d: date) -> str:
    """The day as the scenario format's date."""
    return d.isoformat()


def public_holidays(
    country: str, subdiv: str | None, start: date, end: date
) -> list[dict[str, Any]]:
    """The country's (and region's) public holidays from start to end."""
    years = list(range(start.year, end.year + 1))
    hs = holidays_lib.country_holidays(country, subdiv=subdiv, years=years)
    return [{"day": iso(d), "name": n[:200]} for d, n in sorted(hs.items()) if start <= d <= end]


SHIFTS = [
    {
        "code": "D",
        "name": "Day",
        "start_hour": 7,
        "hours": 9,
        "covers_day_work": True,
        "is_leave": False,
    },
    {
        "code": "E",
        "name": "Early short (part-time)",
        "start_hour": 7,
        "hours": 5,
        "covers_day_work": True,
        "is_leave": False,
    },
    {
        "code": "L",
        "name": "Late",
        "start_hour": 11,
        "hours": 9,
        "covers_day_work": True,
        "is_leave": False,
    },
    {
        "code": "W",
        "name": "Weekend cover",
        "start_hour": 8,
        "hours": 8,
        "covers_day_work": True,
        "is_leave": False,
    },
    {
        "code": "N",
        "name": "Night (on call)",
        "start_hour": 21,
        "hours": 10,
        "covers_day_work": False,
        "is_leave": False,
    },
    {
        "code": "S",
        "name": "Annual leave",
        "start_hour": 0,
        "hours": 0,
        "covers_day_work": False,
        "is_leave": True,
    },
    {
        "code": "K",
        "name": "Course / training",
        "start_hour": 0,
        "hours": 0,
        "covers_day_work": False,
        "is_leave": True,
    },
    {
        "code": "X",
        "name": "Sick",
        "start_hour": 0,
        "hours": 0,
        "covers_day_work": False,
        "is_leave": True,
    },
]


def roster_for(
    rng: random.Random,
    staff: list[dict[str, Any]],
    start: date,
    end: date,
    hol_days: set[date],
    weekend_every: int = 4,
    summer: date | None = None,
    late_share: float = 0.2,
) -> list[dict[str, Any]]:
    """Per person per day: weekday shifts (part-time fewer), a weekend rotation, staggered
    summer leave of 3-4 weeks (Scandinavian style) if `summer` is given, a few single weeks
    of leave elsewhere, random sick days and course days. Holidays: only weekend-cover staff."""
    rows = []
    for i, s in enumerate(staff):
        part = s["contracted_hours_per_week"] < 36
        off_weekday = rng.randrange(5) if part else None
        leave: set[date] = set()
        if summer:
            s0 = summer + timedelta(days=7 * (i % 5) + rng.randrange(0, 5))
            for d in days(s0, s0 + timedelta(days=7 * rng.choice([3, 3, 4]) - 1)):
                leave.add(d)
        for _ in range(rng.choice([0, 1, 1, 2])):
            d0 = start + timedelta(days=rng.randrange(max(1, (end - start).days - 7)))
            d0 -= timedelta(days=d0.weekday())
            leave.update(days(d0, d0 + timedelta(days=4)))
        wk_offset = i % weekend_every
        sick_until: date | None = None
        for d in days(start, end):
            wk = (d - start).days // 7
            code: str | None = None
            if d in leave:
                code = "S" if d.weekday() < 5 else None
            elif d.weekday() >= 5 or d in hol_days:
                if (wk + wk_offset) % weekend_every == 0 and s["weekend"]:
                    code = "W"
            else:
                if sick_until and d <= sick_until:
                    code = "X"
                elif rng.random() < 0.012:
                    sick_until = d + timedelta(days=rng.choice([0, 1, 2, 4]))
                    code = "X"
                elif rng.random() < 0.01:
                    code = "K"
                elif off_weekday is not None and d.weekday() == off_weekday:
                    code = None
                elif s.get("night") and rng.random() < 0.05:
                    code = "N"
                else:
                    code = (
                        "L"
                        if rng.random() < late_share
                        else ("E" if part and rng.random() < 0.3 else "D")
                    )
            if code:
                rows.append({"staff_code": s["code"], "day": iso(d), "shift_code": code})
    return rows


def make_staff(
    rng: random.Random,
    n_op: int,
    products: list[str],
    n_qc: int,
    n_qp: int,
    n_nurse: int,
    train_p: float = 0.7,
) -> list[dict[str, Any]]:
    """Operators, QC analysts, QPs and apheresis nurses, with generator-only keys
    ("weekend", "night") that scenario() leaves out of the file."""
    staff: list[dict[str, Any]] = []
    for k in range(n_op):
        trained = [p for p in products if rng.random() < train_p] or [rng.choice(products)]
        roles = ["operator"] + (["qc_analyst"] if rng.random() < 0.1 else [])
        staff.append(
            {
                "code": f"OP{k + 1:02d}",
                "roles": roles,
                "trained_products": trained,
                "contracted_hours_per_week": rng.choice([40, 40, 40, 32, 30]),
                "weekend": rng.random() < 0.75,
            }
        )
    for k in range(n_qc):
        staff.append(
            {
                "code": f"QC{k + 1:02d}",
                "roles": ["qc_analyst"],
                "trained_products": [],
                "contracted_hours_per_week": rng.choice([40, 40, 30]),
                "weekend": rng.random() < 0.5,
            }
        )
    for k in range(n_qp):
        staff.append(
            {
                "code": f"QP{k + 1}",
                "roles": ["qp"] + (["qc_analyst"] if k == 0 else []),
                "trained_products": [],
                "contracted_hours_per_week": rng.choice([40, 20]),
                "weekend": k == 0,
            }
        )
    for k in range(n_nurse):
        staff.append(
            {
                "code": f"AN{k + 1}",
                "roles": ["apheresis_nurse"],
                "trained_products": [],
                "contracted_hours_per_week": 40,
                "weekend": False,
                "night": True,
            }
        )
    return staff


def downtime(
    rng: random.Random,
    start: date,
    end: date,
    kind: str,
    every_weeks: int,
    length_days: int,
    breakdowns: int,
    shutdown: tuple[date, date] | None = None,
) -> list[dict[str, Any]]:
    """Planned maintenance every N weeks (staggered), random breakdowns, optional shutdown."""
    w: list[tuple[date, date, str]] = []
    horizon = (end - start).days
    first = rng.randrange(7, 7 * every_weeks)
    d = start + timedelta(days=first)
    while d < end:
        d -= timedelta(days=d.weekday()) if kind == "media" else timedelta(0)
        w.append(
            (
                d,
                d + timedelta(days=length_days),
                {"media": "Media fill / APS", "pm": "Preventive maintenance"}[kind],
            )
        )
        d += timedelta(days=7 * every_weeks + rng.randrange(-5, 6))
    for _ in range(breakdowns):
        d = start + timedelta(days=rng.randrange(horizon))
        w.append(
            (
                d,
                d + timedelta(days=rng.choice([1, 2, 3, 5])),
                "Unplanned: HVAC / particle excursion",
            )
        )
    if shutdown:
        w.append((shutdown[0], shutdown[1], "Annual requalification shutdown"))
    w.sort()
    merged: list[tuple[date, date, str]] = []
    for a, b, r in w:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]), merged[-1][2])
        else:
            merged.append((a, b, r))
    return [
        {"start": dt(a, rng.choice([6, 8, 12])), "end": dt(b, rng.choice([6, 14, 18])), "reason": r}
        for a, b, r in merged
        if a < b
    ]


def season(d: date, bursts: Bursts) -> float:
    """Referral intensity: summer and Christmas dips, autumn/spring peaks, bursts."""
    m = d.month
    f = {
        1: 0.9,
        2: 1.05,
        3: 1.15,
        4: 1.0,
        5: 1.05,
        6: 0.85,
        7: 0.45,
        8: 0.7,
        9: 1.2,
        10: 1.25,
        11: 1.15,
        12: 0.8,
    }[m]
    if (m == 12 and d.day >= 20) or (m == 1 and d.day <= 6):
        f *= 0.3
    for b0, b1, k in bursts:
        if b0 <= d <= b1:
            f *= k
    wd = [1.6, 1.1, 1.0, 1.0, 0.9, 0.05, 0.02][d.weekday()]
    return f * wd


def sample_days(rng: random.Random, lo: date, hi: date, n: int, bursts: Bursts) -> list[date]:
    """n days from lo to hi (repeats allowed), weighted by season(), sorted."""
    pool = list(days(lo, hi))
    w = [season(d, bursts) for d in pool]
    return sorted(rng.choices(pool, weights=w, k=n))


def lognorm_days(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    """A log-normal number of days around the median, clipped to lo..hi."""
    return int(min(hi, max(lo, round(median * math.exp(rng.gauss(0, sigma))))))


def make_patients(
    rng: random.Random,
    n: int,
    start: date,
    end: date,
    mix: dict[str, float],
    prio_mix: dict[int, float],
    bursts: Bursts,
    *,
    backlog: float = 0.1,
    trials: Sequence[dict[str, Any]] = (),
    trial_share: float = 0.0,
    in_process: int = 0,
    infused_before: int = 0,
    products: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """n patients. mix: {product: share}; prio_mix: {priority: share} for commercial
    patients, a `backlog` share of them referred 1-10 weeks before the horizon (the waitlist);
    trials: trial dicts (with 'cohorts') whose patients take trial_share of n, filling the
    cohorts in dose order with over-enrolment (replacement patients) in the last. Then
    `in_process` BCMA patients whose apheresis was done a few days before the horizon, and
    `infused_before` patients infused just before it, who still hold ward beds."""
    pts: list[dict[str, Any]] = []
    last_ref = end - timedelta(days=28)
    n_trial = round(n * trial_share) if trials else 0
    n_back = round(n * backlog)
    n_comm = n - n_trial
    ref_days = sample_days(rng, start, last_ref, n_comm - n_back, bursts)
    ref_days = (
        sorted([start - timedelta(days=rng.randrange(3, 70)) for _ in range(n_back)]) + ref_days
    )
    prods = list(mix)
    pw = [mix[p] for p in prods]
    prios = list(prio_mix)
    prw = [prio_mix[p] for p in prios]
    k = 0
    for r in ref_days:
        k += 1
        pr = rng.choices(prios, weights=prw)[0]
        prod = rng.choices(prods, weights=pw)[0]
        need: date | None
        if pr == 1:
            ea = r + timedelta(days=rng.randrange(2, 6))
            la = ea + timedelta(days=rng.randrange(6, 12))
            need = ea + timedelta(days=rng.randrange(24, 32))
        else:
            ea = r + timedelta(days=lognorm_days(rng, 15, 0.45, 4, 50))
            la = ea + timedelta(days=rng.choice([21, 28, 42, 60, 90]))
            if pr == 2:
                need = ea + timedelta(days=rng.randrange(28, 40))
            elif rng.random() < 0.65:
                need = ea + timedelta(days=rng.randrange(32, 60))
            else:
                need = None
        if ea < start and rng.random() < 0.7:
            ea = start + timedelta(days=rng.randrange(0, 10))
            la = max(la, ea + timedelta(days=14))
            if need is not None and need < ea + timedelta(days=25):
                need = ea + timedelta(days=25)
        pts.append(
            {
                "code": f"P{k:04d}",
                "product_code": prod,
                "referral_date": iso(r),
                "earliest_apheresis": iso(ea),
                "latest_apheresis": iso(la),
                "needed_infusion": iso(need) if need else None,
                "priority": pr,
                "trial_code": None,
                "cohort_code": None,
                "status": "referred",
                "done_steps": [],
                "enrolled_on": None,
                "infused_on": None,
            }
        )
    for t in trials:
        tw0, tw1 = date.fromisoformat(t["enrolment_start"]), date.fromisoformat(t["enrolment_end"])
        share = t.get("_share", 1.0 / len(trials))
        m = max(1, round(n_trial * share))
        caps = [c["cap"] for c in t["cohorts"]]
        enrol = sample_days(rng, max(tw0, start), min(tw1, end - timedelta(days=30)), m, [])
        for j, e in enumerate(enrol):
            k += 1
            cum, ci = 0, len(caps) - 1
            frac = j / max(1, m)
            for idx, c in enumerate(caps):
                cum += c
                if frac < cum / sum(caps):
                    ci = idx
                    break
            ref = e - timedelta(days=rng.randrange(0, 14))
            ea = e + timedelta(days=rng.randrange(3, 10))
            within = t["apheresis_within_days"]
            la = e + timedelta(days=within) if within else ea + timedelta(days=60)
            if la < ea:
                la = ea
            need = ea + timedelta(days=rng.randrange(35, 70)) if rng.random() < 0.5 else None
            pts.append(
                {
                    "code": f"P{k:04d}",
                    "product_code": t["product_code"],
                    "referral_date": iso(ref),
                    "earliest_apheresis": iso(ea),
                    "latest_apheresis": iso(la),
                    "needed_infusion": iso(need) if need else None,
                    "priority": rng.choice([3, 4, 5]),
                    "trial_code": t["code"],
                    "cohort_code": t["cohorts"][ci]["code"],
                    "status": "referred",
                    "done_steps": [],
                    "enrolled_on": iso(e),
                    "infused_on": None,
                }
            )
    for _ in range(in_process):
        k += 1
        prod = "BCMA"
        ad = start - timedelta(days=rng.randrange(1, 4))
        while ad.weekday() >= 5:
            ad -= timedelta(days=1)
        ah = products[prod]["apheresis_hours"]
        pts.append(
            {
                "code": f"P{k:04d}",
                "product_code": prod,
                "referral_date": iso(ad - timedelta(days=30)),
                "earliest_apheresis": iso(ad),
                "latest_apheresis": iso(ad + timedelta(days=20)),
                "needed_infusion": iso(ad + timedelta(days=30)),
                "priority": 3,
                "trial_code": None,
                "cohort_code": None,
                "status": "in_process",
                "done_steps": [
                    {
                        "step_code": "apheresis",
                        "start": dt(ad, 8),
                        "end": dt(ad, 8 + ah),
                        "resource_code": "",
                    }
                ],
                "enrolled_on": None,
                "infused_on": None,
            }
        )
    for _ in range(infused_before):
        k += 1
        prod = rng.choices(prods, weights=pw)[0]
        inf = start - timedelta(days=rng.randrange(1, 6))
        ad = inf - timedelta(days=25)
        pts.append(
            {
                "code": f"P{k:04d}",
                "product_code": prod,
                "referral_date": iso(ad - timedelta(days=20)),
                "earliest_apheresis": iso(ad),
                "latest_apheresis": iso(ad),
                "needed_infusion": None,
                "priority": 3,
                "trial_code": None,
                "cohort_code": None,
                "status": "infused",
                "done_steps": [],
                "enrolled_on": None,
                "infused_on": iso(inf),
            }
        )
    return pts


def scenario(
    name: str,
    start: date,
    weeks: int,
    site: dict[str, Any],
    country: str,
    subdiv: str | None,
    rooms: list[dict[str, Any]],
    devices: list[dict[str, Any]],
    staff: list[dict[str, Any]],
    ward: dict[str, Any],
    apheresis: dict[str, Any],
    products: list[dict[str, Any]],
    patients: list[dict[str, Any]],
    *,
    rng: random.Random,
    trials: Sequence[dict[str, Any]] = (),
    weights: list[tuple[int, int]] | None = None,
    summer: date | None = None,
    weekend_every: int = 4,
) -> dict[str, Any]:
    """The scenario file's content: holidays and roster added, generator-only keys dropped;
    weights: (weight, lateness weight) of priorities 1, 2, ..."""
    end = start + timedelta(days=7 * weeks - 1)
    hol = public_holidays(country, subdiv, start, end)
    hol_days = {date.fromisoformat(h["day"]) for h in hol}
    roster = roster_for(
        rng, staff, start, end, hol_days, weekend_every=weekend_every, summer=summer
    )
    sc: dict[str, Any] = {
        "format_version": 1,
        "name": name,
        "horizon_start": iso(start),
        "horizon_end": iso(end),
        "site": site,
        "holidays": hol,
        "frozen_days": 7,
        "cleanrooms": rooms,
        "devices": devices,
        "staff": [
            {
                k: v
                for k, v in s.items()
                if k in ("code", "roles", "trained_products", "contracted_hours_per_week")
            }
            for s in staff
        ],
        "shift_codes": SHIFTS,
        "roster": roster,
        "ward": ward,
        "apheresis": apheresis,
        "products": products,
        "trials": [{k: v for k, v in t.items() if not k.startswith("_")} for t in trials],
        "patients": patients,
    }
    if weights:
        sc["priority_weights"] = [
            {"priority": i + 1, "weight": w, "lateness_weight": lw}
            for i, (w, lw) in enumerate(weights)
        ]
    return sc


def apheresis_exceptions(
    rng: random.Random, start: date, end: date, n: int, zero_share: float = 0.7
) -> list[dict[str, Any]]:
    """Up to n days with no apheresis slots (or, less often, 1 or 3)."""
    out: dict[str, int] = {}
    for _ in range(n):
        d = start + timedelta(days=rng.randrange((end - start).days))
        out[iso(d)] = 0 if rng.random() < zero_share else rng.choice([1, 3])
    return [{"day": k, "slots": v} for k, v in sorted(out.items())]


def centre_small(seed: int, n: int) -> dict[str, Any]:
    """Small academic centre in Norway: 2 rooms, 1 closed device, 4 beds, 14 weeks."""
    rng = random.Random(seed)
    start = date(2027, 1, 4)
    weeks = 14
    end = start + timedelta(days=7 * weeks - 1)
    prods = {"CAR19": car19(), "BCMA": bcma()}
    rooms = [
        {
            "code": "GMP-B1",
            "name": "Grade B suite 1",
            "grade": "B",
            "products": ["CAR19", "BCMA"],
            "changeover_hours": 12,
            "downtime": downtime(rng, start, end, "media", 12, 2, 1),
        },
        {
            "code": "GMP-B2",
            "name": "Grade B suite 2 (old)",
            "grade": "B",
            "products": ["CAR19"],
            "changeover_hours": 16,
            "downtime": downtime(
                rng, start, end, "media", 12, 2, 2, shutdown=(date(2027, 2, 15), date(2027, 2, 22))
            ),
        },
        {
            "code": "GMP-C1",
            "name": "Grade C device room",
            "grade": "C",
            "products": [],
            "changeover_hours": 6,
            "downtime": [],
        },
    ]
    devices = [
        {
            "code": "AUTO-1",
            "name": "Automated cell processor",
            "room_codes": ["GMP-C1"],
            "products": ["BCMA"],
            "changeover_hours": 4,
            "downtime": downtime(rng, start, end, "pm", 8, 1, 1),
        }
    ]
    staff = make_staff(rng, 6, list(prods), 2, 1, 2, train_p=0.85)
    site = {
        "code": "UNN",
        "name": "Small academic centre (Norway)",
        "country": "NO",
        "timezone": "Europe/Oslo",
        "day_start_hour": 7,
        "day_end_hour": 15,
    }
    ward = {
        "code": "HEM",
        "name": "Haematology ward",
        "beds": 4,
        "changes": [
            {
                "start": iso(date(2027, 3, 24)),
                "end": iso(date(2027, 3, 29)),
                "beds": 2,
                "reason": "Easter staffing",
            }
        ],
    }
    aph = {
        "slots_per_weekday": [1, 1, 0, 1, 0, 0, 0],
        "exceptions": apheresis_exceptions(rng, start, end, 4),
    }
    bursts = [(date(2027, 2, 8), date(2027, 2, 21), 2.5)]
    pts = make_patients(
        rng,
        n,
        start,
        end,
        {"CAR19": 0.55, "BCMA": 0.45},
        {1: 0.05, 2: 0.2, 3: 0.5, 4: 0.15, 6: 0.1},
        bursts,
        backlog=0.25,
        in_process=1,
        infused_before=1,
        products=prods,
    )
    return scenario(
        "holdout-small-NO",
        start,
        weeks,
        site,
        "NO",
        None,
        rooms,
        devices,
        staff,
        ward,
        aph,
        list(prods.values()),
        pts,
        rng=rng,
        weekend_every=3,
        weights=[(100, 40), (40, 20), (15, 10), (8, 6), (5, 4), (3, 2), (2, 1), (1, 1), (1, 1)],
    )


def centre_mid(seed: int, n: int, name: str) -> dict[str, Any]:
    """Mid-size centre in Bavaria: 5 rooms (2 dedicated TIL, 1 dedicated CAR19), 4 devices,
    10 beds, 26 weeks spanning summer."""
    rng = random.Random(seed)
    start = date(2027, 3, 1)
    weeks = 26
    end = start + timedelta(days=7 * weeks - 1)
    prods = {"CAR19": car19(), "BCMA": bcma(), "TIL": til(), "FRESH22": fresh()}
    shut = (date(2027, 8, 2), date(2027, 8, 13))
    rooms = []
    for i, (prs, grade) in enumerate(
        [
            (["TIL"], "B"),
            (["TIL"], "B"),
            (["CAR19"], "B"),
            (["CAR19", "BCMA", "FRESH22"], "B"),
            (["CAR19", "BCMA", "FRESH22", "TIL"], "B"),
        ]
    ):
        rooms.append(
            {
                "code": f"R{i + 1}",
                "name": f"Suite {i + 1}",
                "grade": grade,
                "products": prs,
                "changeover_hours": rng.choice([8, 12, 16]),
                "downtime": downtime(
                    rng,
                    start,
                    end,
                    "media",
                    13,
                    2,
                    rng.randrange(0, 3),
                    shutdown=shut if i in (0, 2) else None,
                ),
            }
        )
    rooms.append(
        {
            "code": "C1",
            "name": "Device hall (grade C)",
            "grade": "C",
            "products": [],
            "changeover_hours": 4,
            "downtime": [],
        }
    )
    devices = [
        {
            "code": f"DEV{i + 1}",
            "name": f"Closed processor {i + 1}",
            "room_codes": ["C1"],
            "products": ["BCMA", "FRESH22"] if i < 3 else ["FRESH22"],
            "changeover_hours": 6,
            "downtime": downtime(rng, start, end, "pm", 9, 1, rng.randrange(0, 2)),
        }
        for i in range(4)
    ]
    staff = make_staff(rng, 12, list(prods), 3, 2, 3, train_p=0.75)
    site = {
        "code": "LMU",
        "name": "Mid-size university hospital (Bavaria)",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "day_start_hour": 7,
        "day_end_hour": 16,
    }
    ward = {
        "code": "KMT",
        "name": "KMT / CAR-T ward",
        "beds": 10,
        "changes": [
            {
                "start": "2027-07-19",
                "end": "2027-08-22",
                "beds": 7,
                "reason": "Summer closure of a wing",
            },
            {"start": "2027-05-10", "end": "2027-05-16", "beds": 8, "reason": "Staff shortage"},
        ],
    }
    aph = {
        "slots_per_weekday": [2, 2, 1, 2, 1, 0, 0],
        "exceptions": apheresis_exceptions(rng, start, end, 8),
    }
    bursts = [
        (date(2027, 4, 12), date(2027, 4, 25), 2.2),
        (date(2027, 9, 13), date(2027, 9, 26), 1.8),
    ]
    pts = make_patients(
        rng,
        n,
        start,
        end,
        {"CAR19": 0.35, "BCMA": 0.3, "TIL": 0.15, "FRESH22": 0.2},
        {1: 0.03, 2: 0.17, 3: 0.55, 4: 0.15, 5: 0.1},
        bursts,
        backlog=0.12,
        in_process=3,
        infused_before=3,
        products=prods,
    )
    return scenario(
        name,
        start,
        weeks,
        site,
        "DE",
        "BY",
        rooms,
        devices,
        staff,
        ward,
        aph,
        list(prods.values()),
        pts,
        rng=rng,
        summer=date(2027, 7, 5),
        weights=[(80, 30), (30, 20), (12, 10), (8, 8), (5, 5), (3, 3), (2, 2), (1, 1), (1, 1)],
    )


def centre_beds_qc(seed: int, n: int) -> dict[str, Any]:
    """Danish centre with plenty of rooms but 5 beds, long TIL stays and a heavy QC panel;
    autumn into Christmas."""
    rng = random.Random(seed)
    start = date(2027, 9, 6)
    weeks = 20
    end = start + timedelta(days=7 * weeks - 1)
    prods = {"CAR19": car19(qc_heavy=True), "TIL": til(), "BCMA": bcma(qc_heavy=True)}
    rooms = [
        {
            "code": f"RH-{i + 1}",
            "name": f"Cleanroom {i + 1}",
            "grade": "B",
            "products": ["CAR19", "TIL", "BCMA"],
            "changeover_hours": 10,
            "downtime": downtime(rng, start, end, "media", 10, 3, 1),
        }
        for i in range(6)
    ]
    devices = [
        {
            "code": f"D{i + 1}",
            "name": f"Device {i + 1}",
            "room_codes": ["RH-5", "RH-6"],
            "products": ["BCMA"],
            "changeover_hours": 4,
            "downtime": downtime(rng, start, end, "pm", 6, 1, 0),
        }
        for i in range(3)
    ]
    staff = make_staff(rng, 12, list(prods), 3, 2, 2, train_p=0.8)
    site = {
        "code": "RH",
        "name": "Bed-limited centre (Denmark)",
        "country": "DK",
        "timezone": "Europe/Copenhagen",
        "day_start_hour": 8,
        "day_end_hour": 16,
    }
    ward = {
        "code": "HAEM",
        "name": "Haematology ward",
        "beds": 5,
        "changes": [
            {"start": "2027-12-20", "end": "2028-01-02", "beds": 3, "reason": "Christmas"},
            {
                "start": "2027-11-01",
                "end": "2027-11-21",
                "beds": 4,
                "reason": "RSV season overflow",
            },
        ],
    }
    aph = {
        "slots_per_weekday": [2, 2, 2, 2, 1, 0, 0],
        "exceptions": apheresis_exceptions(rng, start, end, 6),
    }
    bursts = [(date(2027, 10, 4), date(2027, 10, 17), 2.0)]
    pts = make_patients(
        rng,
        n,
        start,
        end,
        {"CAR19": 0.45, "TIL": 0.35, "BCMA": 0.2},
        {1: 0.04, 2: 0.2, 3: 0.6, 4: 0.16},
        bursts,
        backlog=0.15,
        infused_before=4,
        products=prods,
    )
    return scenario(
        "holdout-beds-DK",
        start,
        weeks,
        site,
        "DK",
        None,
        rooms,
        devices,
        staff,
        ward,
        aph,
        list(prods.values()),
        pts,
        rng=rng,
    )


def centre_trials(seed: int, n: int) -> dict[str, Any]:
    """Dutch centre with heavy trial load: a phase I dose escalation (staggered, gated),
    an own phase II and an external sponsor trial, mixed priorities."""
    rng = random.Random(seed)
    start = date(2027, 2, 1)
    weeks = 26
    end = start + timedelta(days=7 * weeks - 1)
    prods = {"CAR19": car19(), "BCMA": bcma(), "FRESH22": fresh(), "DUAL": car19("DUAL")}
    prods["DUAL"]["name"] = "Bispecific CD19/CD22 CAR-T (trial)"
    rooms = [
        {
            "code": f"K{i + 1}",
            "name": f"Kamer {i + 1}",
            "grade": "B",
            "products": ps,
            "changeover_hours": 8,
            "downtime": downtime(rng, start, end, "media", 12, 2, rng.randrange(0, 2)),
        }
        for i, ps in enumerate(
            [
                ["CAR19", "DUAL"],
                ["CAR19", "DUAL", "BCMA", "FRESH22"],
                ["DUAL"],
                ["CAR19", "BCMA", "FRESH22"],
            ]
        )
    ]
    devices = [
        {
            "code": f"CP{i + 1}",
            "name": f"Closed processor {i + 1}",
            "room_codes": ["K4"],
            "products": ["BCMA", "FRESH22"],
            "changeover_hours": 4,
            "downtime": downtime(rng, start, end, "pm", 7, 1, 1),
        }
        for i in range(3)
    ]
    staff = make_staff(rng, 9, list(prods), 3, 2, 2, train_p=0.7)
    site = {
        "code": "AMC",
        "name": "Trial-heavy centre (Netherlands)",
        "country": "NL",
        "timezone": "Europe/Amsterdam",
        "day_start_hour": 8,
        "day_end_hour": 17,
    }
    ward = {
        "code": "C6",
        "name": "Hematologie C6",
        "beds": 8,
        "changes": [{"start": "2027-07-12", "end": "2027-08-08", "beds": 6, "reason": "Summer"}],
    }
    aph = {
        "slots_per_weekday": [2, 1, 2, 1, 1, 0, 0],
        "exceptions": apheresis_exceptions(rng, start, end, 6),
    }
    trials = [
        {
            "code": "DUAL-101",
            "name": "Phase I dose escalation CD19/CD22",
            "product_code": "DUAL",
            "cohorts": [
                {
                    "code": "DL1",
                    "cap": 3,
                    "min_days_between_infusions": 28,
                    "escalation_gate_days": None,
                },
                {
                    "code": "DL2",
                    "cap": 3,
                    "min_days_between_infusions": 21,
                    "escalation_gate_days": 28,
                },
                {
                    "code": "DL3",
                    "cap": 6,
                    "min_days_between_infusions": 14,
                    "escalation_gate_days": 28,
                },
                {
                    "code": "EXP",
                    "cap": 12,
                    "min_days_between_infusions": 0,
                    "escalation_gate_days": 14,
                },
            ],
            "enrolment_start": "2027-01-15",
            "enrolment_end": "2027-07-31",
            "priority": 4,
            "apheresis_within_days": 21,
            "_share": 0.35,
        },
        {
            "code": "FR-201",
            "name": "Own phase II, fresh CAR-T",
            "product_code": "FRESH22",
            "cohorts": [
                {
                    "code": "A",
                    "cap": 25,
                    "min_days_between_infusions": 0,
                    "escalation_gate_days": None,
                }
            ],
            "enrolment_start": "2027-02-01",
            "enrolment_end": "2027-12-31",
            "priority": 4,
            "apheresis_within_days": 28,
            "_share": 0.35,
        },
        {
            "code": "SPONS-3",
            "name": "External sponsor BCMA trial",
            "product_code": "BCMA",
            "cohorts": [
                {
                    "code": "ARM-A",
                    "cap": 20,
                    "min_days_between_infusions": 7,
                    "escalation_gate_days": None,
                }
            ],
            "enrolment_start": "2027-03-01",
            "enrolment_end": "2027-09-30",
            "priority": 5,
            "apheresis_within_days": 14,
            "_share": 0.3,
        },
    ]
    bursts = [(date(2027, 3, 1), date(2027, 3, 14), 1.8)]
    pts = make_patients(
        rng,
        n,
        start,
        end,
        {"CAR19": 0.7, "BCMA": 0.3},
        {1: 0.05, 2: 0.25, 3: 0.6, 6: 0.1},
        bursts,
        backlog=0.1,
        trials=trials,
        trial_share=0.45,
        in_process=2,
        products=prods,
    )
    return scenario(
        "holdout-trials-NL",
        start,
        weeks,
        site,
        "NL",
        None,
        rooms,
        devices,
        staff,
        ward,
        aph,
        list(prods.values()),
        pts,
        trials=trials,
        rng=rng,
        summer=date(2027, 7, 12),
        weights=[(200, 50), (50, 20), (20, 10), (10, 6), (6, 3), (3, 2), (2, 1), (1, 1), (1, 1)],
    )


def centre_large(seed: int, n: int) -> dict[str, Any]:
    """Large Finnish hub: 12 rooms, 6 devices, 22 beds, a full year (2027)."""
    rng = random.Random(seed)
    start = date(2027, 1, 4)
    weeks = 52
    end = start + timedelta(days=7 * weeks - 1)
    prods = {"CAR19": car19(), "BCMA": bcma(), "TIL": til(), "FRESH22": fresh()}
    rooms = []
    for i in range(12):
        if i < 3:
            prs = ["TIL"]
        elif i < 7:
            prs = ["CAR19"]
        else:
            prs = ["CAR19", "BCMA", "FRESH22", "TIL"]
        shut0 = date(2027, 6, 28) + timedelta(days=14 * (i % 3))
        rooms.append(
            {
                "code": f"H{i + 1:02d}",
                "name": f"Puhdastila {i + 1}",
                "grade": "B",
                "products": prs,
                "changeover_hours": rng.choice([6, 8, 12, 24]),
                "downtime": downtime(
                    rng,
                    start,
                    end,
                    "media",
                    13,
                    2,
                    rng.randrange(0, 4),
                    shutdown=(shut0, shut0 + timedelta(days=11)),
                ),
            }
        )
    rooms.append(
        {
            "code": "DV",
            "name": "Device hall",
            "grade": "C",
            "products": [],
            "changeover_hours": 4,
            "downtime": [],
        }
    )
    devices = [
        {
            "code": f"AP{i + 1}",
            "name": f"Processor {i + 1}",
            "room_codes": ["DV"],
            "products": ["BCMA", "FRESH22"] if i % 2 == 0 else ["BCMA"],
            "changeover_hours": 5,
            "downtime": downtime(rng, start, end, "pm", 8, 1, rng.randrange(0, 3)),
        }
        for i in range(6)
    ]
    staff = make_staff(rng, 26, list(prods), 6, 3, 4, train_p=0.7)
    site = {
        "code": "HUS",
        "name": "Large hub (Finland)",
        "country": "FI",
        "timezone": "Europe/Helsinki",
        "day_start_hour": 7,
        "day_end_hour": 16,
    }
    ward = {
        "code": "K10",
        "name": "Hematologian osasto",
        "beds": 22,
        "changes": [
            {"start": "2027-06-28", "end": "2027-08-08", "beds": 16, "reason": "Summer closure"},
            {"start": "2027-12-20", "end": "2028-01-02", "beds": 15, "reason": "Christmas"},
        ],
    }
    aph = {
        "slots_per_weekday": [4, 3, 3, 3, 2, 0, 0],
        "exceptions": apheresis_exceptions(rng, start, end, 20),
    }
    trials = [
        {
            "code": "NORDIC-1",
            "name": "Nordic network trial",
            "product_code": "FRESH22",
            "cohorts": [
                {
                    "code": "C1",
                    "cap": 40,
                    "min_days_between_infusions": 3,
                    "escalation_gate_days": None,
                }
            ],
            "enrolment_start": "2027-02-01",
            "enrolment_end": "2027-11-30",
            "priority": 4,
            "apheresis_within_days": 30,
            "_share": 1.0,
        }
    ]
    bursts = [
        (date(2027, 3, 8), date(2027, 3, 21), 2.0),
        (date(2027, 10, 4), date(2027, 10, 24), 1.7),
        (date(2027, 5, 3), date(2027, 5, 9), 2.5),
    ]
    pts = make_patients(
        rng,
        n,
        start,
        end,
        {"CAR19": 0.52, "BCMA": 0.2, "TIL": 0.15, "FRESH22": 0.13},
        {1: 0.03, 2: 0.15, 3: 0.55, 4: 0.07, 5: 0.1, 7: 0.1},
        bursts,
        backlog=0.06,
        trials=trials,
        trial_share=0.08,
        in_process=5,
        infused_before=5,
        products=prods,
    )
    return scenario(
        "holdout-large-FI",
        start,
        weeks,
        site,
        "FI",
        None,
        rooms,
        devices,
        staff,
        ward,
        aph,
        list(prods.values()),
        pts,
        trials=trials,
        rng=rng,
        summer=date(2027, 6, 21),
        weekend_every=3,
    )


class Centre(NamedTuple):
    """How to build a centre, and the bottleneck load its patient count is scaled to."""

    build: Callable[[int, int], dict[str, Any]]
    seed: int
    patients: int
    target: float


CENTRES = {
    "h1_small_NO_over": Centre(lambda s, n: centre_small(s, n), 101, 30, 1.20),
    "h2_mid_DE_90": Centre(lambda s, n: centre_mid(s, n, "holdout-mid-DE-90"), 202, 150, 0.90),
    "h3_mid_DE_70": Centre(lambda s, n: centre_mid(s, n, "holdout-mid-DE-70"), 202, 120, 0.70),
    "h4_beds_DK_over": Centre(lambda s, n: centre_beds_qc(s, n), 404, 80, 1.15),
    "h5_trials_NL_over": Centre(lambda s, n: centre_trials(s, n), 505, 110, 1.05),
    "h6_large_FI_over": Centre(lambda s, n: centre_large(s, n), 606, 550, 0.97),
}


def load_of(path: Path) -> tuple[ResourceLoad, str]:
    """The scenario file's bottleneck and its load table."""
    sc = read_scenario(path)
    loads = resource_loads(sc)
    return max(loads, key=lambda r: r.load), format_loads(loads)


def write(path: Path, sc: dict[str, Any]) -> None:
    """Write the scenario as the hold-out files are written (one-space indent, UTF-8)."""
    path.write_text(json.dumps(sc, indent=1, ensure_ascii=False), encoding="utf-8")


def calibrate(path: Path, centre: Centre) -> None:
    """Write the centre to path with the patient count (at most 10 tries) whose bottleneck
    load comes nearest its target; print the load table."""
    build, seed, n, target = centre
    best: tuple[float, int] | None = None
    tried: set[int] = set()
    for _ in range(10):
        if n in tried:
            break
        tried.add(n)
        sc = build(seed, n)
        write(path, sc)
        top, text = load_of(path)
        if best is None or abs(top.load - target) < abs(best[0] - target):
            best = (top.load, n)
        if abs(top.load - target) < 0.02:
            break
        n = max(5, n + max(-20, min(20, round(0.6 * n * (target / top.load - 1)))) or 1)
    assert best is not None
    if best[1] != n or abs(top.load - target) >= 0.02:
        sc = build(seed, best[1])
        write(path, sc)
        top, text = load_of(path)
    print(f"{path.stem}: {len(sc['patients'])} patients, bottleneck {top.resource} {top.load:.1%}")
    print(text)


def main() -> None:
    """Write the named centres (all six by default) to --out."""
    parser = argparse.ArgumentParser(description="Write the hold-out centres' scenario files.")
    parser.add_argument(
        "--out", type=Path, default=Path("holdout-centres"), metavar="DIR", help="where to write"
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"centres to write: {', '.join(CENTRES)}"
    )
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in CENTRES]
    if unknown:
        parser.error(f"unknown centre(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, centre in CENTRES.items():
        if args.names and stem not in args.names:
            continue
        calibrate(args.out / f"{stem}.json", centre)


if __name__ == "__main__":
    main()
