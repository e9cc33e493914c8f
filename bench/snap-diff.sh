#!/usr/bin/env bash
# Benchmark: snap-diff against plain diff on the same pair of 200,000-record
# process snapshots (1% of the records differ: restarts, changed fields,
# added and removed processes, volatile counters). Prints the ratio of the
# median times and snap-diff's peak memory. RUNS, BIN and BEFORE as in
# bench/lib.sh; RECORDS=N records per snapshot.
# VOLATILE=1 also changes the cpu time of every record in AFTER, as live
# snapshots taken minutes apart do (every line differs, few changes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RECORDS=${RECORDS:-200000}
RUNS=${RUNS:-10}
VOLATILE=${VOLATILE:-0}
bench_need hyperfine python3 diff
bench_bin snap-diff
bench_tmp snap-diff

python3 - "$TMP/before.json" "$TMP/after.json" "$RECORDS" "$VOLATILE" <<'PY'
import json, random, sys
before_path, after_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
volatile = sys.argv[4] == "1"
rnd = random.Random(42)
units = ["nginx.service", "postgresql.service", "sshd.service", "cron.service", None]
progs = [("/usr/sbin/nginx", ["nginx: worker process"]),
         ("/usr/lib/postgresql/16/bin/postgres", ["postgres: 16/main: background writer"]),
         ("/usr/bin/python3", ["/usr/bin/python3", "/opt/app/worker.py", "--queue", "default"]),
         ("/usr/sbin/sshd", ["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"])]
def record(pid):
    exe, argv = progs[pid % len(progs)]
    argv = argv + ["--id=%d" % (pid // 7)]
    return {"kind": "process", "host": "db%02d" % (pid % 3), "boot_id": "0b8c6f1e-2a4d-4c77-9f51-3d2e8a7b6c5d",
            "pid": pid, "ppid": 1, "uid": 33, "user": "www-data", "gid": 33, "group": "www-data",
            "real_uid": 33, "real_user": "www-data", "real_gid": 33, "real_group": "www-data",
            "state": "S", "tty": None, "start_time": "2026-11-26T07:00:%02dZ" % (pid % 60),
            "start_ticks": 1000 + pid, "comm": exe.rsplit("/", 1)[1][:15], "exe": exe,
            "exe_deleted": False, "cmdline": argv, "cpu_seconds": round(rnd.random() * 100, 2),
            "rss_bytes": rnd.randrange(1 << 20, 1 << 28), "vsize_bytes": rnd.randrange(1 << 28, 1 << 32),
            "threads": 1 + pid % 8, "nice": 0, "cgroup": "/system.slice/%s" % (units[pid % 5] or "init.scope"),
            "unit": units[pid % 5], "kernel_thread": False, "deleted_maps": []}
with open(before_path, "w") as b, open(after_path, "w") as a:
    for i in range(n):
        pid = 1000 + i
        r = record(pid)
        b.write(json.dumps(r, separators=(",", ":")) + "\n")
        x = rnd.random()
        if volatile:
            r = dict(r, cpu_seconds=round(r["cpu_seconds"] + 0.01, 2))
        if x < 0.99:
            a.write(json.dumps(r, separators=(",", ":")) + "\n")
            continue
        kind = rnd.randrange(5)
        if kind == 0:        # removed
            continue
        if kind == 1:        # restarted
            r["pid"] += 10_000_000; r["start_ticks"] += 10_000_000
        elif kind == 2:      # patched library still mapped
            r["exe_deleted"] = True; r["deleted_maps"] = ["/usr/lib/x86_64-linux-gnu/libssl.so.3"]
        elif kind == 3:      # volatile counters only
            r["cpu_seconds"] += 1; r["rss_bytes"] += 4096
        else:                # added next to the old one
            a.write(json.dumps(r, separators=(",", ":")) + "\n")
            r["pid"] += 20_000_000
        a.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
ls -l "$TMP"/*.json | awk '{print "bench: " $9 ": " $5 " bytes"}'

bench_run "$TMP/hyperfine.json" --warmup 2 --runs "$RUNS" -i -- \
    diff "diff $TMP/before.json $TMP/after.json >/dev/null" \
    snap-diff "$BIN $TMP/before.json $TMP/after.json >/dev/null"
bench_report "$TMP/hyperfine.json" diff

# Peak memory (VmHWM) of one run, sampled from /proc while it runs when GNU
# time is not there.
if command time -f %M true >/dev/null 2>&1; then
    # snap-diff exits 1 (differences): not a failure here.
    kb=$( { command time -f %M "$BIN" "$TMP/before.json" "$TMP/after.json" >/dev/null || true; } 2>&1 | tail -1 )
else
    "$BIN" "$TMP/before.json" "$TMP/after.json" >/dev/null &
    pid=$!
    kb=0
    while kill -0 "$pid" 2>/dev/null; do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$v" ] && kb=$v
        sleep 0.02
    done
    wait "$pid" || true
fi
echo "peak memory: snap-diff ${kb} KiB (before.json is $(( $(stat -c %s "$TMP/before.json") / 1024 )) KiB)"
