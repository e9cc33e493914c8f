# Shared plumbing of the benchmarks, sourced by bench/TOOL.sh: every script
# checks its programs, builds (or is given) the binary it measures, keeps its
# load in a temporary directory it removes, runs hyperfine, and reports the
# same way: the ratio of medians to the tool an admin would otherwise run
# (below 1 = faster), with the ratio of CPU time (user + system), which a
# busy machine disturbs less.
#
# Environment of every benchmark:
#   RUNS=N       timed runs (each script has its own default)
#   BIN=PATH     measure this binary instead of a fresh release build
#   BEFORE=DIR   also measure DIR/TOOL (an older build: DIR is its
#                target/release) in the same hyperfine run, as "NAME
#                (before)", so that before and after meet the same load
#                and the same machine

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# bench_need CMD...: exit 2 with one line naming what is missing.
bench_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || { echo "bench: $c is not installed; install it (hyperfine, python3 and the tool compared are Debian packages)" >&2; exit 2; }
    done
}

# bench_bin TOOL: sets BIN to the binary to measure, $BIN when given, else
# a release build of TOOL made now; checks BEFORE/TOOL when BEFORE is set.
bench_bin() {
    BENCH_TOOL=$1
    if [ -z "${BIN:-}" ]; then
        cargo build --release --quiet --bin "$1"
        BIN=$PWD/target/release/$1
    fi
    [ -x "$BIN" ] || { echo "bench: $BIN is not an executable" >&2; exit 2; }
    if [ -n "${BEFORE:-}" ] && ! [ -x "$BEFORE/$1" ]; then
        echo "bench: BEFORE=$BEFORE has no $1 (build the older tree with cargo build --release)" >&2
        exit 2
    fi
}

# bench_tmp NAME: sets TMP to a new directory, removed at exit after the
# commands given to bench_on_exit (which stop the load the script started).
BENCH_EXIT=()
bench_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1-bench.XXXXXX")
    trap bench_cleanup EXIT
}
bench_on_exit() { BENCH_EXIT+=("$1"); }
bench_cleanup() {
    local c
    for c in "${BENCH_EXIT[@]}"; do eval "$c" || true; done
    rm -rf "$TMP"
}

# bench_run JSON [HYPERFINE OPTIONS...] -- NAME CMD [NAME CMD...]: hyperfine
# over the commands, results in JSON. With BEFORE set, every command that
# runs $BIN runs a second time with the older binary, named "NAME (before)".
bench_run() {
    local json=$1 opts=() cmds=() name cmd
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    while [ $# -gt 1 ]; do
        name=$1 cmd=$2
        shift 2
        cmds+=(-n "$name" "$cmd")
        if [ -n "${BEFORE:-}" ] && [[ $cmd == *"$BIN"* ]]; then
            cmds+=(-n "$name (before)" "${cmd//"$BIN"/"$BEFORE/$BENCH_TOOL"}")
        fi
    done
    hyperfine "${opts[@]}" --export-json "$json" "${cmds[@]}"
}

# bench_report JSON BASE: one line per other command of the run: its median
# and CPU time against BASE's, and their ratios.
bench_report() {
    python3 - "$1" "$2" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = res[sys.argv[2]]
cpu = lambda r: r["user"] + r["system"]
for name, r in res.items():
    if name == sys.argv[2]:
        continue
    print(f"{name}: median {r['median']*1000:.1f} ms vs {sys.argv[2]} {base['median']*1000:.1f} ms, "
          f"ratio of medians {r['median']/base['median']:.2f}; "
          f"CPU {cpu(r)*1000:.1f} ms vs {cpu(base)*1000:.1f} ms, ratio {cpu(r)/cpu(base):.2f}")
PY
}
