# bench-lib.sh - sourced by the bench scripts (bench-load, bench-latency, bench-memory, bench-profile); needs ROOT set.

# Removes examples/bench's own call-record file, so that each Patchbay run starts from an empty one: the writer's
# cost per call grows with the file (its Call-ID index takes random pages: 13-18 us per call at 14 MB, 22-33 us at
# 560 MB), and a file kept from earlier runs would make runs disagree.
fresh_records() {
	rm -f "$ROOT/examples/bench/calls.sqlite" "$ROOT/examples/bench/calls.sqlite-wal" \
		"$ROOT/examples/bench/calls.sqlite-shm"
}

# Copies the harness at $BENCH to DIR/harness and sets HARNESS to it. The harness's sock_drops() joins the drop
# counters of every socket bound to the port into one number. Patchbay binds one socket per event loop
# (SO_REUSEPORT), so counters "0" and "581" became "0581", which bash refused as octal, and a Patchbay run stopped in
# the middle (2026-11-29, 09:29). The copy's sock_drops() adds the counters; nothing else in it changes.
copy_harness() {
	HARNESS=$1/harness
	rm -rf "$HARNESS" && cp -r "$BENCH" "$HARNESS" && chmod -R u+w "$HARNESS" || return 1
	rm -rf "$HARNESS/results" "$HARNESS/tools/.build"
	python3 - "$HARNESS/run-sip-bench.sh" <<'PYEOF'
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
