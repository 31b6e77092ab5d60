"""Re-planning against a published plan: one tiny instance per rule, each failing without it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from planner import (
    DoneStepConflict,
    Plan,
    ResourceType,
    Scenario,
    SolveSettings,
    Storage,
    ValidationError,
    Window,
)
from planner.kpis import format_plan
from planner.plan_diff import compare_plans
from planner.replan import Pin, Replan, fixed_chains
from solver import solve
from solver.greedy import greedy
from solver.instance import compile_instance
from solver.stability import attach, prepare
from tests.factories import START, patient, product, tiny_scenario, with_patients

FAST = SolveSettings(deterministic_time=1.0)


def _steps(plan: Plan, code: str) -> list[tuple[str, str, object, object]]:
    """A patient's step rows (not the named or pooled staff), as comparable tuples."""
    return sorted(
        (a.step_code, a.resource_code, a.start, a.end)
        for a in plan.assignments
        if a.patient_code == code
        and a.resource_type not in (ResourceType.STAFF, ResourceType.STAFF_POOL)
    )


def _contested(greedy_only: bool = False) -> tuple[Scenario, Plan, Scenario]:
    """P1 published on the first apheresis day (by the greedy alone: each step at its
    earliest); then P0 (priority 1) wants only that day."""
    first = tiny_scenario(patients=(patient("P1"),))
    published = solve(first, FAST, cancel=(lambda: True) if greedy_only else None)
    assert published.schedule_of("P1") is not None
    urgent = patient("P0", window_days=0, priority=1)
    return first, published, with_patients(first, urgent, *first.patients)


def test_frozen_steps_keep_their_published_times() -> None:
    """P1's apheresis falls in the 14-day frozen window: the urgent P0 cannot take its day."""
    _, published, changed = _contested()
    plan = solve(changed, FAST, replan=Replan(published, START, 14))
    assert _steps(plan, "P1") == _steps(published, "P1")
    assert plan.schedule_of("P0") is None
    # Without the frozen window the urgent patient takes the day and P1 moves.
    loose = solve(changed, FAST, replan=Replan(published, START, 0))
    assert loose.schedule_of("P0") is not None
    assert _steps(loose, "P1") != _steps(published, "P1")


def test_a_pinned_patient_keeps_its_chain_outside_the_frozen_window() -> None:
    """With no frozen days, a pin alone keeps P1 where it was."""
    _, published, changed = _contested()
    plan = solve(changed, FAST, replan=Replan(published, START, 0, (Pin("P1"),)))
    assert _steps(plan, "P1") == _steps(published, "P1")
    assert plan.schedule_of("P0") is None


def test_a_pinned_step_keeps_the_chain_up_to_it() -> None:
    """Pinning the seeding keeps apheresis and seeding (and the rest of the room stay)."""
    _, published, changed = _contested()
    plan = solve(changed, FAST, replan=Replan(published, START, 0, (Pin("P1", "seed"),)))
    before = {s[0]: s for s in _steps(published, "P1")}
    after = {s[0]: s for s in _steps(plan, "P1")}
    for code in ("apheresis", "seed", "expand", "harvest"):
        assert after[code] == before[code]


def test_steps_started_before_the_planning_date_stay() -> None:
    """Planning three days in, P1's apheresis and seeding have started: its room stay
    holds, so P0 (priority 1, collected on day 3) finds no room in time. (Published by
    the greedy, whose seeding is on day 1: CP-SAT may put it anywhere up to day 3.)"""
    _, published, changed = _contested(greedy_only=True)
    today = START + timedelta(days=3)
    urgent = patient("P0", day_offset=3, window_days=0, priority=1)
    changed = with_patients(changed, urgent, changed.patients[1])
    seed = next(a for a in published.assignments if a.step_code == "seed")
    assert seed.start.date() < today
    plan = solve(changed, FAST, replan=Replan(published, today, 0))
    assert _steps(plan, "P1") == _steps(published, "P1")
    assert plan.schedule_of("P0") is None
    # Planned from the horizon start instead, nothing had started: P0 gets the room.
    assert solve(changed, FAST, replan=Replan(published, START, 0)).schedule_of("P0")


