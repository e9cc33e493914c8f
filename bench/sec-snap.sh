#!/usr/bin/env bash
# sec-snap against what an admin runs by hand for the same answers:
#   sysctl -a; find / -xdev -perm /6000     kernel parameters, setuid/setgid
#   sec-snap -a sysctl,file                  the same two areas (plus file
#                                            capabilities, owners, packages)
#   sec-snap                                 every area
# on a root file system grown by a tree the script makes (FILES files in
# 100-file directories, a few of them setuid and setgid, under a temporary
# directory on /, removed at the end), each writing to /dev/null, and the
# ratio of medians to the hand-run pair (below 1 = faster), with the ratio
# of CPU time (user + system), which other work on the machine disturbs less.
# Usage: bench/sec-snap.sh [FILES] (default 100000); RUNS=N for the number
# of timed runs.
set -euo pipefail

cd "$(dirname "$0")/.."
n=${1:-100000}
runs=${RUNS:-10}
bin=$PWD/target/release/sec-snap
out=$(mktemp -d)
# The tree must be on /'s file system, where both walks go.
tree=$(mktemp -d -p "$PWD/target" bench-sec-snap.XXXXXX)

cleanup() {
    rm -rf "$out" "$tree"
}
trap cleanup EXIT

cargo build --release --quiet --bin sec-snap

echo "making $n files under $tree..." >&2
python3 - "$tree" "$n" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, f"d{i // 100}")
    if i % 100 == 0:
        os.mkdir(d)
    p = os.path.join(d, f"f{i}")
    with open(p, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(p, 0o4755 if i % 20000 == 0 else 0o2755 if i % 20000 == 1 else 0o755)
PY
echo "setuid/setgid on /: $(find / -xdev -perm /6000 2>/dev/null | wc -l) entries" >&2

hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/sec-snap.json" \
    --command-name 'sysctl -a; find -perm /6000' \
    "sh -c 'sysctl -a >/dev/null 2>&1; find / -xdev -perm /6000 >/dev/null 2>&1; exit 0'" \
    --command-name 'sec-snap -a sysctl,file' "$bin -a sysctl,file" \
    --command-name 'sec-snap' "$bin"

python3 - "$out/sec-snap.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = res["sysctl -a; find -perm /6000"]
cpu = lambda r: r["user"] + r["system"]
for name in ("sec-snap -a sysctl,file", "sec-snap"):
    r = res[name]
    print(f"{name}: median {r['median']*1000:.1f} ms vs sysctl -a; find {base['median']*1000:.1f} ms, "
          f"ratio of medians {r['median']/base['median']:.2f}; "
          f"CPU {cpu(r)*1000:.1f} ms vs {cpu(base)*1000:.1f} ms, ratio {cpu(r)/cpu(base):.2f}")
PY
