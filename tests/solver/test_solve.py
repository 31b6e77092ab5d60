"""The solve entry point: determinism, greedy floor, progress, cancel, reasons."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver
from planner import (
    ApheresisCapacity,
    Cleanroom,
    Grade,
    SolveProgress,
    SolveSettings,
    Ward,
)
from planner.checks import check_plan
from planner.kpis import format_plan
from solver import solve
from solver.api import source_digest, versions
from solver.greedy import greedy
from solver.instance import compile_instance
from tests.factories import patient, tiny_scenario


def crowded(seed: int, n: int = 8):
    """A one-room scenario with more referrals than capacity, in random order."""
    rng = random.Random(seed)
    patients = tuple(
        patient(
            f"P{i:02d}",
            day_offset=rng.randrange(0, 20),
            window_days=rng.randrange(3, 15),
            priority=rng.choice((1, 3, 3, 5)),
        )
        for i in range(n)
    )
    return tiny_scenario(patients=patients)


def test_same_inputs_give_the_same_plan() -> None:
    """Deterministic mode: two solves of one scenario give identical plans."""
    s = crowded(1)
    settings = SolveSettings(deterministic_time=2.0, seed=7)
    first, second = solve(s, settings), solve(s, settings)
    assert first.assignments == second.assignments
    assert first.unscheduled == second.unscheduled
    assert first.solver.objective == second.solver.objective
    assert first.same_content(second)
    assert not first.same_content(replace(second, notes=(*second.notes, "edited")))


def test_created_is_the_real_moment_and_versions_are_recorded() -> None:
    """A plan's created is the (aware, UTC) time it was made, not a stamp from the inputs."""
    before = datetime.now(UTC)
    plan = solve(crowded(1), SolveSettings(deterministic_time=0.2))
    assert before <= plan.created <= datetime.now(UTC)
    assert plan.solver.versions.startswith("atmp-planner ") and "ortools 9." in plan.solver.versions


def test_the_versions_name_the_planning_codes_digest(tmp_path: Path) -> None:
    """The recorded versions carry a digest of planner/ and solver/ sources: a copy of
    them gives the same digest, cached bytecode does not count, and a changed line moves it
    (the package version alone would not)."""
    here = Path(solver.__file__).resolve().parent.parent
    copies = []
    for name in ("planner", "solver"):
        copies.append(tmp_path / name)
        shutil.copytree(here / name, copies[-1], ignore=shutil.ignore_patterns("__pycache__"))
    digest = source_digest(copies)
    assert f"source {digest}, " in versions()
    (copies[1] / "__pycache__").mkdir()
    (copies[1] / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"cached")
    assert source_digest(copies) == digest
    greedy_py = copies[1] / "greedy.py"
    greedy_py.write_text(greedy_py.read_text() + "\n# a changed line\n")
    assert source_digest(copies) != digest


def test_a_kept_greedy_plan_reports_engine_and_cp_sat_apart() -> None:
    """CP-SAT finding nothing in its budget (and not given the greedy plan as a hint, which
    it would return at once): the plan is FEASIBLE from greedy, CP-SAT UNKNOWN. Above 60
    patients: the small centres' `core` search runs CP-SAT's feasibility jump, which finds
    a plan of 40 patients within any budget."""
    plan = solve(crowded(1, n=70), SolveSettings(deterministic_time=1e-6, use_greedy_hint=False))
    info = plan.solver
    assert info.engine.startswith("greedy-")
    assert info.cp_sat_status == "UNKNOWN"
    assert info.status == "FEASIBLE" and not info.stopped
    text = format_plan(plan)
    assert "Plan status          FEASIBLE\n" in text
    assert "CP-SAT               UNKNOWN: found no plan within its budget" in text
    assert "kept the greedy plan" in text


def test_cp_sat_returns_at_least_its_hint_at_once() -> None:
    """Hinted with the greedy plan, CP-SAT's first solution is that plan: even a budget
    that ends in presolve returns it, and the plan says CP-SAT confirmed it."""
    scenario = crowded(1, n=40)
    plan = solve(scenario, SolveSettings(deterministic_time=1e-6))
    assert plan.solver.cp_sat_status == "FEASIBLE"
    assert plan.solver.objective == greedy(compile_instance(scenario)).objective
    assert "CP-SAT confirmed the greedy booking without improving it." in plan.notes


