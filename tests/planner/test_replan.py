"""A failed batch as a scenario change: the patient is collected again, nothing else moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from planner import DoneStep, PatientStatus, ValidationError
from planner.replan import fail_batch
from tests.factories import START, patient, tiny_scenario


def _with(*patients):
    return tiny_scenario(patients=patients)


def test_a_failed_batch_voids_what_was_done_and_opens_a_new_window_as_long() -> None:
    done = DoneStep("apheresis", datetime(2027, 1, 5, 8), datetime(2027, 1, 5, 12))
    p1 = patient("P1", window_days=10, status=PatientStatus.IN_PROCESS, done_steps=(done,))
    s = _with(p1, patient("P2"))
    after = fail_batch(s, "P1", date(2027, 1, 20))
    again = after.patients[0]
    assert again.done_steps == () and again.status is PatientStatus.REFERRED
    assert (again.earliest_apheresis, again.latest_apheresis) == (
        date(2027, 1, 20),
        date(2027, 1, 30),
    )
    assert again.needed_infusion == p1.needed_infusion and again.priority == p1.priority
    assert after.patients[1] == s.patients[1]
    until = fail_batch(s, "P1", date(2027, 1, 20), apheresis_until=date(2027, 2, 10))
    assert until.patients[0].latest_apheresis == date(2027, 2, 10)


def test_a_failure_inside_the_first_window_keeps_its_end() -> None:
    s = _with(patient("P1", window_days=20))
    again = fail_batch(s, "P1", START + timedelta(days=3)).patients[0]
    assert again.earliest_apheresis == START + timedelta(days=3)
    assert again.latest_apheresis == START + timedelta(days=23)


@pytest.mark.parametrize(
    ("code", "on", "until", "words"),
    [
        ("P9", date(2027, 1, 20), None, "No patient 'P9'"),
        ("P2", date(2027, 1, 20), None, "is infused: a failed batch applies"),
        ("P1", date(2027, 1, 4), None, "cannot fail on 2027-01-04, before its apheresis"),
        ("P1", date(2027, 1, 20), date(2027, 1, 10), "would end (2027-01-10) before"),
        ("P3", date(2027, 1, 20), None, "cannot fail on 2027-01-20, before the referral"),
    ],
)
def test_impossible_failures_are_refused_saying_why(code, on, until, words) -> None:
    done = DoneStep("apheresis", datetime(2027, 1, 5, 8), datetime(2027, 1, 5, 12))
    p1 = patient("P1", status=PatientStatus.IN_PROCESS, done_steps=(done,))
    p2 = replace(patient("P2"), status=PatientStatus.INFUSED, infused_on=date(2027, 1, 30))
    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        fail_batch(_with(p1, p2, patient("P3", 30)), code, on, until)
