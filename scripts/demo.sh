#!/usr/bin/env bash
# kumo's main command, from a fresh clone: set up, start the sandbox (Kubernetes API emulator, moto
# for AWS, the DNS controller, a DNS server, the console), then deploy the seed system into it
# through the same code paths as on AWS, and print the URL, the console address and a dig line.
# Stop it with: .venv/bin/kumo sandbox down
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=${1:-examples/online-app/kumo.yaml}
bash scripts/setup.sh >&2
.venv/bin/kumo sandbox up --spec "$SPEC"
.venv/bin/kumo up "$SPEC" --sandbox
