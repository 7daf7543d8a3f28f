#!/usr/bin/env bash
# bench-profile.sh - where Patchbay's CPU goes under load: perf samples of the running router while the shared
# harness's sipp UAC places calls through it to its sipp UAS (the load of `make bench-load`, at one fixed rate).
#
#   sipp UAC 127.0.0.1:5070 -> patchbay udp 127.0.0.1:5060 (Examples/bench) -> sipp UAS 127.0.0.1:5080
#
# Prints the router's CPU per call over the sampled window, the share of each library, and the functions with
# the most samples, inclusive and self. perf.data and the demangled report stay in the output directory for
# `perf report -i DIR/perf.data`. Every process is started here and stopped by its own PID.
# The profile (perf record -g, cpu-clock) costs the router some 10 % of its CPU per call; compare runs with runs.
#
# Usage: scripts/bench-profile.sh [--rate CPS] [--seconds S] [--threads N] [--no-perf] [--no-build] [--out DIR] [--site FILE]
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
RATE=1500
SECONDS_=12
THREADS=""
PERF=1
BUILD=1
OUT=""

while [ $# -gt 0 ]; do
	case "$1" in
	--rate) RATE=$2; shift 2 ;;
	--seconds) SECONDS_=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--no-perf) PERF=0; shift ;;
	--no-build) BUILD=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	--site) SITE=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[ "$SECONDS_" -ge 6 ] 2>/dev/null || die "--seconds must be at least 6"
[ -f "$BENCH/sipp/uac.xml" ] && [ -f "$BENCH/sipp/uas.xml" ] ||
	die "the SIP bench harness is missing: expected $BENCH/sipp/uac.xml (or set BENCH_HARNESS=DIR)"
command -v sipp >/dev/null || die "sipp not found (apt-get install sip-tester)"
[ "$PERF" = 0 ] || command -v perf >/dev/null || die "perf not found (make bench-deps, or --no-perf)"
for p in 5060 5070 5080; do
	[ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] || die "UDP port $p is already in use"
done

cd "$ROOT" || die "cannot cd to $ROOT"
OUT=${OUT:-$ROOT/.build/bench/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

if [ "$BUILD" = 1 ]; then
	log "building release"
	{ swift build -c release --product patchbay &&
		for p in IPPBX PSTNGateway ITSPTrunk; do swift build -c release --product "$p" || exit 1; done; } \
		>"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; die "build failed"; }
fi

PB="" UAS="" UAC=""
stop() {
	local p
	for p in $UAC $UAS $PB; do kill -TERM "$p" 2>/dev/null; done
	for p in $UAC $UAS $PB; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
}
trap stop EXIT

fresh_records
"$BIN" run "$SITE" --log-level warning ${THREADS:+--threads "$THREADS"} >"$OUT/patchbay.log" 2>&1 &
PB=$!
(cd "$OUT" && exec sipp -sf "$BENCH/sipp/uas.xml" -i 127.0.0.1 -p 5080 -nostdin -buff_size 4194304) \
	>"$OUT/uas.out" 2>&1 &
UAS=$!
for _ in $(seq 1 50); do
	[ -n "$(ss -Hlun 'sport = :5060')" ] && [ -n "$(ss -Hlun 'sport = :5080')" ] && break
	sleep 0.1
done
kill -0 "$PB" 2>/dev/null || die "patchbay did not start, see $OUT/patchbay.log"

CALLS=$((RATE * SECONDS_))
log "$CALLS calls at $RATE/s; sampling patchbay (pid $PB) from second 2 to second $((SECONDS_ - 2))"
(cd "$OUT" && exec timeout $((SECONDS_ + 30)) sipp 127.0.0.1:5060 -sf "$BENCH/sipp/uac.xml" -s 0123456789 \
	-i 127.0.0.1 -p 5070 -r "$RATE" -m "$CALLS" -nostdin -buff_size 4194304 -recv_timeout 10000) \
	>"$OUT/uac.out" 2>&1 &
UAC=$!
sleep 2
WINDOW=$((SECONDS_ - 4))
ticks() { awk '{print $14 + $15}' "/proc/$PB/stat"; }
# CPU ticks per thread name ("NIO-ELT-0-#0 123"): the event loops against the call-record writer and the rest.
# The name is field 2 in parentheses and may hold spaces, so the fields are counted from the closing one.
thread_ticks() {
	for f in /proc/"$PB"/task/*/stat; do
		sed 's/^[0-9]* (\(.*\)) /\1\t/' "$f" 2>/dev/null
	done | awk -F'\t' '{split($2, a, " "); t[$1] += a[12] + a[13]} END {for (n in t) print n "\t" t[n]}' | sort
}
thread_ticks >"$OUT/threads-start.txt"
T0=$(ticks)
if [ "$PERF" = 1 ]; then
	perf record -e cpu-clock -F 2000 -g -p "$PB" -o "$OUT/perf.data" -- sleep "$WINDOW" >"$OUT/perf.log" 2>&1
else
	sleep "$WINDOW"
fi
T1=$(ticks)
thread_ticks >"$OUT/threads-end.txt"
HZ=$(getconf CLK_TCK)
wait "$UAC"
UAC_RC=$?
UAC=""

echo "patchbay CPU over ${WINDOW}s at $RATE calls/s: $(( (T1 - T0) * 1000000 / HZ / (WINDOW * RATE) )) us per call$([ "$PERF" = 1 ] && echo ' (under perf)')"
# Threads that started or ended inside the window count from zero or are left out; the loops and the writer
# live for the whole run.
join -t "$(printf '\t')" -a 2 -e 0 -o 0,1.2,2.2 "$OUT/threads-start.txt" "$OUT/threads-end.txt" |
	awk -F'\t' -v hz="$HZ" -v calls=$((WINDOW * RATE)) '
		{ n = $1; sub(/-#?[0-9]+$/, "", n); sub(/^NIO-ELT-[0-9]+$/, "event loops", n); t[n] += $3 - $2 }
		END { for (n in t) if (t[n] > 0) printf "  %-22s %5d us per call\n", n, t[n] * 1000000 / hz / calls }' |
	sort -k1,1
grep -E "Successful call|Failed call" "$OUT/uac.out" | tail -2 | sed 's/  */ /g'
[ "$UAC_RC" = 0 ] || echo "bench-profile: the sipp UAC exited with $UAC_RC: some calls failed, see $OUT/uac.out" >&2
if [ "$PERF" = 1 ]; then
	perf report -i "$OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
		head -8 | sed 's/^/library: /'
	perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
		swift demangle --simplified >"$OUT/report.txt"
	echo "functions, inclusive and self (full list in $OUT/report.txt):"
	grep -E 'Shard|Engine|Transaction|Call\.|SIP|NameAddress|Session|Media|Adapter|Number|Timer|Record|send|recv' \
		"$OUT/report.txt" | head -30 | cut -c1-150
fi
echo "results: $OUT"
exit "$UAC_RC"
