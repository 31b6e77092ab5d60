"""The demo scenario: a large Nordic university hospital's ATMP centre over 26 weeks.

Modelled on a centre such as Karolinska's ATMP Center with its GMP unit (Vecura): five
Grade B cleanrooms for cell therapy, four closed processing devices, about 25 staff,
an 8-bed ward, three products, two trials and 60 pseudonymous patients. Every figure
is a parameter of the scenario; `data/demo/SOURCES.md` names the source of each one.
The build is deterministic: a fixed seed and fixed dates, never today's date.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import holidays as holidays_lib

from planner import (
    ApheresisCapacity,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    Patient,
    PatientStatus,
    ProcessStep,
    Product,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    Site,
    StaffMember,
    StaffNeed,
    Storage,
    Trial,
    Ward,
    Window,
)

SEED = 20270104
HORIZON_START = date(2027, 1, 4)  # a Monday
HORIZON_END = date(2027, 7, 4)  # a Sunday: 26 weeks
DAY_START_HOUR = 8
DAY_END_HOUR = 16

CART = "CART19"
FRESH = "CARTF"
TIL = "TIL"
PHASE1 = "CAR101"
PHASE2 = "TIL201"

#: Holiday names the `holidays` library gives to every plain Sunday in Sweden.
_SUNDAY_NAMES = frozenset({"Söndag", "Sunday"})


# Site, calendar --------------------------------------------------------------------------


def demo_site() -> Site:
    """The Stockholm site with an 08:00-16:00 working day."""
    return Site(
        code="KS",
        name="University hospital ATMP centre, Stockholm (demo)",
        country="SE",
        timezone="Europe/Stockholm",
        day_start_hour=DAY_START_HOUR,
        day_end_hour=DAY_END_HOUR,
    )


def swedish_holidays(start: date, end: date) -> tuple[Holiday, ...]:
    """Swedish public holidays from start to end, without the plain Sundays."""
    return public_holidays("SE", start, end)


def public_holidays(country: str, start: date, end: date) -> tuple[Holiday, ...]:
    """A country's public holidays from start to end (the `holidays` package), without the
    plain Sundays some countries list; KeyError-free: an unknown country raises ValueError."""
    try:
        calendar = holidays_lib.country_holidays(country, years=range(start.year, end.year + 1))
    except NotImplementedError:
        raise ValueError(f"no public holidays known for country {country!r}") from None
    result = []
    for day, names in sorted(calendar.items()):
        if not start <= day <= end:
            continue
        kept = [n for n in str(names).split("; ") if n not in _SUNDAY_NAMES]
        if kept:
            result.append(Holiday(day, "; ".join(kept)))
    return tuple(result)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


# Rooms and devices -----------------------------------------------------------------------


def demo_cleanrooms() -> tuple[Cleanroom, ...]:
    """Five Grade B cell-therapy suites; two have planned downtime in the horizon."""
    return (
        Cleanroom("CR1", "Suite 1 (CAR-T)", Grade.B, (CART,), changeover_hours=8),
        Cleanroom(
            "CR2",
            "Suite 2 (CAR-T)",
            Grade.B,
            (CART,),
            changeover_hours=8,
            downtime=(
                Window(
                    _at(date(2027, 3, 1), 0),
                    _at(date(2027, 3, 8), 0),
                    "Annual requalification and media fill",
                ),
            ),
        ),
        Cleanroom("CR3", "Suite 3 (TIL / CAR-T)", Grade.B, (TIL, CART), changeover_hours=10),
        Cleanroom(
            "CR4",
            "Suite 4 (TIL)",
            Grade.B,
            (TIL,),
            changeover_hours=12,
            downtime=(
                Window(
                    _at(date(2027, 5, 24), 0),
                    _at(date(2027, 5, 29), 0),
                    "HVAC maintenance and requalification",
                ),
            ),
        ),
        Cleanroom("CR5", "Suite 5 (closed systems only)", Grade.B, (), changeover_hours=8),
    )


def demo_devices() -> tuple[Device, ...]:
    """Four automated closed processing systems standing in suite 5."""
    devices = []
    for i in range(1, 5):
        downtime: tuple[Window, ...] = ()
        if i == 2:
            downtime = (
                Window(
                    _at(date(2027, 4, 12), 0),
                    _at(date(2027, 4, 17), 0),
                    "Preventive maintenance by the vendor",
                ),
            )
        devices.append(
            Device(
                f"DEV{i}",
                f"Closed processing system {i}",
                ("CR5",),
                (FRESH,),
                changeover_hours=4,
                downtime=downtime,
            )
        )
    return tuple(devices)


# Products ----------------------------------------------------------------------------------


def _lag(previous_hours: int, min_days: int, max_days: int) -> tuple[int, int]:
    """Lag (hours) from the end of a step begun at day start to a step min-max days later."""
    return 24 * min_days - previous_hours, 24 * max_days - previous_hours


def _staffed(
    code: str,
    name: str,
    hours: int,
    lag: tuple[int, int],
    needs: tuple[StaffNeed, ...],
    *,
    room: bool = True,
    device: bool = False,
) -> ProcessStep:
    return ProcessStep(
        code,
        name,
        hours,
        needs_cleanroom=room,
        needs_device=device,
        staff=needs,
        working_hours_only=True,
        min_lag_hours=lag[0],
        max_lag_hours=lag[1],
    )


def _ops(count: int, hours: int) -> tuple[StaffNeed, ...]:
    return (StaffNeed(Role.OPERATOR, count, hours),)


_QC_TEST = (StaffNeed(Role.QC_ANALYST, 1, 4, product_trained=False),)


def demo_products() -> tuple[Product, ...]:
    """A cryopreserved CAR-T, a fresh point-of-care CAR-T on a closed device, and a TIL."""
    cart_apheresis = 6
    cart = Product(
        code=CART,
        name="CD19 CAR-T, cryopreserved (academic, lentiviral)",
        steps=(
            _staffed("seed", "Seeding and activation", 8, (0, 72), _ops(2, 8)),
            _staffed("transduce", "Lentiviral transduction", 8, _lag(8, 1, 2), _ops(2, 8)),
            _staffed("feed1", "Feeding / medium exchange", 5, _lag(8, 2, 3), _ops(2, 5)),
            _staffed("feed2", "Feeding / medium exchange", 5, _lag(5, 2, 3), _ops(2, 5)),
            _staffed("feed3", "Feeding / medium exchange", 5, _lag(5, 2, 3), _ops(2, 5)),
            _staffed(
                "harvest",
                "Harvest, formulation and cryopreservation",
                8,
                _lag(5, 2, 3),
                _ops(2, 8),
            ),
            _staffed(
                "qc", "QC sampling and release-test set-up", 4, _lag(8, 1, 3), _QC_TEST, room=False
            ),
        ),
        storage=Storage.CRYO,
        qc_release_days=7,
        fresh_shelf_days=0,
        ld_days_before_infusion=5,
        inpatient_days=7,
        failure_probability=0.05,
        apheresis_hours=cart_apheresis,
    )
    fresh_apheresis = 4
    fresh = Product(
        code=FRESH,
        name="CD19 CAR-T, fresh point-of-care (automated closed system)",
        steps=(
            _staffed(
                "load",
                "Cell selection and device set-up",
                8,
                (0, 24),
                _ops(2, 8),
                room=False,
                device=True,
            ),
            _staffed(
                "transduce", "Transduction", 6, _lag(8, 1, 1), _ops(2, 6), room=False, device=True
            ),
            _staffed(
                "ipc1",
                "In-process control and media exchange",
                4,
                _lag(6, 2, 3),
                _ops(2, 4),
                room=False,
                device=True,
            ),
            _staffed(
                "ipc2",
                "In-process control and media exchange",
                4,
                _lag(4, 2, 3),
                _ops(2, 4),
                room=False,
                device=True,
            ),
            _staffed(
                "harvest",
                "Harvest and formulation",
                8,
                _lag(4, 2, 3),
                _ops(3, 8),
                room=False,
                device=True,
            ),
            _staffed(
                "release",
                "Rapid QC and QP certification",
                4,
                _lag(8, 1, 2),
                (
                    StaffNeed(Role.QC_ANALYST, 1, 4, product_trained=False),
                    StaffNeed(Role.QP, 1, 1, product_trained=False),
                ),
                room=False,
            ),
        ),
        storage=Storage.FRESH,
        qc_release_days=2,
        fresh_shelf_days=3,
        ld_days_before_infusion=5,
        inpatient_days=7,
        failure_probability=0.07,
        apheresis_hours=fresh_apheresis,
        # The shelf life runs from harvest; lymphodepletion must precede a fresh infusion.
        shelf_life_from_step="harvest",
        ld_before_release=True,
        # A 3-day shelf life leaves no room to wait for Monday: the ward infuses any day.
        infusion_any_day=True,
    )
    til_collection = 4
    til = Product(
        code=TIL,
        name="Tumour-infiltrating lymphocytes (TIL)",
        steps=(
            _staffed(
                "fragment",
                "Tumour fragmentation and pre-REP culture",
                6,
                (0, 24),
                _ops(2, 6),
            ),
            _staffed("feed1", "Pre-REP IL-2 medium change", 4, _lag(6, 4, 6), _ops(1, 4)),
            _staffed("feed2", "Pre-REP IL-2 medium change", 4, _lag(4, 4, 6), _ops(1, 4)),
            _staffed("rep", "Rapid expansion (REP) set-up", 8, _lag(4, 3, 5), _ops(2, 8)),
            _staffed("split", "REP split into culture bags", 6, _lag(8, 4, 6), _ops(2, 6)),
            _staffed(
                "harvest",
                "Harvest, formulation and cryopreservation",
                8,
                _lag(6, 5, 7),
                _ops(2, 8),
            ),
            _staffed(
                "qc", "QC sampling and release-test set-up", 4, _lag(8, 1, 3), _QC_TEST, room=False
            ),
        ),
        storage=Storage.CRYO,
        qc_release_days=14,
        fresh_shelf_days=0,
        ld_days_before_infusion=7,
        inpatient_days=12,
        failure_probability=0.10,
        apheresis_hours=til_collection,
    )
    return cart, fresh, til


def operator_hours(product: Product) -> int:
    """Operator-hours one batch of a product needs."""
    return sum(
        need.count * need.hours
        for step in product.steps
        for need in step.staff
        if need.role is Role.OPERATOR
    )


# Staff and roster ----------------------------------------------------------------------------

#: Operators: code, trained products, contracted hours per week.
_OPERATORS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("OP01", (CART, FRESH, TIL), 40),
    ("OP02", (CART, FRESH), 40),
    ("OP03", (CART, FRESH), 40),
    ("OP04", (CART, TIL), 40),
    ("OP05", (CART, TIL), 32),
    ("OP06", (CART,), 40),
    ("OP07", (CART, FRESH), 40),
    ("OP08", (CART,), 40),
    ("OP09", (FRESH, TIL), 40),
    ("OP10", (FRESH,), 40),
    ("OP11", (FRESH, TIL), 30),
    ("OP12", (CART, TIL), 40),
)
#: Weekend teams of operators; each covers every product. Week k works team k % 4.
_WEEKEND_TEAMS: tuple[tuple[str, ...], ...] = (
    ("OP01", "OP06", "OP10"),
    ("OP02", "OP12", "OP08"),
    ("OP03", "OP04", "OP11"),
    ("OP07", "OP09", "OP05"),
)
#: Part-timers and their weekday off (Monday = 0).
_DAY_OFF: dict[str, int] = {"OP05": 4, "OP11": 2, "QC03": 4, "QP03": 4, "AN04": 0}
_SICK_RATE = 0.02
#: Summer leave weeks (Mondays): midsummer week and the week after.
_SUMMER_WEEKS = (date(2027, 6, 21), date(2027, 6, 28))


def demo_staff() -> tuple[StaffMember, ...]:
    """24 staff: 12 operators, 5 QC analysts, 3 QPs, 4 apheresis nurses."""
    members = [StaffMember(code, (Role.OPERATOR,), trained, h) for code, trained, h in _OPERATORS]
    members += [
        StaffMember(f"QC0{i}", (Role.QC_ANALYST,), (), 32 if i == 3 else 40) for i in range(1, 6)
    ]
    members += [StaffMember(f"QP0{i}", (Role.QP,), (), 32 if i == 3 else 40) for i in range(1, 4)]
    members += [
        StaffMember(f"AN0{i}", (Role.APHERESIS_NURSE,), (), 30 if i == 4 else 40)
        for i in range(1, 5)
    ]
    return tuple(members)


def demo_shift_codes() -> tuple[ShiftCode, ...]:
    """Day, weekend day, night on call, course, leave and sick leave."""
    return (
        ShiftCode("D", "Day 08-16", 8, 8),
        ShiftCode("W", "Weekend / holiday day 08-16", 8, 8),
        ShiftCode("N", "Night on call 16-08", 16, 16, covers_day_work=False),
        ShiftCode("K", "Course / training day", 8, 8, covers_day_work=False),
        ShiftCode("L", "Annual leave", 0, 0, covers_day_work=False, is_leave=True),
        ShiftCode("S", "Sick leave", 0, 0, covers_day_work=False, is_leave=True),
    )


def _group(code: str) -> str:
    return code[:2]


def _leave_days(staff: tuple[StaffMember, ...], rng: random.Random) -> dict[str, set[date]]:
    """One spring leave week each, and summer weeks for most, with caps per group."""
    spring_weeks = [HORIZON_START + timedelta(weeks=w) for w in range(4, 18)]
    spring_cap = {"OP": 2, "QC": 1, "QP": 1, "AN": 1}
    summer_cap = {"OP": 5, "QC": 2, "QP": 1, "AN": 2}
    taken: dict[tuple[str, date], int] = {}
    leave: dict[str, set[date]] = {s.code: set() for s in staff}

    def book(code: str, monday: date) -> None:
        taken[(_group(code), monday)] = taken.get((_group(code), monday), 0) + 1
        leave[code].update(monday + timedelta(days=i) for i in range(5))

    for member in staff:
        group = _group(member.code)
        options = [w for w in spring_weeks if taken.get((group, w), 0) < spring_cap[group]]
        book(member.code, rng.choice(options))
        wanted = rng.choice(((0,), (1,), (0, 1), (0, 1), ()))
        for i in wanted:
            week = _SUMMER_WEEKS[i]
            if taken.get((group, week), 0) < summer_cap[group]:
                book(member.code, week)
    return leave


def demo_roster(
    staff: tuple[StaffMember, ...], holidays: frozenset[date], rng: random.Random
) -> tuple[RosterEntry, ...]:
    """A 26-week roster: weekday days, a weekend rota, nights on call, leave, courses, sick days.

    Days off have no entry. Operators working a weekend take the following Monday off.
    """
    leave = _leave_days(staff, rng)
    operators = [s.code for s in staff if Role.OPERATOR in s.roles]
    qc = [s.code for s in staff if Role.QC_ANALYST in s.roles]
    qps = [s.code for s in staff if Role.QP in s.roles]
    course_weeks = [HORIZON_START + timedelta(weeks=w) for w in range(5, 20)]
    course = {
        code: rng.choice(course_weeks) + timedelta(days=rng.randrange(5)) for code in operators + qc
    }
    entries: list[RosterEntry] = []
    night_pointer = 0
    for day in _days(HORIZON_START, HORIZON_END):
        week = (day - HORIZON_START).days // 7
        shifts: dict[str, str] = {}
        if day.weekday() >= 5 or day in holidays:
            team = list(_WEEKEND_TEAMS[week % len(_WEEKEND_TEAMS)])
            spare = [o for o in operators if o not in team and day not in leave[o]]
            for code in team:
                if day in leave[code]:
                    code = spare.pop((week * 5) % len(spare))
                shifts[code] = "W"
            on_duty_qc = [c for c in qc if day not in leave[c]]
            shifts[on_duty_qc[week % len(on_duty_qc)]] = "W"
            on_call_qp = [c for c in qps if day not in leave[c]]
            shifts[on_call_qp[week % len(on_call_qp)]] = "N"
        else:
            resting = set()
            if day.weekday() == 0 and week > 0:
                resting = set(_WEEKEND_TEAMS[(week - 1) % len(_WEEKEND_TEAMS)])
            for member in staff:
                code = member.code
                if day in leave[code]:
                    shifts[code] = "L"
                elif code in resting or _DAY_OFF.get(code) == day.weekday():
                    continue
                elif course.get(code) == day:
                    shifts[code] = "K"
                elif rng.random() < _SICK_RATE:
                    shifts[code] = "S"
                else:
                    shifts[code] = "D"
        # One operator on call each night, rotating, from those not otherwise engaged.
        candidates = [o for o in operators if shifts.get(o) in (None, "D") and day not in leave[o]]
        if candidates:
            pick = sorted(candidates, key=lambda o: (operators.index(o) - night_pointer) % 12)[0]
            shifts[pick] = "N"
            night_pointer = (operators.index(pick) + 1) % len(operators)
        entries += [RosterEntry(code, day, shifts[code]) for code in sorted(shifts)]
    return tuple(entries)


# Ward, apheresis, trials ---------------------------------------------------------------------


def demo_ward() -> Ward:
    """Eight cell-therapy beds; fewer over Easter and from midsummer."""
    return Ward(
        "HEM",
        "Haematology ward, cell-therapy beds",
        beds=8,
        changes=(
            BedChange(date(2027, 3, 26), date(2027, 3, 29), 7, "Easter staffing"),
            BedChange(date(2027, 6, 21), date(2027, 8, 15), 6, "Summer (midsommar) staffing"),
        ),
    )


def demo_apheresis() -> ApheresisCapacity:
    """Two slots each weekday, none at weekends, fewer on holiday eves."""
    return ApheresisCapacity(
        (2, 2, 2, 2, 2, 0, 0),
        exceptions=(
            (date(2027, 1, 5), 1),  # Trettondagsafton (eve of Epiphany), half day
            (date(2027, 4, 30), 1),  # Valborgsmässoafton, half day
            (date(2027, 6, 25), 0),  # Midsommarafton, de facto holiday
        ),
    )


def demo_trials() -> tuple[Trial, ...]:
    """A phase I CAR-T dose escalation (14-day stagger, each dose level opening 28 days
    after the last infusion of the one below) and a phase II TIL trial."""
    return (
        Trial(
            PHASE1,
            "Phase I dose escalation, CD19 CAR-T",
            CART,
            cohorts=(
                Cohort("DL1", 3, 14),
                Cohort("DL2", 3, 14, escalation_gate_days=28),
                Cohort("DL3", 6, 14, escalation_gate_days=28),
            ),
            enrolment_start=date(2026, 11, 1),
            enrolment_end=date(2027, 6, 30),
            priority=4,
            apheresis_within_days=28,
        ),
        Trial(
            PHASE2,
            "Phase II TIL in advanced melanoma",
            TIL,
            cohorts=(Cohort("ALL", 10, 0),),
            enrolment_start=date(2026, 12, 1),
            enrolment_end=date(2027, 6, 30),
            priority=5,
            apheresis_within_days=None,
        ),
    )


# Patients ------------------------------------------------------------------------------------


def _in_process_patients() -> tuple[Patient, ...]:
    """Two patients collected on the horizon's first morning, their chain under way.

    Their apheresis is done (and pinned); the solver does not accept done steps
    before the horizon, so nothing earlier is recorded.
    """
    return (
        Patient(
            "P001",
            CART,
            referral_date=date(2026, 12, 7),
            earliest_apheresis=HORIZON_START,
            latest_apheresis=HORIZON_START,
            needed_infusion=date(2027, 2, 1),
            priority=4,
            trial_code=PHASE1,
            cohort_code="DL1",
            status=PatientStatus.IN_PROCESS,
            done_steps=(
                DoneStep("apheresis", _at(HORIZON_START, 8), _at(HORIZON_START, 14), "APH"),
            ),
        ),
        Patient(
            "P002",
            FRESH,
            referral_date=date(2026, 12, 14),
            earliest_apheresis=HORIZON_START,
            latest_apheresis=HORIZON_START,
            needed_infusion=date(2027, 1, 18),
            priority=2,
            status=PatientStatus.IN_PROCESS,
            done_steps=(
                DoneStep("apheresis", _at(HORIZON_START, 8), _at(HORIZON_START, 12), "APH"),
            ),
        ),
    )


#: Patients referred during the horizon: (product, trial or None, how many).
_MIX: tuple[tuple[str, str | None, int], ...] = (
    (CART, PHASE1, 13),
    (CART, None, 12),
    (FRESH, None, 21),
    (TIL, PHASE2, 11),
    (TIL, None, 1),
)
#: Cohorts of the phase I trial in referral order (P001 is the DL1 sentinel).
_PHASE1_COHORTS = ("DL1",) * 2 + ("DL2",) * 4 + ("DL3",) * 7


def _referral_offsets(rng: random.Random, count: int) -> list[int]:
    """Referral days relative to the horizon start: spread out, with two bursts."""
    bursts = [(7, 18, 10), (84, 95, 7)]
    offsets = [rng.randint(lo, hi) for lo, hi, n in bursts for _ in range(n)]
    offsets += [rng.randint(-20, 120) for _ in range(count - len(offsets))]
    return sorted(offsets)


def demo_patients(rng: random.Random) -> tuple[Patient, ...]:
    """Two patients in process and 58 referred patients with pseudonymous codes."""
    labels = [(product, trial) for product, trial, n in _MIX for _ in range(n)]
    rng.shuffle(labels)
    offsets = _referral_offsets(rng, len(labels))
    standard = [i for i, (_, trial) in enumerate(labels) if trial is None]
    urgent = rng.sample(standard, 5)
    priority_of = {i: (1 if k == 0 else 2) for k, i in enumerate(urgent)}
    cohorts = iter(_PHASE1_COHORTS)
    patients = list(_in_process_patients())
    for i, ((product, trial), offset) in enumerate(zip(labels, offsets, strict=True)):
        referral = HORIZON_START + timedelta(days=offset)
        earliest = max(referral + timedelta(days=rng.randint(14, 21)), HORIZON_START)
        latest = earliest + timedelta(days=rng.randint(21, 35))
        if i in priority_of:
            priority = priority_of[i]
            needed = earliest + timedelta(days=rng.randint(21, 25))
        else:
            priority = {PHASE1: 4, PHASE2: 5}.get(trial or "", 3)
            spread = (45, 55) if product == TIL else (30, 40)
            needed = earliest + timedelta(days=rng.randint(*spread))
        cohort = None
        if trial == PHASE1:
            cohort = next(cohorts)
        elif trial == PHASE2:
            cohort = "ALL"
        patients.append(
            Patient(
                f"P{len(patients) + 1:03d}",
                product,
                referral_date=referral,
                earliest_apheresis=earliest,
                latest_apheresis=latest,
                needed_infusion=needed,
                priority=priority,
                trial_code=trial,
                cohort_code=cohort,
            )
        )
    return tuple(patients)


# The scenario --------------------------------------------------------------------------------


def build_demo_scenario() -> Scenario:
    """The demo centre over 2027-01-04 to 2027-07-04; the same scenario on every call."""
    rng = random.Random(SEED)
    holidays = swedish_holidays(HORIZON_START, HORIZON_END)
    staff = demo_staff()
    roster = demo_roster(staff, frozenset(h.day for h in holidays), rng)
    return Scenario(
        name="Demo: Stockholm university hospital ATMP centre, H1 2027",
        site=demo_site(),
        horizon_start=HORIZON_START,
        horizon_end=HORIZON_END,
        cleanrooms=demo_cleanrooms(),
        devices=demo_devices(),
        staff=staff,
        shift_codes=demo_shift_codes(),
        roster=roster,
        ward=demo_ward(),
        apheresis=demo_apheresis(),
        products=demo_products(),
        trials=demo_trials(),
        patients=demo_patients(rng),
        holidays=holidays,
    )
