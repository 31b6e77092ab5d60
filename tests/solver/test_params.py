"""CP-SAT parameters: both modes run the same search, only the budget differs."""

from __future__ import annotations

from planner import SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.params import search_parameters
from tests.solver.test_solve import crowded


def test_wall_clock_mode_runs_the_deterministic_search() -> None:
    """Interleaved search and workers are the same in both modes; the limit differs."""
    for workers in (1, 2, 4):
        det = search_parameters(SolveSettings(workers=workers), 2.0)
        wall = search_parameters(SolveSettings(workers=workers, deterministic=False), 2.0)
        assert det.interleave_search and wall.interleave_search
        assert det.num_workers == wall.num_workers >= 2
        assert det.interleave_batch_size == wall.interleave_batch_size
        assert det.max_deterministic_time == 2.0 and wall.max_time_in_seconds == 2.0


def test_the_full_model_runs_one_task_at_a_time_and_sub_solves_one_worker() -> None:
    """Whatever the workers, the full model's interleaved tasks run one at a time (two at
    once overran the budget) and each LNS sub-solve is one worker (LNS runs several)."""
    for workers in (1, 2, 4):
        settings = SolveSettings(workers=workers)
        assert search_parameters(settings, 2.0).interleave_batch_size == 1
        sub = search_parameters(settings, 0.25, "one-worker")
        assert sub.num_workers == 1 and not sub.interleave_search


def test_the_core_search_is_the_portfolio_with_core_as_its_only_full_problem_subsolver() -> None:
    """The small centres' full-model search: interleaved as the portfolio, same budget
    and workers, with `core` as its only full-problem subsolver."""
    settings = SolveSettings(seed=7)
    core = search_parameters(settings, 1.0, "core")
    portfolio = search_parameters(settings, 1.0)
    assert list(core.subsolvers) == ["core"] and not portfolio.subsolvers
    core.subsolvers.clear()
    assert str(core) == str(portfolio)


def test_wall_clock_solve_is_never_worse_than_greedy() -> None:
    """A short wall-clock solve returns a checked plan at least as good as its greedy start."""
    scenario = crowded(2, n=10)
    plan = solve(scenario, SolveSettings(deterministic=False, time_limit_s=1.0))
    assert plan.solver.objective >= plan.solver.greedy_objective
    assert check_plan(scenario, plan) == []
