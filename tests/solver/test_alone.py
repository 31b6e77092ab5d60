"""CP-SAT alone on the planner's model (the benchmark's reference)."""

from __future__ import annotations

from data.generator import generate
from planner import SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.alone import solve_alone


def test_cp_sat_alone_reaches_the_planners_proved_optimum_on_a_small_centre() -> None:
    """On S (20 patients) CP-SAT alone proves the optimum the planner proves, with no greedy
    start; its plan passes the checker and is recorded as a wall-clock, unhinted run."""
    scenario = generate("S", 1)
    alone = solve_alone(scenario, 60.0, seed=1, workers=2)
    planner = solve(scenario, SolveSettings(seed=1))
    assert alone.solver.cp_sat_status == planner.solver.cp_sat_status == "OPTIMAL"
    assert alone.solver.engine == "cp-sat-alone"
    assert [lv.value for lv in alone.solver.levels] == [lv.value for lv in planner.solver.levels]
    assert alone.solver.objective == planner.solver.objective
    settings = alone.solver.settings
    assert not settings.deterministic and not settings.use_greedy_hint and settings.workers == 2
    assert check_plan(scenario, alone) == []
