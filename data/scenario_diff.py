"""Saving a scenario as a diff: rows that changed are updated (their version counters go
up), new rows inserted, removed rows deleted; each change becomes an audit Change.

Rows are matched by their natural key (a code; a parent's key and a code or date; for
rows without one, their values and the how-many-th such row they are), never by id, so a
re-saved scenario keeps the ids and histories of everything it did not change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.audit import Change
from data.orm import (
    SCENARIO_CHILDREN,
    ApheresisExceptionRow,
    BedChangeRow,
    CleanroomDowntimeRow,
    CleanroomRow,
    CohortRow,
    DeviceDowntimeRow,
    DeviceRow,
    DoneStepRow,
    HolidayRow,
    PatientRow,
    PriorityWeightRow,
    ProcessStepRow,
    ProductRow,
    RosterEntryRow,
    ScenarioRow,
    ShiftCodeRow,
    StaffMemberRow,
    StaffNeedRow,
    TrialRow,
    Versioned,
)
from planner import Scenario

#: A natural key: strings, dates and parent keys (nested tuples).
Key = tuple[Any, ...]
Record = dict[str, Any]


@dataclass(frozen=True)
class _Spec:
    """How one table's rows are keyed and which columns point at which parent table."""

    key: tuple[str, ...]
    parents: tuple[tuple[str, type[Versioned]], ...] = ()


_SPECS: dict[type[Versioned], _Spec] = {
    CleanroomRow: _Spec(("code",)),
    CleanroomDowntimeRow: _Spec(
        ("cleanroom_id", "starts_at", "ends_at"), (("cleanroom_id", CleanroomRow),)
    ),
    DeviceRow: _Spec(("code",)),
    DeviceDowntimeRow: _Spec(("device_id", "starts_at", "ends_at"), (("device_id", DeviceRow),)),
    StaffMemberRow: _Spec(("code",)),
    ShiftCodeRow: _Spec(("code",)),
    RosterEntryRow: _Spec(
        ("staff_member_id", "day"),
        (("staff_member_id", StaffMemberRow), ("shift_code_id", ShiftCodeRow)),
    ),
    BedChangeRow: _Spec(("first_day", "last_day")),
    ApheresisExceptionRow: _Spec(("day",)),
    ProductRow: _Spec(("code",)),
    ProcessStepRow: _Spec(("product_id", "code"), (("product_id", ProductRow),)),
    StaffNeedRow: _Spec(("process_step_id", "role"), (("process_step_id", ProcessStepRow),)),
    TrialRow: _Spec(("code",), (("product_id", ProductRow),)),
    CohortRow: _Spec(("trial_id", "code"), (("trial_id", TrialRow),)),
    PatientRow: _Spec(("code",), (("product_id", ProductRow), ("cohort_id", CohortRow))),
    DoneStepRow: _Spec(("patient_id", "step_code"), (("patient_id", PatientRow),)),
    HolidayRow: _Spec(("day",)),
    PriorityWeightRow: _Spec(("priority",)),
}

#: Columns that are bookkeeping, not content: never compared or recorded.
_BOOKKEEPING = {"id", "version", "scenario_id"}


def scenario_fields(scenario: Scenario) -> Record:
    """The scenario row's own columns (site, ward, horizon, weekly apheresis slots, frozen
    days)."""
    site, ward = scenario.site, scenario.ward
    return {
        "horizon_start": scenario.horizon_start,
        "horizon_end": scenario.horizon_end,
        "site_code": site.code,
        "site_name": site.name,
        "site_country": site.country,
        "site_timezone": site.timezone,
        "site_day_start_hour": site.day_start_hour,
        "site_day_end_hour": site.day_end_hour,
        "ward_code": ward.code,
        "ward_name": ward.name,
        "ward_beds": ward.beds,
        "apheresis_slots_per_weekday": list(scenario.apheresis.slots_per_weekday),
        "frozen_days": scenario.frozen_days,
    }


def _windows(owner: str, key: Key, windows: Sequence[Any]) -> list[Record]:
    return [
        {owner: key, "position": i, "starts_at": w.start, "ends_at": w.end, "reason": w.reason}
        for i, w in enumerate(windows)
    ]


