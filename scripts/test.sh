#!/usr/bin/env bash
# Installs what the tests need (system Qt libraries, a venv with the test extra) and runs
# every check: ruff, mypy, import-linter contracts and pytest (Qt offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
install_qt_libs
make_venv ".[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
QT_QPA_PLATFORM=offscreen .venv/bin/pytest -q "$@"
