"""An independent check of a plan against its scenario, from the assignment rows alone.

It shares no code with the solver, so a solver bug shows up here as a violation.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from planner.patients import DoneStep, PatientStatus
from planner.plan import Assignment, Plan, ResourceType
from planner.products import ProcessStep, Storage
from planner.resources import Cleanroom, Device, RosterEntry
from planner.scenario import Scenario

_HOUR = timedelta(hours=1)


def _hours(delta: timedelta) -> float:
    return delta / _HOUR


def _days_covered(start: datetime, end: datetime) -> list[date]:
    day, days = start.date(), []
    while datetime.combine(day, time()) < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def check_plan(scenario: Scenario, plan: Plan) -> list[str]:
    """Every rule the plan breaks, as sentences; an empty list means the plan is valid."""
    problems: list[str] = []
    rows_by_patient: dict[str, list[Assignment]] = defaultdict(list)
    for a in plan.assignments:
        rows_by_patient[a.patient_code].append(a)
    done = _done_steps(scenario)
    problems += _check_done_kept(done, rows_by_patient)
    problems += _check_holders(scenario, plan.assignments, done)
    problems += _check_ward(scenario, plan.assignments)
    problems += _check_apheresis(scenario, plan.assignments, done)
    problems += _check_staff(scenario, plan.assignments, done)
    problems += _check_staff_cover(scenario, plan.assignments, done)
    problems += _check_named_staff(scenario, plan.assignments)
    working = _working_shifts(scenario)
    for code, rows in sorted(rows_by_patient.items()):
        problems += _check_chain(scenario, code, rows, done.get(code, {}), working)
    problems += _check_trials(scenario, plan)
    problems += _check_apheresis_windows(scenario, plan, done)
    return problems


def _check_apheresis_windows(scenario: Scenario, plan: Plan, done: _Done) -> list[str]:
    """A new apheresis falls in the patient's window and, for a trial patient, within the
    trial's days of enrolment."""
    problems = []
    patients = {p.code: p for p in scenario.patients}
    for s in plan.schedules:
        p = patients[s.patient_code]
        if "apheresis" in done.get(p.code, {}):
            continue
        if not p.earliest_apheresis <= s.apheresis_day <= p.latest_apheresis:
            problems.append(
                f"{p.code}'s apheresis on {s.apheresis_day} is outside its window "
                f"{p.earliest_apheresis} to {p.latest_apheresis}."
            )
        if p.trial_code is None:
            continue
        within = scenario.trial(p.trial_code).apheresis_within_days
        if within is not None and (s.apheresis_day - p.enrolment).days > within:
            problems.append(
                f"{p.code}'s apheresis on {s.apheresis_day} is more than {within} days after "
                f"enrolment ({p.enrolment}) in trial {p.trial_code}."
            )
    return problems


_Done = dict[str, dict[str, DoneStep]]


def _done_steps(scenario: Scenario) -> _Done:
    """Steps already done of the patients still to plan: patient -> step -> record."""
    return {
        p.code: {d.step_code: d for d in p.done_steps}
        for p in scenario.patients_to_plan()
        if p.done_steps
    }


def _is_done(done: _Done, a: Assignment) -> bool:
    return a.step_code in done.get(a.patient_code, {})


def _check_done_kept(done: _Done, rows: dict[str, list[Assignment]]) -> list[str]:
    """Patients with steps done are planned, and those steps stay exactly as recorded."""
    problems = []
    for patient, steps in sorted(done.items()):
        if patient not in rows:
            problems.append(f"{patient} has steps done but is not in the plan.")
            continue
        for code, record in steps.items():
            moved = [
                a
                for a in rows[patient]
                if a.step_code == code
                and a.resource_type not in (ResourceType.STAFF_POOL, ResourceType.STAFF)
                and (a.start, a.end) != (record.start, record.end)
            ]
            if moved or not any(a.step_code == code for a in rows[patient]):
                problems.append(
                    f"{patient}'s done step {code} ({record.start:%Y-%m-%d %H:%M} to "
                    f"{record.end:%Y-%m-%d %H:%M}) is not kept as recorded."
                )
    return problems