def desired_records(s: Scenario) -> dict[type[Versioned], list[Record]]:
    """Every row a scenario needs below its own, parents given by their keys, in order."""
    rows: dict[type[Versioned], list[Record]] = {model: [] for model in SCENARIO_CHILDREN}
    for i, r in enumerate(s.cleanrooms):
        rows[CleanroomRow].append(
            {
                "position": i,
                "code": r.code,
                "name": r.name,
                "grade": r.grade.value,
                "products": list(r.products),
                "changeover_hours": r.changeover_hours,
            }
        )
        rows[CleanroomDowntimeRow] += _windows("cleanroom_id", (r.code,), r.downtime)
    for i, d in enumerate(s.devices):
        rows[DeviceRow].append(
            {
                "position": i,
                "code": d.code,
                "name": d.name,
                "room_codes": list(d.room_codes),
                "products": list(d.products),
                "changeover_hours": d.changeover_hours,
            }
        )
        rows[DeviceDowntimeRow] += _windows("device_id", (d.code,), d.downtime)
    rows[StaffMemberRow] = [
        {
            "position": i,
            "code": m.code,
            "roles": [role.value for role in m.roles],
            "trained_products": list(m.trained_products),
            "contracted_hours_per_week": m.contracted_hours_per_week,
        }
        for i, m in enumerate(s.staff)
    ]
    rows[ShiftCodeRow] = [
        {
            "position": i,
            "code": c.code,
            "name": c.name,
            "start_hour": c.start_hour,
            "hours": c.hours,
            "covers_day_work": c.covers_day_work,
            "is_leave": c.is_leave,
        }
        for i, c in enumerate(s.shift_codes)
    ]
    rows[RosterEntryRow] = [
        {
            "position": i,
            "staff_member_id": (e.staff_code,),
            "day": e.day,
            "shift_code_id": (e.shift_code,),
        }
        for i, e in enumerate(s.roster)
    ]
    rows[BedChangeRow] = [
        {
            "position": i,
            "first_day": c.start,
            "last_day": c.end,
            "beds": c.beds,
            "reason": c.reason,
        }
        for i, c in enumerate(s.ward.changes)
    ]
    rows[ApheresisExceptionRow] = [
        {"position": i, "day": day, "slots": slots}
        for i, (day, slots) in enumerate(s.apheresis.exceptions)
    ]
    for i, p in enumerate(s.products):
        rows[ProductRow].append(
            {
                "position": i,
                "code": p.code,
                "name": p.name,
                "storage": p.storage.value,
                "qc_release_days": p.qc_release_days,
                "fresh_shelf_days": p.fresh_shelf_days,
                "ld_days_before_infusion": p.ld_days_before_infusion,
                "inpatient_days": p.inpatient_days,
                "failure_probability": p.failure_probability,
                "apheresis_hours": p.apheresis_hours,
                "shelf_life_from_step": p.shelf_life_from_step,
                "ld_before_release": p.ld_before_release,
                "infusion_any_day": p.infusion_any_day,
            }
        )
        for j, step in enumerate(p.steps):
            step_key = ((p.code,), step.code)
            rows[ProcessStepRow].append(
                {
                    "product_id": (p.code,),
                    "position": j,
                    "code": step.code,
                    "name": step.name,
                    "duration_hours": step.duration_hours,
                    "needs_cleanroom": step.needs_cleanroom,
                    "needs_device": step.needs_device,
                    "working_hours_only": step.working_hours_only,
                    "min_lag_hours": step.min_lag_hours,
                    "max_lag_hours": step.max_lag_hours,
                }
            )
            rows[StaffNeedRow] += [
                {
                    "process_step_id": step_key,
                    "position": n,
                    "role": need.role.value,
                    "count": need.count,
                    "hours": need.hours,
                    "product_trained": need.product_trained,
                }
                for n, need in enumerate(step.staff)
            ]
    for i, t in enumerate(s.trials):
        rows[TrialRow].append(
            {
                "position": i,
                "code": t.code,
                "name": t.name,
                "product_id": (t.product_code,),
                "enrolment_start": t.enrolment_start,
                "enrolment_end": t.enrolment_end,
                "priority": t.priority,
                "apheresis_within_days": t.apheresis_within_days,
            }
        )
        rows[CohortRow] += [
            {
                "trial_id": (t.code,),
                "position": j,
                "code": c.code,
                "cap": c.cap,
                "min_days_between_infusions": c.min_days_between_infusions,
                "escalation_gate_days": c.escalation_gate_days,
            }
            for j, c in enumerate(t.cohorts)
        ]
    for i, pt in enumerate(s.patients):
        rows[PatientRow].append(
            {
                "position": i,
                "code": pt.code,
                "product_id": (pt.product_code,),
                "referral_date": pt.referral_date,
                "earliest_apheresis": pt.earliest_apheresis,
                "latest_apheresis": pt.latest_apheresis,
                "needed_infusion": pt.needed_infusion,
                "priority": pt.priority,
                "cohort_id": (
                    None
                    if pt.trial_code is None or pt.cohort_code is None
                    else ((pt.trial_code,), pt.cohort_code)
                ),
                "status": pt.status.value,
                "enrolled_on": pt.enrolled_on,
                "infused_on": pt.infused_on,
            }
        )
        rows[DoneStepRow] += [
            {
                "patient_id": (pt.code,),
                "position": j,
                "step_code": d.step_code,
                "starts_at": d.start,
                "ends_at": d.end,
                "resource_code": d.resource_code,
            }
            for j, d in enumerate(pt.done_steps)
        ]
    rows[HolidayRow] = [
        {"position": i, "day": h.day, "name": h.name} for i, h in enumerate(s.holidays)
    ]
    rows[PriorityWeightRow] = [
        {
            "position": i,
            "priority": priority,
            "weight": weight,
            "lateness_weight": s.lateness_weight(priority),
        }
        for i, (priority, weight) in enumerate(s.priority_weights)
    ]
    return rows


