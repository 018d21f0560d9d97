#!/usr/bin/env bash
# Benchmark: the corrected seed rule over N generated DeviceLogonEvents rows (default 10M,
# Parquet), Quarry (release build) against the DuckDB oracle on the same file, in the same run.
# Prints wall time and peak RSS of each (from /usr/bin/time -v) and the ratio.
#
#   scripts/bench.sh [ROWS] [FORMAT]        e.g. scripts/bench.sh 10000000 parquet
#
# Data goes to ${QUARRY_BENCH_DIR:-~/.cache/quarry-bench}; the release build to
# ${CARGO_TARGET_DIR:-~/.cache/quarry-target-release}. Needs ../shared/tools and the pinned
# Python environment (scripts/test.sh creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-10000000}"
FORMAT="${2:-parquet}"
DIR="${QUARRY_BENCH_DIR:-$HOME/.cache/quarry-bench}"
VENV="${QUARRY_VENV:-$HOME/.cache/quarry-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target-release}"
mkdir -p "$DIR"
DATA="$DIR/logons-$ROWS.$FORMAT"
if [ ! -f "$DATA" ]; then
  echo "generating $ROWS rows into $DATA" >&2
  "$VENV/bin/python" ../shared/tools/gen_logons.py --rows "$ROWS" --out "$DATA" -q
fi
cargo build --release -q -p quarry-cli
QUARRY="$CARGO_TARGET_DIR/release/quarry"
RULE=rules/service-account-interactive-logon.kql

measure() { # label, command...
  local label=$1; shift
  "$@" >/dev/null 2>&1 || true  # warm the page cache
  /usr/bin/time -v "$@" >/dev/null 2>"$DIR/time-$label.txt"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$DIR/time-$label.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$DIR/time-$label.txt" | awk '{print $NF}')
  echo "$label $wall $rss"
}
to_seconds() { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }

q=$(measure quarry "$QUARRY" query -f "$RULE" --table "DeviceLogonEvents=$DATA" --format csv)
d=$(measure duckdb "$VENV/bin/python" ../shared/tools/oracle_duckdb.py "$DATA" --variant corrected)
read -r _ qwall qrss <<<"$q"
read -r _ dwall drss <<<"$d"
qs=$(to_seconds "$qwall"); ds=$(to_seconds "$dwall")
printf 'rows=%s format=%s\n' "$ROWS" "$FORMAT"
printf 'quarry: wall %ss, peak RSS %s MiB\n' "$qs" "$((qrss / 1024))"
printf 'duckdb: wall %ss, peak RSS %s MiB\n' "$ds" "$((drss / 1024))"
awk -v q="$qs" -v d="$ds" 'BEGIN { printf "quarry/duckdb wall-time ratio: %.2f\n", q / d }'
