"""Named staff: assign rostered, qualified people to the staff-pool needs of a plan.

The chain model books staff as pools (role, product training) with hours per day. This
step names the people: each pooled need of n people on a step gets n distinct persons who
hold the role, are trained on the product where the step asks for it, are rostered on a
working shift that covers the whole need, are not in two places at once and stay within
their contracted weekly hours; weekend work is spread as evenly as it can be. Each ISO
week is named greedily in time order, then improved by a small CP-SAT model (one worker,
fixed seed, deterministic budget): the whole week where the greedy left someone out, its
weekend alone otherwise. The same plan always gets the same names. A need that cannot be
met in full keeps its pool row and is reported with the reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from planner import Assignment, ResourceType, Role, Scenario, StaffMember


@dataclass(frozen=True)
class _Need:
    """One pooled staff need of a step: `count` people for [start, end)."""

    row: Assignment
    role: Role
    product: str | None
    start: datetime
    end: datetime
    count: int

    @property
    def hours(self) -> int:
        """Its length in whole hours."""
        return _hours(self.start, self.end)

    @property
    def on_weekend(self) -> bool:
        """Whether it starts on a Saturday or Sunday."""
        return self.start.weekday() >= 5

    def meets(self, other: _Need) -> bool:
        """Whether the two needs overlap in time."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class StaffGap:
    """A need that could not be fully named: who is missing and why."""

    row: Assignment
    missing: int
    reason: str

    def describe(self) -> str:
        """One line for the plan's notes."""
        a = self.row
        return (
            f"Unnamed staff: {a.patient_code} {a.step_code} {a.start:%a %Y-%m-%d %H:%M}-"
            f"{a.end:%H:%M} needs {self.missing} more {a.resource_code.replace(':', ' ')}: "
            f"{self.reason}"
        )


@dataclass(frozen=True)
class Staffing:
    """The named assignments added to a plan and the needs left (partly) unnamed."""

    named: tuple[Assignment, ...]
    gaps: tuple[StaffGap, ...]
    needs: int

    def summary(self) -> str:
        """One line: how many needs were named in full."""
        return f"Named staff for {self.needs - len(self.gaps)} of {self.needs} staffed steps" + (
            f"; {len(self.gaps)} could not be named in full." if self.gaps else "."
        )


def _needs(scenario: Scenario, assignments: Sequence[Assignment]) -> list[_Need]:
    """The pooled needs of steps still to do (who did a step already done is history)."""
    done = {(p.code, d.step_code) for p in scenario.patients for d in p.done_steps}
    needs = []
    for a in assignments:
        if a.resource_type is not ResourceType.STAFF_POOL:
            continue
        if (a.patient_code, a.step_code) in done:
            continue
        role, _, product = a.resource_code.partition(":")
        needs.append(_Need(a, Role(role), product or None, a.start, a.end, a.quantity))
    return sorted(needs, key=lambda n: (n.start, n.row.patient_code, n.row.step_code, n.role))


def _shifts(scenario: Scenario) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per person, the working shifts rostered (leave, on-call and courses left out)."""
    codes = {s.code: s for s in scenario.shift_codes}
    out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for entry in scenario.roster:
        shift = codes.get(entry.shift_code)
        if shift is None or shift.is_leave or not shift.covers_day_work or shift.hours <= 0:
            continue
        start = datetime.combine(entry.day, datetime.min.time()) + timedelta(hours=shift.start_hour)
        out[entry.staff_code].append((start, start + timedelta(hours=shift.hours)))
    return out


def _qualified(person: StaffMember, need: _Need) -> bool:
    return need.role in person.roles and (
        need.product is None or need.product in person.trained_products
    )


def _by_day(
    shifts: list[tuple[datetime, datetime]],
) -> dict[date, list[tuple[datetime, datetime]]]:
    """A person's shifts by the day they start on."""
    days: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for shift in shifts:
        days[shift[0].date()].append(shift)
    return days


def _covers(days: Mapping[date, list[tuple[datetime, datetime]]], need: _Need) -> bool:
    """Whether one shift (of at most 24 h, so begun that day or the day before) covers a
    need."""
    day = need.start.date()
    return any(
        s <= need.start and need.end <= e
        for d in (day - timedelta(days=1), day)
        for s, e in days.get(d, ())
    )


