"""Large-neighbourhood search: never worse than its start, repeatable, cancellable."""

from __future__ import annotations

from data.generator import generate
from planner import SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.chain import objective
from solver.greedy import greedy
from solver.instance import compile_instance
from solver.lns import improve


def _start():
    instance = compile_instance(generate("S", 1))
    return instance, greedy(instance).booking.chains


def test_lns_never_returns_worse_than_its_start() -> None:
    """The result's objective is at least the start's, and every accepted step improved it."""
    instance, start = _start()
    seen: list[int] = []
    result = improve(instance, start, 0.4, on_improve=lambda _c, v: seen.append(v))
    assert result.value >= objective(instance, start)
    assert result.value == objective(instance, result.chains)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    # CP-SAT may overrun a sub-solve budget by a hair (it checks it between steps).
    assert result.steps and result.used <= 0.4 * 1.05


def test_lns_repeats_exactly_under_a_seed() -> None:
    """Two runs with one seed and budget give the same chains and steps."""
    instance, start = _start()
    settings = SolveSettings(seed=3)
    first = improve(instance, start, 0.3, settings=settings)
    second = improve(instance, start, 0.3, settings=settings)
    assert first.chains == second.chains and first.steps == second.steps


def test_lns_stops_when_cancelled() -> None:
    """A cancel hook that says stop ends the search before its first step."""
    instance, start = _start()
    result = improve(instance, start, 5.0, cancel=lambda: True)
    assert result.chains == sorted(start, key=lambda c: c.job) and not result.steps


def test_lns_keeps_fixed_jobs() -> None:
    """Jobs named fixed keep their chains exactly."""
    instance, start = _start()
    fixed = {c.job for c in start}
    result = improve(instance, start, 0.2, fixed=fixed)
    kept = {c.job: c for c in result.chains}
    assert all(kept[c.job] == c for c in start)


def test_large_centres_plan_by_lns_and_pass_the_checker(monkeypatch) -> None:
    """Above the full-model size, solve runs LNS alone; its plan passes the checker."""
    import solver.api as api

    monkeypatch.setattr(api, "FULL_MODEL_SHARES", ())
    scenario = generate("S", 1)
    plan = solve(scenario, SolveSettings(deterministic_time=0.3))
    assert plan.solver.cp_sat_status == "LNS"
    assert "proving nothing for the whole centre" in plan.solver.cp_sat_meaning
    assert plan.solver.objective >= plan.solver.greedy_objective
    assert check_plan(scenario, plan) == []


def test_lns_stops_at_the_step_after_cancel_turns_true() -> None:
    """Cancelled after its first improvement, the search ends with that step."""
    instance, start = _start()
    seen: list[int] = []
    result = improve(
        instance,
        start,
        50.0,
        cancel=lambda: bool(seen),
        on_improve=lambda _c, v: seen.append(v),
    )
    assert len(seen) <= 1 and result.used < 50.0
    assert result.steps and (not seen or result.steps[-1].improved)


def test_solve_by_lns_honours_cancel(monkeypatch) -> None:
    """A solve by LNS alone, cancelled at its first improvement, stops with a checked plan."""
    import solver.api as api

    monkeypatch.setattr(api, "FULL_MODEL_SHARES", ())
    scenario = generate("S", 1)
    seen: list[str] = []
    plan = solve(
        scenario,
        SolveSettings(deterministic_time=50.0),
        on_progress=lambda p: seen.append(p.phase),
        cancel=lambda: "cp-sat" in seen,
    )
    assert plan.solver.stopped
    assert plan.solver.objective >= plan.solver.greedy_objective
    assert check_plan(scenario, plan) == []


def test_mid_sized_centres_share_the_budget_between_full_model_and_lns(monkeypatch) -> None:
    """Between the limits the full model gets its share, then LNS the rest: both run."""
    import solver.api as api

    monkeypatch.setattr(api, "FULL_MODEL_SHARES", ((5, 1.0), (100, 0.5)))
    scenario = generate("S", 1)
    shares: list[float] = []
    full = api._cp_sat

    def spy(instance, settings, budget, *args):  # type: ignore[no-untyped-def]
        shares.append(budget / settings.deterministic_time)
        return full(instance, settings, budget, *args)

    monkeypatch.setattr(api, "_cp_sat", spy)
    ran: list[float] = []
    lns = api.improve

    def lns_spy(instance, chains, budget, **kwargs):  # type: ignore[no-untyped-def]
        ran.append(budget)
        return lns(instance, chains, budget, **kwargs)

    monkeypatch.setattr(api, "improve", lns_spy)
    plan = solve(scenario, SolveSettings(deterministic_time=0.2))
    assert shares == [0.5]
    # LNS follows unless the full model proved its plan optimal.
    assert bool(ran) == (plan.solver.cp_sat_status != "OPTIMAL")
    assert check_plan(scenario, plan) == []
