# bench-lib.sh - sourced by the bench scripts (bench-load, bench-latency, bench-memory, bench-profile); needs ROOT
# set.

# The shared harness, the bench site and the release binary every one of them uses.
BENCH=${BENCH_HARNESS:-$ROOT/../shared/bench}
SITE=Examples/bench/patchbay.yaml
BIN=.build/release/patchbay

# Messages carry the name of the script that sourced this file.
PROG=$(basename "$0" .sh)
die() { echo "$PROG: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $PROG: $*" >&2; }

# Removes the call-record file of the bench site (or of the site copy in DIR), so that each Patchbay run starts from
# an empty one: the writer's cost per call grows with the file (its Call-ID index takes random pages: 13-18 us per
# call at 14 MB, 22-33 us at 560 MB), and a file kept from earlier runs would make runs disagree.
fresh_records() {
	local dir=${1:-$ROOT/Examples/bench}
	rm -f "$dir/calls.sqlite" "$dir/calls.sqlite-wal" "$dir/calls.sqlite-shm"
}

# Copies the harness at $BENCH to DIR/harness and sets HARNESS to it, or stops. The harness's sock_drops() joins the
# drop counters of every socket bound to the port into one number. Patchbay binds one socket per event loop
# (SO_REUSEPORT), so counters "0" and "581" became "0581", which bash refused as octal, and a Patchbay run stopped in
# the middle (2026-11-29, 09:29). The copy's sock_drops() adds the counters; nothing else in it changes.
copy_harness() {
	HARNESS=$1/harness
	rm -rf "$HARNESS" && cp -r "$BENCH" "$HARNESS" && chmod -R u+w "$HARNESS" || die "cannot copy the harness to $HARNESS"
	rm -rf "$HARNESS/results" "$HARNESS/tools/.build"
	python3 - "$HARNESS/run-sip-bench.sh" <<'PYEOF' || die "the harness's sock_drops() is not what bench-lib.sh expects"
import sys
path = sys.argv[1]
text = open(path).read()
old = "grep -o 'd[0-9]*)' | tr -dc '0-9'\n"
new = "grep -o 'd[0-9]*)' | tr -dc '0-9\\n' | awk '{ s += $1 } END { print s + 0 }'\n"
if text.count(old) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(old, new))
PYEOF
}

# The machine, the tools and the commit, one key=value a line, for the machine.txt of a results directory.
machine_info() {
	echo "date=$(date -Is)"; echo "nproc=$(nproc)"; grep -m1 'model name' /proc/cpuinfo | sed 's/^model name\s*: /cpu=/'
	echo "kernel=$(uname -r)"
	kamailio -v 2>/dev/null | head -n1 | sed 's/^/kamailio=/'
	sipp -v 2>&1 | grep -m1 -i 'sipp v' | sed 's/^ *//; s/^/sipp=/'
	echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
}

# The checks and the build bench-load and bench-latency share.

require_harness() {
	[ -d "$BENCH" ] && [ -x "$BENCH/run-proxy-bench.sh" ] && [ -x "$BENCH/run-kamailio-baseline.sh" ] ||
		die "the SIP bench harness is missing: expected $BENCH/run-proxy-bench.sh (../shared/bench beside the" \
			"project root, or set BENCH_HARNESS=DIR)"
}

require_free_ports() {
	local p
	for p in "$@"; do
		[ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] || die "UDP port $p is already in use"
	done
}

# Sets OUT to the absolute path of $OUT, or of .build/bench/NAME-<time> when OUT is empty, and creates it.
make_out() {
	OUT=${OUT:-$ROOT/.build/bench/$1-$(date +%Y%m%d-%H%M%S)}
	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
}

# Release builds of patchbay and the three plugins, logged to $OUT/build.log.
build_release() {
	local p
	log "building release"
	: >"$OUT/build.log"
	for p in patchbay IPPBX PSTNGateway ITSPTrunk; do
		swift build -c release --product "$p" >>"$OUT/build.log" 2>&1 ||
			{ tail -n 30 "$OUT/build.log" >&2; die "the build of $p failed (log: $OUT/build.log)"; }
	done
}
