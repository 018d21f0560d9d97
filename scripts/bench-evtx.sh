#!/usr/bin/env bash
# Benchmark: reading the EVTX samples of ../shared/data into SecurityEvent with Quarry (release
# build) against `evtx_dump` (the evtx crate's own CLI, JSON Lines output) on the same files, in
# the same run. The samples are small (about 4 MB), so each is copied COPIES times (default 40)
# into a scratch directory first; nothing is written into the repository.
#
#   scripts/bench-evtx.sh [COPIES]
#
# Needs `evtx_dump` on PATH or in ${EVTX_DUMP:-~/.cache/evtx-tool/bin/evtx_dump}
# (install: cargo install evtx --version 0.15.1 --root ~/.cache/evtx-tool).
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES="${1:-40}"
DIR="${QUARRY_BENCH_DIR:-$HOME/.cache/quarry-bench}/evtx-x$COPIES"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target-release}"
EVTX_DUMP="${EVTX_DUMP:-$(command -v evtx_dump || echo "$HOME/.cache/evtx-tool/bin/evtx_dump")}"
[ -x "$EVTX_DUMP" ] || { echo "evtx_dump not found (see the header of $0)" >&2; exit 2; }

if [ ! -d "$DIR" ]; then
  mkdir -p "$DIR"
  i=0
  while IFS= read -r f; do
    i=$((i + 1))
    for c in $(seq 1 "$COPIES"); do cp "$f" "$DIR/$i-$c-$(basename "$f")"; done
  done < <(find ../shared/data -name '*.evtx' | sort)
fi
cargo build --release -q -p quarry-cli
QUARRY="$CARGO_TARGET_DIR/release/quarry"
BYTES=$(find "$DIR" -name '*.evtx' -exec cat {} + | wc -c)
FILES=$(find "$DIR" -name '*.evtx' | wc -l)

# Records in the files, as evtx_dump counts them (one JSON line per record).
RECORDS=$(find "$DIR" -name '*.evtx' -print0 | xargs -0 -n1 "$EVTX_DUMP" -o jsonl 2>/dev/null | wc -l)

measure() { # label, command...
  local label=$1; shift
  "$@" >/dev/null 2>&1 || true  # warm the page cache
  /usr/bin/time -v "$@" >/dev/null 2>"$DIR/../time-evtx-$label.txt"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$DIR/../time-evtx-$label.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$DIR/../time-evtx-$label.txt" | awk '{print $NF}')
  echo "$wall $rss"
}
to_seconds() { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }

dump_all() { find "$DIR" -name '*.evtx' -print0 | xargs -0 -n1 "$EVTX_DUMP" -o jsonl; }
export -f dump_all; export DIR EVTX_DUMP
read -r qwall qrss <<<"$(measure quarry "$QUARRY" query 'SecurityEvent | count' --table "SecurityEvent=$DIR" --no-lint --format csv)"
read -r dwall drss <<<"$(measure evtx_dump bash -c dump_all)"
ROWS=$("$QUARRY" query 'SecurityEvent | count' --table "SecurityEvent=$DIR" --no-lint --format csv | tail -1)
qs=$(to_seconds "$qwall"); ds=$(to_seconds "$dwall")
printf 'files=%s bytes=%s records=%s SecurityEvent rows=%s\n' "$FILES" "$BYTES" "$RECORDS" "$ROWS"
awk -v s="$qs" -v b="$BYTES" -v r="$RECORDS" -v m="$qrss" 'BEGIN {
  printf "quarry:    wall %.2fs  %.0f records/s  %.1f MB/s  peak RSS %d MiB\n", s, r / s, b / 1e6 / s, m / 1024 }'
awk -v s="$ds" -v b="$BYTES" -v r="$RECORDS" -v m="$drss" 'BEGIN {
  printf "evtx_dump: wall %.2fs  %.0f records/s  %.1f MB/s  peak RSS %d MiB (largest single process)\n", s, r / s, b / 1e6 / s, m / 1024 }'
awk -v q="$qs" -v d="$ds" 'BEGIN { printf "quarry/evtx_dump wall-time ratio: %.2f\n", q / d }'