def _holders(scenario: Scenario) -> dict[tuple[ResourceType, str], Cleanroom | Device]:
    return {
        **{(ResourceType.CLEANROOM, r.code): r for r in scenario.cleanrooms},
        **{(ResourceType.DEVICE, d.code): d for d in scenario.devices},
    }


def changeovers(scenario: Scenario, rows: Iterable[Assignment]) -> list[Assignment]:
    """The cleaning after each patient's stay in a room or device, as 'changeover' rows.

    Plans leave changeover out of their assignments (it follows from the scenario).
    """
    holders = _holders(scenario)
    last: dict[tuple[ResourceType, str, str], Assignment] = {}
    for a in rows:
        key = (a.resource_type, a.resource_code, a.patient_code)
        if (a.resource_type, a.resource_code) in holders and (
            key not in last or a.end > last[key].end
        ):
            last[key] = a
    result = []
    for (kind, code, patient), a in sorted(last.items()):
        hours = holders[(kind, code)].changeover_hours
        if hours > 0:
            end = a.end + timedelta(hours=hours)
            result.append(Assignment(patient, a.product_code, "changeover", kind, code, a.end, end))
    return result


def _check_holders(scenario: Scenario, rows: tuple[Assignment, ...], done: _Done) -> list[str]:
    """Rooms and devices hold one patient at a time, with changeover, outside downtime (a
    device standing in one room is down while its room is).

    Steps done are facts: downtime while they ran is not reported. Stays done overlapping
    each other cannot reach here (scenario validation refuses them).
    """
    problems = []
    holders = _holders(scenario)
    rooms = {r.code: r for r in scenario.cleanrooms}
    spans: dict[tuple[ResourceType, str], dict[str, list[Assignment]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for a in rows:
        if a.resource_type in (ResourceType.CLEANROOM, ResourceType.DEVICE):
            spans[(a.resource_type, a.resource_code)][a.patient_code].append(a)
    for key, by_patient in sorted(spans.items()):
        holder = holders.get(key)
        if holder is None:
            problems.append(f"{key[0]} '{key[1]}' is not in the scenario.")
            continue
        occupied = []
        for patient, parts in by_patient.items():
            work = [a for a in parts if a.step_code != "changeover"]
            start = min(a.start for a in work)
            end = max(a.end for a in work)
            facts = [a.end for a in work if _is_done(done, a)]
            fact = all(_is_done(done, a) or a.step_code == "hold" for a in work) and bool(facts)
            occupied.append((start, end + timedelta(hours=holder.changeover_hours), patient, fact))
            if not all(a.product_code in holder.products for a in parts):
                problems.append(f"{key[1]} is not approved for {patient}'s product.")
            planned_from = max(facts, default=start)
            downtime = [(w, "") for w in holder.downtime]
            if isinstance(holder, Device) and len(holder.room_codes) == 1:
                room = holder.room_codes[0]
                downtime += [(w, f" of its room {room}") for w in rooms[room].downtime]
            for window, whose in downtime:
                if not fact and window.start < end and planned_from < window.end:
                    problems.append(
                        f"{key[1]} holds {patient} during downtime '{window.reason}'{whose}."
                    )
        occupied.sort()
        for k, (_s1, e1, p1, _fact1) in enumerate(occupied):
            for s2, _e2, p2, _fact2 in occupied[k + 1 :]:
                if s2 >= e1:
                    break
                problems.append(
                    f"{key[1]} holds {p1} until {e1:%Y-%m-%d %H:%M} (changeover included) "
                    f"but {p2} starts at {s2:%Y-%m-%d %H:%M}."
                )
    return problems


def _check_ward(scenario: Scenario, rows: tuple[Assignment, ...]) -> list[str]:
    """In-patients per day never exceed the ward's beds."""
    per_day: dict[date, int] = defaultdict(int)
    for a in rows:
        if a.resource_type is ResourceType.BED:
            for day in _days_covered(a.start, a.end):
                per_day[day] += a.quantity
    # Patients infused before this plan still lie in their beds.
    for _patient, infused_on, stay in scenario.infused_stays():
        for k in range(stay):
            per_day[infused_on + timedelta(days=k)] += 1
    return [
        f"Ward has {n} in-patients on {day} but {scenario.ward.beds_on(day)} beds."
        for day, n in sorted(per_day.items())
        if n > scenario.ward.beds_on(day)
    ]


def _check_apheresis(scenario: Scenario, rows: tuple[Assignment, ...], done: _Done) -> list[str]:
    """Apheresis collections per day stay within the day's slots.

    Collections done may exceed them (they happened); planned ones only fill what is left.
    """
    per_day: dict[date, int] = defaultdict(int)
    planned: dict[date, int] = defaultdict(int)
    for a in rows:
        if a.resource_type is ResourceType.APHERESIS:
            per_day[a.start.date()] += 1
            planned[a.start.date()] += not _is_done(done, a)
    holidays = scenario.holiday_dates
    return [
        f"{n} apheresis collections on {day} but {scenario.apheresis.slots_on(day, holidays)} "
        "slots."
        for day, n in sorted(per_day.items())
        if planned[day] and n > scenario.apheresis.slots_on(day, holidays)
    ]


def _check_staff(scenario: Scenario, rows: tuple[Assignment, ...], done: _Done) -> list[str]:
    """Staff-hours per pool and day stay within the hours rostered for that pool.

    Only days of the horizon are checked: the roster says nothing of work done before it.
    Steps done may exceed the roster (they happened); planned ones only use what is left.
    """
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    used: dict[tuple[str, date], float] = defaultdict(float)
    planned: set[tuple[str, date]] = set()
    for a in rows:
        if a.resource_type is ResourceType.STAFF_POOL and a.start.date() >= scenario.horizon_start:
            amount = _hours(a.end - a.start) * a.quantity
            role = a.resource_code.split(":")[0]
            for pool in {a.resource_code, role}:
                used[(pool, a.start.date())] += amount
                if not _is_done(done, a):
                    planned.add((pool, a.start.date()))
    problems = []
    for (pool, day), hours in sorted(used.items()):
        if (pool, day) not in planned:
            continue
        role, _, product = pool.partition(":")
        available = 0
        for entry in scenario.roster:
            shift = shifts[entry.shift_code]
            member = members[entry.staff_code]
            if (
                entry.day == day
                and shift.covers_day_work
                and role in {r.value for r in member.roles}
                and (not product or product in member.trained_products)
            ):
                available += min(shift.hours, scenario.site.working_hours)
        if hours > available:
            problems.append(
                f"Pool {pool} needs {hours:g} h on {day} but {available} h are rostered."
            )
    return problems


def _check_staff_cover(scenario: Scenario, rows: tuple[Assignment, ...], done: _Done) -> list[str]:
    """Each staffed step still to do has, per pooled need, as many people rostered with the
    role (and training) as it needs whose one working shift covers the whole need: pooled
    hours of several people do not make one person's long step."""
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    by_day: dict[date, list[RosterEntry]] = defaultdict(list)
    for entry in scenario.roster:
        by_day[entry.day].append(entry)
    problems = []
    for a in rows:
        if a.resource_type is not ResourceType.STAFF_POOL or _is_done(done, a):
            continue
        role, _, product = a.resource_code.partition(":")
        covering = 0
        day = a.start.date()
        for entry in by_day[day - timedelta(days=1)] + by_day[day]:
            shift = shifts[entry.shift_code]
            member = members[entry.staff_code]
            start = datetime.combine(entry.day, time()) + timedelta(hours=shift.start_hour)
            if (
                shift.covers_day_work
                and not shift.is_leave
                and role in {r.value for r in member.roles}
                and (not product or product in member.trained_products)
                and start <= a.start
                and a.end <= start + timedelta(hours=shift.hours)
            ):
                covering += 1
        if covering < a.quantity:
            problems.append(
                f"{a.patient_code} {a.step_code} needs {a.quantity} {a.resource_code} for "
                f"{_hours(a.end - a.start):g} h from {a.start:%Y-%m-%d %H:%M}, but "
                f"{covering} rostered shifts cover it."
            )
    return problems


def _check_named_staff(scenario: Scenario, rows: tuple[Assignment, ...]) -> list[str]:
    """People named on steps: qualified, on a working shift that covers the step, in one
    place at a time, no more than the step needs, within their contracted weekly hours."""
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    worked: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for entry in scenario.roster:
        shift = shifts[entry.shift_code]
        if shift.covers_day_work and not shift.is_leave and shift.hours > 0:
            start = datetime.combine(entry.day, time()) + timedelta(hours=shift.start_hour)
            worked[entry.staff_code].append((start, start + timedelta(hours=shift.hours)))
    needs: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    for a in rows:
        if a.resource_type is ResourceType.STAFF_POOL:
            needs[(a.patient_code, a.step_code)].append(a)
    problems: list[str] = []
    named: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    by_person: dict[str, list[Assignment]] = defaultdict(list)
    for a in rows:
        if a.resource_type is not ResourceType.STAFF:
            continue
        where = f"{a.resource_code} on {a.patient_code} {a.step_code} {a.start:%Y-%m-%d %H:%M}"
        member = members.get(a.resource_code)
        if member is None:
            problems.append(f"{where}: no such person in the staff list.")
            continue
        named[(a.patient_code, a.step_code)].append(a)
        by_person[a.resource_code].append(a)
        pools = needs.get((a.patient_code, a.step_code), [])
        roles = {r.value for r in member.roles}
        if not any(
            p.resource_code.partition(":")[0] in roles
            and (
                not p.resource_code.partition(":")[2]
                or p.resource_code.partition(":")[2] in member.trained_products
            )
            for p in pools
        ):
            problems.append(f"{where}: not qualified for what the step needs.")
        if not any(s <= a.start and a.end <= e for s, e in worked[a.resource_code]):
            problems.append(f"{where}: not rostered on a working shift covering it.")
    for key, people in sorted(named.items()):
        wanted = sum(p.quantity for p in needs.get(key, []))
        if len(people) > wanted or len({p.resource_code for p in people}) < len(people):
            problems.append(
                f"{key[0]} {key[1]}: {len(people)} people named where {wanted} are needed."
            )
    for code, items in sorted(by_person.items()):
        items.sort(key=lambda a: a.start)
        for first, second in itertools.pairwise(items):
            if second.start < first.end:
                problems.append(
                    f"{code} is on {first.patient_code} {first.step_code} and "
                    f"{second.patient_code} {second.step_code} at once on "
                    f"{second.start:%Y-%m-%d %H:%M}."
                )
        weeks: dict[tuple[int, int], float] = defaultdict(float)
        for a in items:
            weeks[a.start.isocalendar()[:2]] += _hours(a.end - a.start)
        limit = members[code].contracted_hours_per_week
        for (year, week), hours in sorted(weeks.items()):
            if hours > limit:
                problems.append(
                    f"{code} works {hours:g} h on steps in week {week} of {year}, "
                    f"over the {limit:g} h contracted."
                )
    return problems


def _check_chain(
    scenario: Scenario,
    patient_code: str,
    rows: list[Assignment],
    done: dict[str, DoneStep],
    working: _Shifts,
) -> list[str]:
    """Steps in process order with their lags; release before infusion; fresh shelf life.

    Lymphodepletion starts after apheresis ends, and not before release unless the product
    allows it. Steps done are facts: their own lags and hours are not checked.
    """
    problems = []
    product = scenario.product(rows[0].product_code)
    span: dict[str, tuple[datetime, datetime]] = {}
    for a in rows:
        if a.resource_type in (ResourceType.STAFF_POOL, ResourceType.STAFF) or a.step_code in (
            "hold",
            "changeover",
        ):
            continue
        s, e = span.get(a.step_code, (a.start, a.end))
        span[a.step_code] = (min(s, a.start), max(e, a.end))
    if "apheresis" not in span:
        return [f"{patient_code} has no apheresis."]
    prev_end = span["apheresis"][1]
    ends: dict[str, datetime] = {}
    for step in product.steps:
        if step.code not in span:
            problems.append(f"{patient_code} misses step {step.code}.")
            return problems
        start, end = span[step.code]
        ends[step.code] = end
        if step.code in done:
            prev_end = end
            continue
        lag = _hours(start - prev_end)
        if lag < step.min_lag_hours or (
            step.max_lag_hours is not None and lag > step.max_lag_hours
        ):
            problems.append(
                f"{patient_code} step {step.code} starts {lag:g} h after the previous step; "
                f"allowed {step.min_lag_hours}-{step.max_lag_hours} h."
            )
        if step.working_hours_only and not _in_working_hours(scenario, working, step, start):
            problems.append(f"{patient_code} step {step.code} starts outside working hours.")
        prev_end = end
    made = _day_of_end(prev_end)
    ready = made + timedelta(days=product.qc_release_days)
    release = scenario.release_on(ready) if product.storage is Storage.CRYO else ready
    released = span["qc_release"][1].date() if "qc_release" in span else None
    cryo = product.storage is Storage.CRYO
    if released is not None and cryo and scenario.qp_days and released not in scenario.qp_days:
        problems.append(
            f"{patient_code}'s batch is released on {released:%a %Y-%m-%d}, when no QP works."
        )
    if "infusion" in span:
        infusion = span["infusion"][0].date()
        if infusion < release:
            problems.append(f"{patient_code} is infused on {infusion} before release {release}.")
        if infusion <= made:
            problems.append(
                f"{patient_code} is infused on {infusion}, not after the day its batch is made "
                f"({made})."
            )
        if not scenario.infusion_allowed(product, infusion):
            problems.append(
                f"{patient_code}'s infusion on {infusion:%a %Y-%m-%d} or its lymphodepletion "
                f"{product.ld_days_before_infusion} d before falls on a weekend or holiday."
            )
        shelf_from = _day_of_end(ends[product.shelf_step])
        if product.storage is Storage.FRESH and infusion > shelf_from + timedelta(
            days=product.fresh_shelf_days
        ):
            problems.append(
                f"{patient_code}'s fresh product is infused on {infusion}, after its shelf life "
                f"of {product.fresh_shelf_days} d from step {product.shelf_step} on {shelf_from}."
            )
    if "lymphodepletion" in span:
        ld_start = span["lymphodepletion"][0]
        if ld_start < span["apheresis"][1]:
            problems.append(
                f"{patient_code}'s lymphodepletion starts {ld_start:%Y-%m-%d %H:%M}, before "
                f"apheresis ends {span['apheresis'][1]:%Y-%m-%d %H:%M}."
            )
        if cryo and ld_start < prev_end:
            problems.append(
                f"{patient_code}'s lymphodepletion starts {ld_start:%Y-%m-%d %H:%M}, before its "
                f"cryopreserved batch is made {prev_end:%Y-%m-%d %H:%M}."
            )
        if product.ld_waits_for_release and ld_start.date() < release:
            problems.append(
                f"{patient_code}'s lymphodepletion starts on {ld_start.date()}, before release "
                f"{release}."
            )
    return problems


#: Working shifts by the day they start: (start, end, the person's roles).
_Shifts = dict[date, list[tuple[datetime, datetime, frozenset[str]]]]


def _working_shifts(scenario: Scenario) -> _Shifts:
    shifts = {s.code: s for s in scenario.shift_codes}
    members = {s.code: s for s in scenario.staff}
    out: _Shifts = defaultdict(list)
    for entry in scenario.roster:
        shift = shifts[entry.shift_code]
        if shift.covers_day_work and not shift.is_leave and shift.hours > 0:
            begin = datetime.combine(entry.day, time()) + timedelta(hours=shift.start_hour)
            roles = frozenset(r.value for r in members[entry.staff_code].roles)
            out[entry.day].append((begin, begin + timedelta(hours=shift.hours), roles))
    return out


def _in_working_hours(
    scenario: Scenario, working: _Shifts, step: ProcessStep, start: datetime
) -> bool:
    """Whether a working-hours step starts in working hours: a step without staff within
    the site's working day; a staffed one within a working shift rostered for someone of
    a role it needs (whether enough qualified people cover all of it is checked apart)."""
    if not step.staff:
        return scenario.site.day_start_hour <= start.hour < scenario.site.day_end_hour
    roles = {need.role.value for need in step.staff}
    day = start.date()
    return any(
        begin <= start < end and roles & held
        for begin, end, held in working.get(day - timedelta(days=1), []) + working.get(day, [])
    )


def _day_of_end(end: datetime) -> date:
    """The day a step ending at this moment ends on (one ending at 00:00 is of the eve)."""
    return (end - timedelta(microseconds=1)).date()


def _check_trials(scenario: Scenario, plan: Plan) -> list[str]:
    """Cohort caps, the minimum gap between infusions within a cohort (infused patients
    included) and dose-escalation gates between cohorts."""
    problems = []
    patients = {p.code: p for p in scenario.patients}
    by_cohort: dict[tuple[str, str], list[date]] = defaultdict(list)
    # Patients infused or planned per cohort (an infused one's day may be unknown).
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for p in scenario.patients:
        if p.status is PatientStatus.INFUSED and p.trial_code and p.cohort_code:
            counts[(p.trial_code, p.cohort_code)] += 1
            if p.infused_on is not None:
                by_cohort[(p.trial_code, p.cohort_code)].append(p.infused_on)
    for s in plan.schedules:
        p = patients[s.patient_code]
        if p.trial_code and p.cohort_code:
            by_cohort[(p.trial_code, p.cohort_code)].append(s.infusion_day)
            counts[(p.trial_code, p.cohort_code)] += 1
    for (trial_code, cohort_code), days in sorted(by_cohort.items()):
        cohort = scenario.trial(trial_code).cohort(cohort_code)
        count = counts[(trial_code, cohort_code)]
        if count > cohort.cap:
            problems.append(
                f"Cohort {trial_code}/{cohort_code} has {count} > {cohort.cap} patients "
                "(infused or planned)."
            )
        days.sort()
        for d1, d2 in itertools.pairwise(days):
            if (d2 - d1).days < cohort.min_days_between_infusions:
                problems.append(
                    f"Cohort {trial_code}/{cohort_code} infuses on {d1} and {d2}, closer than "
                    f"{cohort.min_days_between_infusions} days."
                )
    for trial in scenario.trials:
        for cohort in trial.cohorts:
            previous = trial.previous_cohort(cohort.code)
            before = by_cohort.get((trial.code, previous.code), []) if previous else []
            after = by_cohort.get((trial.code, cohort.code), [])
            if previous is None or not before or not after:
                continue
            gate = cohort.escalation_gate_days or 0
            if (min(after) - max(before)).days < gate:
                problems.append(
                    f"Trial {trial.code}: cohort {cohort.code}'s first infusion ({min(after)}) "
                    f"comes less than {gate} days after cohort {previous.code}'s last "
                    f"({max(before)})."
                )
    return problems
