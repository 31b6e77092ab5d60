"""A plan: who gets which resource when, who could not be scheduled and why, and KPIs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from planner.validation import (
    check,
    check_fields,
    check_non_negative,
    check_positive,
    label_of,
    shown,
)

#: Largest budgets the command line and the window offer: 3,600 deterministic units (3 take
#: about 35 s on the demo, so this is hours of search) and one day of wall time.
MAX_DETERMINISTIC_TIME = 3600.0
MAX_TIME_LIMIT_S = 86_400.0
#: CP-SAT's random seed is a 32-bit signed integer; seeds chosen by users are 0 to MAX_SEED.
MIN_SEED, MAX_SEED = -(2**31), 2**31 - 1
MAX_WORKERS = 64


class ResourceType(StrEnum):
    """Kinds of resource an assignment can hold (column `resource_type` of exports)."""

    CLEANROOM = "cleanroom"
    DEVICE = "device"
    STAFF_POOL = "staff_pool"
    STAFF = "staff"
    BED = "bed"
    APHERESIS = "apheresis"
    NONE = "none"


@dataclass(frozen=True)
class Assignment:
    """One step of one patient on one resource from start to end (local time)."""

    patient_code: str
    product_code: str
    step_code: str
    resource_type: ResourceType
    resource_code: str
    start: datetime
    end: datetime
    quantity: int = 1

    def __post_init__(self) -> None:
        check_fields(self, label_of("Assignment of", self.patient_code))
        check(
            self.start < self.end,
            f"Assignment of '{self.patient_code}' step '{self.step_code}' ends before it starts.",
        )
        check_positive("Assignment quantity", self.quantity)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Stable identity across re-plans: patient, step, resource type and resource."""
        return (self.patient_code, self.step_code, self.resource_type.value, self.resource_code)


@dataclass(frozen=True)
class PatientSchedule:
    """The dated milestones of one scheduled patient."""

    patient_code: str
    product_code: str
    apheresis_day: date
    manufacturing_start: datetime
    manufacturing_end: datetime
    release_day: date
    ld_start_day: date
    infusion_day: date
    bed_from: date
    bed_to: date
    lateness_days: int = 0

    def __post_init__(self) -> None:
        check_fields(self, label_of("Schedule of patient", self.patient_code))
        check(
            self.apheresis_day <= self.infusion_day,
            f"Patient '{self.patient_code}': infusion before apheresis.",
        )
        check_non_negative(f"Patient '{self.patient_code}': lateness days", self.lateness_days)

    @property
    def vein_to_vein_days(self) -> int:
        """Days from apheresis to infusion."""
        return (self.infusion_day - self.apheresis_day).days


class UnscheduledReason(StrEnum):
    """Why a patient has no plan."""

    NO_APHERESIS_SLOT = "no_apheresis_slot"
    NO_MANUFACTURING_CAPACITY = "no_manufacturing_capacity"
    NO_STAFF = "no_staff"
    NO_BED = "no_bed"
    COHORT_FULL = "cohort_full"
    TRIAL_STAGGER = "trial_stagger"
    OUTSIDE_HORIZON = "outside_horizon"
    NOT_CHOSEN = "not_chosen"


@dataclass(frozen=True)
class Unscheduled:
    """A patient the plan could not place, with a reason code and a sentence for people."""

    patient_code: str
    reason: UnscheduledReason
    detail: str


@dataclass(frozen=True)
class SolveSettings:
    """How to solve: deterministic mode (the default) repeats the same plan run after run."""

    deterministic: bool = True
    deterministic_time: float = 3.0
    time_limit_s: float = 60.0
    #: Sub-solves of the large-neighbourhood search run at once (threads), and the size
    #: of the full model's interleaved portfolio (at least 2, one task at a time); the
    #: plan depends on this number, not on the machine's cores.
    workers: int = 2
    seed: int = 0
    use_greedy_hint: bool = True

    def __post_init__(self) -> None:
        check_fields(self, "Solver settings")
        # An infinite budget would never end a search that is not cancelled.
        for what, budget in (
            ("Deterministic time", self.deterministic_time),
            ("Time limit (s)", self.time_limit_s),
        ):
            check_positive(what, budget)
            check(math.isfinite(budget), f"{what} must be finite (got {shown(budget)}).")
        check(
            1 <= self.workers <= MAX_WORKERS,
            f"Workers must be 1-{MAX_WORKERS} (got {shown(self.workers)}).",
        )
        check(
            MIN_SEED <= self.seed <= MAX_SEED,
            f"Seed must be a 32-bit integer, {MIN_SEED} to {MAX_SEED} (got {shown(self.seed)}).",
        )


#: What CP-SAT concluded when it was not run at all (no patients, or stopped before it began).
CP_SAT_NOT_RUN = "NOT_RUN"
#: CP-SAT ran on groups of patients only (large-neighbourhood search), never on the whole
#: centre, so it proved nothing about the whole plan.
CP_SAT_LNS = "LNS"

_CP_SAT_MEANING = {
    "OPTIMAL": "proved its plan optimal",
    "FEASIBLE": "found a plan, not proved optimal",
    "UNKNOWN": "found no plan within its budget",
    "INFEASIBLE": "found the model infeasible",
    "MODEL_INVALID": "rejected the model as invalid",
    CP_SAT_NOT_RUN: "did not run",
    CP_SAT_LNS: "improved groups of patients (large-neighbourhood search), proving nothing "
    "for the whole centre",
}


