"""Clinical timing of the chain, under both engines: each test fails if its rule is dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from planner import (
    ApheresisCapacity,
    Cleanroom,
    Cohort,
    DoneStep,
    DoneStepConflict,
    Grade,
    Holiday,
    Patient,
    PatientStatus,
    Plan,
    Product,
    ResourceType,
    Role,
    RosterEntry,
    Scenario,
    SolveSettings,
    StaffMember,
    Storage,
    Trial,
    UnscheduledReason,
    Ward,
    Window,
)
from planner.checks import check_plan
from solver import solve
from tests.factories import START, patient, product, tiny_scenario, with_patients

FAST = SolveSettings(deterministic_time=5.0)
Engine = Callable[[Scenario], Plan]


def _cp_sat(scenario: Scenario) -> Plan:
    plan = solve(scenario, FAST)
    assert plan.solver.engine.startswith("cp-sat")
    return plan


def _greedy(scenario: Scenario) -> Plan:
    plan = solve(scenario, FAST, cancel=lambda: True)
    assert plan.solver.engine.startswith("greedy")
    return plan


@pytest.fixture(params=[_cp_sat, _greedy], ids=["cp-sat", "greedy"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Solve with CP-SAT, or with the greedy booking alone (a solve cancelled at once)."""
    return request.param  # type: ignore[no-any-return]


def planned(engine: Engine, scenario: Scenario) -> Plan:
    """The engine's plan, checked by the independent checker."""
    plan = engine(scenario)
    assert check_plan(scenario, plan) == []
    return plan


def row(plan: Plan, patient_code: str, step: str) -> tuple:
    """Start and end of a patient's step (its first non-staff row)."""
    found = next(
        a
        for a in plan.assignments
        if a.patient_code == patient_code
        and a.step_code == step
        and a.resource_type is not ResourceType.STAFF_POOL
    )
    return found.start, found.end


def fresh(**overrides: object) -> Scenario:
    """One patient of a fresh product (overrides go to the product)."""
    fields: dict[str, object] = dict(storage=Storage.FRESH, qc_release_days=1)
    fields.update(overrides)
    return tiny_scenario(products=(product(**fields),), patients=(patient("P1", window_days=10),))


# Steps already done -------------------------------------------------------------------

MONDAY, TUESDAY = datetime(2027, 1, 4), datetime(2027, 1, 5)
H = timedelta(hours=1)
ROOMS2 = (
    Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8),
    Cleanroom("CR2", "Room 2", Grade.B, ("CART",), changeover_hours=8),
)


def in_process(code: str, *done: DoneStep, day: date = START) -> Patient:
    """A patient collected on a day (apheresis window that day), with these steps done."""
    return patient(
        code,
        referral_date=day - timedelta(days=7),
        earliest_apheresis=day,
        latest_apheresis=day,
        status=PatientStatus.IN_PROCESS,
        done_steps=done,
    )


def collected(at: datetime, hours: int = 6) -> DoneStep:
    """Apheresis done from a moment, lasting some hours."""
    return DoneStep("apheresis", at, at + hours * H, "APH")


WEDNESDAY = TUESDAY + 24 * H


@pytest.mark.parametrize(
    "seed_at", [WEDNESDAY + 9.5 * H, WEDNESDAY + 7 * H], ids=["09:30", "07:00"]
)
def test_done_steps_are_kept_exactly_as_recorded(engine: Engine, seed_at: datetime) -> None:
    """A seeding done at 09:30 or at 07:00 (before the working day) stays exactly there, and
    expansion starts after it ends (20 minutes past the hour)."""
    seed = DoneStep("seed", seed_at, seed_at + 6 * H + 20 * timedelta(minutes=1), "CR1")
    aph = collected(TUESDAY + 8 * H)
    s = tiny_scenario(patients=(in_process("P1", aph, seed, day=TUESDAY.date()),))
    plan = planned(engine, s)
    assert row(plan, "P1", "apheresis") == (aph.start, aph.end)
    assert row(plan, "P1", "seed") == (seed.start, seed.end)
    assert row(plan, "P1", "expand")[0] >= seed.end


