#!/usr/bin/env bash
# bench-callgrind.sh - instructions per message on the hot path (Benchmarks/HotPathCount), counted by
# valgrind's callgrind: exact and repeatable where wall-clock figures on a shared VM move by several per cent, so
# it is the yardstick for a change worth 1 %. Each path runs with N and with 2N iterations and the difference is
# divided by N, so start-up (site and plugin loading) drops out. libosip2's parse + serialise of the same message
# is counted alongside, as in bench-micro, and the ratio printed. The path `transactions` counts the transaction
# layer's share of one whole call, and `call` the call's own state machine for one basic call (both per call, not
# per message; no libosip2 reference). With --top, DIR/PATH.top
# lists the functions with the most instructions (inclusive) for each Patchbay path.
#
# Usage: scripts/bench-callgrind.sh [--iterations N] [--paths "invite 200ok bye transactions call"] [--top] [--no-build]
#                                   [--out DIR]
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=400
PATHS="invite 200ok bye transactions call"
TOP=0
BUILD=1
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--iterations) N=$2; shift 2 ;;
	--paths) PATHS=$2; shift 2 ;;
	--top) TOP=1; shift ;;
	--no-build) BUILD=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-callgrind: unknown option '$1'" >&2; exit 2 ;;
	esac
done
cd "$ROOT" || exit 2
command -v valgrind >/dev/null || { echo "bench-callgrind: valgrind is missing (make bench-deps)" >&2; exit 2; }
OUT=${OUT:-$ROOT/.build/bench/callgrind-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || exit 2
BIN=Benchmarks/.build/release/HotPathCount
if [ "$BUILD" = 1 ]; then
	echo "[$(date +%H:%M:%S)] bench-callgrind: building HotPathCount (release)" >&2
	swift build --package-path Benchmarks -c release --product HotPathCount >"$OUT/build.log" 2>&1 || {
		tail -n 30 "$OUT/build.log" >&2
		exit 1
	}
fi

# valgrind 3.19 (Debian 12) cannot read the DWARF 5 that Swift writes and gives up, so it runs a copy of the
# executable and the libraries beside it (the plugins, PluginAPI) with the debug sections stripped; the symbol
# tables stay, which is all callgrind needs for function names.
STRIPPED="$OUT/bin"
rm -rf "$STRIPPED" && mkdir -p "$STRIPPED" || exit 2
for f in "$BIN" "$(dirname "$BIN")"/*.so; do
	strip --strip-debug -o "$STRIPPED/$(basename "$f")" "$f" || exit 1
done
BIN="$STRIPPED/HotPathCount"

# Total instructions of one run (callgrind's "summary:" line).
count() { # path iterations outfile
	valgrind --tool=callgrind --callgrind-out-file="$3" "$BIN" "$1" "$2" >/dev/null 2>"$3.log" || {
		cat "$3.log" >&2
		return 1
	}
	awk '/^summary:/ {print $2}' "$3"
}

per_message() { # path -> instructions per message
	local a b
	a=$(count "$1" "$N" "$OUT/$1.n.out") || return 1
	b=$(count "$1" $((2 * N)) "$OUT/$1.2n.out") || return 1
	echo $(((b - a) / N))
}

printf '%-8s %14s %14s %8s\n' path patchbay_ir osip_ir ratio | tee "$OUT/summary.txt"
for p in $PATHS; do
	echo "[$(date +%H:%M:%S)] bench-callgrind: $p" >&2
	pb=$(per_message "$p") || exit 1
	if [ "$p" = transactions ] || [ "$p" = call ]; then
		# A whole call's transactions, or its Call and machine: libosip2 has nothing to set beside them.
		printf '%-8s %14d %14s %8s\n' "$p" "$pb" - - | tee -a "$OUT/summary.txt"
	else
		os=$(per_message "osip-$p") || exit 1
		printf '%-8s %14d %14d %8.2f\n' "$p" "$pb" "$os" "$(echo "$pb / $os" | bc -l)" | tee -a "$OUT/summary.txt"
	fi
	if [ "$TOP" = 1 ]; then
		callgrind_annotate --inclusive=yes "$OUT/$p.2n.out" 2>/dev/null | swift demangle --simplified |
			head -n 80 >"$OUT/$p.top"
	fi
done
echo "iterations: $N and $((2 * N)); instructions per message = difference / $N (valgrind $(valgrind --version))" |
	tee -a "$OUT/summary.txt"
echo "results: $OUT" >&2
