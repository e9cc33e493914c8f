#!/usr/bin/env bash
# sec-snap against what an admin runs by hand for the same answers:
#   sysctl -a; find / -xdev -perm /6000     kernel parameters, setuid/setgid
#   sec-snap -a sysctl,file                  the same two areas (plus file
#                                            capabilities, owners, packages)
#   sec-snap                                 every area
# on a root file system grown by a tree the script makes (FILES files in
# 100-file directories, a few of them setuid and setgid, under a temporary
# directory on /, removed at the end), each writing to /dev/null.
# Usage: bench/sec-snap.sh [FILES] (default 100000); RUNS, BIN and BEFORE
# as in bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=${1:-100000}
RUNS=${RUNS:-10}
bench_need hyperfine python3 sysctl find
bench_bin sec-snap
bench_tmp sec-snap
# The tree must be on /'s file system, where both walks go.
mkdir -p target
tree=$(mktemp -d -p "$PWD/target" bench-sec-snap.XXXXXX)
bench_on_exit 'rm -rf "$tree"'

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

bench_run "$TMP/sec-snap.json" -N --warmup 2 --runs "$RUNS" -- \
    'sysctl -a; find -perm /6000' "sh -c 'sysctl -a >/dev/null 2>&1; find / -xdev -perm /6000 >/dev/null 2>&1; exit 0'" \
    'sec-snap -a sysctl,file' "$BIN -a sysctl,file" \
    'sec-snap' "$BIN"
bench_report "$TMP/sec-snap.json" 'sysctl -a; find -perm /6000'