def test_done_apheresis_on_a_day_without_slots_keeps_the_patient(engine: Engine) -> None:
    """A collection done on a Saturday, which has no slots, is a fact: the patient stays."""
    saturday = MONDAY - 2 * timedelta(days=1)
    p1 = in_process("P1", collected(saturday + 8 * H), day=saturday.date())
    s = tiny_scenario(horizon_start=saturday.date(), patients=(p1,))
    plan = planned(engine, s)
    assert [x.patient_code for x in plan.schedules] == ["P1"]
    assert row(plan, "P1", "apheresis")[0] == saturday + 8 * H


def test_two_done_apheresis_on_a_one_slot_day_keep_both_patients(engine: Engine) -> None:
    """Two collections done on a Monday with one slot: both patients stay in the plan."""
    s = tiny_scenario(
        cleanrooms=ROOMS2,
        patients=(
            in_process("P1", collected(MONDAY + 8 * H)),
            in_process("P2", collected(MONDAY + 9 * H, hours=4)),
        ),
    )
    plan = planned(engine, s)
    assert sorted(x.patient_code for x in plan.schedules) == ["P1", "P2"]
    assert not plan.unscheduled


@pytest.mark.parametrize("slots", [1, 2])
def test_a_done_apheresis_takes_one_of_the_days_slots(engine: Engine, slots: int) -> None:
    """P1 collected on Wednesday: P2, who can only be collected that day, gets the second
    slot if there is one, else waits."""
    wednesdays = ApheresisCapacity((1, 1, slots, 1, 1, 0, 0))
    s = tiny_scenario(
        cleanrooms=ROOMS2,
        apheresis=wednesdays,
        patients=(
            in_process("P1", collected(WEDNESDAY + 8 * H), day=WEDNESDAY.date()),
            patient("P2", day_offset=2, window_days=0),
        ),
    )
    plan = planned(engine, s)
    assert sorted(x.patient_code for x in plan.schedules) == ["P1", "P2"][:slots]


@pytest.mark.parametrize("operators", [1, 2])
def test_a_done_step_takes_its_staff_hours(engine: Engine, operators: int) -> None:
    """P1's done seeding took 6 operator-hours on Thursday: with one operator (8 h) P2,
    collected on Wednesday, is seeded on Friday at the earliest; with two (16 h) the
    greedy seeds it on Thursday (CP-SAT may take Friday: the infusion day is the same)."""
    thursday = WEDNESDAY + 24 * H
    seed = DoneStep("seed", thursday + 8 * H, thursday + 14 * H, "CR1")
    base = tiny_scenario(
        cleanrooms=ROOMS2,
        apheresis=ApheresisCapacity((2, 2, 2, 2, 2, 0, 0)),
        patients=(
            in_process("P1", collected(WEDNESDAY + 8 * H), seed, day=WEDNESDAY.date()),
            patient("P2", day_offset=2, window_days=0),
        ),
    )
    roster = tuple(
        r
        for r in base.roster
        if not (operators == 1 and r.day == thursday.date() and r.staff_code == "OP2")
    )
    plan = planned(engine, replace(base, roster=roster))
    assert plan.kpis.scheduled == 2
    seeded = thursday.date() + timedelta(days=2 - operators)
    assert row(plan, "P2", "seed")[0].date() >= seeded
    if engine is _greedy or operators == 1:
        assert row(plan, "P2", "seed")[0].date() == seeded


@pytest.mark.parametrize("wholly", [False, True], ids=["seeded", "harvested"])
def test_a_done_stay_in_a_room_is_respected_by_others(engine: Engine, wholly: bool) -> None:
    """P1 seeded (or even harvested) in the only room: P2 enters after P1's stay and the
    changeover."""
    seed = DoneStep("seed", TUESDAY + 8.25 * H, TUESDAY + 14 * H, "CR1")
    done = [collected(MONDAY + 8 * H), seed]
    if wholly:
        done.append(DoneStep("expand", seed.end, seed.end + 72 * H, "CR1"))
        done.append(DoneStep("harvest", seed.end + 72 * H, seed.end + 78 * H, "CR1"))
    s = tiny_scenario(
        apheresis=ApheresisCapacity((2, 2, 2, 2, 2, 0, 0)),
        patients=(in_process("P1", *done), patient("P2")),
    )
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 2

    def in_cr1(code: str) -> list[datetime]:
        return [
            t
            for a in plan.assignments
            if a.patient_code == code and a.resource_code == "CR1"
            for t in (a.start, a.end)
        ]

    assert min(in_cr1("P2")) >= max(in_cr1("P1")) + 8 * H