def _why_none(
    need: _Need, staff: Sequence[StaffMember], shifts: dict[str, list[tuple[datetime, datetime]]]
) -> str:
    """Why no one at all could take a need."""
    qualified = [p for p in staff if _qualified(p, need)]
    trained = "" if need.product is None else f" trained on {need.product}"
    if not qualified:
        return f"no {need.role.value}{trained} in the staff list"
    on_day = [
        (p, s, e)
        for p in qualified
        for s, e in shifts.get(p.code, [])
        if s < need.end and need.start < e
    ]
    if not on_day:
        return f"no {need.role.value}{trained} rostered then"
    hours = (need.end - need.start).total_seconds() / 3600
    longest = max((e - s).total_seconds() / 3600 for _, s, e in on_day)
    return (
        f"it takes {hours:g} h from {need.start:%H:%M}; the shifts of the {len(on_day)} "
        f"qualified people rostered then do not cover it (longest {longest:g} h)"
    )


def _hours(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() / 3600)


def _week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


#: People named before for a step: (patient, step, start) -> their codes.
Preferred = Mapping[tuple[str, str, datetime], frozenset[str]]


def assign_staff(
    scenario: Scenario,
    assignments: Sequence[Assignment],
    *,
    seed: int = 0,
    budget_per_week: float = 1.0,
    prefer: Preferred | None = None,
) -> Staffing:
    """Name people for every staff-pool need of steps still to do, week by week.

    prefer names the people a step had before (e.g. in the published plan): after naming
    every need, as many of them as can keep their step do.
    """
    staff = list(scenario.staff)
    shifts = _shifts(scenario)
    days = {code: _by_day(held) for code, held in shifts.items()}
    needs = _needs(scenario, assignments)
    by_week: dict[tuple[int, int], list[_Need]] = defaultdict(list)
    for need in needs:
        by_week[_week(need.start.date())].append(need)
    named: list[Assignment] = []
    gaps: list[StaffGap] = []
    # People on a need that runs past Sunday midnight are busy into the next week.
    carried: dict[int, list[_Need]] = {}
    for week in sorted(by_week):
        week_named, week_gaps, carried = _assign_week(
            by_week[week],
            staff,
            shifts,
            days,
            carried,
            seed=seed,
            budget=budget_per_week,
            prefer=prefer or {},
        )
        named += week_named
        gaps += week_gaps
    return Staffing(tuple(named), tuple(gaps), len(needs))


def _assign_week(
    needs: list[_Need],
    staff: list[StaffMember],
    shifts: dict[str, list[tuple[datetime, datetime]]],
    days: Mapping[str, Mapping[date, list[tuple[datetime, datetime]]]],
    carried: Mapping[int, list[_Need]],
    *,
    seed: int,
    budget: float,
    prefer: Preferred,
) -> tuple[list[Assignment], list[StaffGap], dict[int, list[_Need]]]:
    """Name a week's needs; also who is still busy after its Sunday midnight, and on what
    (`carried` is that of the week before)."""
    week = _Week(needs, staff, days, prefer, carried)
    teams = week.greedy()
    if week.short(teams) or week.kept(teams) < week.most_kept:
        teams = week.improve(teams, set(range(len(needs))), seed, budget)
    else:
        # Only the weekend peak can improve: free the weekend's needs alone, on a fifth of
        # the budget. On L-over's FCFS plan (49 weeks) the whole-week model took 116 s and
        # left 16 needs unnamed; this takes 8 s, names all, and the weekly peaks sum to
        # 586 h (600 h before, 670 h from the greedy alone).
        weekend = {i for i, n in enumerate(needs) if n.on_weekend}
        # Someone works the longest weekend need: a peak of that length is the least.
        longest = max((needs[i].hours for i in weekend), default=0)
        if week.peak(teams) > longest:
            teams = week.improve(teams, weekend, seed, budget * _PEAK_SHARE)
    named = [
        Assignment(
            need.row.patient_code,
            need.row.product_code,
            need.row.step_code,
            ResourceType.STAFF,
            code,
            need.start,
            need.end,
        )
        for need, team in zip(needs, teams, strict=True)
        for code in sorted(staff[p].code for p in team)
    ]
    taken: dict[int, list[_Need]] = defaultdict(list)
    for need, team in zip(needs, teams, strict=True):
        for p in team:
            taken[p].append(need)
    gaps: list[StaffGap] = []
    for i, need in enumerate(needs):
        missing = need.count - len(teams[i])
        if missing <= 0:
            continue
        if not week.candidates[i]:
            reason = _why_none(need, staff, shifts)
        else:
            reason = "the qualified people on shift are taken: " + ", ".join(
                _doing(staff[p], [*week.carried.get(p, []), *taken[p]], need)
                for p in week.candidates[i]
            )
        gaps.append(StaffGap(need.row, missing, reason))
    monday = needs[0].start.date() + timedelta(days=7 - needs[0].start.weekday())
    after = datetime.combine(monday, datetime.min.time())
    onward = {p: [n for n in held if n.end > after] for p, held in taken.items()}
    return named, gaps, {p: held for p, held in onward.items() if held}


