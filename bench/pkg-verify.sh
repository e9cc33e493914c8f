#!/usr/bin/env bash
# Benchmark of pkg-verify against dpkg --verify on this machine: every file
# of every installed package, read and hashed (the load is the machine's own
# package set; nothing is set up or changed). Both are read-only.
#   warm: the files are in the page cache (after warm-up runs), so this
#         measures hashing and bookkeeping, where threads help;
#   cold: COLD=1 drops the page cache before every run (root only; slows
#         everything else on the machine for a moment), so this measures
#         the disk, where parallel reads help an SSD more than a disk.
# Usage: bench/pkg-verify.sh; RUNS (warm runs, default 10), COLD_RUNS
# (default 3), BIN and BEFORE as in bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-10}
bench_need hyperfine python3 dpkg dpkg-query
bench_bin pkg-verify
bench_tmp pkg-verify

echo "bench: $(dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii') packages," \
     "$(cat /var/lib/dpkg/info/*.md5sums | wc -l) files with a digest," \
     "$(nproc) CPUs; pkg-verify uses one thread per CPU unless -j says otherwise"

# Both exit 1 when they find problems; that is not a failed run.
bench_run "$TMP/warm.json" --warmup 2 --runs "$RUNS" --ignore-failure -- \
    'dpkg --verify' 'dpkg --verify > /dev/null' \
    'pkg-verify' "'$BIN' > /dev/null" \
    'pkg-verify -j1' "'$BIN' -j1 > /dev/null"
echo
echo "warm page cache:"
bench_report "$TMP/warm.json" 'dpkg --verify'

if [ "${COLD:-0}" = 1 ]; then
    if [ "$(id -u)" != 0 ] || ! [ -w /proc/sys/vm/drop_caches ]; then
        echo "bench: COLD=1 needs root (to write /proc/sys/vm/drop_caches)" >&2
        exit 2
    fi
    bench_run "$TMP/cold.json" --runs "${COLD_RUNS:-3}" --ignore-failure \
        --prepare "sync; echo 3 > /proc/sys/vm/drop_caches" -- \
        'dpkg --verify' 'dpkg --verify > /dev/null' \
        'pkg-verify' "'$BIN' > /dev/null"
    echo
    echo "cold page cache (dropped before every run):"
    bench_report "$TMP/cold.json" 'dpkg --verify'
fi