def test_in_process_patient_stays_even_against_a_more_urgent_one(engine: Engine) -> None:
    """One bed and room for one more infusion: it goes to P1 (in process, priority 9), not to
    P2 (referred, priority 1), though P2 alone would weigh more."""
    ward = Ward("W1", "Ward", beds=1)
    p1 = replace(in_process("P1", collected(MONDAY + 8 * H)), priority=9)
    alone = planned(engine, tiny_scenario(ward=ward, patients=(p1,)))
    last_day = alone.schedules[0].infusion_day + timedelta(days=2)
    s = tiny_scenario(
        horizon_end=last_day, ward=ward, patients=(p1, patient("P2", priority=1, window_days=3))
    )
    plan = planned(engine, s)
    assert [x.patient_code for x in plan.schedules] == ["P1"]


def test_in_process_trial_patient_outside_enrolment_stays(engine: Engine) -> None:
    """A trial patient collected already stays planned though referred before enrolment
    opened (the trial was amended); a referred one in the same case is left out."""
    trial = Trial("T1", "Trial", "CART", (Cohort("C1", 5),), START, START + timedelta(days=60))
    collected_p1 = replace(
        in_process("P1", collected(MONDAY + 8 * H)), trial_code="T1", cohort_code="C1"
    )
    referred_p2 = patient(
        "P2",
        referral_date=START - timedelta(days=3),
        earliest_apheresis=START,
        trial_code="T1",
        cohort_code="C1",
    )
    s = tiny_scenario(cleanrooms=ROOMS2, trials=(trial,), patients=(collected_p1, referred_p2))
    plan = planned(engine, s)
    assert [x.patient_code for x in plan.schedules] == ["P1"]


# Conflicts among steps done -------------------------------------------------------------


def test_done_steps_out_of_chain_order_are_refused() -> None:
    """Seeding recorded before the apheresis ended is refused, naming patient and steps."""
    seed = DoneStep("seed", MONDAY + 12 * H, MONDAY + 18 * H, "CR1")
    with pytest.raises(DoneStepConflict) as raised:
        tiny_scenario(patients=(in_process("P1", collected(MONDAY + 8 * H), seed),))
    message = str(raised.value)
    assert "Patient 'P1'" in message and "'seed'" in message and "'apheresis'" in message
    assert "\n" not in message


def test_a_later_step_done_without_the_earlier_is_refused() -> None:
    """Expansion recorded as done while seeding is not: refused, naming both steps."""
    expand = DoneStep("expand", TUESDAY + 8 * H, TUESDAY + 80 * H, "CR1")
    with pytest.raises(DoneStepConflict, match=r"Patient 'P1'.*'expand'.*'seed'"):
        tiny_scenario(patients=(in_process("P1", collected(MONDAY + 8 * H), expand),))


def test_two_patients_done_in_one_room_at_once_are_refused() -> None:
    """P2 seeded in CR1 while P1's batch still holds it: refused, naming both patients."""
    p1 = in_process(
        "P1", collected(MONDAY + 8 * H), DoneStep("seed", TUESDAY + 8 * H, TUESDAY + 14 * H, "CR1")
    )
    p2_seed = DoneStep("seed", TUESDAY + 15 * H, TUESDAY + 21 * H, "CR1")
    p2 = in_process("P2", collected(MONDAY + 9 * H, hours=4), p2_seed)
    with pytest.raises(DoneStepConflict) as raised:
        tiny_scenario(
            cleanrooms=ROOMS2, apheresis=ApheresisCapacity((2, 2, 2, 2, 2, 0, 0)), patients=(p1, p2)
        )
    message = str(raised.value)
    assert all(word in message for word in ("'P1'", "'P2'", "'CR1'", "'seed'"))


