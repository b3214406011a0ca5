#!/usr/bin/env bash
# Opt-in conformance job (not part of CI): runs the end-to-end suites of two Kubernetes clients
# nobody here wrote -- the official Python client's kubernetes/e2e_test and lightkube's
# e2e-tests -- against `kumo sandbox kubeapi`, and prints pass/fail counts per suite. Tests that
# need a real container runtime (exec, attach, port-forward, a container's own output) are
# counted apart. Only the connection bootstrap is adapted: each suite reads the emulator's
# kubeconfig from $HOME/.kube/config, as it would a cluster's.
#
# Where the suites come from: $KUMO_CONFORMANCE_SRC/python (a checkout of
# kubernetes-client/python) and $KUMO_CONFORMANCE_SRC/lightkube (a checkout of
# gtsystem/lightkube) when set; otherwise shallow git clones into ~/.cache/kumo/conformance,
# which needs access to GitHub.
#
# Example: KUMO_CONFORMANCE_SRC=~/src bash scripts/conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
exec python scripts/conformance.py "$@"