def test_stability_comes_before_waiting() -> None:
    """P1 could now be collected five days earlier; the re-plan leaves it where it was
    published, a fresh plan moves it forward."""
    first = tiny_scenario(patients=(patient("P1", day_offset=5),))
    published = solve(first, FAST)
    earlier = with_patients(first, patient("P1", window_days=25))
    kept = solve(earlier, FAST, replan=Replan(published, START, 0))
    fresh = solve(earlier, FAST)
    before = published.schedule_of("P1")
    after, moved = kept.schedule_of("P1"), fresh.schedule_of("P1")
    assert before is not None and after is not None and moved is not None
    assert after.apheresis_day == before.apheresis_day
    assert moved.apheresis_day < before.apheresis_day
    assert any("Stability: 0 of 1 published patients moved" in n for n in kept.notes)


def _one_bed() -> Scenario:
    """One bed; P1's product stays 20 days, so no other infusion fits beside it, while two
    ten-day stays fit one after the other without it."""
    long = product(
        "LONG",
        storage=Storage.FRESH,
        fresh_shelf_days=2,
        qc_release_days=1,
        ld_days_before_infusion=0,
        inpatient_days=20,
    )
    base = tiny_scenario(days=26, patients=())
    rooms = tuple(replace(r, products=("CART", "LONG")) for r in base.cleanrooms)
    staff = tuple(replace(s, trained_products=("CART", "LONG")) for s in base.staff)
    return replace(
        base,
        products=(product(inpatient_days=10), long),
        cleanrooms=rooms,
        staff=staff,
        ward=replace(base.ward, beds=1),
        patients=(patient("P1", window_days=0, product_code="LONG"),),
    )


def test_a_published_patient_is_not_dropped_for_newcomers_of_lower_priority() -> None:
    """Two priority-4 referrals outweigh P1 (priority 3) in patients scheduled, but P1 was
    published: it stays, and they wait."""
    first = _one_bed()
    published = solve(first, FAST)
    assert published.schedule_of("P1") is not None
    newcomers = (
        patient("N1", window_days=15, priority=4),
        patient("N2", window_days=15, priority=4),
    )
    changed = with_patients(first, *first.patients, *newcomers)
    fresh = solve(changed, FAST)
    assert fresh.schedule_of("P1") is None  # a plan from scratch takes the two
    plan = solve(changed, FAST, replan=Replan(published, START, 0))
    assert plan.schedule_of("P1") is not None
    assert compare_plans(published, plan).dropped == ()


def test_a_published_patient_is_dropped_for_higher_priority_and_the_diff_says_why() -> None:
    """A priority-1 referral needs P1's bed: P1 is dropped, the notes and the diff say so."""
    first = _one_bed()
    published = solve(first, FAST)
    changed = with_patients(first, *first.patients, patient("N0", window_days=15, priority=1))
    plan = solve(changed, FAST, replan=Replan(published, START, 0, published_id=7))
    assert plan.schedule_of("P1") is None and plan.schedule_of("N0") is not None
    (dropped,) = compare_plans(published, plan).dropped
    assert dropped.patient_code == "P1"
    assert "published plan #7, is dropped" in dropped.reason
    assert "higher priority (N0)" in dropped.reason


def test_the_greedy_floor_books_the_published_chains_first() -> None:
    """The greedy booking (the plan CP-SAT must beat) keeps P1's frozen chain too."""
    _, published, changed = _contested()
    replan = Replan(published, START, 14)
    prepared = prepare(changed, replan)
    instance = compile_instance(prepared.scenario)
    attach(instance, replan, prepared)
    result = greedy(instance)
    p1 = next(j for j in instance.jobs if j.code == "P1")
    chain = next(c for c in result.booking.chains if c.job == p1.index)
    assert chain == p1.published
    assert all(instance.jobs[c.job].code != "P0" for c in result.booking.chains)