def test_more_patients_collected_than_the_cohort_cap_are_refused() -> None:
    """Two patients collected for a cohort of one: refused, naming the cohort and both."""
    trial = Trial("T1", "Trial", "CART", (Cohort("C1", 1),), START, START + timedelta(days=60))
    both = tuple(
        replace(in_process(code, collected(at, 4)), trial_code="T1", cohort_code="C1")
        for code, at in (("P1", MONDAY + 8 * H), ("P2", MONDAY + 12 * H))
    )
    with pytest.raises(DoneStepConflict, match=r"Cohort T1/C1 .* cap of 1 .* P1, P2"):
        tiny_scenario(cleanrooms=ROOMS2, trials=(trial,), patients=both)


def test_in_process_patient_whose_chain_cannot_go_on_is_an_error(engine: Engine) -> None:
    """Seeded, then the only room goes down for a month: solving says so, naming P1."""
    seed = DoneStep("seed", TUESDAY + 8 * H, TUESDAY + 14 * H, "CR1")
    down = Window(TUESDAY + 14 * H, TUESDAY + 30 * 24 * H, "requalification")
    room = Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8, downtime=(down,))
    s = tiny_scenario(
        cleanrooms=(room,), patients=(in_process("P1", collected(MONDAY + 8 * H), seed),)
    )
    with pytest.raises(DoneStepConflict, match=r"Patient 'P1'.*'seed'") as raised:
        engine(s)
    assert "\n" not in str(raised.value)


# Lymphodepletion and apheresis --------------------------------------------------------


def test_lymphodepletion_never_starts_before_apheresis_ends(engine: Engine) -> None:
    """With 8 days of lymphodepletion and a short process, LD still waits for apheresis."""
    # Released the day after harvest, a 6-day shelf life: infusing as early as allowed
    # would put lymphodepletion days before the collection.
    s = fresh(fresh_shelf_days=6, ld_days_before_infusion=8, ld_before_release=True)
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 1
    _, aph_end = row(plan, "P1", "apheresis")
    ld_start, _ = row(plan, "P1", "lymphodepletion")
    assert ld_start >= aph_end


# Shelf life ---------------------------------------------------------------------------


def test_shelf_life_counts_from_the_configured_step(engine: Engine) -> None:
    """A fresh product kept 4 days from seeding cannot wait for harvest 4+ days later."""
    from_last = planned(engine, fresh(fresh_shelf_days=4, ld_before_release=True))
    assert from_last.kpis.scheduled == 1
    from_seed = fresh(fresh_shelf_days=4, ld_before_release=True, shelf_life_from_step="seed")
    assert planned(engine, from_seed).kpis.scheduled == 0


def test_greedy_keeps_the_last_day_of_shelf_life(engine: Engine) -> None:
    """The only bed is taken on every day of P1's natural shelf life (3 days from harvest):
    P1 moves, and is never infused the day after its shelf life ends."""
    s = fresh(fresh_shelf_days=3, ld_before_release=True, infusion_any_day=True)
    s = replace(s, ward=Ward("W1", "Ward", beds=1))
    alone = planned(engine, s)
    _, made = row(alone, "P1", "harvest")
    natural = _infusion(alone, "P1")
    assert natural == made.date() + timedelta(days=1)
    plan = planned(engine, with_patients(s, _infused("P0", natural), *s.patients))
    _, made = row(plan, "P1", "harvest")
    assert _infusion(plan, "P1") <= made.date() + timedelta(days=3)


# Lymphodepletion and release ----------------------------------------------------------


def test_cryopreserved_lymphodepletion_waits_for_release(engine: Engine) -> None:
    """A cryopreserved batch released 2 days after harvest: LD starts on release day or later."""
    s = tiny_scenario(n_patients=2)
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 2
    for schedule in plan.schedules:
        ld_start, _ = row(plan, schedule.patient_code, "lymphodepletion")
        assert ld_start.date() >= schedule.release_day


