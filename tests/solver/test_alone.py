"""CP-SAT alone on the planner's model (the benchmark's reference)."""

from __future__ import annotations

from datetime import datetime

from data.generator import generate
from planner import DoneStep, PatientStatus, SolveSettings
from planner.checks import check_plan
from solver import solve
from solver.alone import solve_alone
from tests.factories import START, patient, tiny_scenario


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


def test_cp_sat_alone_keeps_a_patient_in_process() -> None:
    """P1's cells are collected; P2 (priority 1, far heavier) needs the room at the same
    time. Dropping P1 would plan more weight, but a started chain goes on, as in `solve`."""
    collected = DoneStep("apheresis", datetime(2027, 1, 4, 8), datetime(2027, 1, 4, 14), "APH")
    p1 = patient(
        "P1",
        latest_apheresis=START,
        priority=5,
        status=PatientStatus.IN_PROCESS,
        done_steps=(collected,),
    )
    p2 = patient("P2", window_days=1, priority=1)
    scenario = tiny_scenario(patients=(p1, p2))
    plan = solve_alone(scenario, 30.0, workers=1)
    assert [s.patient_code for s in plan.schedules] == ["P1"]
    assert check_plan(scenario, plan) == []
