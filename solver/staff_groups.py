"""People per day for groups of staff needs: what makes a pooled plan nameable.

Staffed steps start at the day's start, so every need of a day overlaps every other and
a person can take at most one. Who may take a need depends only on its role and product:
by Hall's theorem the needs of a day can be given to distinct qualified people exactly
when, for every set of products P of a role, the people needed by steps of products in P
are no more than the people on shift trained on at least one product in P (and, for the
needs without a product, no more than everyone of the role on shift). Each such set is a
`StaffGroup` with a people capacity per day; the model and the greedy keep within them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from planner import Role, Scenario

#: Up to this many products per role every set is a group (exact); beyond it, single
#: products and the whole role only (a necessary condition, no longer sufficient).
EXACT_PRODUCTS = 6


@dataclass(frozen=True)
class StaffGroup:
    """Needs of a role for a set of products (None: every need of the role)."""

    role: Role
    products: frozenset[str] | None
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
    scenario: Scenario, days: int, needs: set[tuple[Role, str | None]]
) -> tuple[StaffGroup, ...]:
    """The groups of the roles and products that steps need, with people on shift per day."""
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    on_shift: list[list[str]] = [[] for _ in range(days)]
    for entry in scenario.roster:
        shift = shifts[entry.shift_code]
        day = (entry.day - scenario.horizon_start).days
        if 0 <= day < days and shift.covers_day_work and not shift.is_leave and shift.hours > 0:
            on_shift[day].append(entry.staff_code)
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
                    for code in on_shift[day]
                    if role in members[code].roles
                    and (chosen is None or chosen & set(members[code].trained_products))
                )
                for day in range(days)
            )
            groups.append(StaffGroup(role, chosen, people))
    return tuple(groups)
