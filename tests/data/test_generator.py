"""The benchmark generator: seeded, valid, of the promised sizes and loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.generator import CLASSES, generate, parameters, write_instance
from data.scenario_json import read_scenario_json
from planner import Role, Scenario
from planner.load import bottleneck, resource_loads


@pytest.fixture(scope="module")
def centres() -> dict[str, Scenario]:
    return {name: generate(name, 1) for name in ("S", "M", "M-over", "L", "L-over")}


def test_same_seed_gives_an_equal_scenario(centres: dict[str, Scenario]) -> None:
    assert generate("S", 1) == centres["S"]
    assert generate("M", 1) == centres["M"]


def test_different_seeds_differ(centres: dict[str, Scenario]) -> None:
    other = generate("M", 2)
    assert other.patients != centres["M"].patients
    assert other.roster != centres["M"].roster


@pytest.mark.parametrize(
    ("name", "rooms", "devices", "beds", "patients", "weeks"),
    [("S", 2, 2, 3, 20, 8), ("M", 5, 5, 10, 120, 26), ("L", 12, 24, 30, 600, 52)],
)
def test_classes_have_the_promised_size(
    centres: dict[str, Scenario],
    name: str,
    rooms: int,
    devices: int,
    beds: int,
    patients: int,
    weeks: int,
) -> None:
    s = centres[name]
    assert len(s.cleanrooms) == rooms and len(s.devices) == devices and s.ward.beds == beds
    assert len(s.patients) == len(s.patients_to_plan()) == patients
    assert len(s.days()) == 7 * weeks and s.horizon_start.weekday() == 0


def test_xl_has_2000_patients_over_52_weeks() -> None:
    c = CLASSES["XL"]
    assert (c.patients, c.weeks) == (2000, 52)


def test_s_is_overloaded_and_the_base_centres_are_not(centres: dict[str, Scenario]) -> None:
    assert bottleneck(centres["S"]).load > 1.2
    assert bottleneck(centres["M"]).load < 0.8
    assert bottleneck(centres["L"]).load < 0.8


@pytest.mark.parametrize("name", ["M-over", "L-over"])
def test_overloaded_variants_run_at_about_90_percent(
    centres: dict[str, Scenario], name: str
) -> None:
    over, base = centres[name], centres[name.removesuffix("-over")]
    assert 0.85 <= bottleneck(over).load <= 0.95
    # Same centre, more referrals; the base's referrals come first.
    assert over.cleanrooms == base.cleanrooms and over.roster == base.roster
    assert len(over.patients) > len(base.patients)
    assert [p.code for p in over.patients[:50]] == [p.code for p in base.patients[:50]]


def test_staff_are_not_the_bottleneck(centres: dict[str, Scenario]) -> None:
    for scenario in centres.values():
        loads = {r.resource: r.load for r in resource_loads(scenario)}
        assert loads[f"staff:{Role.OPERATOR.value}"] < bottleneck(scenario).load
        assert loads[f"staff:{Role.OPERATOR.value}"] < 0.6


def test_product_mix_uses_every_demo_product_and_trial(centres: dict[str, Scenario]) -> None:
    s = centres["L"]
    assert {p.product_code for p in s.patients} == {p.code for p in s.products}
    assert {p.trial_code for p in s.patients} == {None, *(t.code for t in s.trials)}
    assert {p.priority for p in s.patients} >= {1, 2, 3, 4, 5}


def test_write_instance_writes_a_json_scenario_and_its_parameters(
    tmp_path: Path, centres: dict[str, Scenario]
) -> None:
    """The instance file is a JSON scenario that reads back equal; the parameters rebuild it."""
    path = write_instance(centres["M"], tmp_path / "m.json", parameters("M", 1))
    assert read_scenario_json(path) == centres["M"]
    record = json.loads((tmp_path / "m.params.json").read_text())
    assert record["class"] == "M" and record["seed"] == 1 and record["patients"] == 120
    assert generate(record["class"], record["seed"]) == centres["M"]
