"""Test set-up shared by all packages."""

import os

# Qt aborts without a display unless this is set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The audit trail records this user (not the login of whoever runs the tests), also in the
# subprocesses the tests start.
os.environ["ATMP_PLANNER_USER"] = "tester"
