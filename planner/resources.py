"""Resources of an ATMP centre: site, cleanrooms, devices, staff, rosters, ward, apheresis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from planner.validation import (
    MAX_COUNT,
    MAX_HOURS,
    check,
    check_code,
    check_fields,
    check_range,
    check_unique,
    shown,
)


@dataclass(frozen=True)
class Window:
    """A half-open period [start, end) when a resource is unavailable, with a reason."""

    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        check_fields(self, "Downtime")
        check(
            self.start < self.end,
            f"Downtime '{self.reason or 'window'}' ends ({self.end:%Y-%m-%d %H:%M}) "
            f"before it starts ({self.start:%Y-%m-%d %H:%M}).",
        )


@dataclass(frozen=True)
class Site:
    """A hospital site; its working day bounds when operator-intensive steps may run."""

    code: str
    name: str
    country: str = "SE"
    timezone: str = "Europe/Stockholm"
    day_start_hour: int = 8
    day_end_hour: int = 16

    def __post_init__(self) -> None:
        check_code("Site", self.code)
        check_fields(self, f"Site '{self.code}'")
        check(
            len(self.country) <= 10,
            f"Site '{self.code}': country must be at most 10 characters.",
        )
        check(
            len(self.timezone) <= 64,
            f"Site '{self.code}': time zone must be at most 64 characters.",
        )
        check(
            0 <= self.day_start_hour < self.day_end_hour <= 24,
            f"Site '{self.code}': the working day must start before it ends, within 0-24 h "
            f"(got {self.day_start_hour}-{self.day_end_hour}).",
        )

    @property
    def working_hours(self) -> int:
        """Hours in one working day."""
        return self.day_end_hour - self.day_start_hour


class Grade(StrEnum):
    """EU GMP Annex 1 cleanroom grade."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True)
class Cleanroom:
    """A GMP cleanroom: holds one patient's material at a time (autologous segregation)."""

    code: str
    name: str
    grade: Grade
    products: tuple[str, ...]
    changeover_hours: int = 8
    downtime: tuple[Window, ...] = ()

    def __post_init__(self) -> None:
        check_code("Cleanroom", self.code)
        check_fields(self, f"Cleanroom '{self.code}'")
        check_range(
            f"Cleanroom '{self.code}': changeover hours", self.changeover_hours, 0, MAX_HOURS
        )
        for code in self.products:
            check_code(f"Cleanroom '{self.code}': product", code)
        check_unique(f"Cleanroom '{self.code}': product", self.products)


@dataclass(frozen=True)
class Device:
    """A closed processing device standing in one of its rooms; one batch at a time."""

    code: str
    name: str
    room_codes: tuple[str, ...]
    products: tuple[str, ...]
    changeover_hours: int = 4
    downtime: tuple[Window, ...] = ()

    def __post_init__(self) -> None:
        check_code("Device", self.code)
        check_fields(self, f"Device '{self.code}'")
        check(bool(self.room_codes), f"Device '{self.code}' must stand in at least one room.")
        check_range(f"Device '{self.code}': changeover hours", self.changeover_hours, 0, MAX_HOURS)
        for code in (*self.room_codes, *self.products):
            check_code(f"Device '{self.code}': room or product", code)
        check_unique(f"Device '{self.code}': product", self.products)


class Role(StrEnum):
    """What a staff member may do."""

    OPERATOR = "operator"
    QC_ANALYST = "qc_analyst"
    QP = "qp"
    APHERESIS_NURSE = "apheresis_nurse"


@dataclass(frozen=True)
class StaffMember:
    """A staff member known by a pseudonymous code, with roles and per-product training."""

    code: str
    roles: tuple[Role, ...]
    trained_products: tuple[str, ...] = ()
    contracted_hours_per_week: float = 40.0

    def __post_init__(self) -> None:
        check_code("Staff member", self.code)
        check_fields(self, f"Staff member '{self.code}'")
        for code in self.trained_products:
            check_code(f"Staff member '{self.code}': trained product", code)
        check(bool(self.roles), f"Staff member '{self.code}' needs at least one role.")
        check_unique(f"Staff member '{self.code}': role", self.roles)
        check_unique(f"Staff member '{self.code}': trained product", self.trained_products)
        check(
            1 <= self.contracted_hours_per_week <= 60,
            f"Staff member '{self.code}': contracted hours per week must be in 1-60 "
            f"(got {shown(self.contracted_hours_per_week)}).",
        )


