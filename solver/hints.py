"""Complete a partial solution hint into one that hints every variable, checked by CP-SAT."""

from __future__ import annotations

from ortools.sat.python import cp_model

#: Deterministic time allowed to fill in a hint; with the hinted variables fixed, what is
#: left is propagation, so this only bounds a pathological case.
COMPLETE_BUDGET = 5.0


def complete_hint(model: cp_model.CpModel, seed: int = 0) -> bool:
    """Replace the model's hint by a full solution that agrees with it, if there is one.

    The hinted variables are fixed (CP-SAT's `fix_variables_to_their_hinted_value`) and the
    rest (interval sizes, release days, lateness, auxiliary literals, and any variable
    added later) are solved for, so CP-SAT's first solution is the hinted plan. Returns
    False, leaving the hint as it was, when the hint is infeasible.
    """
    if not model.proto.solution_hint.vars:
        return False
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.fix_variables_to_their_hinted_value = True
    params.num_workers = 1
    params.random_seed = seed
    params.max_deterministic_time = COMPLETE_BUDGET
    params.catch_sigint_signal = False
    # The objective's remaining freedom (lateness and wait are bounded below only) is
    # settled by search; the hinted plan itself is not changed.
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    values = list(solver.response_proto.solution)
    model.clear_hints()
    # Fetched anew: a reference taken before clear_hints() may no longer be the model's
    # hint, and the full hint then silently never reached the search.
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)
    return True
