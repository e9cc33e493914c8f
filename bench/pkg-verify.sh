#!/usr/bin/env bash
# Benchmark of pkg-verify against dpkg --verify on this machine: every file
# of every installed package, read and hashed (the load is the machine's own
# package set; nothing is set up or changed). Both are read-only.
#   warm: the files are in the page cache (after warm-up runs), so this
#         measures hashing and bookkeeping, where threads help;
#   cold: COLD=1 drops the page cache before every run (root only; slows
#         everything else on the machine for a moment), so this measures
#         the disk, where parallel reads help an SSD more than a disk.
# Prints the ratio of medians (pkg-verify / dpkg --verify). RUNS=N to change
# the number of warm runs (default 10); BIN=PATH to measure another build.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
command -v hyperfine >/dev/null || { echo "bench: hyperfine is not installed" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed" >&2; exit 2; }
command -v dpkg >/dev/null || { echo "bench: dpkg is not installed" >&2; exit 2; }
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin pkg-verify
    BIN=$PWD/target/release/pkg-verify
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pkg-verify-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "bench: $(dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii') packages," \
     "$(cat /var/lib/dpkg/info/*.md5sums | wc -l) files with a digest," \
     "$(nproc) CPUs; pkg-verify uses one thread per CPU unless -j says otherwise"

ratio() { # json file, name of ours, name of theirs
    jq -r --arg a "$2" --arg b "$3" '
        (.results[] | select(.command == $a) | .median) as $x
        | (.results[] | select(.command == $b) | .median) as $y
        | "\($a): median \($x * 1000 | floor) ms, \($b): median \($y * 1000 | floor) ms, ratio \(($x / $y * 100 | round) / 100)"' "$1"
}

# Both exit 1 when they find problems; that is not a failed run.
hyperfine --warmup 2 --runs "$RUNS" --ignore-failure --export-json "$TMP/warm.json" \
    -n "pkg-verify" "'$BIN' > /dev/null" \
    -n "pkg-verify -j1" "'$BIN' -j1 > /dev/null" \
    -n "dpkg --verify" "dpkg --verify > /dev/null"

echo
echo "warm page cache:"
ratio "$TMP/warm.json" "pkg-verify" "dpkg --verify"
ratio "$TMP/warm.json" "pkg-verify -j1" "dpkg --verify"

if [ "${COLD:-0}" = 1 ]; then
    if [ "$(id -u)" != 0 ] || ! [ -w /proc/sys/vm/drop_caches ]; then
        echo "bench: COLD=1 needs root (to write /proc/sys/vm/drop_caches)" >&2
        exit 2
    fi
    hyperfine --runs "${COLD_RUNS:-3}" --ignore-failure --export-json "$TMP/cold.json" \
        --prepare "sync; echo 3 > /proc/sys/vm/drop_caches" \
        -n "pkg-verify" "'$BIN' > /dev/null" \
        -n "dpkg --verify" "dpkg --verify > /dev/null"
    echo
    echo "cold page cache (dropped before every run):"
    ratio "$TMP/cold.json" "pkg-verify" "dpkg --verify"
fi