def test_never_worse_than_greedy_and_always_valid() -> None:
    """On crowded scenarios the plan's objective is at least the greedy one and it checks out."""
    for seed in range(4):
        s = crowded(seed)
        plan = solve(s, SolveSettings(deterministic_time=2.0))
        assert plan.solver.objective >= greedy(compile_instance(s)).objective
        assert check_plan(s, plan) == []
        assert plan.kpis.scheduled + len(plan.unscheduled) == len(s.patients)


def test_every_unscheduled_patient_has_a_reason() -> None:
    """Patients left out come back with a reason code and a non-empty sentence."""
    plan = solve(crowded(3, n=12), SolveSettings(deterministic_time=2.0))
    assert plan.unscheduled
    assert all(u.detail.endswith(".") and len(u.detail) > 20 for u in plan.unscheduled)


def test_progress_reports_phases_in_order() -> None:
    """Progress goes compile, greedy, (cp-sat), extract, done."""
    seen: list[SolveProgress] = []
    solve(crowded(2), SolveSettings(deterministic_time=1.0), on_progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[:2] == ["compile", "greedy"]
    assert phases[-3:] == ["extract", "staff", "done"]
    assert seen[-1].scheduled is not None


def test_cancel_returns_the_greedy_plan() -> None:
    """Cancelled before CP-SAT starts, solve still returns a valid greedy plan."""
    s = crowded(4)
    plan = solve(s, SolveSettings(), cancel=lambda: True)
    assert plan.solver.stopped and plan.solver.cp_sat_status == "NOT_RUN"
    assert plan.solver.status in ("OPTIMAL", "FEASIBLE")
    assert plan.solver.engine.startswith("greedy")
    assert plan.kpis.scheduled > 0
    assert check_plan(s, plan) == []


def test_cancel_during_search_returns_best_so_far() -> None:
    """Cancelling at the first CP-SAT solution stops a long search with a valid plan."""
    rng = random.Random(5)
    patients = tuple(
        patient(f"P{i:02d}", day_offset=rng.randrange(0, 80), window_days=rng.randrange(3, 25))
        for i in range(40)
    )
    rooms = tuple(Cleanroom(f"CR{i}", "Room", Grade.B, ("CART",)) for i in range(3))
    s = tiny_scenario(
        days=120,
        patients=patients,
        cleanrooms=rooms,
        apheresis=ApheresisCapacity((2, 2, 2, 2, 2, 0, 0)),
        ward=Ward("W1", "Ward", beds=3),
    )
    seen: list[str] = []

    def progress(p: SolveProgress) -> None:
        seen.append(p.phase)

    plan = solve(
        s,
        SolveSettings(deterministic_time=10_000.0),
        on_progress=progress,
        cancel=lambda: "cp-sat" in seen,
    )
    assert plan.solver.status == "FEASIBLE" and plan.solver.stopped
    assert plan.solver.objective < plan.solver.bound
    assert check_plan(s, plan) == []


def test_empty_scenario_gives_an_empty_plan() -> None:
    """No patients: a valid, empty plan rather than an error."""
    plan = solve(replace(tiny_scenario(), patients=()))
    assert plan.schedules == () and plan.unscheduled == ()
    assert plan.kpis.total == 0


def test_interleaved_workers_are_deterministic_too() -> None:
    """Two workers with interleaved search give the same plan run after run."""
    s = crowded(6, n=10)
    settings = SolveSettings(deterministic_time=1.0, workers=2, seed=3)
    first, second = solve(s, settings), solve(s, settings)
    assert first.assignments == second.assignments
    assert first.solver.objective == second.solver.objective


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rooms=st.integers(1, 3),
    beds=st.integers(1, 3),
    slots=st.integers(1, 2),
    changeover=st.integers(0, 30),
    seed=st.integers(0, 10_000),
)
def test_random_centres_get_valid_plans_no_worse_than_greedy(
    rooms: int, beds: int, slots: int, changeover: int, seed: int
) -> None:
    """Random small centres: the plan passes the independent check and beats or ties greedy."""
    base = crowded(seed, n=7)
    s = replace(
        base,
        cleanrooms=tuple(
            Cleanroom(f"CR{i}", "Room", Grade.B, ("CART",), changeover_hours=changeover)
            for i in range(rooms)
        ),
        ward=Ward("W1", "Ward", beds=beds),
        apheresis=ApheresisCapacity((slots,) * 5 + (0, 0)),
    )
    plan = solve(s, SolveSettings(deterministic_time=0.5))
    assert check_plan(s, plan) == []
    assert plan.solver.objective >= greedy(compile_instance(s)).objective
    assert {x.patient_code for x in plan.schedules} | {
        u.patient_code for u in plan.unscheduled
    } == {p.code for p in s.patients}


