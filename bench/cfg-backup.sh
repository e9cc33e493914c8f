#!/usr/bin/env bash
# Benchmark of cfg-backup save against tar -cf, on a copy of the real /etc:
#   1. a save into a fresh store (every blob written) vs tar of the tree;
#   2. a save into a store that already holds the tree (dedup: only the
#      manifest is new) vs tar again.
# Usage: bench/cfg-backup.sh; RUNS (default 10), BIN and BEFORE as in
# bench/lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-10}
bench_need hyperfine python3 tar
bench_bin cfg-backup
bench_tmp cfg-backup

# The load: a copy of the real /etc (what cannot be read is left out, as
# it would be by an admin's cp -a without root).
cp -a /etc "$TMP/etc" 2>/dev/null || true
echo "bench: $(find "$TMP/etc" | wc -l) paths, $(du -sh "$TMP/etc" | cut -f1) in the copy of /etc"

# The store is emptied before every run (of either binary, with BEFORE).
bench_run "$TMP/fresh.json" --warmup 2 --runs "$RUNS" \
    --prepare "rm -rf '$TMP/store' '$TMP/etc.tar'" -- \
    'tar -cf' "tar -cf '$TMP/etc.tar' -C '$TMP' etc" \
    'cfg-backup save (fresh store)' "'$BIN' --store '$TMP/store' save --keep-going '$TMP/etc' >/dev/null"

"$BIN" --store "$TMP/store2" save --keep-going "$TMP/etc" >/dev/null 2>&1
bench_run "$TMP/dedup.json" --warmup 2 --runs "$RUNS" --prepare "rm -f '$TMP/etc.tar'" -- \
    'tar -cf' "tar -cf '$TMP/etc.tar' -C '$TMP' etc" \
    'cfg-backup save (unchanged tree, populated store)' "'$BIN' --store '$TMP/store2' save --keep-going '$TMP/etc' >/dev/null"

echo
bench_report "$TMP/fresh.json" 'tar -cf'
bench_report "$TMP/dedup.json" 'tar -cf'
echo "bench: store after $((RUNS + 3)) saves of the same tree: $(du -sh "$TMP/store2" | cut -f1) (the tree: $(du -sh "$TMP/etc" | cut -f1))"
