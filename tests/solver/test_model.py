"""The CP-SAT model on its own: what it optimises is the objective the plans are judged by."""

from __future__ import annotations

from datetime import timedelta

from ortools.sat.python import cp_model

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