def test_overlapping_room_and_device_downtime_keeps_the_model_feasible() -> None:
    """A device in maintenance while its room is down too (overlapping windows): CP-SAT
    still plans; unmerged windows once made the whole model INFEASIBLE."""
    from datetime import datetime

    from planner import Device, Window

    base = tiny_scenario(n_patients=2)
    room = replace(
        base.cleanrooms[0],
        downtime=(Window(datetime(2027, 2, 1), datetime(2027, 2, 5), "room"),),
    )
    device = Device(
        "DEV1",
        "Closed system",
        (room.code,),
        ("CART",),
        downtime=(Window(datetime(2027, 2, 2), datetime(2027, 2, 8), "maintenance"),),
    )
    cart = base.products[0]
    steps = tuple(replace(st, needs_device=st.code == "expand") for st in cart.steps)
    s = replace(base, cleanrooms=(room,), devices=(device,), products=(replace(cart, steps=steps),))
    plan = solve(s, SolveSettings(deterministic_time=0.5))
    assert plan.solver.cp_sat_status in ("OPTIMAL", "FEASIBLE")
    assert plan.kpis.scheduled == 2
    assert any(a.resource_code == "DEV1" for a in plan.assignments)


def test_waiting_costs_even_when_vein_to_vein_is_the_same() -> None:
    """The same chain started a week later scores lower: delay for nothing is not free."""
    from solver.chain import ChainTimes, objective
    from solver.instance import compile_instance

    instance = compile_instance(tiny_scenario(n_patients=1))
    plan = solve(tiny_scenario(n_patients=1), SolveSettings(deterministic_time=0.5))
    first = plan.schedules[0]
    week = 7 * 24
    early = ChainTimes(0, instance.day_index(first.apheresis_day), (200, 300, 400), 0, None, 20)
    late = ChainTimes(0, early.apheresis_day + 7, (200 + week, 300 + week, 400 + week), 0, None, 27)
    assert early.vein_to_vein() == late.vein_to_vein()
    assert objective(instance, [early]) - objective(instance, [late]) == 7


def test_a_free_centre_infuses_as_early_as_a_slot_would() -> None:
    """Without the greedy hint, CP-SAT still gives a lone patient the earliest infusion."""
    from planner.slot import Referral
    from solver import earliest_slot

    s = tiny_scenario(n_patients=1)
    patient = s.patients[0]
    plan = solve(s, SolveSettings(deterministic_time=2.0, use_greedy_hint=False))
    offer = earliest_slot(
        replace(s, patients=()), None, Referral("CART", patient.earliest_apheresis), ""
    )
    assert offer.infusion_day is not None
    assert plan.schedules[0].infusion_day <= offer.infusion_day


def test_a_patient_who_lost_out_to_others_is_told_so_not_sent_to_hire_staff() -> None:
    """Two patients for one apheresis slot on their only day: the one left out could be
    planned alone, so its reason is not_chosen and names the capacity that went elsewhere;
    a patient who cannot be planned even alone keeps the resource as its reason."""
    from tests.factories import patient

    both = (patient("P1", 0, window_days=0), patient("P2", 0, window_days=0))
    plan = solve(replace(tiny_scenario(), patients=both), SolveSettings(deterministic_time=0.5))
    (left,) = plan.unscheduled
    assert left.reason.value == "not_chosen"
    assert (
        f"could plan {left.patient_code} (priority 3, referred 2027-01-04) on its own"
        in left.detail
    )
    assert "apheresis" in left.detail.lower()
    sunday = patient("P3", 6, window_days=0)  # no apheresis slots at weekends
    alone = solve(
        replace(tiny_scenario(), patients=(sunday,)), SolveSettings(deterministic_time=0.5)
    )
    assert [u.reason.value for u in alone.unscheduled] == ["no_apheresis_slot"]


