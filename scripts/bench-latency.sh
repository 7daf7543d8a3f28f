#!/usr/bin/env bash
# bench-latency.sh - setup latency (INVITE->200) and BYE->200 through Patchbay and through Kamailio at the same call
# rates, in interleaved rounds, with sipp alone as the reference (issue 5's latency target).
#
#   sipp UAC 127.0.0.1:5070 -> router udp 127.0.0.1:5060 -> sipp UAS 127.0.0.1:5080   (the load of bench-load)
#   sipp UAC 127.0.0.1:5070 ------------------------------> sipp UAS                   ("direct": no router)
#
# Why a script of its own: a p99 over one 5-second step is decided by a few bursts, and the load generators make
# bursts of their own. With no router at all, sipp's p99 INVITE->200 on this machine was 3-27 ms at 800-1,600 calls/s
# from one step to the next, while a process sleeping 1 ms at a time beside it never woke more than 4 ms late; so the
# bursts are sipp's, not the machine's. bench-load runs all of Kamailio's steps and then all of Patchbay's, so any
# drift of the machine between the two shows up as a difference between the routers. Here every round runs the three
# (direct, Kamailio, Patchbay) one after the other at every rate, the order rotated each round, and the percentiles are
# taken over the calls of all rounds pooled. Each round's own p99 is listed beside them, to show the spread.
#
# --paired runs the two routers at the same time instead, each with its own pair of sipp processes (Kamailio on
# 5060 between 5070 and 5080 as always, Patchbay on 5062 between 5072 and 5082, a copy of Examples/bench with those
# ports), one rate at a time. Whatever the machine does then, it does to both: the comparison no longer depends on
# when each ran. The machine carries both loads, so each rate is per router (800 means 800 + 800 calls/s), and the
# default rates are half the sequential ones. There is no direct reference in this mode.
#
# Defaults: 5 rounds of 5 s steps at 400-1,600 calls/s; paired, 6 rounds of 10 s steps at 200-800 calls/s each.
#
# --threads N runs Patchbay with N event loops instead of one per core.
#
# Usage: scripts/bench-latency.sh [--rates "R1 R2 .."] [--duration S] [--rounds N] [--paired]
#                                 [--kamailio-children N] [--threads N] [--no-build] [--out DIR]
# Results: DIR (default .build/bench/latency-<time>): latency.txt, and round-N/<router>/ with the harness's files.
# scripts/latency-summary.py DIR... prints the same table over several runs' rounds pooled.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
RATES=""
DURATION=""
PAIRED=0
ROUNDS=""
KAM_CHILDREN=2
THREADS=""
BUILD=1
OUT=""

while [ $# -gt 0 ]; do
	case "$1" in
	--rates) RATES=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--paired) PAIRED=1; shift ;;
	--kamailio-children) KAM_CHILDREN=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
# Paired steps are longer: the routers start about a second apart, and 10 s keeps nine tenths of each step shared.
if [ "$PAIRED" = 1 ]; then
	RATES=${RATES:-200 400 600 800}; DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-6}
