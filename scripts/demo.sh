#!/usr/bin/env bash
# Installs atmp-planner in .venv and plans the bundled demo centre into out/demo-plan.xlsx.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
install_qt_libs
make_venv "."
mkdir -p out
.venv/bin/atmp-planner demo --out out/demo-plan.xlsx "$@"
