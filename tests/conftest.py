"""Test set-up shared by all packages."""

import os

# Qt aborts without a display unless this is set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
