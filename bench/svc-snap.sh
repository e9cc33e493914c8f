#!/usr/bin/env bash
# Benchmark: svc-snap --root against systemctl --root=DIR list-unit-files
# on the same tree: this machine's /usr/lib/systemd/system (the systemd
# package's units and those of every installed package) plus UNITS
# generated services, timers and templates of the kind packages ship, all
# enabled by `systemctl --root=DIR preset-all` as on a fresh install.
# Usage: bench/svc-snap.sh; UNITS (default 200), RUNS (default 10), BIN
# and BEFORE as in bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

UNITS=${UNITS:-200}
RUNS=${RUNS:-10}
bench_need hyperfine python3 systemctl
[ -d /usr/lib/systemd/system ] || { echo "bench: no /usr/lib/systemd/system to copy" >&2; exit 2; }
bench_bin svc-snap
bench_tmp svc-snap
R=$TMP/root
mkdir -p "$R/usr/lib/systemd" "$R/etc/systemd/system"
ln -s usr/lib "$R/lib"
cp -a /usr/lib/systemd/system "$R/usr/lib/systemd/"
[ -d /usr/lib/systemd/system-preset ] && cp -a /usr/lib/systemd/system-preset "$R/usr/lib/systemd/"

python3 - "$R/usr/lib/systemd/system" "$UNITS" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    k = i % 4
    if k == 0:      # a daemon with an alias
        open(f"{d}/bench{i}.service", "w").write(
            f"[Unit]\nDescription=bench {i}\n\n[Service]\nExecStart=/usr/bin/true\n\n"
            f"[Install]\nWantedBy=multi-user.target\nAlias=bench{i}-alias.service\n")
    elif k == 1:    # a timer and its static service
        open(f"{d}/bench{i}.timer", "w").write(
            f"[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n")
        open(f"{d}/bench{i}.service", "w").write("[Service]\nExecStart=/usr/bin/true\n")
    elif k == 2:    # a socket-activated pair
        open(f"{d}/bench{i}.socket", "w").write(
            f"[Socket]\nListenStream=/run/bench{i}.sock\n\n[Install]\nWantedBy=sockets.target\n")
        open(f"{d}/bench{i}.service", "w").write(
            f"[Service]\nExecStart=/usr/bin/true\n\n[Install]\nAlso=bench{i}.socket\n")
    else:           # a template with a default instance
        open(f"{d}/bench{i}@.service", "w").write(
            f"[Service]\nExecStart=/usr/bin/echo %i\n\n[Install]\nWantedBy=multi-user.target\n"
            f"DefaultInstance=a\n")
PY
systemctl --root="$R" preset-all >/dev/null 2>&1 || true
echo "bench: $(find "$R/usr/lib/systemd/system" -maxdepth 1 -type f | wc -l) unit files," \
     "$(find "$R/etc/systemd/system" -type l | wc -l) links in /etc/systemd/system"

# Same answers first: a benchmark of two programs that disagree means nothing.
"$BIN" --root "$R" --no-sysv | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); print(r["name"], r["state"])' | sort > "$TMP/mine"
systemctl --root="$R" list-unit-files --no-legend --no-pager | awk '{print $1, $2}' | sort > "$TMP/theirs"
if ! cmp -s "$TMP/mine" "$TMP/theirs"; then
    echo "bench: svc-snap and systemctl disagree:" >&2
    diff "$TMP/mine" "$TMP/theirs" | head -20 >&2
    exit 1
fi
echo "bench: both list $(wc -l < "$TMP/mine") units with the same states"

bench_run "$TMP/hyperfine.json" --warmup 2 --runs "$RUNS" -N -- \
    'systemctl list-unit-files' "systemctl --root=$R list-unit-files --no-pager" \
    'svc-snap' "$BIN --root $R --no-sysv"
bench_report "$TMP/hyperfine.json" 'systemctl list-unit-files'
