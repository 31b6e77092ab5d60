"""CP-SAT scheduling of whole vein-to-vein chains. One public entry point: `solve`."""

from solver.api import CancelHook, ProgressHook, solve

__all__ = ["CancelHook", "ProgressHook", "solve"]
