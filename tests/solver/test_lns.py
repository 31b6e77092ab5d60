"""Large-neighbourhood search: never worse than its start, repeatable, cancellable."""

from __future__ import annotations

import pytest

from data.generator import generate
from planner import SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.chain import objective, scheduled_scale
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

    monkeypatch.setattr(api, "FULL_MODEL", ())
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

    monkeypatch.setattr(api, "FULL_MODEL", ())
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


def _watch(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[tuple[float, str, str, float]], list[float]]:
    """Record each full-model search of the solves that follow (its share of the budget,
    search, status and bound) and each LNS budget."""
    import solver.api as api

    searches: list[tuple[float, str, str, float]] = []
    budgets: list[float] = []
    full, lns = api._cp_sat, api.improve

    def full_spy(instance, settings, budget, how, *args):  # type: ignore[no-untyped-def]
        result = full(instance, settings, budget, how, *args)
        searches.append((budget / settings.deterministic_time, how.search, result[1], result[2]))
        return result

    def lns_spy(instance, chains, budget, **kwargs):  # type: ignore[no-untyped-def]
        budgets.append(budget)
        return lns(instance, chains, budget, **kwargs)

    monkeypatch.setattr(api, "_cp_sat", full_spy)
    monkeypatch.setattr(api, "improve", lns_spy)
    return searches, budgets


def test_mid_sized_centres_share_the_budget_between_full_model_and_lns(monkeypatch) -> None:
    """Between the limits the full model gets its share, then LNS the rest: both run."""
    import solver.api as api

    monkeypatch.setattr(
        api, "FULL_MODEL", (api.FullModel(5, 1.0, "core"), api.FullModel(100, 0.5, "portfolio"))
    )
    scenario = generate("S", 1)
    searches, ran = _watch(monkeypatch)
    plan = solve(scenario, SolveSettings(deterministic_time=0.2))
    assert [(share, search) for share, search, *_ in searches] == [(0.5, "portfolio")]
    # LNS follows unless the full model proved its plan optimal.
    assert bool(ran) == (plan.solver.cp_sat_status != "OPTIMAL")
    assert check_plan(scenario, plan) == []


def test_small_centres_give_a_third_to_the_full_model_on_core(monkeypatch) -> None:
    """Up to 60 patients the full model runs the `core` search on a third of the budget;
    LNS gets the rest unless the plan was proved optimal."""
    scenario = generate("S", 1)
    searches, _ = _watch(monkeypatch)
    plan = solve(scenario, SolveSettings(deterministic_time=0.3))
    assert [(share, search) for share, search, *_ in searches] == [(pytest.approx(1 / 3), "core")]
    assert plan.solver.objective >= plan.solver.greedy_objective
    assert check_plan(scenario, plan) == []


def test_the_first_level_alone_is_proved_then_lns_improves_the_rest(monkeypatch) -> None:
    """Where the full model maximises the priority weight alone, its proof carries to the
    plan's first level, the plan is not called optimal for that, LNS still runs on the
    lower levels, and the plan passes the checker."""
    import solver.api as api

    monkeypatch.setattr(api, "FULL_MODEL", (api.FullModel(100, 1 / 3, "portfolio", True),))
    scenario = generate("S", 1)
    searches, ran = _watch(monkeypatch)
    plan = solve(scenario, SolveSettings(deterministic_time=1.5))
    instance = compile_instance(scenario)
    start = sum(instance.jobs[c.job].weight for c in greedy(instance).booking.chains)
    first = plan.solver.levels[0]
    # The search's own bound (not the relaxation's) proves the first level, in objective units.
    assert [(status, bound) for *_, status, bound in searches] == [
        ("FEASIBLE", first.value * scheduled_scale(instance))
    ]
    assert first.value == first.bound and first.value >= start
    assert plan.solver.cp_sat_status == "FEASIBLE" and plan.solver.status == "FEASIBLE"
    assert len(ran) == 1 and 0 < ran[0] < 1.5
    assert check_plan(scenario, plan) == []


def test_lns_with_two_workers_repeats_and_passes_the_checker(monkeypatch) -> None:
    """Two sub-solves at once give the same plan run after run, never worse than the
    start, and the merged plan passes the independent checker."""
    import solver.api as api

    monkeypatch.setattr(api, "FULL_MODEL", ())
    scenario = generate("S", 2)
    settings = SolveSettings(deterministic_time=0.6, workers=2, seed=5)
    first, second = solve(scenario, settings), solve(scenario, settings)
    assert first.assignments == second.assignments
    assert first.solver.objective == second.solver.objective >= first.solver.greedy_objective
    assert check_plan(scenario, first) == []