def test_the_kept_prefix_grows_to_the_whole_room_stay_and_to_the_infusion() -> None:
    """A frozen seeding keeps the whole stay in the room; the infusion is kept only once
    its lymphodepletion starts inside the window; a pinned apheresis keeps apheresis only."""
    scenario = tiny_scenario(patients=(patient("P1"),))
    published = solve(scenario, FAST)
    seed = next(a for a in published.assignments if a.step_code == "seed")
    schedule = published.schedule_of("P1")
    assert schedule is not None
    days_to_seed = (seed.start.date() - START).days + 1
    fixed = fixed_chains(scenario, Replan(published, START, days_to_seed))["P1"]
    assert [s.step_code for s in fixed.steps] == ["apheresis", "seed", "expand", "harvest"]
    assert fixed.infusion_day is None
    days_to_ld = (schedule.ld_start_day - START).days + 1
    whole = fixed_chains(scenario, Replan(published, START, days_to_ld))["P1"]
    assert whole.infusion_day == schedule.infusion_day and whole.why == "frozen window"
    pinned = fixed_chains(scenario, Replan(published, START, 0, (Pin("P1", "apheresis"),)))
    assert [s.step_code for s in pinned["P1"].steps] == ["apheresis"]
    assert pinned["P1"].why == "pinned"
    assert fixed_chains(scenario, Replan(published, START, 0)) == {}


def test_compare_plans_counts_moved_added_and_dropped() -> None:
    """The diff of a plan with itself is empty; a moved patient's days are counted."""
    first = tiny_scenario(patients=(patient("P1", day_offset=5), patient("P2")))
    a = solve(first, FAST)
    assert compare_plans(a, a).changes == () and compare_plans(a, a).unchanged == 2
    b = solve(
        with_patients(
            first,
            patient("P1", window_days=25, needed_infusion=START + timedelta(days=14)),
            patient("P3"),
        ),
        FAST,
    )
    diff = compare_plans(a, b)
    assert {c.patient_code for c in diff.moved} == {"P1"}
    (moved,) = diff.moved
    assert moved.apheresis_days < 0 and diff.days_moved == moved.days_moved > 0
    assert [c.patient_code for c in diff.dropped] == ["P2"]
    assert "not among plan B's patients" in diff.dropped[0].reason
    assert [c.patient_code for c in diff.added] == ["P3"]


def test_scenario_and_replan_refuse_a_bad_frozen_window() -> None:
    """Frozen days outside 0-366 are refused with the range."""
    with pytest.raises(ValidationError, match="Frozen days must be 0-366"):
        tiny_scenario(frozen_days=-1)
    plan = solve(tiny_scenario(), FAST)
    with pytest.raises(ValidationError, match="Frozen days must be 0-366"):
        Replan(plan, START, 400)


def test_lateness_weights_per_priority_decide_who_is_late() -> None:
    """Two late patients, one slot a day: the priority class whose lateness weighs more goes
    first, whichever that is."""
    late = (
        patient("P1", window_days=10, priority=2, needed_infusion=START + timedelta(days=5)),
        patient("P2", window_days=10, priority=3, needed_infusion=START + timedelta(days=5)),
    )
    base = tiny_scenario(patients=late)
    firsts = []
    for favoured in (2, 3):
        weights = tuple((p, 100 if p == favoured else 1) for p in range(1, 10))
        plan = solve(replace(base, lateness_weights=weights), FAST)
        first = min(plan.schedules, key=lambda s: (s.apheresis_day, s.patient_code))
        firsts.append(first.patient_code)
    assert firsts == ["P1", "P2"]


def test_the_plan_reports_each_objective_level() -> None:
    """A re-plan reports patients scheduled (with its bound), stability (dropped, moved,
    days), then weighted lateness plus waiting; on this tiny centre every level is proved,
    so each has a bound equal to its value."""
    _, published, changed = _contested()
    plan = solve(changed, FAST, replan=Replan(published, START, 14))
    names = [level.name for level in plan.solver.levels]
    assert names == [
        "patients scheduled (priority weight)",
        "published patients dropped",
        "published patients moved",
        "days moved (apheresis + infusion)",
        "weighted lateness + waiting (days)",
    ]
    scheduled, dropped, moved, days, time = plan.solver.levels
    assert scheduled.value == 10 and scheduled.bound is not None and scheduled.bound >= 10
    assert (dropped.value, moved.value, days.value) == (0, 0, 0)
    assert plan.solver.status == "OPTIMAL"
    assert [(lv.bound, lv.gap) for lv in plan.solver.levels[1:]] == [
        (lv.value, 0) for lv in plan.solver.levels[1:]
    ]
    assert time.value > 0
    fresh = solve(changed, FAST)
    assert [lv.name for lv in fresh.solver.levels][1] == "weighted lateness + waiting (days)"
    text = format_plan(plan)
    assert "Objective levels (most important first)" in text
    assert "of the weighted sum; each level's own gap is below" in text


