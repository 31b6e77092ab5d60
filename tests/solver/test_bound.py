"""The linear relaxation's bound: never below a proved optimum, and tighter than alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from data.demo import build_demo_scenario
from data.generator import generate
from planner import Scenario, SolveSettings
from planner.replan import Replan
from solver import solve
from solver.bound import relaxation_bound
from solver.chain import scheduled_scale
from solver.instance import Instance, compile_instance
from solver.stability import attach, prepare


def _levels(instance: Instance, value: int) -> tuple[int, int]:
    """(priority weight, lateness + waiting) an objective value stands for."""
    scale = scheduled_scale(instance)
    weight = -(-value // scale)
    return weight, weight * scale - value


def _small(seed: int, patients: int) -> Scenario:
    scenario = generate("S", seed)
    return replace(scenario, patients=scenario.patients[:patients])


@pytest.mark.parametrize(("seed", "patients"), [(1, 8), (2, 8), (1, 20), (2, 20)])
def test_the_bound_is_never_below_the_proved_optimum(seed: int, patients: int) -> None:
    """On small overloaded centres CP-SAT proves the optimum; no plan beats the bound."""
    scenario = _small(seed, patients)
    plan = solve(scenario, SolveSettings(seed=1))
    assert plan.solver.cp_sat_status == "OPTIMAL"
    bound = relaxation_bound(compile_instance(scenario))
    assert bound is not None
    assert bound >= plan.solver.objective


def test_patients_sharing_a_cleanroom_wait_for_each_other_in_the_bound() -> None:
    """With every patient fitting, the bound's lateness and waiting exceed the sum of each
    patient's alone (the stays queue for the holders), and stay within the optimum's."""
    scenario = _small(1, 5)
    instance = compile_instance(scenario)
    bound = relaxation_bound(instance)
    assert bound is not None
    weight, time = _levels(instance, bound)
    assert weight == sum(job.weight for job in instance.jobs)
    alone = 0
    for patient in scenario.patients:
        single = compile_instance(replace(scenario, patients=(patient,)))
        single_bound = relaxation_bound(single)
        assert single_bound is not None
        alone += _levels(single, single_bound)[1]
    plan = solve(scenario, SolveSettings(seed=1))
    assert plan.solver.cp_sat_status == "OPTIMAL"
    assert alone < time <= _levels(instance, int(plan.solver.objective))[1]


def test_a_plan_reports_the_relaxations_bound_when_cp_sat_proves_nothing_better() -> None:
    """With a budget too small for CP-SAT to prove anything, the plan's bound is the
    relaxation's, not the trivial one, and its time level gets a bound."""
    scenario = _small(1, 20)
    instance = compile_instance(scenario)
    relaxed = relaxation_bound(instance)
    assert relaxed is not None
    plan = solve(scenario, SolveSettings(seed=1, deterministic_time=0.01))
    assert plan.solver.bound == max(float(relaxed), plan.solver.objective)
    assert plan.solver.bound < sum(job.weight for job in instance.jobs) * scheduled_scale(instance)


def test_the_bound_holds_when_re_planning_with_patients_in_process() -> None:
    """The demo centre re-planned three weeks on: steps done, published days to keep,
    trial cohorts part used. The bound still lies above the plan found."""
    scenario = build_demo_scenario()
    published = solve(scenario, SolveSettings(deterministic_time=0.5))
    replan = Replan(published, scenario.horizon_start + timedelta(days=21), 14)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5), replan=replan)
    prepared = prepare(scenario, replan)
    instance = compile_instance(prepared.scenario)
    attach(instance, replan, prepared)
    assert any(job.in_process for job in instance.jobs)
    assert any(job.baseline is not None for job in instance.jobs)
    bound = relaxation_bound(instance)
    assert bound is not None
    assert bound >= plan.solver.objective
    assert plan.solver.bound <= bound


def test_the_relaxation_stops_when_asked() -> None:
    """A stop request while the relaxation is built gives no bound; calls to stop that
    return False change nothing."""
    instance = compile_instance(_small(1, 20))
    calls: list[int] = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    assert relaxation_bound(instance, stop_after_three) is None
    assert len(calls) == 4
    assert relaxation_bound(instance, lambda: False) == relaxation_bound(instance)
