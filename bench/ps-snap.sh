#!/usr/bin/env bash
# ps-snap against `ps -ef` on a busy process table: 2000 extra processes
# (sleepers, each with its own address space to map), then hyperfine on
#   ps -ef                      what the admin ran before
#   ps-snap                     the default snapshot, stale code included (code
#                               mappings judged against the files now on disk)
#   ps-snap --no-maps           without reading /proc/PID/maps
# (each writing to /dev/null, hyperfine's default, run without a shell), and
# the ratio of medians of each ps-snap run to ps -ef (below 1 = faster), with
# the ratio of CPU time (user + system), which a busy machine disturbs less.
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

hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/ps-snap.json" \
    --command-name 'ps -ef' 'ps -ef' \
    --command-name 'ps-snap' "$bin" \
    --command-name 'ps-snap --no-maps' "$bin --no-maps"

python3 - "$out/ps-snap.json" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ps = res["ps -ef"]
cpu = lambda r: r["user"] + r["system"]  # mean CPU time: steadier than wall time under load
for name in ("ps-snap", "ps-snap --no-maps"):
    r = res[name]
    print(f"{name}: median {r['median']*1000:.1f} ms vs ps -ef {ps['median']*1000:.1f} ms, "
          f"ratio of medians {r['median']/ps['median']:.2f}; "
          f"CPU {cpu(r)*1000:.1f} ms vs {cpu(ps)*1000:.1f} ms, ratio {cpu(r)/cpu(ps):.2f}")
EOF
