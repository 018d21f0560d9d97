#!/usr/bin/env bash
# The test command (README, CI). Sets up what the tests need, then runs every test.
#  - a Python virtual environment with the pinned oracle/generator packages
#    (scripts/requirements-oracle.txt), reused when it already matches the pins;
#  - then `cargo test --workspace` (dev profile).
# Tests that need the oracle find its Python through QUARRY_PYTHON and fail if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${QUARRY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/quarry-venv}"
REQ=scripts/requirements-oracle.txt
STAMP="$VENV/.quarry-requirements"
if ! [ -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$STAMP"; then
  echo "setting up the oracle's Python environment in $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$STAMP"
fi
export QUARRY_PYTHON="$VENV/bin/python"

cargo test --workspace "$@"
