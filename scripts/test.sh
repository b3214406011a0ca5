#!/usr/bin/env bash
# Sets everything up, then runs every check: ruff, mypy (src/), and the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check src tests benchmarks
echo "== mypy"
mypy
echo "== pytest"
pytest -q -p no:cacheprovider "$@"
