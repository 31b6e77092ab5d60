"""Load of a scenario: demand hours of each resource kind against its capacity hours.

A first-order estimate for sizing and benchmarks, not a plan: every patient's chain is
counted at its minimum lags, wherever it falls, against capacity over the whole horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from planner.products import Product
from planner.resources import Role, Window
from planner.scenario import Scenario


@dataclass(frozen=True)
class ResourceLoad:
    """Demand against capacity of one resource kind over the horizon (hours, or slots)."""

    resource: str
    demand: float
    capacity: float
    unit: str = "h"

    @property
    def load(self) -> float:
        """Demand over capacity (infinite when there is demand but no capacity)."""
        if self.capacity > 0:
            return self.demand / self.capacity
        return float("inf") if self.demand > 0 else 0.0


def _span_hours(product: Product, needs: str) -> int:
    """Hours from the first to the end of the last step needing a room or device, at min lags."""
    flags = [getattr(s, needs) for s in product.steps]
    if not any(flags):
        return 0
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    steps = product.steps[first : last + 1]
    return sum(s.duration_hours for s in steps) + sum(s.min_lag_hours for s in steps[1:])


def _open_hours(downtime: tuple[Window, ...], lo: datetime, hi: datetime) -> float:
    down, reach = 0.0, lo
    for w in sorted(downtime, key=lambda w: w.start):
        start, end = max(w.start, reach), min(w.end, hi)
        if start < end:
            down += (end - start).total_seconds() / 3600
            reach = end
    return (hi - lo).total_seconds() / 3600 - down


def resource_loads(scenario: Scenario) -> tuple[ResourceLoad, ...]:
    """Load of cleanrooms, devices, beds, apheresis slots and each staff role."""
    lo = datetime.combine(scenario.horizon_start, time())
    hi = datetime.combine(scenario.horizon_end + timedelta(days=1), time())
    patients = scenario.patients_to_plan()
    products = [scenario.product(p.product_code) for p in patients]

    rooms = [r for r in scenario.cleanrooms if r.products]
    room_demand = sum(
        _span_hours(p, "needs_cleanroom")
        + min((r.changeover_hours for r in rooms if p.code in r.products), default=0)
        for p in products
        if _span_hours(p, "needs_cleanroom")
    )
    devices = [d for d in scenario.devices if d.products]
    device_demand = sum(
        _span_hours(p, "needs_device")
        + min((d.changeover_hours for d in devices if p.code in d.products), default=0)
        for p in products
        if _span_hours(p, "needs_device")
    )
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    loads = [
        ResourceLoad(
            "cleanrooms", room_demand, sum(_open_hours(r.downtime, lo, hi) for r in rooms)
        ),
        ResourceLoad(
            "devices", device_demand, sum(_open_hours(d.downtime, lo, hi) for d in devices)
        ),
        ResourceLoad(
            "beds",
            24.0 * sum(p.inpatient_days for p in products),
            24.0 * sum(scenario.ward.beds_on(d) for d in scenario.days()),
        ),
        ResourceLoad(
            "apheresis",
            float(len(patients)),
            float(
                sum(scenario.apheresis.slots_on(d, scenario.holiday_dates) for d in scenario.days())
            ),
            "slots",
        ),
    ]
    for role in Role:
        demand = sum(
            n.count * n.hours for p in products for s in p.steps for n in s.staff if n.role is role
        )
        capacity = sum(
            min(shifts[e.shift_code].hours, scenario.site.working_hours)
            for e in scenario.roster
            if shifts[e.shift_code].covers_day_work
            and role in members[e.staff_code].roles
            and scenario.horizon_start <= e.day <= scenario.horizon_end
        )
        if demand or capacity:
            loads.append(ResourceLoad(f"staff:{role.value}", float(demand), float(capacity)))
    return tuple(loads)


def bottleneck(scenario: Scenario) -> ResourceLoad:
    """The most loaded resource kind."""
    return max(resource_loads(scenario), key=lambda r: r.load)


def format_loads(loads: tuple[ResourceLoad, ...]) -> str:
    """One line per resource kind: demand, capacity and load, the bottleneck marked."""
    top = max(loads, key=lambda r: r.load)
    return "\n".join(
        f"{'*' if r is top else ' '} {r.resource:<22} {r.demand:>10,.0f} / {r.capacity:>10,.0f} "
        f"{r.unit:<5} {r.load * 100:6.1f} %"
        for r in loads
    )