def test_neighbourhoods_chosen_while_others_run_are_apart_in_time() -> None:
    """A neighbourhood chosen while others run frees none of their patients, and each
    patient it frees may use none of their days (so that results seldom collide)."""
    from solver.greedy import days_used
    from solver.lns import START_SIZE, _hood, _Neighbourhoods, _reach

    instance = compile_instance(generate("M", 1))  # half a year: room for two apart
    best = {c.job: c for c in greedy(instance).booking.chains}
    hoods = _Neighbourhoods(instance, 7, set())
    pairs = 0
    for step in range(1, 40, 2):
        first = _hood(instance, hoods, best, step, START_SIZE // 4, [])
        if first is None:  # a device no patient uses
            continue
        second = _hood(instance, hoods, best, step + 1, START_SIZE // 4, [first.days])
        if second is None:
            continue
        pairs += 1
        assert not {j.index for j in first.freed} & {j.index for j in second.freed}
        for job in second.freed:
            own = days_used([job], _reach(instance, [job], best))
            assert own[1] < first.days[0] or own[0] > first.days[1]
        # What the freed patients may use lies within their days.
        for hood in (first, second):
            assert all(
                hood.days[0] <= best[j.index].apheresis_day
                and best[j.index].infusion_day <= hood.reach <= hood.days[1]
                for j in hood.freed
                if j.index in best
            )
    assert pairs >= 5


def test_a_later_result_is_kept_only_if_it_still_fits() -> None:
    """Once another result has changed the plan a sub-solve started from, its result is
    booked again against the plan as it now is: a chain onto a cleanroom now held is
    refused, and taken when it is free."""
    from dataclasses import replace

    from solver.greedy import rebook
    from solver.lns import _merged
    from solver.stability import fits

    instance, start = _start()
    best = {c.job: c for c in start}

    def swaps():  # type: ignore[no-untyped-def]
        """(holder chain, other patient, the holder's chain given to the other) that
        fits once the holder's patient is gone."""
        for holder in start:
            for other in instance.jobs:
                if holder.room is None or other.index in best:  # the holder's too
                    continue
                if other.product.code != instance.jobs[holder.job].product.code:
                    continue
                moved = replace(holder, job=other.index)
                rest = [c for c in start if c.job != holder.job]
                if fits(rebook(instance, rest), other, moved):
                    yield holder, other, moved

    holder, other, moved = next(swaps())
    # Unchanged since the sub-solve began, a result is taken as it is.
    assert _merged(instance, best, False, [other], [moved]) is not None
    # Changed: the cleanroom is held by the holder's patient, so the chain is refused ...
    assert _merged(instance, best, True, [other], [moved]) is None
    # ... and taken once that patient is out of the plan.
    without = {j: c for j, c in best.items() if j != holder.job}
    merged = _merged(instance, without, True, [other], [moved])
    assert merged is not None and moved in merged and len(merged) == len(start)


def test_sub_solves_are_longer_on_small_centres(monkeypatch: pytest.MonkeyPatch) -> None:
    """A centre of up to SMALL_CENTRE patients gives each sub-solve SMALL_STEP_BUDGET (its
    groups free most of it, one at a time); a larger one STEP_BUDGET, in more steps."""
    import solver.lns as lns

    instance, start = _start()
    shares: list[float] = []
    sub_solve = lns._sub_solve

    def spy(hood, settings, budget, cancel):  # type: ignore[no-untyped-def]
        shares.append(budget)
        return sub_solve(hood, settings, budget, cancel)

    monkeypatch.setattr(lns, "_sub_solve", spy)
    assert len(instance.jobs) <= lns.SMALL_CENTRE
    small = improve(instance, start, 0.6)
    assert shares[0] == lns.SMALL_STEP_BUDGET and max(shares) == lns.SMALL_STEP_BUDGET
    shares.clear()
    monkeypatch.setattr(lns, "SMALL_CENTRE", len(instance.jobs) - 1)
    large = improve(instance, start, 0.6)
    assert shares[0] == lns.STEP_BUDGET and max(shares) == lns.STEP_BUDGET
    assert len(large.steps) > len(small.steps)
