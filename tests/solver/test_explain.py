"""Why a patient who fits alone is left out: the binding resource, found by freeing one
resource family at a time in the model, and the patients holding it."""

from __future__ import annotations

from datetime import timedelta

from planner import (
    ApheresisCapacity,
    Plan,
    Scenario,
    SolveSettings,
    UnscheduledReason,
)
from solver import solve
from tests.factories import START, patient, tiny_scenario

FAST = SolveSettings(deterministic_time=2.0)
TWO_SLOTS = ApheresisCapacity((2, 2, 2, 2, 2, 0, 0))


def _two_on_one_day(**overrides: object) -> Scenario:
    """P1 (priority 1) and P2 (priority 3, referred a day earlier), both collected on START."""
    return tiny_scenario(
        days=30,
        patients=(
            patient("P1", window_days=0, priority=1),
            patient("P2", window_days=0, referral_date=START - timedelta(days=1)),
        ),
        **overrides,
    )


def _left_out(plan: Plan) -> str:
    (item,) = plan.unscheduled
    assert item.patient_code == "P2" and item.reason is UnscheduledReason.NOT_CHOSEN
    return item.detail


def test_two_resources_binding_together_are_named_with_the_holder() -> None:
    """One slot and one room: only freeing both lets P2 in; both go to P1 (priority 1)."""
    detail = _left_out(solve(_two_on_one_day(), FAST))
    assert "only with apheresis slots and cleanrooms (CR1) freed together" in detail
    assert "On Mon 04 Jan apheresis slots go to P1 (priority 1, referred after P2)" in detail
    assert "cleanrooms go to P1 (priority 1, referred after P2)" in detail


def test_a_single_binding_room_is_named() -> None:
    """Two slots a day and one room: the room alone keeps P2 out."""
    detail = _left_out(solve(_two_on_one_day(apheresis=TWO_SLOTS), FAST))
    assert "It would fit with cleanrooms (CR1) freed (any one of them)." in detail
    assert "apheresis" not in detail
