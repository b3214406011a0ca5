#!/usr/bin/env bash
# Sets everything up, then runs kumo's main job on the seed example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec .venv/bin/kumo plan examples/online-app/kumo.yaml "$@"
