"""Earliest slot for a new referral: the question a coordinator asks on the phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Referral:
    """A prospective patient: product (or trial cohort), from when, how urgent."""

    product_code: str
    earliest: date
    trial_code: str | None = None
    cohort_code: str | None = None
    priority: int = 3
    needed_infusion: date | None = None


@dataclass(frozen=True)
class SlotOffer:
    """The earliest apheresis and infusion a referral can get, or why it gets none."""

    referral: Referral
    basis: str
    apheresis_day: date | None = None
    release_day: date | None = None
    infusion_day: date | None = None
    room: str | None = None
    device: str | None = None
    reason: str = ""
    #: Whether no earlier apheresis day is possible (else: the best the search found).
    proved: bool = True

    @property
    def found(self) -> bool:
        """Whether a slot exists within the horizon."""
        return self.apheresis_day is not None

    @property
    def vein_to_vein_days(self) -> int | None:
        """Days from apheresis to infusion."""
        if self.apheresis_day is None or self.infusion_day is None:
            return None
        return (self.infusion_day - self.apheresis_day).days

    def describe(self) -> str:
        """A few lines for the command line."""
        what = self.referral.product_code
        if self.referral.trial_code:
            what += f" ({self.referral.trial_code}/{self.referral.cohort_code})"
        head = f"Earliest slot for a new {what} referral from {self.referral.earliest}"
        if self.apheresis_day is None or self.infusion_day is None:
            return f"{head}: none within the horizon. {self.reason}\nBasis: {self.basis}."
        where = ", ".join(x for x in (self.room, self.device) if x)
        return "\n".join(
            [
                f"{head}, moving no one:",
                f"  apheresis  {self.apheresis_day:%a %Y-%m-%d}",
                f"  release    {self.release_day:%a %Y-%m-%d}" if self.release_day else "",
                f"  infusion   {self.infusion_day:%a %Y-%m-%d}"
                f"  (vein-to-vein {self.vein_to_vein_days} d)",
                f"  where      {where}" if where else "",
                f"Basis: {self.basis}."
                + ("" if self.proved else " Best found; an earlier day was not ruled out."),
            ]
        ).replace("\n\n", "\n")


@dataclass(frozen=True)
class SlotMoves:
    """The earliest slot when planned patients may move (none dropped), and who moves:
    (patient, apheresis shift in days, infusion shift in days)."""

    apheresis_day: date | None
    infusion_day: date | None
    moved: tuple[tuple[str, int, int], ...]
    reason: str = ""

    def describe(self) -> str:
        """A few lines for the command line."""
        if self.apheresis_day is None or self.infusion_day is None:
            return f"With moves allowed: none ({self.reason})."
        lines = [
            "With planned patients allowed to move (none dropped, started and frozen steps kept):",
            f"  apheresis  {self.apheresis_day:%a %Y-%m-%d}",
            f"  infusion   {self.infusion_day:%a %Y-%m-%d}",
            f"  moves      {len(self.moved)} patient(s)" + (":" if self.moved else ""),
        ]
        lines += [
            f"    {code:<8} apheresis {aph:+d} d, infusion {inf:+d} d"
            for code, aph, inf in self.moved
        ]
        return "\n".join(lines)