def test_kept_steps_keep_the_people_the_published_plan_named() -> None:
    """The published plan named the other operator for P1's steps (both could do them):
    the re-plan keeps those names on the frozen steps instead of naming afresh."""
    _, published, changed = _contested()
    swap = {"OP1": "OP2", "OP2": "OP1"}
    rows = tuple(
        replace(a, resource_code=swap[a.resource_code])
        if a.resource_type is ResourceType.STAFF and a.patient_code == "P1"
        else a
        for a in published.assignments
    )
    swapped = replace(published, assignments=rows)

    def names(plan: Plan) -> list[tuple[str, str, object]]:
        return sorted(
            (a.step_code, a.resource_code, a.start)
            for a in plan.assignments
            if a.resource_type is ResourceType.STAFF and a.patient_code == "P1"
        )

    assert names(swapped) != names(published)
    plan = solve(changed, FAST, replan=Replan(swapped, START, 14))
    assert names(plan) == names(swapped)


def test_a_room_down_under_a_frozen_step_is_refused_naming_patient_and_step() -> None:
    """Disruption: the cleanroom goes down while P1's frozen batch is in it. The re-plan
    cannot keep that step and says who, which step, and what to do."""
    first = tiny_scenario()
    published = solve(first, FAST)
    seed = next(
        a for a in published.assignments if a.patient_code == "P1" and a.step_code == "seed"
    )
    room = replace(first.cleanrooms[0], downtime=(Window(seed.start, seed.end, "leak"),))
    broken = replace(first, cleanrooms=(room,))
    with pytest.raises(DoneStepConflict) as error:
        solve(broken, FAST, replan=Replan(published, START, 14))
    message = str(error.value)
    assert message.startswith("Patient 'P1': step 'seed'") and "is down from" in message
    assert message.endswith("Unpin it, shorten the frozen days, or re-plan with --fresh.")
    assert "\n" not in message
    assert solve(broken, FAST, replan=Replan(published, START, 0)).schedule_of("P1")


def test_a_room_down_after_the_frozen_window_moves_only_who_it_hits() -> None:
    """Disruption: the room is down for a week after the frozen window; the patient
    planned there moves, the frozen one does not."""
    first = tiny_scenario(patients=(patient("P1"), patient("P2", 20)))
    published = solve(first, FAST)
    p2 = published.schedule_of("P2")
    assert p2 is not None
    down_from = datetime.combine(p2.apheresis_day, datetime.min.time())
    room = replace(
        first.cleanrooms[0],
        downtime=(Window(down_from, down_from + timedelta(days=7), "requalification"),),
    )
    plan = solve(replace(first, cleanrooms=(room,)), FAST, replan=Replan(published, START, 14))
    diff = compare_plans(published, plan)
    assert [c.patient_code for c in diff.moved] == ["P2"] and diff.dropped == ()
    assert _steps(plan, "P1") == _steps(published, "P1")


def test_a_failed_batch_releases_its_frozen_chain_and_is_collected_again() -> None:
    """P1's published chain lies in the frozen window; its batch fails two days after
    apheresis. Without the release the kept chain would contradict P1's new window; with
    it P1 is collected again after the failure, P2 stays as published, the notes say so."""
    from planner.replan import fail_batch

    first = tiny_scenario(patients=(patient("P1"), patient("P2", 1)))
    published = solve(first, FAST)
    was = published.schedule_of("P1")
    assert was is not None and was.apheresis_day < START + timedelta(days=14)
    failed_on = was.apheresis_day + timedelta(days=2)
    plan = solve(fail_batch(first, "P1", failed_on), FAST, replan=Replan(published, START, 14))
    again = plan.schedule_of("P1")
    assert again is not None and again.apheresis_day >= failed_on
    assert _steps(plan, "P2") == _steps(published, "P2")
    (note,) = [n for n in plan.notes if n.startswith("Released: ")]
    assert note.startswith(f"Released: P1: published apheresis {was.apheresis_day} is outside")
