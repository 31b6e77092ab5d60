"""The `atmp-planner` command line: wires data, solver and ui; holds no business rules."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line (being written)."""
    print("atmp-planner: command line not written yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
