import sys

from atmp_planner.cli import main

sys.exit(main())
