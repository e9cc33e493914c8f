#!/usr/bin/env bash
# pkg-snap against `dpkg-query -W` on a dpkg database of N packages
# (default 3000): the machine's own status file when it has that many,
# otherwise a fixture root whose status file is the machine's packages
# repeated under new names until there are N (real stanzas, real sizes),
# with an info/NAME.list per package and the machine's
# /var/lib/apt/extended_states. Then hyperfine on
#   dpkg-query -W                what the admin ran before
#   pkg-snap --manager dpkg      the snapshot (JSON Lines)
# (each writing to /dev/null, run without a shell), and the ratio of
# medians (below 1 = faster), with the ratio of CPU time (user + system),
# which a busy machine disturbs less.
# Usage: bench/pkg-snap.sh [PACKAGES]; RUNS=N to change the number of runs.
set -euo pipefail

cd "$(dirname "$0")/.."
n=${1:-3000}
runs=${RUNS:-30}
bin=target/release/pkg-snap
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --release --quiet --bin pkg-snap

have=$(dpkg-query -W | wc -l)
if [ "$have" -ge "$n" ]; then
    root=/
    admindir=/var/lib/dpkg
else
    root=$out/root
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

hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/pkg-snap.json" \
    --command-name 'dpkg-query -W' "dpkg-query --admindir=$admindir -W" \
    --command-name 'pkg-snap' "$bin --root $root --manager dpkg"

python3 - "$out/pkg-snap.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
q, p = res["dpkg-query -W"], res["pkg-snap"]
cpu = lambda r: r["user"] + r["system"]  # mean CPU time: steadier than wall time under load
print(f"pkg-snap: median {p['median']*1000:.1f} ms vs dpkg-query -W {q['median']*1000:.1f} ms, "
      f"ratio of medians {p['median']/q['median']:.2f}; "
      f"CPU {cpu(p)*1000:.1f} ms vs {cpu(q)*1000:.1f} ms, ratio {cpu(p)/cpu(q):.2f}")
PY
