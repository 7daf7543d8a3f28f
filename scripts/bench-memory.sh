#!/usr/bin/env bash
# bench-memory.sh - resident memory per established call (issue 5: at most 8 KiB), Patchbay and Kamailio.
#
# For each router: start it on udp 127.0.0.1:5060, warm it up with a few hundred short calls, read its idle
# resident memory, then hold CALLS established calls (the harness's sipp UAC with a long pause between ACK and
# BYE, -d) against the harness's sipp UAS, and read it again once every call is up:
#   per call = (resident with CALLS calls up - resident idle) / CALLS
# Patchbay is one process: VmRSS from /proc/PID/status. Kamailio is several processes sharing memory: the sum
# of their Pss (/proc/PID/smaps_rollup, shared pages divided among the processes that map them).
# Every process is started here and stopped by its own PID.
#
# Usage: scripts/bench-memory.sh [--calls N] [--rate CPS] [--no-kamailio] [--out DIR]
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
CALLS=10000
RATE=500
KAMAILIO=1
OUT=""

while [ $# -gt 0 ]; do
	case "$1" in
	--calls) CALLS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--no-kamailio) KAMAILIO=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[ -d "$BENCH" ] && [ -f "$BENCH/sipp/uac.xml" ] && [ -f "$BENCH/sipp/uas.xml" ] ||
	die "the SIP bench harness is missing: expected $BENCH/sipp/uac.xml (../shared/bench beside the project root," \
		"or set BENCH_HARNESS=DIR)"
command -v sipp >/dev/null || die "sipp not found (apt-get install sip-tester)"
[ "$KAMAILIO" = 0 ] || command -v kamailio >/dev/null || die "kamailio not found (apt-get install kamailio)"
cd "$ROOT" || die "cannot cd to $ROOT"
[ -x "$BIN" ] || die "$BIN missing: swift build -c release (scripts/bench-load.sh builds it)"
for p in 5060 5070 5080; do
	[ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] || die "UDP port $p is already in use"
