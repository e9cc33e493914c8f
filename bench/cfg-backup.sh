#!/usr/bin/env bash
# Benchmark of cfg-backup save against tar -cf, on a copy of the real /etc:
#   1. a save into a fresh store (every blob written) vs tar of the tree;
#   2. a save into a store that already holds the tree (dedup: only the
#      manifest is new) vs tar again.
# Prints the ratio of medians (cfg-backup / tar) for both. Cleans up after
# itself. RUNS=N to change the number of runs (default 10); BIN=PATH to
# measure another build of cfg-backup.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
command -v hyperfine >/dev/null || { echo "bench: hyperfine is not installed" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed" >&2; exit 2; }
# BIN=PATH benchmarks another build (e.g. an older one, for a before/after).
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin cfg-backup
    BIN=$PWD/target/release/cfg-backup
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cfg-backup-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The load: a copy of the real /etc (what cannot be read is left out, as
# it would be by an admin's cp -a without root).
cp -a /etc "$TMP/etc" 2>/dev/null || true
echo "bench: $(find "$TMP/etc" | wc -l) paths, $(du -sh "$TMP/etc" | cut -f1) in the copy of /etc"

ratio() { # json file, name of ours, name of theirs
    jq -r --arg a "$2" --arg b "$3" '
        (.results[] | select(.command == $a) | .median) as $x
        | (.results[] | select(.command == $b) | .median) as $y
        | "\($a): median \($x * 1000 | floor) ms, \($b): median \($y * 1000 | floor) ms, ratio \(($x / $y * 100 | round) / 100)"' "$1"
}

hyperfine --warmup 2 --runs "$RUNS" --export-json "$TMP/fresh.json" \
    --prepare "rm -rf '$TMP/store' '$TMP/etc.tar'" \
    -n "cfg-backup save (fresh store)" "'$BIN' --store '$TMP/store' save --keep-going '$TMP/etc'" \
    -n "tar -cf" "tar -cf '$TMP/etc.tar' -C '$TMP' etc"

"$BIN" --store "$TMP/store2" save --keep-going "$TMP/etc" >/dev/null 2>&1
hyperfine --warmup 2 --runs "$RUNS" --export-json "$TMP/dedup.json" \
    --prepare "rm -f '$TMP/etc.tar'" \
    -n "cfg-backup save (unchanged tree, populated store)" "'$BIN' --store '$TMP/store2' save --keep-going '$TMP/etc'" \
    -n "tar -cf" "tar -cf '$TMP/etc.tar' -C '$TMP' etc"

echo
ratio "$TMP/fresh.json" "cfg-backup save (fresh store)" "tar -cf"
ratio "$TMP/dedup.json" "cfg-backup save (unchanged tree, populated store)" "tar -cf"
echo "bench: store after $((RUNS + 3)) saves of the same tree: $(du -sh "$TMP/store2" | cut -f1) (the tree: $(du -sh "$TMP/etc" | cut -f1))"
