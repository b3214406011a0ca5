#!/usr/bin/env bash
# Sets up everything kumo and its tests need on a fresh Debian machine with Python 3.11:
# the system peers the tests talk to (BIND9 for RFC 2136, dig, Chromium for the console's browser
# tests) and a virtualenv in .venv.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(bind9 bind9-utils bind9-dnsutils chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.kumo-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing kumo and its test tools into .venv"
  # Some machines carry a pip config with find-links folders that do not exist; pip warns once per
  # package about them, which buries real errors, so those lines are dropped.
  quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; return "${PIPESTATUS[0]}"; }
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q -e '.[dev,sandbox]'
  touch "$stamp"
fi
