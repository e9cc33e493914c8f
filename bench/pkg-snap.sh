#!/usr/bin/env bash
# pkg-snap against `dpkg-query -W` on a dpkg database of N packages
# (default 3000): the machine's own status file when it has that many,
# otherwise a fixture root whose status file is the machine's packages
# repeated under new names until there are N (real stanzas, real sizes),
# with an info/NAME.list per package and the machine's
# /var/lib/apt/extended_states. Then hyperfine on
#   dpkg-query -W                what the admin ran before
#   pkg-snap --manager dpkg      the snapshot (JSON Lines)
# (each writing to /dev/null, run without a shell).
# Usage: bench/pkg-snap.sh [PACKAGES]; RUNS, BIN and BEFORE as in bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=${1:-3000}
RUNS=${RUNS:-30}
bench_need hyperfine python3 dpkg-query
bench_bin pkg-snap
bench_tmp pkg-snap

have=$(dpkg-query -W | wc -l)
if [ "$have" -ge "$n" ]; then
    root=/
    admindir=/var/lib/dpkg
else
    root=$TMP/root
    admindir=$root/var/lib/dpkg
    mkdir -p "$admindir/info" "$admindir/updates" "$root/var/lib/apt" "$root/var/cache/apt/archives"
    cp /var/lib/apt/extended_states "$root/var/lib/apt/" 2>/dev/null || true
    python3 - "$n" "$admindir" <<'PY'
import os, sys
n, admindir = int(sys.argv[1]), sys.argv[2]
stanzas = [s for s in open("/var/lib/dpkg/status", encoding="utf-8", errors="surrogateescape").read().split("\n\n") if s.strip()]
out, i = [], 0
while len(out) < n:
    s = stanzas[i % len(stanzas)]
    rnd = i // len(stanzas)
    if rnd:
        lines = s.split("\n")
        lines = [f"Package: {l.split(': ', 1)[1]}-copy{rnd}" if l.startswith("Package: ") else l for l in lines]
        s = "\n".join(lines)
    out.append(s)
    name = next(l.split(": ", 1)[1] for l in s.split("\n") if l.startswith("Package: "))
    open(os.path.join(admindir, "info", name + ".list"), "w").write("/.\n")
    i += 1
open(os.path.join(admindir, "status"), "w", encoding="utf-8", errors="surrogateescape").write("\n\n".join(out) + "\n")
PY
fi
echo "packages: $(dpkg-query --admindir="$admindir" -W | wc -l) ($admindir)" >&2

bench_run "$TMP/pkg-snap.json" -N --warmup 3 --runs "$RUNS" -- \
    'dpkg-query -W' "dpkg-query --admindir=$admindir -W" \
    'pkg-snap' "$BIN --root $root --manager dpkg"
bench_report "$TMP/pkg-snap.json" 'dpkg-query -W'