@dataclass(frozen=True)
class ShiftCode:
    """A roster code such as D (day), N (night on call), W (weekend day) or L (leave)."""

    code: str
    name: str
    start_hour: int
    hours: int
    covers_day_work: bool = True
    is_leave: bool = False

    def __post_init__(self) -> None:
        check_code("Shift code", self.code)
        check_fields(self, f"Shift code '{self.code}'")
        check(
            0 <= self.start_hour < 24,
            f"Shift '{self.code}': start hour must be 0-23 (got {self.start_hour}).",
        )
        check(
            0 <= self.hours <= 24,
            f"Shift '{self.code}': length must be 0-24 hours (got {self.hours}).",
        )
        check(
            not (self.is_leave and self.covers_day_work),
            f"Shift '{self.code}' cannot be both leave and a working day shift.",
        )


@dataclass(frozen=True)
class RosterEntry:
    """One staff member's shift (or leave) on one date."""

    staff_code: str
    day: date
    shift_code: str

    def __post_init__(self) -> None:
        check_code("Roster entry: staff member", self.staff_code)
        check_fields(self, f"Roster entry of '{self.staff_code}'")
        check_code(f"Roster entry of '{self.staff_code}': shift", self.shift_code)


@dataclass(frozen=True)
class BedChange:
    """Beds available on the ward from start to end (inclusive), replacing the default."""

    start: date
    end: date
    beds: int
    reason: str = ""

    def __post_init__(self) -> None:
        check_fields(self, "Bed change")
        check(self.start <= self.end, f"Bed change '{self.reason}' ends before it starts.")
        check_range(f"Bed change '{self.reason}': beds", self.beds, 0, MAX_COUNT)


@dataclass(frozen=True)
class Ward:
    """A haematology ward with beds for cell-therapy in-patients."""

    code: str
    name: str
    beds: int
    changes: tuple[BedChange, ...] = ()

    def __post_init__(self) -> None:
        check_code("Ward", self.code)
        check_fields(self, f"Ward '{self.code}'")
        check_range(f"Ward '{self.code}': beds", self.beds, 0, MAX_COUNT)

    def beds_on(self, day: date) -> int:
        """Beds usable on a date: the last change covering it wins, else the default."""
        beds = self.beds
        for change in self.changes:
            if change.start <= day <= change.end:
                beds = change.beds
        return beds


@dataclass(frozen=True)
class ApheresisCapacity:
    """Apheresis slots per weekday (Monday first), with dated exceptions."""

    slots_per_weekday: tuple[int, int, int, int, int, int, int]
    exceptions: tuple[tuple[date, int], ...] = field(default=())

    def __post_init__(self) -> None:
        if isinstance(self.slots_per_weekday, tuple | list):
            check(
                len(self.slots_per_weekday) == 7,
                f"Apheresis capacity needs 7 weekday values, Monday first "
                f"(got {len(self.slots_per_weekday)}).",
            )
        check_fields(self, "Apheresis capacity")
        for slots in self.slots_per_weekday:
            check_range("Apheresis slots per weekday", slots, 0, MAX_COUNT)
        for day, slots in self.exceptions:
            check_range(f"Apheresis slots on {day}", slots, 0, MAX_COUNT)

    def slots_on(self, day: date, holidays: frozenset[date] = frozenset()) -> int:
        """Slots on a date: an exception wins, a public holiday has none, else the weekday."""
        for exception_day, slots in self.exceptions:
            if exception_day == day:
                return slots
        if day in holidays:
            return 0
        return self.slots_per_weekday[day.weekday()]
