"""Two plans compared: who moved and by how much, who was added or dropped, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.plan import Plan

MOVED, ADDED, DROPPED = "moved", "added", "dropped"


@dataclass(frozen=True)
class PatientChange:
    """One patient's change from plan A to plan B (days: B minus A)."""

    patient_code: str
    kind: str
    apheresis_before: date | None
    apheresis_after: date | None
    infusion_before: date | None
    infusion_after: date | None
    reason: str = ""

    @property
    def apheresis_days(self) -> int:
        """Days the apheresis moved (later is positive); 0 unless moved."""
        if self.apheresis_before is None or self.apheresis_after is None:
            return 0
        return (self.apheresis_after - self.apheresis_before).days

    @property
    def infusion_days(self) -> int:
        """Days the infusion moved (later is positive); 0 unless moved."""
        if self.infusion_before is None or self.infusion_after is None:
            return 0
        return (self.infusion_after - self.infusion_before).days

    @property
    def days_moved(self) -> int:
        """Days moved, apheresis and infusion together (the stability level's measure)."""
        return abs(self.apheresis_days) + abs(self.infusion_days)


@dataclass(frozen=True)
class PlanDiff:
    """Changes from plan A to plan B, and how many patients kept their dates."""

    changes: tuple[PatientChange, ...]
    unchanged: int

    def of_kind(self, kind: str) -> tuple[PatientChange, ...]:
        """The changes of one kind (moved, added, dropped)."""
        return tuple(c for c in self.changes if c.kind == kind)

    @property
    def moved(self) -> tuple[PatientChange, ...]:
        """Patients in both plans whose apheresis or infusion day differs."""
        return self.of_kind(MOVED)

    @property
    def added(self) -> tuple[PatientChange, ...]:
        """Patients scheduled in B only."""
        return self.of_kind(ADDED)

    @property
    def dropped(self) -> tuple[PatientChange, ...]:
        """Patients scheduled in A only."""
        return self.of_kind(DROPPED)

    @property
    def days_moved(self) -> int:
        """Days moved in all (apheresis and infusion of the moved patients)."""
        return sum(c.days_moved for c in self.moved)


def _mentions(notes: tuple[str, ...], code: str) -> str:
    return next((n for n in notes if n.startswith(f"{code} ")), "")


def compare_plans(a: Plan, b: Plan) -> PlanDiff:
    """Who moved (apheresis or infusion day differs), was added or was dropped from A to B.

    Reasons come from B's notes (a re-plan names why a published patient was dropped) and
    unscheduled reasons, and for added patients from why A had left them out.
    """
    before = {s.patient_code: s for s in a.schedules}
    after = {s.patient_code: s for s in b.schedules}
    why_a = {u.patient_code: u for u in a.unscheduled}
    why_b = {u.patient_code: u for u in b.unscheduled}
    changes: list[PatientChange] = []
    unchanged = 0
    for code in sorted(before.keys() | after.keys()):
        x, y = before.get(code), after.get(code)
        if x is not None and y is not None:
            if (x.apheresis_day, x.infusion_day) == (y.apheresis_day, y.infusion_day):
                unchanged += 1
                continue
            kind, reason = MOVED, ""
        elif y is not None:
            kind = ADDED
            earlier = why_a.get(code)
            reason = (
                "new referral: not among plan A's patients"
                if earlier is None
                else f"was unscheduled in A ({earlier.reason}: {earlier.detail})"
            )
        else:
            kind = DROPPED
            later = why_b.get(code)
            note = _mentions(b.notes, code)
            reason = note or (
                "not among plan B's patients (infused, withdrawn or removed)"
                if later is None
                else f"{later.reason}: {later.detail}"
            )
        changes.append(
            PatientChange(
                code,
                kind,
                None if x is None else x.apheresis_day,
                None if y is None else y.apheresis_day,
                None if x is None else x.infusion_day,
                None if y is None else y.infusion_day,
                reason,
            )
        )
    return PlanDiff(tuple(changes), unchanged)


def _day(value: date | None) -> str:
    return "-" if value is None else value.isoformat()


def format_diff(diff: PlanDiff, a_id: int | None = None, b_id: int | None = None) -> str:
    """The changes as a table for a terminal: moved, added and dropped patients."""
    a = "A" if a_id is None else f"#{a_id}"
    b = "B" if b_id is None else f"#{b_id}"
    lines = [
        f"Plan {a} -> plan {b}: {len(diff.moved)} moved ({diff.days_moved} days of apheresis "
        f"and infusion), {len(diff.added)} added, {len(diff.dropped)} dropped, "
        f"{diff.unchanged} unchanged."
    ]
    if diff.moved:
        lines += [
            "",
            f"  {'patient':<10} {'apheresis':<23} {'days':>5}  {'infusion':<23} {'days':>5}",
        ]
        for c in diff.moved:
            lines.append(
                f"  {c.patient_code:<10} "
                f"{_day(c.apheresis_before) + ' -> ' + _day(c.apheresis_after):<23} "
                f"{c.apheresis_days:>+5}  "
                f"{_day(c.infusion_before) + ' -> ' + _day(c.infusion_after):<23} "
                f"{c.infusion_days:>+5}"
            )
    for title, items in (("Added", diff.added), ("Dropped", diff.dropped)):
        if items:
            lines += ["", f"{title} ({len(items)})"]
            for c in items:
                when = c.apheresis_after if c.kind == ADDED else c.apheresis_before
                lines.append(f"  {c.patient_code:<10} apheresis {_day(when)}: {c.reason}")
    return "\n".join(lines)


def diff_json(
    diff: PlanDiff, a_id: int | None = None, b_id: int | None = None
) -> dict[str, object]:
    """The changes as a JSON-ready dictionary."""
    return {
        "plan_a": a_id,
        "plan_b": b_id,
        "moved": len(diff.moved),
        "days_moved": diff.days_moved,
        "unchanged": diff.unchanged,
        "changes": [
            {
                "patient": c.patient_code,
                "change": c.kind,
                "apheresis_before": None if c.apheresis_before is None else str(c.apheresis_before),
                "apheresis_after": None if c.apheresis_after is None else str(c.apheresis_after),
                "apheresis_days": c.apheresis_days,
                "infusion_before": None if c.infusion_before is None else str(c.infusion_before),
                "infusion_after": None if c.infusion_after is None else str(c.infusion_after),
                "infusion_days": c.infusion_days,
                "reason": c.reason,
            }
            for c in diff.changes
        ],
    }
