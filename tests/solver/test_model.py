"""The CP-SAT model on its own: what it optimises is the objective the plans are judged by."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ortools.sat.python import cp_model

from planner import (
    ApheresisCapacity,
    Cleanroom,
    Grade,
    Role,
    RosterEntry,
    Scenario,
    StaffMember,
    Ward,
    Window,
)
from solver.chain import objective
from solver.instance import compile_instance
from solver.model import ChainModel
from tests.factories import START, patient, tiny_scenario


def test_the_models_objective_is_the_shared_objective_of_its_chains() -> None:
    """Three patients needed before any could be infused (late), collected later than they
    could be (waiting): CP-SAT's own objective value equals `objective` of the chains it
    returns, lateness and waiting counted alike."""
    needed = START + timedelta(days=5)
    patients = tuple(
        patient(f"P{i}", i, needed_infusion=needed, referral_date=START) for i in range(3)
    )
    instance = compile_instance(tiny_scenario(patients=patients))
    chain_model = ChainModel(instance)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 5.0
    status = solver.solve(chain_model.model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    chains = chain_model.chains(solver.value)
    assert len(chains) == 3
    assert all(c.lateness(instance) > 0 for c in chains)
    assert any(c.wait(instance) > c.vein_to_vein() for c in chains)
    assert solver.objective_value == objective(instance, chains)


def test_a_patient_needed_long_before_the_horizon_is_planned_and_counted_late() -> None:
    """A referral overdue by more than the horizon (needed 500 days before it starts) is
    still planned, and its lateness counts every day; CP-SAT's value is the shared one."""
    needed = START - timedelta(days=500)
    instance = compile_instance(tiny_scenario(patients=(patient("P0", 0, needed_infusion=needed),)))
    chain_model = ChainModel(instance)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(chain_model.model) == cp_model.OPTIMAL
    chains = chain_model.chains(solver.value)
    assert len(chains) == 1 and chains[0].lateness(instance) > 500
    assert solver.objective_value == objective(instance, chains)


def _rooms_scenario() -> Scenario:
    """Three suites with different changeovers, one down for a week, and nine patients
    referred together, all needed within ten days: more than the suites can take at once."""
    monday = datetime.combine(START + timedelta(days=14), time())
    down = Window(monday, monday + timedelta(days=5), "Requalification")
    rooms = (
        Cleanroom("CR1", "Room 1", Grade.B, ("CART",), changeover_hours=8),
        Cleanroom("CR2", "Room 2", Grade.B, ("CART",), changeover_hours=12, downtime=(down,)),
        Cleanroom("CR3", "Room 3", Grade.B, ("CART",), changeover_hours=10),
    )
    staff = tuple(StaffMember(f"OP{i}", (Role.OPERATOR,), ("CART",)) for i in range(6))
    days = 42
    roster = tuple(
        RosterEntry(s.code, START + timedelta(days=i), "D")
        for s in staff
        for i in range(days)
        if (START + timedelta(days=i)).weekday() < 5
    )
    return tiny_scenario(
        days=days,
        cleanrooms=rooms,
        staff=staff,
        roster=roster,
        ward=Ward("W1", "Ward", beds=6),
        apheresis=ApheresisCapacity((2, 2, 2, 2, 2, 0, 0)),
        patients=tuple(
            patient(f"P{i}", 0, window_days=10, needed_infusion=START + timedelta(days=10))
            for i in range(9)
        ),
    )


def _solved(chain_model: ChainModel) -> tuple[int, int]:
    """CP-SAT's proved optimum of the model, and the most suites in use at once in it."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 60.0
    assert solver.solve(chain_model.model) == cp_model.OPTIMAL
    instance = chain_model.instance
    stays = []
    for chain in chain_model.chains(solver.value):
        first, last = instance.jobs[chain.job].room_steps or (0, 0)
        stays.append((chain.starts[first], chain.end(instance, last)))
    busiest = max(sum(s <= t < e for s, e in stays) for t, _ in stays)
    return int(solver.objective_value), busiest


def test_grouping_interchangeable_suites_keeps_the_optimum() -> None:
    """The suites' redundant cumulative (capacity 3, shortest changeover, the downtime
    week) cuts off no plan: the optimum is the same with and without it, and it is a plan
    that uses all three suites at once, so a group one suite short would lose it."""
    instance = compile_instance(_rooms_scenario())
    plain = _solved(ChainModel(instance))
    grouped_model = ChainModel(instance, group_holders=True)
    cumulative = [
        c.cumulative for c in grouped_model.model.Proto().constraints if c.has_cumulative()
    ]
    assert any(len(c.intervals) == 9 + 1 for c in cumulative)  # nine stays, one downtime
    assert _solved(grouped_model) == plain
    assert plain[1] == 3
