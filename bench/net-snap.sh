#!/usr/bin/env bash
# Benchmark: net-snap against `ss -anp` and `netstat -anp` (same scope: all
# families, with owning processes) on a box with ~20,000 loopback sockets.
#
# Load: 4 python3 worker processes, each with its own listener on 127.0.0.1
# and 2,500 connected pairs (client + accepted end) = 20,004 TCP sockets, so
# that no process needs more than the usual 20,000-fd limit. The load exits
# by itself after LOAD_SECONDS (default 300) and is killed by pid on EXIT.
#
#   bench/net-snap.sh            # RUNS=10 by default; BIN and BEFORE
#   RUNS=20 bench/net-snap.sh    # as in bench/lib.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-10}
LOAD_SECONDS=${LOAD_SECONDS:-300}
WORKERS=4
PAIRS=2500
bench_need hyperfine python3 ss netstat
bench_bin net-snap
bench_tmp net-snap
work=$TMP
load_pid=
# Only the load this script started, by pid.
bench_on_exit 'if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; fi'

cat >"$work/load.py" <<'PY'
import os, signal, socket, struct, sys, time
workers, pairs, seconds, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
deadline = time.time() + seconds
parent = os.getpid()

def worker():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4096)
    addr = ls.getsockname()
    held = []
    for _ in range(pairs):
        c = socket.create_connection(addr)
        s, _ = ls.accept()
        for x in (c, s):
            # Close with a reset: no 20,000 TIME_WAIT left behind for a
            # minute to skew the next run.
            x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        held += (c, s)
    os.write(w, b"x")
    # Live until the deadline or until the parent is gone.
    while time.time() < deadline and os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)

r, w = os.pipe()
kids = []
for _ in range(workers):
    pid = os.fork()
    if pid == 0:
        worker()
    kids.append(pid)

def stop(*_):
    for k in kids:
        try:
            os.kill(k, signal.SIGTERM)
        except ProcessLookupError:
            pass
    os._exit(0)

signal.signal(signal.SIGTERM, stop)
got = 0
while got < workers:
    got += len(os.read(r, workers))
open(ready, "w").close()
while time.time() < deadline:
    time.sleep(0.2)
stop()
PY

python3 "$work/load.py" "$WORKERS" "$PAIRS" "$LOAD_SECONDS" "$work/ready" &
load_pid=$!
for _ in $(seq 600); do
  [ -e "$work/ready" ] && break
  kill -0 "$load_pid" 2>/dev/null || { echo "bench: load generator died" >&2; exit 2; }
  sleep 0.1
done
[ -e "$work/ready" ] || { echo "bench: load not ready in 60 s" >&2; exit 2; }

# ss -a also lists netlink and packet sockets, which net-snap does not.
echo "sockets: net-snap $($BIN 2>/dev/null | wc -l), ss -anp $(ss -anp 2>/dev/null | tail -n +2 | wc -l)," \
  "TCP: net-snap $($BIN -t 2>/dev/null | wc -l), ss $(ss -tan 2>/dev/null | tail -n +2 | wc -l)"

# -N: no shell in between; output goes to /dev/null as with >/dev/null.
bench_run "$work/result.json" -N --warmup 2 --runs "$RUNS" -- \
  "ss -anp" "ss -anp" \
  net-snap "$BIN" \
  "netstat -anp" "netstat -anp"
bench_report "$work/result.json" "ss -anp"
