"""CP-SAT scheduling of whole vein-to-vein chains.

Public entry points: `solve` (plan a scenario) and `earliest_slot` (book a new referral
around a plan without moving anyone).
"""

from solver.api import CancelHook, ProgressHook, model_size, solve
from solver.slot import earliest_slot, earliest_slot_with_moves

__all__ = [
    "CancelHook",
    "ProgressHook",
    "earliest_slot",
    "earliest_slot_with_moves",
    "model_size",
    "solve",
]
