"""Load estimates: demand hours against capacity hours per resource kind."""

from __future__ import annotations

from planner.load import ResourceLoad, bottleneck, format_loads, resource_loads
from tests import factories


def loads(n_patients: int) -> dict[str, ResourceLoad]:
    return {r.resource: r for r in resource_loads(factories.tiny_scenario(n_patients))}


def test_room_load_counts_each_chain_at_minimum_lags_plus_changeover() -> None:
    # Seed 6 h, expand 72 h, harvest 6 h, all at lag 0, then 8 h changeover.
    rooms = loads(3)["cleanrooms"]
    assert rooms.demand == 3 * (6 + 72 + 6 + 8)
    assert rooms.capacity == 60 * 24
    assert rooms.load == rooms.demand / rooms.capacity


def test_staff_beds_and_apheresis_loads() -> None:
    by_kind = loads(2)
    operators = by_kind["staff:operator"]
    assert operators.demand == 2 * (6 + 6)
    weekdays = sum(1 for d in factories.tiny_scenario().days() if d.weekday() < 5)
    assert operators.capacity == 2 * 8 * weekdays
    assert by_kind["beds"].demand == 2 * 3 * 24 and by_kind["beds"].capacity == 2 * 60 * 24
    assert (by_kind["apheresis"].demand, by_kind["apheresis"].capacity) == (2, weekdays)
    assert by_kind["apheresis"].unit == "slots"


def test_more_patients_raise_the_bottleneck_load() -> None:
    few, many = factories.tiny_scenario(2), factories.tiny_scenario(8)
    assert bottleneck(many).load == 4 * bottleneck(few).load > 0


def test_load_without_capacity_is_infinite() -> None:
    assert ResourceLoad("x", 1.0, 0.0).load == float("inf")
    assert ResourceLoad("x", 0.0, 0.0).load == 0.0
    text = format_loads((ResourceLoad("a", 1, 2), ResourceLoad("b", 2, 2)))
    assert text.splitlines()[1].startswith("* b")
