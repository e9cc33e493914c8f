#!/usr/bin/env bash
# ps-snap against `ps -ef` on a busy process table: 2000 extra processes
# (sleepers, each with its own address space to map), then hyperfine on
#   ps -ef                      what the admin ran before
#   ps-snap                     the default snapshot, stale code included (code
#                               mappings judged against the files now on disk)
#   ps-snap --no-maps           without reading /proc/PID/maps
# (each writing to /dev/null, hyperfine's default, run without a shell).
# Usage: bench/ps-snap.sh [EXTRA_PROCESSES] (default 2000); RUNS, BIN and
# BEFORE as in bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=${1:-2000}
RUNS=${RUNS:-20}
bench_need hyperfine python3 ps
bench_bin ps-snap
bench_tmp ps-snap

pids=()
# Only the sleepers this script started, by pid.
bench_on_exit 'if ((${#pids[@]})); then kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; fi'

echo "starting $n extra processes..." >&2
for ((i = 0; i < n; i++)); do
    sleep 600 &
    pids+=($!)
done
echo "process table: $(ls -d /proc/[0-9]* | wc -l) processes" >&2

bench_run "$TMP/ps-snap.json" -N --warmup 2 --runs "$RUNS" -- \
    'ps -ef' 'ps -ef' \
    'ps-snap' "$BIN" \
    'ps-snap --no-maps' "$BIN --no-maps"
bench_report "$TMP/ps-snap.json" 'ps -ef'
