"""Slots and staff groups: where staffed steps start, and what keeps a pooled plan nameable.

A staffed step starts in a slot: the working day's start (for the people whose working
shift is on then) or the start of a working shift that begins later (for the people on
it), at the slot's start or a later hour within it (Instance.slot_span). Each working
shift puts its person in exactly one slot, where they stay on shift the slot's `length`
hours from its start; a person's shifts that overlap count once (so no one is in two
slots at the same time), and one whose shift starting at a slot ends sooner than the
others' is left out of it (the slot's length is its longest shift). Every need of a slot
lies inside the slot's shifts and takes one of its people for the whole slot, wherever
in the slot it starts: giving each person at most one need of a slot is then enough,
and needs of different slots never share a person. Who may take a need depends only on
its role and product: by Hall's theorem the needs of a slot can be given to distinct
qualified people of the slot exactly when, for every set of products P of a role, the
people needed by steps of products in P are no more than the people of the slot trained
on at least one product in P (and, for the needs without a product, no more than
everyone of the role in the slot). Each such set is a `StaffGroup` with a people
capacity per slot; the model and the greedy keep within them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from planner import Role, Scenario

#: Up to this many products per role every set is a group (exact); beyond it, single
#: products and the whole role only (a necessary condition, no longer sufficient).
EXACT_PRODUCTS = 6


#: Hours in a day (day d spans [24d, 24d + 24) from the horizon's first midnight).
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Slot:
    """A start hour for staffed steps: its day, the hour (from the horizon's first
    midnight) and the hours its people stay on shift from then."""

    day: int
    start: int
    length: int

    @property
    def end(self) -> int:
        """Hour the slot's people go off shift."""
        return self.start + self.length


def staff_slots(
    scenario: Scenario, days: int
) -> tuple[tuple[Slot, ...], tuple[tuple[str, ...], ...]]:
    """The slots of the horizon in time order, and the people of each."""
    shifts = {s.code: s for s in scenario.shift_codes}
    worked: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for entry in scenario.roster:
        shift = shifts[entry.shift_code]
        day = (entry.day - scenario.horizon_start).days
        if 0 <= day < days and shift.covers_day_work and not shift.is_leave and shift.hours > 0:
            begin = day * HOURS_PER_DAY + shift.start_hour
            worked[entry.staff_code].append((begin, shift.hours))
    by_start: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for code, items in sorted(worked.items()):
        free_from: int | None = None
        for begin, hours in sorted(items):
            if free_from is not None and begin < free_from:
                continue  # overlaps a shift of the same person already counted
            free_from = begin + hours
            work_start = begin - begin % HOURS_PER_DAY + scenario.site.day_start_hour
            start = work_start if begin <= work_start < free_from else begin
            by_start[start].append((free_from - start, code))
    slots: list[Slot] = []
    members: list[tuple[str, ...]] = []
    for start, people in sorted(by_start.items()):
        length = max(hours for hours, _ in people)
        slots.append(Slot(start // HOURS_PER_DAY, start, length))
        members.append(tuple(sorted(code for hours, code in people if hours == length)))
    return tuple(slots), tuple(members)


@dataclass(frozen=True)
class StaffGroup:
    """Needs of a role for a set of products (None: every need of the role)."""

    role: Role
    products: frozenset[str] | None
    #: People per slot.
    people: tuple[int, ...]

    def covers(self, role: Role, product: str | None) -> bool:
        """Whether a need of this role and product counts against the group."""
        if role is not self.role:
            return False
        return self.products is None or (product is not None and product in self.products)

    @property
    def tag(self) -> str:
        """A short name for model variables."""
        return f"{self.role.value}:" + (
            "*" if self.products is None else "+".join(sorted(self.products))
        )


def staff_groups(
    scenario: Scenario,
    members: tuple[tuple[str, ...], ...],
    needs: set[tuple[Role, str | None]],
) -> tuple[StaffGroup, ...]:
    """The groups of the roles and products that steps need, with their people per slot
    (members: the people of each slot)."""
    staff = {s.code: s for s in scenario.staff}
    groups: list[StaffGroup] = []
    for role in sorted({r for r, _ in needs}, key=lambda r: r.value):
        products = sorted({p for r, p in needs if r is role and p is not None})
        if len(products) <= EXACT_PRODUCTS:
            sets = [
                frozenset(c)
                for n in range(1, len(products) + 1)
                for c in itertools.combinations(products, n)
            ]
        else:
            sets = [frozenset((p,)) for p in products]
        choices: list[frozenset[str] | None] = [*sets, None]
        for chosen in choices:
            people = tuple(
                sum(
                    1
                    for code in slot
                    if role in staff[code].roles
                    and (chosen is None or chosen & set(staff[code].trained_products))
                )
                for slot in members
            )
            groups.append(StaffGroup(role, chosen, people))
    return tuple(g for g in groups if not any(_implies(h, g) for h in groups))


def _implies(h: StaffGroup, g: StaffGroup) -> bool:
    """Whether keeping within group h keeps within g: h counts every need g counts (and
    maybe more) against no more people in any slot. Where everyone is trained on every
    product, the whole role's group implies all the others (M: 7 of 8 operator groups)."""
    if h is g or h.role is not g.role:
        return False
    if g.products is None:
        return False
    covers = h.products is None or g.products < h.products
    return covers and all(a <= b for a, b in zip(h.people, g.people, strict=True))
