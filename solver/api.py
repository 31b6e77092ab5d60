"""The solver's public entry point."""

from __future__ import annotations

from collections.abc import Callable

from planner import Plan, Scenario, SolveProgress, SolveSettings

ProgressHook = Callable[[SolveProgress], None]
CancelHook = Callable[[], bool]


def solve(
    scenario: Scenario,
    settings: SolveSettings | None = None,
    *,
    on_progress: ProgressHook | None = None,
    cancel: CancelHook | None = None,
) -> Plan:
    """Plan every patient of the scenario; never worse than first-come-first-served booking.

    on_progress is called from the solving thread; cancel is polled and, when it returns
    True, the best plan found so far is returned.
    """
    raise NotImplementedError("solver is being written")
