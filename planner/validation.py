"""Validation helpers: refuse bad objects with a message a coordinator understands."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    check(
        isinstance(code, str) and bool(_CODE.fullmatch(code)),
        f"{kind} code {code!r} must be 1-40 letters, digits, '-', '_' or '.', "
        "starting with a letter or digit.",
    )


def check_non_negative(what: str, value: float) -> None:
    """Refuse a negative number."""
    check(value >= 0, f"{what} must be 0 or more (got {value}).")


def check_positive(what: str, value: float) -> None:
    """Refuse zero or a negative number."""
    check(value > 0, f"{what} must be more than 0 (got {value}).")


def check_unique(what: str, values: Iterable[object]) -> None:
    """Refuse repeated values, naming the first repeat."""
    seen: set[object] = set()
    for value in values:
        check(value not in seen, f"{what} {value!r} appears twice.")
        seen.add(value)