else
	RATES=${RATES:-400 800 1200 1600}; DURATION=${DURATION:-5}; ROUNDS=${ROUNDS:-5}
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive number, not '$ROUNDS'"
[ -z "$THREADS" ] || [[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads needs a positive number, not '$THREADS'"
PB_OPTS=(--log-level warning)
[ -z "$THREADS" ] || PB_OPTS+=(--threads "$THREADS")

require_harness
for c in sipp python3 ss timeout gcc kamailio; do
	command -v "$c" >/dev/null || die "'$c' not found (make bench-deps)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
require_free_ports 5060 5070 5080 5062 5072 5082

cd "$ROOT" || die "cannot cd to $ROOT"
make_out latency

[ "$BUILD" = 1 ] && build_release
[ -x "$BIN" ] || die "$BIN missing (run without --no-build)"
"$BIN" check "$SITE" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; die "patchbay check $SITE failed"; }

copy_harness "$OUT"
BENCH=$HARNESS

# The harness's pass criteria stand: a router stops stepping at its first failing rate, and the summary counts that
# step as failed (its calls still count), and the rates after it as missing from that round.
LOAD=(--duration "$DURATION" --rates "$RATES" --refine 0 --repeat 1 --no-verify)
{
	machine_info
	echo "load_options=${LOAD[*]} rounds=$ROUNDS paired=$PAIRED"; echo "kamailio_children=$KAM_CHILDREN patchbay_threads=${THREADS:-cores}"
} >"$OUT/machine.txt"

run_direct() {
	"$BENCH/run-sip-bench.sh" --direct --label direct --out "$1/direct" "${LOAD[@]}" >"$1/direct.txt" 2>&1
}
# Kamailio through the harness's baseline script: DIR SUFFIX LOAD..., results linked as DIR/kamailioSUFFIX.
run_kamailio() {
	local d=$1 suffix=$2 k rc
	shift 2
	mkdir -p "$d/kamailio-run$suffix"
	BENCH_RESULTS=$d/kamailio-run$suffix "$BENCH/run-kamailio-baseline.sh" --no-direct --children "$KAM_CHILDREN" \
		"$@" >"$d/kamailio$suffix.txt" 2>&1
	rc=$?
	k=$(ls -d "$d/kamailio-run$suffix"/baseline-*/kamailio 2>/dev/null | tail -n1)
	[ -n "$k" ] && ln -sfn "$k" "$d/kamailio$suffix"
	return $rc
}
# Patchbay on SITE, from an empty call-record file: DIR SUFFIX SITE HARNESS-OPTIONS..., results in DIR/patchbaySUFFIX.
run_patchbay() {
	local d=$1 suffix=$2 site=$3
	shift 3
	fresh_records "$(dirname "$site")"
	"$BENCH/run-proxy-bench.sh" --label patchbay --out "$d/patchbay$suffix" "$@" -- \
		"$ROOT/$BIN" run "$site" "${PB_OPTS[@]}" >"$d/patchbay$suffix.txt" 2>&1
}

# Paired mode: Patchbay's site on ports of its own, its call records beside the copy.
paired_site() {
	local dir=$OUT/site
	mkdir -p "$dir" && cp "$ROOT/Examples/bench/routes.yaml" "$dir/" &&
		sed -e 's/^\(    port:\) 5060$/\1 5062/' -e 's/127\.0\.0\.1:5070$/127.0.0.1:5072/' \
			-e 's/127\.0\.0\.1:5080$/127.0.0.1:5082/' "$ROOT/$SITE" >"$dir/patchbay.yaml" || return 1
	grep -q '^    port: 5062$' "$dir/patchbay.yaml" && grep -q '127.0.0.1:5072$' "$dir/patchbay.yaml" &&
		grep -q '127.0.0.1:5082$' "$dir/patchbay.yaml" && "$BIN" check "$dir/patchbay.yaml" >"$OUT/check-paired.txt" 2>&1
}
# One rate, both routers at once. Kamailio takes about a second longer to start, so Patchbay waits for it.
run_pair() {
	local d=$1 rate=$2 k p
	local load=(--duration "$DURATION" --rates "$rate" --refine 0 --repeat 1 --no-verify)
	run_kamailio "$d" "-$rate" "${load[@]}" &
	k=$!
	sleep 1
	UAC_PORT=5072 UAS_PORT=5082 run_patchbay "$d" "-$rate" "$OUT/site/patchbay.yaml" --listen 127.0.0.1:5062 \
		"${load[@]}" &
	p=$!
	wait "$k" || log "$d: the Kamailio run at $rate calls/s stopped early (see $d/kamailio-$rate.txt)"
	wait "$p" || log "$d: the Patchbay run at $rate calls/s stopped early (see $d/patchbay-$rate.txt)"
}

if [ "$PAIRED" = 1 ]; then
	paired_site || die "cannot make the paired site in $OUT/site (see $OUT/check-paired.txt)"
	for round in $(seq 1 "$ROUNDS"); do
		d=$OUT/round-$round
		mkdir -p "$d"
		for rate in $RATES; do
			log "round $round/$ROUNDS: Kamailio and Patchbay at once, $rate calls/s each"
			run_pair "$d" "$rate"
			sleep 2
		done
	done
else
	ORDER=(direct kamailio patchbay)
	for round in $(seq 1 "$ROUNDS"); do
		d=$OUT/round-$round
		mkdir -p "$d"
		for i in 0 1 2; do
			who=${ORDER[$(((i + round - 1) % 3))]}
			log "round $round/$ROUNDS: $who at ${RATES// /, } calls/s"
			case $who in
			direct) run_direct "$d" ;;
			kamailio) run_kamailio "$d" "" "${LOAD[@]}" ;;
			patchbay) run_patchbay "$d" "" "$ROOT/$SITE" "${LOAD[@]}" ;;
			esac || log "round $round: the $who run stopped early (see $d/$who.txt)"
			sleep 2
		done
	done
fi

python3 "$ROOT/scripts/latency-summary.py" "$OUT" | tee "$OUT/latency.txt"