def test_the_reinsertion_pass_improves_the_plan_solve_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CP-SAT's plan (delayed here by a week for its last infusion, as a search stopped
    early might leave it) goes through the pass after solving: the patient moves back, the
    plan says so, and it still passes the checker."""
    import solver.api as api
    from tests.factories import START, gated_trial

    trial = gated_trial()
    s = tiny_scenario(
        days=90,
        cleanrooms=(
            Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8),
            Cleanroom("CR2", "Room 2", Grade.B, ("CART",), changeover_hours=8),
        ),
        trials=(trial,),
        patients=(
            patient("P1", window_days=40, trial_code="T1", cohort_code="DL2"),
            patient("P2", 1, window_days=40, trial_code="T1", cohort_code="DL1"),
        ),
    )
    real = api._cp_sat
    delayed: dict[str, int] = {}

    def late(*args: Any, **kwargs: Any) -> Any:
        chains, _, bound, _ = real(*args, **kwargs)
        assert chains is not None and len(chains) == 2
        last = max(chains, key=lambda c: c.infusion_day)
        delayed["day"] = last.infusion_day + 7
        moved = replace(last, infusion_day=delayed["day"])
        # A search that used the whole budget without proof (a proved optimum skips the
        # pass, and budget left over would go to the neighbourhood search).
        return [moved if c is last else c for c in chains], "FEASIBLE", bound, 5.0

    monkeypatch.setattr(api, "_cp_sat", late)
    plan = solve(s, SolveSettings(deterministic_time=5.0))
    assert plan.solver.engine == "cp-sat+reinsert"
    assert any(n.startswith("Re-insertion after solving moved 1 earlier (P1)") for n in plan.notes)
    p1 = plan.schedule_of("P1")
    assert p1 is not None and (p1.infusion_day - START).days < delayed["day"]
    assert check_plan(s, plan) == []


def test_a_worse_cp_sat_plan_never_replaces_the_greedy_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CP-SAT returning a plan worse than the greedy booking (one patient dropped here, as a
    poor search might): the greedy plan is returned, and the plan says why."""
    import solver.api as api

    real = api._cp_sat

    def worse(*args: Any, **kwargs: Any) -> Any:
        chains, status, bound, spent = real(*args, **kwargs)
        assert chains is not None and len(chains) == 2
        return chains[:1], status, bound, spent

    monkeypatch.setattr(api, "_cp_sat", worse)
    s = tiny_scenario(2)
    plan = solve(s, SolveSettings(deterministic_time=2.0))
    assert plan.solver.engine.startswith("greedy-")
    assert plan.kpis.scheduled == 2
    assert any("kept the greedy plan" in n for n in plan.notes)
    assert check_plan(s, plan) == []


def test_each_objective_level_is_bounded_only_while_the_levels_above_are_proved() -> None:
    """The whole objective's bound gives a level its bound only when every level above
    it reaches its own: what the bound leaves over goes to the first unproved level."""
    from solver.chain import objective, objective_levels, scheduled_scale

    instance = compile_instance(tiny_scenario(3))
    chains = greedy(instance).booking.chains
    assert len(chains) == 3
    value = objective(instance, chains)
    weight, time = objective_levels(instance, chains, value)
    assert (weight.bound, time.bound) == (weight.value, time.value) and time.value > 0
    weight, time = objective_levels(instance, chains, value + 2)
    assert weight.bound == weight.value and time.bound == time.value - 2
    # One patient fewer: the bound allows a third, so the time level has no bound.
    two, scale = chains[:2], scheduled_scale(instance)
    weight, time = objective_levels(instance, two, objective(instance, two))
    assert weight.bound == weight.value and time.bound == time.value
    weight, time = objective_levels(instance, two, weight.value * scale + 1)
    assert weight.bound == weight.value + 1 and time.bound is None
    weight, time = objective_levels(instance, two, weight.value * scale)
    assert weight.bound == weight.value and time.bound == 0