def test_cryopreserved_lymphodepletion_waits_for_the_batch_even_when_released_at_once(
    engine: Engine,
) -> None:
    """QC releases on the day the batch is made (0 days): lymphodepletion, which would
    start that morning, waits for the next day, once the batch exists."""
    s = tiny_scenario(1, products=(product(qc_release_days=0, infusion_any_day=True),))
    plan = planned(engine, s)
    _, made = row(plan, "P1", "harvest")
    ld_start, _ = row(plan, "P1", "lymphodepletion")
    assert ld_start >= made
    assert ld_start.date() == made.date() + timedelta(days=1)


def test_infusion_comes_the_day_after_the_batch_at_the_earliest(engine: Engine) -> None:
    """A fresh product released the day it is made (0 QC days), infused any day: it is
    infused the day after harvest, not the same day."""
    s = fresh(qc_release_days=0, ld_before_release=True, infusion_any_day=True)
    plan = planned(engine, s)
    _, made = row(plan, "P1", "harvest")
    assert _infusion(plan, "P1") == made.date() + timedelta(days=1)


def test_fresh_lymphodepletion_before_release_only_when_allowed(engine: Engine) -> None:
    """Released 2 days after harvest, kept 3: a 3-day LD must start before release."""
    allowed = planned(engine, fresh(qc_release_days=2, fresh_shelf_days=3, ld_before_release=True))
    assert allowed.kpis.scheduled == 1
    schedule = allowed.schedules[0]
    ld_start, _ = row(allowed, "P1", "lymphodepletion")
    assert ld_start.date() < schedule.release_day
    refused = planned(engine, fresh(qc_release_days=2, fresh_shelf_days=3))
    assert refused.kpis.scheduled == 0


# The clinical calendar (issue 15, item 4) ---------------------------------------------------


def _calendar_rows(plan: Plan, step: str) -> list[date]:
    return sorted(
        a.start.date()
        for a in plan.assignments
        if a.step_code == step and a.resource_type is ResourceType.NONE
    )


def test_infusion_and_lymphodepletion_fall_on_clinical_days(engine: Engine) -> None:
    """No infusion, and no lymphodepletion start, on a weekend or a public holiday."""
    holiday = Holiday(date(2027, 1, 18), "A Monday holiday")
    s = tiny_scenario(3, holidays=(holiday,))
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 3
    for day in _calendar_rows(plan, "infusion") + _calendar_rows(plan, "lymphodepletion"):
        assert day.weekday() < 5 and day != holiday.day, day


def test_a_product_allowing_any_day_may_be_infused_on_a_weekend(engine: Engine) -> None:
    """The same centre with an any-day product infuses sooner, on a Saturday (v2v shorter)."""
    strict = planned(engine, tiny_scenario(1))
    free = planned(engine, tiny_scenario(1, products=(product(infusion_any_day=True),)))
    assert free.schedules[0].vein_to_vein_days < strict.schedules[0].vein_to_vein_days
    assert free.schedules[0].infusion_day.weekday() >= 5


def test_release_waits_for_a_day_a_qp_works(engine: Engine) -> None:
    """QPs who work Mondays and Thursdays only: every batch is released on such a day."""
    base = tiny_scenario(2, products=(product(infusion_any_day=True),))
    qp = StaffMember("QP1", (Role.QP,), ())
    days = [d for d in base.days() if d.weekday() in (0, 3)]
    s = replace(
        base,
        staff=(*base.staff, qp),
        roster=(*base.roster, *(RosterEntry("QP1", d, "D") for d in days)),
    )
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 2
    for schedule in plan.schedules:
        assert schedule.release_day.weekday() in (0, 3), schedule.release_day
        assert schedule.infusion_day >= schedule.release_day


# Trials and patients already infused --------------------------------------------------


def _trial(*cohorts: Cohort, within: int | None = None) -> Trial:
    return Trial("T1", "Trial", "CART", cohorts, START, START + timedelta(days=80), 3, within)


def _in_cohort(p: Patient, cohort: str) -> Patient:
    return replace(p, trial_code="T1", cohort_code=cohort)


