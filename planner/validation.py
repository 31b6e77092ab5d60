"""Validation helpers: refuse bad objects with a message a coordinator understands."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

#: Upper bounds of counts, hours and days: what the scenario file format and the database's
#: integer columns hold.
MAX_COUNT, MAX_HOURS, MAX_DAYS = 100_000, 100_000, 10_000
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")


class ValidationError(ValueError):
    """An object or scenario is not valid; the message says what and where."""


class DoneStepConflict(ValidationError):
    """Steps recorded as done contradict each other or leave a patient no way to go on."""


def check(condition: bool, message: str) -> None:
    """Raise ValidationError with message unless condition holds."""
    if not condition:
        raise ValidationError(message)


def check_code(kind: str, code: str) -> None:
    """Codes are short identifiers: letters, digits, '-', '_' or '.'."""
    rule = "1-40 letters, digits, '-', '_' or '.', starting with a letter or digit"
    check(
        isinstance(code, str) and bool(_CODE.fullmatch(code)),
        f"{kind} code {code!r} must be {rule}."
        if isinstance(code, str) and len(code) <= 60
        else f"{kind} code must be {rule} (got {shown(code)}).",
    )


def check_non_negative(what: str, value: float) -> None:
    """Refuse a negative number."""
    check(value >= 0, f"{what} must be 0 or more (got {shown(value)}).")


def check_positive(what: str, value: float) -> None:
    """Refuse zero or a negative number."""
    check(value > 0, f"{what} must be more than 0 (got {shown(value)}).")


def check_unique(what: str, values: Iterable[object]) -> None:
    """Refuse repeated values, naming the first repeat."""
    seen: set[object] = set()
    for value in values:
        check(value not in seen, f"{what} {shown(value)} appears twice.")
        seen.add(value)


def check_range(what: str, value: float, low: float, high: float) -> None:
    """Refuse a number outside [low, high]."""
    if low == 0:
        check_non_negative(what, value)
    elif low == 1:
        check_positive(what, value)
    check(
        low <= value <= high, f"{what} must be {shown(low)} to {shown(high)} (got {shown(value)})."
    )


# Kinds of field ---------------------------------------------------------------------------

#: Dates and times the planner, its files (Excel counts days from 1900) and its databases
#: all hold: years 1901 to 2199.
FIRST_DAY, LAST_DAY = date(1901, 1, 1), date(2199, 12, 31)
#: Longest name and longest free text (a reason), as the scenario file format and the
#: database columns allow.
MAX_NAME, MAX_TEXT = 200, 1000
_LONG_TEXT_FIELDS = frozenset({"reason", "detail"})


def _words(name: str) -> str:
    """A field's name as words: day_start_hour -> day start hour."""
    return name.replace("_", " ").strip()


def _kind_words(kind: object) -> str:
    """What a value of a type is called in a message."""
    if isinstance(kind, type) and issubclass(kind, Enum):
        return "one of " + ", ".join(str(m.value) for m in kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind.__name__).lower()
        return f"a {words}"
    return _KIND_WORDS.get(kind, "a value of another kind")


_KIND_WORDS: dict[object, str] = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "yes or no (true or false)",
    date: "a date (YYYY-MM-DD)",
    datetime: "a date and time without a time zone",
}


