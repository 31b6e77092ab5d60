"""The greedy hint completed by CP-SAT: every variable hinted, and the hint feasible."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from data.demo import build_demo_scenario
from data.generator import generate
from planner import Role, SolveSettings, StaffMember
from solver.chain import objective
from solver.greedy import greedy
from solver.hints import complete_hint
from solver.instance import compile_instance
from solver.model import ChainModel
from solver.params import search_parameters
from tests.factories import patient
from tests.solver.test_shift_slots import DAY, LATE, _centre, _wash_after_seed
from tests.solver.test_solve import crowded


def _two_slots_a_day():
    """Slots at 08:00 and 14:00, a product whose 2-h wash starts inside one."""
    people = {
        StaffMember(f"OP{k}", (Role.OPERATOR,), ("CART",)): DAY if k < 3 else LATE
        for k in range(1, 5)
    }
    made = _wash_after_seed(seed_hours=2, max_lag=1)
    return _centre(
        people,
        products=(made,),
        patients=tuple(patient(f"P{k}", day_offset=k, window_days=5) for k in range(6)),
    )


@pytest.mark.parametrize(
    ("make", "inside"),
    [
        (lambda: crowded(3, n=12), False),
        (lambda: generate("S", 1), False),
        (_two_slots_a_day, True),
    ],
)
def test_completed_hint_covers_every_variable_and_is_the_greedy_plan(make, inside) -> None:
    """Every model variable is hinted, and solving with hints fixed gives the greedy plan
    (on the last instance, one whose staffed steps start inside a slot too)."""
    instance = compile_instance(make())
    start = greedy(instance)
    assert inside == any(
        instance.slot_at(hour) is None
        for chain in start.booking.chains
        for i, hour in enumerate(chain.starts)
        if instance.jobs[chain.job].steps[i].staff
    )
    chain_model = ChainModel(instance)
    chain_model.hint(start.booking.chains)
    assert complete_hint(chain_model.model)
    hint = chain_model.model.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(chain_model.model.proto.variables)))
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.debug_crash_on_bad_hint = True
    solver.parameters.num_workers = 1
    assert solver.solve(chain_model.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value == objective(instance, start.booking.chains)
    assert sorted(chain_model.chains(solver.value), key=lambda c: c.job) == sorted(
        start.booking.chains, key=lambda c: c.job
    )


def test_an_infeasible_hint_is_refused_and_left_alone() -> None:
    """A hint that breaks a constraint (two patients in one room at once) is not completed."""
    instance = compile_instance(crowded(3, n=12))
    chains = greedy(instance).booking.chains
    assert len(chains) >= 2
    first, second = chains[0], chains[1]
    clash = second.__class__(
        second.job,
        first.apheresis_day,
        first.starts,
        first.room,
        first.device,
        first.infusion_day,
    )
    chain_model = ChainModel(instance)
    chain_model.hint([first, clash])
    before = len(chain_model.model.proto.solution_hint.vars)
    assert not complete_hint(chain_model.model)
    assert len(chain_model.model.proto.solution_hint.vars) == before


@pytest.mark.parametrize("make", [build_demo_scenario, lambda: generate("S", 1)])
def test_the_search_starts_from_the_completed_hint(make) -> None:
    """Built, hinted and completed as `solve` does (nothing reads the hint in between),
    the full search's first solution is the greedy plan: CP-SAT reports the hint complete
    and feasible. (The completed hint was once written to a stale reference and lost.)"""
    instance = compile_instance(make())
    start = greedy(instance)
    chain_model = ChainModel(instance)
    chain_model.hint(start.booking.chains)
    assert complete_hint(chain_model.model)
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(search_parameters(SolveSettings(), 0.3))
    solver.parameters.log_search_progress = True
    solver.parameters.log_to_stdout = False
    lines: list[str] = []
    solver.log_callback = lines.append
    solver.solve(chain_model.model)
    greedy_value = objective(instance, start.booking.chains)
    assert (
        f"The solution hint is complete and is feasible. Its objective value is {greedy_value}."
        in lines
    )
    assert solver.objective_value >= greedy_value
