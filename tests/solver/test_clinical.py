"""Clinical timing of the chain, under both engines: each test fails if its rule is dropped."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planner import Plan, ResourceType, Scenario, SolveSettings, Storage
from planner.checks import check_plan
from solver import solve
from tests.factories import patient, product, tiny_scenario

FAST = SolveSettings(deterministic_time=5.0)
Engine = Callable[[Scenario], Plan]


def _cp_sat(scenario: Scenario) -> Plan:
    plan = solve(scenario, FAST)
    assert plan.solver.engine == "cp-sat"
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


# Lymphodepletion and release ----------------------------------------------------------


def test_cryopreserved_lymphodepletion_waits_for_release(engine: Engine) -> None:
    """A cryopreserved batch released 2 days after harvest: LD starts on release day or later."""
    s = tiny_scenario(n_patients=2)
    plan = planned(engine, s)
    assert plan.kpis.scheduled == 2
    for schedule in plan.schedules:
        ld_start, _ = row(plan, schedule.patient_code, "lymphodepletion")
        assert ld_start.date() >= schedule.release_day


def test_fresh_lymphodepletion_before_release_only_when_allowed(engine: Engine) -> None:
    """Released 2 days after harvest, kept 3: a 3-day LD must start before release."""
    allowed = planned(engine, fresh(qc_release_days=2, fresh_shelf_days=3, ld_before_release=True))
    assert allowed.kpis.scheduled == 1
    schedule = allowed.schedules[0]
    ld_start, _ = row(allowed, "P1", "lymphodepletion")
    assert ld_start.date() < schedule.release_day
    refused = planned(engine, fresh(qc_release_days=2, fresh_shelf_days=3))
    assert refused.kpis.scheduled == 0