def shown(value: object, limit: int = 40) -> str:
    """A value for a message: text quoted and shortened, numbers and dates as written,
    anything else by its kind (never a Python repr)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, int) and value.bit_length() > 64:
        return "a number too large to write here"
    if isinstance(value, int | float):
        text = str(value)
        return text if len(text) <= limit else text[:limit] + "…"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        clean = "".join(
            c if unicodedata.category(c) not in ("Cc", "Cs") else f"\\x{ord(c):02x}"
            for c in value[:limit]
        )
        return f"'{clean}'" + ("…" if len(value) > limit else "")
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a table of keys and values"
    if dataclasses.is_dataclass(value):
        return _kind_words(type(value))
    return "a value of another kind"


_HINTS: dict[type[Any], tuple[tuple[str, object], ...]] = {}


def _hints(cls: type[Any]) -> tuple[tuple[str, object], ...]:
    """The declared kind of every field of a dataclass (its annotations resolved, once)."""
    if cls not in _HINTS:
        fields = {f.name for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = tuple((k, v) for k, v in hints.items() if k in fields)
    return _HINTS[cls]


def label_of(kind: str, code: object) -> str:
    """'Site 'X'' when the code is a valid code, else just the kind."""
    if isinstance(code, str) and _CODE.fullmatch(code):
        return f"{kind} '{code}'"
    return kind


def check_fields(obj: object, label: str) -> None:
    """Refuse a dataclass whose fields are not of their declared kinds, naming the field:
    text without control characters and not too long, whole numbers (not yes/no), numbers,
    dates without a time and date-times without a time zone within years 1901-2199,
    enumeration values (text naming a member is turned into the member) and lists (turned
    into tuples) of such values. Ranges (and so NaN and infinities) are the classes' own
    checks."""
    for name, kind in _hints(type(obj)):
        value = getattr(obj, name)
        fixed = _checked(f"{label}: {_words(name)}", name, value, kind)
        if fixed is not value:
            object.__setattr__(obj, name, fixed)


def _checked(what: str, name: str, value: object, kind: object) -> object:
    """The value, made canonical (enum member, tuple), or ValidationError naming `what`."""
    # Messages are written only on failure: a plan checks thousands of fields.
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return value
        (kind,) = [a for a in args if a is not type(None)]
        return _checked(what, name, value, kind)
    if origin is tuple:
        if not isinstance(value, tuple | list):
            raise ValidationError(f"{what} must be a list (got {shown(value)}).")
        if len(args) == 2 and args[1] is Ellipsis:
            kinds = [args[0]] * len(value)
        else:
            if len(value) != len(args):
                raise ValidationError(f"{what} must have {len(args)} values (got {len(value)}).")
            kinds = list(args)
        items = tuple(
            _checked(f"{what}, item {i + 1},", name, item, k)
            for i, (item, k) in enumerate(zip(value, kinds, strict=True))
        )
        return value if isinstance(value, tuple) and items == value else items
    assert isinstance(kind, type), kind
    if issubclass(kind, Enum):
        members = {str(m.value): m for m in kind}
        if not (isinstance(value, str) and value in members):
            raise ValidationError(f"{what} must be {_kind_words(kind)} (got {shown(value)}).")
        return members[str(value)]
    ok = {
        bool: lambda: isinstance(value, bool),
        int: lambda: isinstance(value, int) and not isinstance(value, bool),
        float: lambda: isinstance(value, int | float) and not isinstance(value, bool),
        date: lambda: isinstance(value, date) and not isinstance(value, datetime),
        datetime: lambda: isinstance(value, datetime),
    }.get(kind, lambda: isinstance(value, kind))
    if not ok():
        raise ValidationError(f"{what} must be {_kind_words(kind)} (got {shown(value)}).")
    if isinstance(value, datetime) and value.tzinfo is not None:
        raise ValidationError(
            f"{what} must be a local date and time, without a time zone (got {shown(value)})."
        )
    if isinstance(value, date):
        if not FIRST_DAY <= (value.date() if isinstance(value, datetime) else value) <= LAST_DAY:
            raise ValidationError(
                f"{what} must fall in the years {FIRST_DAY.year}-{LAST_DAY.year} "
                f"(got {shown(value)})."
            )
    elif isinstance(value, str):
        longest = MAX_TEXT if name in _LONG_TEXT_FIELDS else MAX_NAME
        if len(value) > longest:
            raise ValidationError(
                f"{what} must be at most {longest} characters (got {len(value)})."
            )
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            raise ValidationError(
                f"{what} must not hold control characters such as line breaks or tabs "
                f"(got {shown(value)})."
            )
    return value
