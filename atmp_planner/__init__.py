"""Application wiring: the `atmp-planner` command line."""

from atmp_planner.cli import main

__all__ = ["main"]
