"""Inputs no plan can satisfy are named before solving, with what to fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from data.demo import build_demo_scenario
from planner import DoneStep, PatientStatus, Role, RosterEntry, SolveSettings, StaffMember
from planner.sanity import (
    NeverFeasibleError,
    ignored_inputs,
    never_feasible,
    refuse_never_feasible,
)
from solver import solve
from tests.factories import patient, product, tiny_scenario


def test_sound_centres_have_nothing_to_say() -> None:
    assert never_feasible(tiny_scenario(3)) == [] and ignored_inputs(tiny_scenario(3)) == []
    assert never_feasible(build_demo_scenario()) == []
    assert ignored_inputs(build_demo_scenario()) == []


def test_roster_days_outside_the_horizon_are_said_to_be_unused() -> None:
    s = tiny_scenario(1)
    stray = RosterEntry("OP1", date(2026, 1, 5), "D")
    (sentence,) = ignored_inputs(replace(s, roster=(*s.roster, stray)))
    assert sentence.startswith("1 roster entry from 2026-01-05 to 2026-01-05 falls outside")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda s: replace(
                s,
                cleanrooms=(replace(s.cleanrooms[0], products=("TIL",)),),
                products=(*s.products, product("TIL")),
            ),
            "No cleanroom runs CART, so 2 patients of CART cannot be planned",
        ),
        (
            lambda s: replace(
                s,
                products=(*s.products, product("TIL")),
                staff=tuple(replace(m, trained_products=("TIL",)) for m in s.staff),
            ),
            "No operator trained on CART in the staff list",
        ),
        (lambda s: replace(s, roster=()), "No operator trained on CART is on the roster"),
        (
            lambda s: replace(
                s,
                staff=(StaffMember("OP1", (Role.OPERATOR,), ("CART",)),),
                roster=tuple(r for r in s.roster if r.staff_code == "OP1"),
                products=(
                    replace(
                        s.products[0],
                        steps=tuple(
                            replace(st, staff=tuple(replace(n, count=2) for n in st.staff))
                            for st in s.products[0].steps
                        ),
                    ),
                ),
            ),
            "needs 2 operator trained on CARTs at once but the staff list has 1",
        ),
        (
            lambda s: replace(
                s,
                patients=(
                    *s.patients,
                    patient(
                        "LATE",
                        0,
                        earliest_apheresis=date(2028, 1, 3),
                        latest_apheresis=date(2028, 1, 9),
                        referral_date=date(2028, 1, 1),
                    ),
                ),
            ),
            "Patient LATE's apheresis window starts 2028-01-03, after the horizon ends",
        ),
        (
            lambda s: replace(
                s, cleanrooms=(*s.cleanrooms, replace(s.cleanrooms[0], code="CR9", products=()))
            ),
            "Cleanroom CR9 runs no product and houses no device",
        ),
    ],
)
def test_each_impossibility_is_named_and_noted_by_the_solver(change, words: str) -> None:
    s = change(tiny_scenario(2))
    found = never_feasible(s)
    assert any(words in f for f in found), found
    plan = solve(s, SolveSettings(deterministic_time=0.2))
    assert any(words in note for note in plan.notes)


def test_a_room_housing_devices_needs_no_products_of_its_own() -> None:
    """The demo's suite 5 runs no product itself but houses the closed devices."""
    demo = build_demo_scenario()
    assert any(not r.products for r in demo.cleanrooms)
    assert never_feasible(demo) == []
    lonely = replace(demo, devices=tuple(replace(d, room_codes=("CR1",)) for d in demo.devices))
    assert [f for f in never_feasible(lonely) if "CR5" in f] == [
        "Cleanroom CR5 runs no product and houses no device: list the products it runs, "
        "or remove it."
    ]


def test_refusal_lists_every_problem_and_passes_sound_centres() -> None:
    refuse_never_feasible(tiny_scenario(2))
    s = tiny_scenario(2)
    broken = replace(
        s, roster=(), cleanrooms=(*s.cleanrooms, replace(s.cleanrooms[0], code="CR9", products=()))
    )
    with pytest.raises(NeverFeasibleError) as caught:
        refuse_never_feasible(broken)
    assert caught.value.problems == tuple(never_feasible(broken))
    assert len(caught.value.problems) == 3  # one per unrostered step, and the room
    assert str(caught.value).startswith("3 inputs can never be planned; fix them first:\n  - ")


def test_a_started_chain_whose_next_step_ran_out_of_time_before_the_horizon_is_named() -> None:
    """Collected a week before the horizon, seeding due within 72 h: no plan can keep it;
    collected the Friday before, seeding on Monday is still within 72 h."""
    start = tiny_scenario(1).horizon_start

    def collected(days_before: int) -> list[str]:
        day = datetime.combine(start - timedelta(days=days_before), time(8))
        done = DoneStep("apheresis", day, day + timedelta(hours=6), "APH")
        p = patient(
            "P1",
            referral_date=start - timedelta(days=10),
            earliest_apheresis=day.date(),
            latest_apheresis=day.date(),
            status=PatientStatus.IN_PROCESS,
            done_steps=(done,),
        )
        return never_feasible(tiny_scenario(patients=(p,)))

    (sentence,) = collected(7)
    assert sentence.startswith("Patient P1's apheresis ended ")
    assert "step seed must start within 72 h of it" in sentence
    assert collected(3) == []