done
OUT=${OUT:-$ROOT/.build/bench/memory-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
HOLD_S=$((CALLS / RATE + 40)) # every call stays up until well after the last one is set up

ROUTER_PID=""
UAS_PID=""
UAC_PID=""
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() { stop_pid "$UAC_PID"; stop_pid "$UAS_PID"; stop_pid "$ROUTER_PID"; UAC_PID=""; UAS_PID=""; ROUTER_PID=""; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

wait_port() { local i; for i in $(seq 1 200); do [ -n "$(ss -Hlun "sport = :$1")" ] && return 0; sleep 0.1; done; return 1; }
# resident KiB of the router: VmRSS of one process, or the Pss sum of a process tree (Kamailio)
resident_kib() {
	local kind=$1 pid=$2 p total=0 v
	if [ "$kind" = rss ]; then
		awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"
		return
	fi
	for p in $pid $(ps -o pid= --ppid "$pid"); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}
# the UAC's current call count (sipp's -trace_stat CSV, column CurrentCall)
current_calls() {
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CurrentCall") c = i; next } { v = $c } END { print v + 0 }' \
		"$1/uac_stat.csv" 2>/dev/null
}

# measure NAME KIND COMMAND...: one router
measure() {
	local name=$1 kind=$2 d idle up n i failed
	shift 2
	d=$OUT/$name
	mkdir -p "$d"
	log "$name: starting"
	timeout -k 10 $((HOLD_S + 300)) "$@" >"$d/router.log" 2>&1 &
	ROUTER_PID=$!
	wait_port 5060 || { tail -n 20 "$d/router.log" >&2; die "$name is not listening on 5060"; }
	sleep 2
	# the timeout wrapper's child is the router itself
	local rpid
	rpid=$(ps -o pid= --ppid "$ROUTER_PID" | head -n1 | tr -d ' ')
	[ -n "$rpid" ] || die "$name: no router process"

	# warm-up: 500 complete calls, so pools, caches and arenas exist before the idle reading
	(cd "$d" && exec timeout -k 5 60 sipp -sf "$BENCH/sipp/uas.xml" -i 127.0.0.1 -p 5080 -nostdin -m 500) \
		>"$d/warm-uas.out" 2>&1 &
	UAS_PID=$!
	wait_port 5080
	(cd "$d" && exec timeout -k 5 60 sipp 127.0.0.1:5060 -sf "$BENCH/sipp/uac.xml" -s 0123456789 -i 127.0.0.1 -p 5070 \
		-r 200 -m 500 -nostdin -recv_timeout 10000) >"$d/warm-uac.out" 2>&1
	stop_pid "$UAS_PID"; UAS_PID=""
	sleep 6 # transactions of the warm-up calls end (Timer K/J on UDP)
	idle=$(resident_kib "$kind" "$rpid")

	(cd "$d" && exec timeout -k 5 $((HOLD_S + 60)) sipp -sf "$BENCH/sipp/uas.xml" -i 127.0.0.1 -p 5080 -nostdin \
		-buff_size 4194304) >"$d/uas.out" 2>&1 &
	UAS_PID=$!
	wait_port 5080
	(cd "$d" && exec timeout -k 5 $((HOLD_S + 60)) sipp 127.0.0.1:5060 -sf "$BENCH/sipp/uac.xml" -s 0123456789 \
		-i 127.0.0.1 -p 5070 -r "$RATE" -m "$CALLS" -d $((HOLD_S * 1000)) -nostdin -buff_size 4194304 \
		-recv_timeout $((HOLD_S * 1000 + 30000)) -trace_stat -stf uac_stat.csv -fd 1) >"$d/uac.out" 2>&1 &
	UAC_PID=$!
	n=0
	for i in $(seq 1 $((CALLS / RATE + 30))); do
		sleep 1
		n=$(current_calls "$d")
		[ "$n" -ge "$CALLS" ] && break
	done
	sleep 8 # last ACKs; the INVITE transactions end (Kamailio's tm wait timer is 5 s), only the calls stay
	n=$(current_calls "$d")
	up=$(resident_kib "$kind" "$rpid")
	failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i; next } { v = $c } END { print v + 0 }' \
		"$d/uac_stat.csv" 2>/dev/null)
	stop_pid "$UAC_PID"; UAC_PID=""
	stop_pid "$UAS_PID"; UAS_PID=""
	# Patchbay drains on SIGTERM (calls in progress go on); a second signal stops it at once
	kill -TERM "$rpid" 2>/dev/null; sleep 1; kill -TERM "$rpid" 2>/dev/null; sleep 1
	stop_pid "$ROUTER_PID"; ROUTER_PID=""
	python3 - "$name" "$kind" "$idle" "$up" "$n" "${failed:-0}" <<'EOF' | tee "$d/result.txt"
import sys
name, kind, idle, up, n, failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
per = (up - idle) / n if n else float('nan')
what = 'VmRSS' if kind == 'rss' else 'Pss sum'
print(f"{name}: calls_up={n} failed={failed} idle={idle} KiB with_calls={up} KiB ({what})"
      f" per_call={per:.2f} KiB = {per * 1024:.0f} bytes  target<=8 KiB: {'PASS' if per <= 8 else 'FAIL'}")
EOF
	sleep 2
}

{ echo "date=$(date -Is)"; echo "calls=$CALLS rate=$RATE hold_s=$HOLD_S"; } >"$OUT/run.env"
fresh_records  # records are written at call end, after the reading, but every run starts alike
measure patchbay rss "$ROOT/$BIN" run "$ROOT/$SITE" --log-level warning
if [ "$KAMAILIO" = 1 ]; then
	mkdir -p "$OUT/kamailio/run"
	measure kamailio pss kamailio -f "$BENCH/kamailio/kamailio.cfg" -A CHILDREN=2 \
		-A "DBURL=\"text://$BENCH/kamailio/dbtext\"" -DD -E -m 1024 -M 16 -P "$OUT/kamailio/run/kamailio.pid" \
		-Y "$OUT/kamailio/run"
	echo "(Kamailio here is a transaction-stateful proxy without the dialog module: it keeps no per-call state once" \
		"the INVITE transaction has ended; what it shows is shared memory touched during set-up that stays resident.)"
fi
cat "$OUT"/*/result.txt >"$OUT/summary.txt"
echo "results: $OUT"
