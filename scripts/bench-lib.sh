# bench-lib.sh - sourced by the bench scripts (bench-load, bench-memory, bench-profile); needs ROOT set.

# Removes examples/bench's own call-record file, so that each Patchbay run starts from an empty one: the writer's
# cost per call grows with the file (its Call-ID index takes random pages: 13-18 us per call at 14 MB, 22-33 us at
# 560 MB), and a file kept from earlier runs would make runs disagree.
fresh_records() {
	rm -f "$ROOT/examples/bench/calls.sqlite" "$ROOT/examples/bench/calls.sqlite-wal" \
		"$ROOT/examples/bench/calls.sqlite-shm"
}
