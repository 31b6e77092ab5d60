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
    assert "It would fit with cleanrooms (CR1) freed." in detail
    assert "apheresis" not in detail


def test_a_late_patient_is_told_what_would_make_it_on_time() -> None:
    """One room, both needed on the first day either could be infused: one is late, and
    the note says the room would have made it on time and who had it."""
    needed = START + timedelta(days=14)
    both = tuple(
        patient(code, window_days=7, needed_infusion=needed, priority=priority)
        for code, priority in (("P1", 1), ("P2", 3))
    )
    plan = solve(tiny_scenario(days=40, patients=both, apheresis=TWO_SLOTS), FAST)
    assert plan.kpis.scheduled == 2
    (late,) = [s for s in plan.schedules if s.lateness_days > 0]
    (note,) = [n for n in plan.notes if " days late " in n]
    other = "P1" if late.patient_code == "P2" else "P2"
    assert note.startswith(f"{late.patient_code} is {late.lateness_days} days late")
    assert "On time: it would fit with cleanrooms (CR1) freed." in note
    assert f"cleanrooms go to {other} (priority" in note


def test_unavoidable_lateness_is_said_to_be_so() -> None:
    """Needed two days after collection: no plan could make it; the note says so."""
    rushed = patient("P1", window_days=0, needed_infusion=START + timedelta(days=2))
    plan = solve(tiny_scenario(days=40, patients=(rushed,)), FAST)
    (note,) = [n for n in plan.notes if " days late " in n]
    assert "it does not fit even with every other patient removed" in note


def test_explanations_are_the_same_for_any_number_of_workers(monkeypatch) -> None:
    """The demo's left-out and late patients, explained one at a time or three at a time
    (their CP-SAT probes side by side), give the same reasons and notes."""
    import solver.api as api
    from data.demo import build_demo_scenario

    seen = []
    real = api.with_competition_named

    def spy(instance, plan, chains, workers=1):  # type: ignore[no-untyped-def]
        seen.append((instance, plan, chains))
        return real(instance, plan, chains, workers)

    monkeypatch.setattr(api, "with_competition_named", spy)
    solve(build_demo_scenario(), SolveSettings(deterministic_time=0.3))
    ((instance, plan, chains),) = seen
    one = real(instance, plan, chains, 1)
    assert any(u.reason is UnscheduledReason.NOT_CHOSEN for u in one.unscheduled)
    assert any(" days late (needed by " in note for note in one.notes)
    assert real(instance, plan, chains, 3) == one