def _infused(code: str, day: date, cohort: str | None = None) -> Patient:
    """A patient infused on a day (its chain before the horizon or outside this plan)."""
    p = patient(
        code,
        referral_date=START - timedelta(days=40),
        earliest_apheresis=START - timedelta(days=30),
        latest_apheresis=START - timedelta(days=30),
        status=PatientStatus.INFUSED,
        infused_on=day,
    )
    return p if cohort is None else _in_cohort(p, cohort)


def _infusion(plan: Plan, code: str) -> date:
    schedule = plan.schedule_of(code)
    assert schedule is not None, f"{code} is not scheduled"
    return schedule.infusion_day


def test_a_dose_level_opens_only_after_the_one_below(engine: Engine) -> None:
    """DL2 (gate 20 days) is referred before DL1: its infusion still waits for DL1's + 20."""
    trial = _trial(Cohort("DL1", 1), Cohort("DL2", 1, escalation_gate_days=20))
    s = tiny_scenario(
        days=90,
        cleanrooms=ROOMS2,
        trials=(trial,),
        patients=(
            _in_cohort(patient("P1", window_days=40), "DL2"),
            _in_cohort(patient("P2", 1, window_days=40), "DL1"),
        ),
    )
    plan = planned(engine, s)
    if engine is _cp_sat:
        assert plan.kpis.scheduled == 2
    if plan.kpis.scheduled == 2:
        assert (_infusion(plan, "P1") - _infusion(plan, "P2")).days >= 20
    else:
        # The greedy books the first referral first; DL1 then has no room before it.
        assert [u.patient_code for u in plan.unscheduled] == ["P2"]


#: The products of a test: on the clinical calendar, or infused any day (then the earliest
#: day a rule allows is taken exactly, and a rule one day short shows).
CALENDARS = pytest.mark.parametrize("any_day", [False, True], ids=["clinical-days", "any-day"])


def _products(any_day: bool) -> tuple[Product, ...]:
    return (product(infusion_any_day=any_day),)


@CALENDARS
def test_an_infused_patient_of_the_level_below_gates_the_next(
    engine: Engine, any_day: bool
) -> None:
    """DL1 infused on day 10: DL2's infusion comes 20 days after, not before (any day:
    exactly then)."""
    trial = _trial(Cohort("DL1", 2), Cohort("DL2", 1, escalation_gate_days=20))
    s = tiny_scenario(
        days=90,
        trials=(trial,),
        products=_products(any_day),
        patients=(
            _infused("P0", START + timedelta(days=10), "DL1"),
            _in_cohort(patient("P1", window_days=40), "DL2"),
        ),
    )
    plan = planned(engine, s)
    assert _infusion(plan, "P1") >= START + timedelta(days=30)
    if any_day:
        assert _infusion(plan, "P1") == START + timedelta(days=30)


def _natural_infusion(engine: Engine, s: Scenario) -> date:
    """Where the scenario's only patient P1 is infused with nobody else around."""
    return _infusion(planned(engine, s), "P1")


@CALENDARS
def test_an_infused_patient_keeps_its_bed_days(engine: Engine, any_day: bool) -> None:
    """One bed, taken by a patient infused on the day P1 would be: P1's stay moves off it
    (any day: to the day after P0's stay)."""
    s = tiny_scenario(1, ward=Ward("W1", "Ward", beds=1), products=_products(any_day))
    natural = _natural_infusion(engine, s)
    stay = s.products[0].inpatient_days
    plan = planned(engine, with_patients(s, _infused("P0", natural), *s.patients))
    moved = _infusion(plan, "P1")
    assert abs((moved - natural).days) >= stay
    if any_day:
        assert moved == natural + timedelta(days=stay)


@CALENDARS
def test_an_infused_patient_counts_for_the_cohort_stagger(engine: Engine, any_day: bool) -> None:
    """A 14-day stagger, and a cohort member infused on P1's natural day: P1 keeps 14 off
    (any day: exactly 14)."""
    trial = _trial(Cohort("C1", 3, 14))
    s = tiny_scenario(
        days=90,
        trials=(trial,),
        products=_products(any_day),
        patients=(_in_cohort(patient("P1", window_days=40), "C1"),),
    )
    natural = _natural_infusion(engine, s)
    plan = planned(engine, with_patients(s, _infused("P0", natural, "C1"), *s.patients))
    assert abs((_infusion(plan, "P1") - natural).days) >= 14
    if any_day:
        assert _infusion(plan, "P1") == natural + timedelta(days=14)