def key_text(key: Any) -> str:
    """A key as people read it: parts joined by '/', dates ISO 8601."""
    if isinstance(key, tuple):
        return "/".join(key_text(part) for part in key if part is not None)
    if isinstance(key, datetime | date):
        return key.isoformat()
    return str(key)


def _keyed(spec: _Spec, records: Sequence[Record]) -> list[tuple[Key, Record]]:
    """Records with their keys; a repeated key gets the how-many-th as a last part."""
    seen: Counter[Key] = Counter()
    out = []
    for record in records:
        base = tuple(record[column] for column in spec.key)
        seen[base] += 1
        out.append((base if seen[base] == 1 else (*base, f"#{seen[base]}"), record))
    return out


def _readable(value: Any) -> Any:
    """A column value as recorded: a parent by its key text, anything else as it is."""
    return key_text(value) if isinstance(value, tuple) else value


def _field(column: str, spec: _Spec) -> str:
    """A column as the audit trail names it: a parent by its table (shift_code, not
    shift_code_id), since the trail records the parent's key."""
    return column.removesuffix("_id") if column in dict(spec.parents) else column


def _content(record: Record, spec: _Spec) -> Record:
    """What the audit trail records of a row: its content, parents by key, no position."""
    return {
        _field(column, spec): _readable(value)
        for column, value in record.items()
        if column != "position"
    }


def sync_scenario(session: Session, row: ScenarioRow, scenario: Scenario) -> list[Change]:
    """Make the stored rows of a scenario equal to it, touching only what differs; return
    the changes (scenario fields, then rows created, updated and deleted)."""
    changes: list[Change] = []
    name = row.name
    for column, value in scenario_fields(scenario).items():
        old = getattr(row, column)
        if old != value:
            changes.append(Change("update", "scenario", name, column, old, value))
            setattr(row, column, value)
    wanted = desired_records(scenario)
    key_of: dict[type[Versioned], dict[int, Key]] = {}
    id_of: dict[type[Versioned], dict[Key, int]] = {}
    removed: dict[type[Versioned], list[tuple[Key, Versioned, Record]]] = {}
    for model in SCENARIO_CHILDREN:
        spec = _SPECS[model]
        entity = model.__tablename__  # type: ignore[attr-defined]
        columns = [
            c.key
            for c in model.__table__.columns  # type: ignore[attr-defined]
            if c.key not in _BOOKKEEPING
        ]
        stored_rows = session.scalars(
            select(model)
            .where(model.scenario_id == row.id)  # type: ignore[attr-defined]
            .order_by(model.position, model.id)  # type: ignore[attr-defined]
        ).all()
        stored_records = []
        for stored in stored_rows:
            record = {column: getattr(stored, column) for column in columns}
            for column, parent in spec.parents:
                if record[column] is not None:
                    record[column] = key_of[parent][record[column]]
            stored_records.append(record)
        existing = {
            key: (stored, record)
            for (key, record), stored in zip(_keyed(spec, stored_records), stored_rows, strict=True)
        }
        kept: list[tuple[Key, Versioned]] = []
        for key, record in _keyed(spec, wanted[model]):
            values = dict(record)
            for column, parent in spec.parents:
                if values[column] is not None:
                    values[column] = id_of[parent][values[column]]
            if key in existing:
                stored, old = existing.pop(key)
                for column in columns:
                    if old[column] != record[column]:
                        setattr(stored, column, values[column])
                        if column != "position":
                            changes.append(
                                Change(
                                    "update",
                                    entity,
                                    key_text(key),
                                    _field(column, spec),
                                    _readable(old[column]),
                                    _readable(record[column]),
                                )
                            )
                kept.append((key, stored))
            else:
                created = model(scenario_id=row.id, **values)  # type: ignore[call-arg]
                session.add(created)
                kept.append((key, created))
                changes.append(Change("create", entity, key_text(key), new=_content(record, spec)))
        removed[model] = [(key, stored, record) for key, (stored, record) in existing.items()]
        session.flush()
        id_of[model] = {key: r.id for key, r in kept}
        key_of[model] = {r.id: key for key, r in kept}
        key_of[model].update({stored.id: key for key, stored, _ in removed[model]})
    for model in reversed(SCENARIO_CHILDREN):  # children before their parents
        entity, spec = model.__tablename__, _SPECS[model]  # type: ignore[attr-defined]
        for key, stored, record in removed[model]:
            session.delete(stored)
            changes.append(Change("delete", entity, key_text(key), old=_content(record, spec)))
        session.flush()
    return changes