@dataclass(frozen=True)
class ObjectiveLevel:
    """One level of the lexicographic objective: its value in the plan and, where the solver
    proved one, the best value any plan could reach (None: not proved separately)."""

    name: str
    value: int
    bound: int | None = None
    #: Whether higher values are better (patients scheduled) or lower (days).
    maximise: bool = False

    @property
    def gap(self) -> int | None:
        """How far the value is from the bound (None without a bound)."""
        if self.bound is None:
            return None
        return abs(self.bound - self.value)


@dataclass(frozen=True)
class SolverInfo:
    """What the solver reported.

    `status` is the returned plan's own: OPTIMAL when proved optimal, else FEASIBLE.
    `engine` names what produced the plan (cp-sat, or greedy-fcfs/greedy-priority when
    the greedy booking was kept); `cp_sat_status` is what CP-SAT itself concluded.
    `stopped` is True when the user stopped the search before its budget ran out.
    """

    status: str
    engine: str
    objective: float
    bound: float
    wall_time_s: float
    settings: SolveSettings
    greedy_objective: float = 0.0
    cp_sat_status: str = CP_SAT_NOT_RUN
    stopped: bool = False
    versions: str = ""
    #: The objective level by level, most important first.
    levels: tuple[ObjectiveLevel, ...] = ()

    @property
    def cp_sat_meaning(self) -> str:
        """What CP-SAT's status means, in words."""
        return _CP_SAT_MEANING.get(self.cp_sat_status, self.cp_sat_status.lower())

    def describe(self) -> str:
        """One line: plan status, which engine made it, what CP-SAT concluded."""
        text = f"{self.status} plan from {self.engine}; CP-SAT {self.cp_sat_meaning}"
        if self.cp_sat_status not in (CP_SAT_NOT_RUN, CP_SAT_LNS, "OPTIMAL", "FEASIBLE"):
            text += f" ({self.cp_sat_status})"
        if self.stopped:
            text += "; stopped early"
        return text

    @property
    def gap(self) -> float:
        """Relative gap between objective and bound (0 when proven optimal)."""
        if self.bound == self.objective:
            return 0.0
        return abs(self.bound - self.objective) / max(1.0, abs(self.bound))


@dataclass(frozen=True)
class SolveProgress:
    """A progress report while solving: phase, elapsed seconds, best objective so far."""

    phase: str
    elapsed_s: float
    objective: float | None = None
    bound: float | None = None
    scheduled: int | None = None
    fraction: float | None = None


@dataclass(frozen=True)
class Kpis:
    """Headline figures of a plan."""

    scheduled: int
    total: int
    median_vein_to_vein_days: float | None
    p90_vein_to_vein_days: float | None
    total_lateness_days: int
    utilisation: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Plan:
    """A plan for a scenario: assignments, milestones, the unscheduled with reasons, KPIs.

    `created` is the real moment the plan was made (timezone-aware, UTC); with
    `solver.wall_time_s` it is the only content that differs between runs of the same
    inputs and settings (see `same_content`).
    """

    scenario_name: str
    created: datetime
    assignments: tuple[Assignment, ...]
    schedules: tuple[PatientSchedule, ...]
    unscheduled: tuple[Unscheduled, ...]
    kpis: Kpis
    solver: SolverInfo
    notes: tuple[str, ...] = field(default=())

    def same_content(self, other: Plan) -> bool:
        """Whether two plans are the same apart from when they were made and how long it took."""

        def content(plan: Plan) -> Plan:
            solver = replace(plan.solver, wall_time_s=0.0)
            return replace(plan, created=datetime.min, solver=solver)

        return content(self) == content(other)

    def schedule_of(self, patient_code: str) -> PatientSchedule | None:
        """The milestones of one patient, or None if unscheduled."""
        for schedule in self.schedules:
            if schedule.patient_code == patient_code:
                return schedule
        return None


@dataclass(frozen=True)
class PlanSummary:
    """One stored plan in a list of a scenario's plans."""

    plan_id: int
    scenario_name: str
    created: datetime
    current: bool
    status: str
    engine: str
    cp_sat_status: str
    stopped: bool
    scheduled: int
    total: int
    objective: float
    total_lateness_days: int
    published: bool = False
    superseded: bool = False
    #: Who approved the plan and when (UTC); None: a draft.
    approved_by: str | None = None
    approved_at: datetime | None = None

    @property
    def state(self) -> str:
        """Where the plan is in its lifecycle: draft, approved, published or superseded."""
        if self.superseded:
            return "superseded"
        if self.published:
            return "published"
        return "approved" if self.approved_by is not None else "draft"

    @property
    def label(self) -> str:
        """A short one-line label: id, local time, scheduled, status and flags."""
        local = self.created.astimezone() if self.created.tzinfo else self.created
        flags = "".join(
            f" · {flag}"
            for flag, on in (
                ("current", self.current),
                ("approved", self.approved_by is not None),
                ("published", self.published),
                ("superseded", self.superseded),
                ("stopped", self.stopped),
            )
            if on
        )
        return (
            f"#{self.plan_id} {local:%Y-%m-%d %H:%M} · {self.scheduled}/{self.total} · "
            f"{self.status} {self.engine}{flags}"
        )