def test_an_infused_patient_counts_for_the_cohort_cap(engine: Engine) -> None:
    """A cohort of one, its place taken by a patient infused already: P1 is left out."""
    trial = _trial(Cohort("C1", 1))
    p1 = _in_cohort(patient("P1"), "C1")
    s = tiny_scenario(trials=(trial,), patients=(_infused("P0", START, "C1"), p1))
    plan = planned(engine, s)
    assert plan.schedules == ()
    assert [u.reason for u in plan.unscheduled] == [UnscheduledReason.COHORT_FULL]


def test_apheresis_within_days_counts_from_enrolment(engine: Engine) -> None:
    """Referred day 0, enrolled day 10, apheresis within 5 days: collected days 10-15."""
    late = patient(
        "P1",
        referral_date=START,
        earliest_apheresis=START + timedelta(days=10),
        latest_apheresis=START + timedelta(days=30),
        enrolled_on=START + timedelta(days=10),
        trial_code="T1",
        cohort_code="C1",
    )
    s = tiny_scenario(trials=(_trial(Cohort("C1", 3), within=5),), patients=(late,))
    plan = planned(engine, s)
    apheresis = plan.schedules[0].apheresis_day
    assert START + timedelta(days=10) <= apheresis <= START + timedelta(days=15)


def test_apheresis_within_days_ends_on_its_last_day(engine: Engine) -> None:
    """Enrolled on a public holiday (no apheresis), apheresis within 0 days: the day after
    is one day too late, so P1 is not collected at all; within 1 day, it is that day."""
    holiday = Holiday(date(2027, 1, 6), "Epiphany")
    p1 = patient(
        "P1",
        referral_date=START,
        earliest_apheresis=holiday.day,
        latest_apheresis=holiday.day + timedelta(days=20),
        enrolled_on=holiday.day,
        trial_code="T1",
        cohort_code="C1",
    )
    s = tiny_scenario(
        holidays=(holiday,), trials=(_trial(Cohort("C1", 3), within=0),), patients=(p1,)
    )
    assert planned(engine, s).schedules == ()
    relaxed = replace(s, trials=(_trial(Cohort("C1", 3), within=1),))
    assert planned(engine, relaxed).schedules[0].apheresis_day == holiday.day + timedelta(days=1)


def test_the_checker_catches_trial_and_infused_rules(engine: Engine) -> None:
    """A valid plan, checked against a scenario that changed under it, breaks each rule."""
    gated = _trial(Cohort("C1", 3), Cohort("C2", 3, escalation_gate_days=30))
    p1 = _in_cohort(patient("P1", window_days=10), "C2")
    s = tiny_scenario(days=90, ward=Ward("W1", "Ward", beds=1), trials=(gated,), patients=(p1,))
    plan = planned(engine, s)
    day, apheresis = _infusion(plan, "P1"), plan.schedules[0].apheresis_day
    strict = replace(gated, apheresis_within_days=0)
    cases = {
        "less than 30 days after cohort C1": replace(
            s, patients=(_infused("P0", day - timedelta(days=5), "C1"), p1)
        ),
        "in-patients": replace(s, patients=(_infused("P0", day), p1)),
        "more than 0 days after enrolment": replace(
            s,
            trials=(strict,),
            patients=(
                replace(
                    p1,
                    enrolled_on=apheresis - timedelta(days=1),
                    earliest_apheresis=max(p1.earliest_apheresis, apheresis - timedelta(days=1)),
                ),
            ),
        ),
        # After the apheresis, not before it: the plan may collect on the first day.
        "outside its window": replace(
            s,
            patients=(
                replace(
                    p1,
                    earliest_apheresis=apheresis + timedelta(days=1),
                    latest_apheresis=apheresis + timedelta(days=10),
                ),
            ),
        ),
    }
    for expected, changed in cases.items():
        problems = check_plan(changed, plan)
        assert any(expected in p for p in problems), (expected, problems)
