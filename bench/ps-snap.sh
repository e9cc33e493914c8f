#!/usr/bin/env bash
# ps-snap against `ps -ef` on a busy process table: 2000 extra processes
# (sleepers, each with its own address space to map), then hyperfine on
#   ps -ef                      what the admin ran before
#   ps-snap                     the default snapshot, deleted maps included
#   ps-snap --no-maps           without reading /proc/PID/maps
# and the ratio of medians of each ps-snap run to ps -ef (below 1 = faster).
# Usage: bench/ps-snap.sh [EXTRA_PROCESSES] (default 2000); RUNS=N to change
# the number of timed runs.
set -euo pipefail

cd "$(dirname "$0")/.."
n=${1:-2000}
runs=${RUNS:-20}
bin=target/release/ps-snap
out=$(mktemp -d)
pids=()

cleanup() {
    # Only the sleepers this script started, by pid.
    if ((${#pids[@]})); then
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    rm -rf "$out"
}
trap cleanup EXIT

cargo build --release --quiet --bin ps-snap

echo "starting $n extra processes..." >&2
for ((i = 0; i < n; i++)); do
    sleep 600 &
    pids+=($!)
done
echo "process table: $(ls -d /proc/[0-9]* | wc -l) processes" >&2

hyperfine --warmup 2 --runs "$runs" --export-json "$out/ps-snap.json" \
    --command-name 'ps -ef' 'ps -ef > /dev/null' \
    --command-name 'ps-snap' "$bin > /dev/null" \
    --command-name 'ps-snap --no-maps' "$bin --no-maps > /dev/null"

python3 - "$out/ps-snap.json" <<'EOF'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
ps = res["ps -ef"]
for name in ("ps-snap", "ps-snap --no-maps"):
    print(f"median {name}: {res[name]*1000:.1f} ms, ps -ef: {ps*1000:.1f} ms, "
          f"ratio {res[name]/ps:.2f}")
EOF