#: Objective weights of a week's naming: naming every need comes first, then keeping the
#: people named before (a booked person stays booked), then a low heaviest weekend load
#: (at most 48 hours, so one kept person outweighs any weekend spread).
_KEEP_WEIGHT = 49
_SHORT_BASE = 1000
#: Share of a week's budget spent on the weekend peak alone.
_PEAK_SHARE = 0.2


class _Week:
    """One ISO week's naming problem: its needs, who could take each, and whom each had."""

    def __init__(
        self,
        needs: list[_Need],
        staff: list[StaffMember],
        days: Mapping[str, Mapping[date, list[tuple[datetime, datetime]]]],
        prefer: Preferred,
        carried: Mapping[int, list[_Need]],
    ) -> None:
        self.needs = needs
        self.staff = staff
        #: Needs of the week before that each person is still on.
        self.carried = carried
        qualified: dict[tuple[Role, str | None], list[int]] = {}
        for need in needs:
            key = (need.role, need.product)
            if key not in qualified:
                qualified[key] = [p for p, person in enumerate(staff) if _qualified(person, need)]
        self.candidates = [
            [
                p
                for p in qualified[(need.role, need.product)]
                if _covers(days.get(staff[p].code, {}), need)
            ]
            for need in needs
        ]
        self.before = [
            prefer.get((n.row.patient_code, n.row.step_code, n.start), frozenset()) for n in needs
        ]
        keepable = sum(
            staff[p].code in self.before[i] for i, ps in enumerate(self.candidates) for p in ps
        )
        self.short_weight = _KEEP_WEIGHT * (keepable + 1) + _SHORT_BASE

    @property
    def most_kept(self) -> int:
        """How many named-before people could keep their needs, at most."""
        return sum(
            min(need.count, sum(self.staff[p].code in self.before[i] for p in self.candidates[i]))
            for i, need in enumerate(self.needs)
        )

    def short(self, teams: list[list[int]]) -> int:
        """People missing from a naming's needs."""
        return sum(n.count - len(t) for n, t in zip(self.needs, teams, strict=True))

    def kept(self, teams: list[list[int]]) -> int:
        """Named-before people a naming keeps on their needs."""
        return sum(
            self.staff[p].code in self.before[i] for i, team in enumerate(teams) for p in team
        )

    def cost(self, teams: list[list[int]]) -> int:
        """The objective of a naming (lower is better)."""
        return (
            self.short_weight * self.short(teams)
            - _KEEP_WEIGHT * self.kept(teams)
            + self.peak(teams)
        )

    def greedy(self) -> list[list[int]]:
        """Name needs in time order: people named before first, then the least weekend
        work (on a weekend), then those fewest needs could use, then the fewest hours."""
        wanted = Counter(p for cands in self.candidates for p in cands)
        hours: dict[int, int] = defaultdict(int)
        weekend: dict[int, int] = defaultdict(int)
        busy: dict[int, list[_Need]] = defaultdict(
            list, {p: list(held) for p, held in self.carried.items()}
        )
        teams: list[list[int]] = []
        for i, need in enumerate(self.needs):
            length, on_weekend = need.hours, need.on_weekend
            free = [
                p
                for p in self.candidates[i]
                if hours[p] + length <= self.staff[p].contracted_hours_per_week
                and not any(b.meets(need) for b in busy[p])
            ]
            free.sort(
                key=lambda p: (
                    self.staff[p].code not in self.before[i],
                    weekend[p] if on_weekend else 0,
                    wanted[p],
                    hours[p],
                    p,
                )
            )
            team = free[: need.count]
            for p in team:
                hours[p] += length
                busy[p].append(need)
                if on_weekend:
                    weekend[p] += length
            teams.append(team)
        return teams

    def improve(
        self, start: list[list[int]], free: set[int], seed: int, budget: float
    ) -> list[list[int]]:
        """A better naming by CP-SAT from `start`, changing only the needs in `free` (one
        worker, fixed seed, deterministic budget), or `start` when it finds none."""
        needs, staff = self.needs, self.staff
        model = cp_model.CpModel()
        origin = min(n.start for n in needs).replace(hour=0, minute=0, second=0, microsecond=0)
        chosen: dict[tuple[int, int], cp_model.IntVar] = {}
        short: list[cp_model.IntVar] = []
        kept: list[cp_model.IntVar] = []
        # Per person, the needs they may take: hours, presence and interval.
        items: dict[int, list[tuple[int, cp_model.IntVar, cp_model.IntervalVar]]] = defaultdict(
            list
        )
        weekend: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        # The needs kept as in `start` count as hours (and weekend hours) already worked,
        # and as busy time where they meet the freed needs' span.
        worked: dict[int, int] = defaultdict(int)
        weekend_worked: dict[int, int] = defaultdict(int)
        lo = min(needs[i].start for i in free)
        hi = max(needs[i].end for i in free)
        busy: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)
        for p, on in self.carried.items():
            for need in on:
                at = _hours(origin, need.start)
                busy[p].append(model.new_fixed_size_interval_var(at, need.hours, ""))
        for i, need in enumerate(needs):
            hours, begin, on_weekend = need.hours, _hours(origin, need.start), need.on_weekend
            if i not in free:
                for p in start[i]:
                    worked[p] += hours
                    weekend_worked[p] += hours if on_weekend else 0
                    if need.start < hi and lo < need.end:
                        busy[p].append(model.new_fixed_size_interval_var(begin, hours, ""))
                continue
            lack = model.new_int_var(0, need.count, f"short_{i}")
            model.add_hint(lack, need.count - len(start[i]))
            short.append(lack)
            xs = []
            for p in self.candidates[i]:
                x = model.new_bool_var(f"x_{i}_{p}")
                model.add_hint(x, p in start[i])
                chosen[(i, p)] = x
                xs.append(x)
                interval = model.new_optional_fixed_size_interval_var(
                    begin, hours, x, f"iv_{i}_{p}"
                )
                items[p].append((hours, x, interval))
                if on_weekend:
                    weekend[p].append((hours, x))
                if staff[p].code in self.before[i]:
                    kept.append(x)
            model.add(sum(xs) + lack == need.count)
        for p, held in items.items():
            model.add_no_overlap([interval for _, _, interval in held] + busy[p])
            load = cp_model.LinearExpr.weighted_sum(
                [x for _, x, _ in held], [h for h, _, _ in held]
            )
            model.add(load + worked[p] <= int(staff[p].contracted_hours_per_week))
        least = max((weekend_worked[p] for p in weekend_worked if p not in weekend), default=0)
        peak = model.new_int_var(least, max(least, 24 * 2), "weekend_peak")
        model.add_hint(peak, self.peak(start))
        for p, pairs in weekend.items():
            load = cp_model.LinearExpr.weighted_sum([x for _, x in pairs], [h for h, _ in pairs])
            model.add(load + weekend_worked[p] <= peak)
        model.minimize(
            self.short_weight * cp_model.LinearExpr.sum(short)
            - _KEEP_WEIGHT * cp_model.LinearExpr.sum(kept)
            + peak
        )
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_deterministic_time = budget
        solver.parameters.catch_sigint_signal = False
        # Presolve spent the whole budget on some XL weeks, which then ended with no
        # naming at all; without it every week improved on the greedy's.
        solver.parameters.cp_model_presolve = False
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return start
        teams = [list(team) if i not in free else [] for i, team in enumerate(start)]
        for (i, p), x in chosen.items():
            if solver.value(x):
                teams[i].append(p)
        return teams if self.cost(teams) <= self.cost(start) else start

    def peak(self, teams: list[list[int]]) -> int:
        """The most weekend hours anyone works in a naming."""
        weekend: dict[int, int] = defaultdict(int)
        for need, team in zip(self.needs, teams, strict=True):
            if need.on_weekend:
                for p in team:
                    weekend[p] += need.hours
        return max(weekend.values(), default=0)


def _doing(person: StaffMember, busy: list[_Need], need: _Need) -> str:
    """What keeps a qualified person from a need: another step then, or their weekly hours."""
    if any(b is need for b in busy):
        return f"{person.code} (already on it)"
    clash = [b for b in busy if b.meets(need)]
    if clash:
        b = clash[0].row
        return f"{person.code} (on {b.patient_code} {b.step_code})"
    worked = sum(b.hours for b in busy)
    return f"{person.code} (at {worked} of {person.contracted_hours_per_week:g} h this week)"
