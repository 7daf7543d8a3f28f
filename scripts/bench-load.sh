#!/usr/bin/env bash
# bench-load.sh - calls per second, latency and CPU per call of Patchbay beside Kamailio, in one run (issue 5).
#
#   sipp UAC 127.0.0.1:5070 -> router udp 127.0.0.1:5060 -> sipp UAS 127.0.0.1:5080
#   full call INVITE/100/180/200/ACK/BYE/200, offer PCMU PCMA G729 G722 telephone-event
#
# Uses the shared harness in ../shared/bench (relative to the project root; BENCH_HARNESS overrides it) and runs,
# with identical load options:
#   1. Kamailio with ../shared/bench/kamailio/kamailio.cfg (run-kamailio-baseline.sh --no-direct), with the
#      harness's functional check (Record-Route, X-Routed-By: proxy behaviour);
#   2. Patchbay on Examples/bench (release build, default event loops = one per core), after a B2BUA
#      functional check (Examples/bench/uas_verify_b2bua.xml); the harness's check is skipped (--no-verify)
#      because it asks for a Record-Route and an X-Routed-By header, which a B2BUA does not add;
#   3. Patchbay with --threads 1, to show how the hot path scales with event loops.
# Then prints each final summary line and the ratios Patchbay / Kamailio.
#
# After a failed step both routers get 40 s of quiet (FAIL_COOLDOWN, the harness's default is 15): the calls an
# overloaded step left half set up end on their transaction timers (Patchbay's Timer B, H and 2xx give-up are
# 64*T1 = 32 s), and a step started sooner runs into that burst and fails for it, not for its own rate.
#
# Usage: scripts/bench-load.sh [--duration S] [--rates "R1 R2 .."] [--refine N] [--repeat N]
#                              [--kamailio-children N] [--no-build] [--no-kamailio] [--no-threads1] [--out DIR]
# Results: DIR (default .build/bench/load-<time>), one directory per router with the harness's files.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
DURATION=5
RATES="200 400 800 1200 1600 2400 3200 4800 6400 8000 10000"
REFINE=2
REPEAT=1
KAM_CHILDREN=2
BUILD=1
KAMAILIO=1
THREADS1=1
OUT=""

while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--refine) REFINE=$2; shift 2 ;;
	--repeat) REPEAT=$2; shift 2 ;;
	--kamailio-children) KAM_CHILDREN=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--no-kamailio) KAMAILIO=0; shift ;;
	--no-threads1) THREADS1=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

require_harness
for c in sipp python3 ss timeout gcc; do
	command -v "$c" >/dev/null || die "'$c' not found (apt-get install sip-tester python3 iproute2 gcc)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ "$KAMAILIO" = 0 ] || command -v kamailio >/dev/null || die "kamailio not found (apt-get install kamailio)"
require_free_ports 5060 5070 5080

cd "$ROOT" || die "cannot cd to $ROOT"
make_out load

[ "$BUILD" = 1 ] && build_release
[ -x "$BIN" ] || die "$BIN missing (run without --no-build)"
"$BIN" check "$SITE" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; die "patchbay check $SITE failed"; }
cat "$OUT/check.txt"

copy_harness "$OUT"
BENCH=$HARNESS

LOAD=(--duration "$DURATION" --rates "$RATES" --refine "$REFINE" --repeat "$REPEAT")
export FAIL_COOLDOWN=${FAIL_COOLDOWN:-40}
{
	machine_info
	echo "load_options=${LOAD[*]}"; echo "fail_cooldown=$FAIL_COOLDOWN"; echo "kamailio_children=$KAM_CHILDREN"
} >"$OUT/machine.txt"

# ------------------------------------------------------- B2BUA functional check ---
# Patchbay, a UAS with Examples/bench/uas_verify_b2bua.xml and 5 calls of the harness's UAC; every process is
# started here and stopped by its own PID.
verify_b2bua() {
	local d=$OUT/verify-b2bua pb uas rc_uac rc_uas i
	mkdir -p "$d"
	timeout -k 5 120 "$BIN" run "$SITE" --log-level warning >"$d/patchbay.log" 2>&1 &
	pb=$!
	for i in $(seq 1 100); do [ -n "$(ss -Hlun 'sport = :5060')" ] && break; sleep 0.1; done
	(cd "$d" && exec timeout -k 5 60 sipp -sf "$ROOT/Examples/bench/uas_verify_b2bua.xml" -i 127.0.0.1 -p 5080 \
		-m 5 -nostdin -trace_err -trace_msg) >"$d/uas.out" 2>&1 &
	uas=$!
	for i in $(seq 1 50); do [ -n "$(ss -Hlun 'sport = :5080')" ] && break; sleep 0.1; done
	(cd "$d" && exec timeout -k 5 60 sipp 127.0.0.1:5060 -sf "$BENCH/sipp/uac.xml" -s 0123456789 -i 127.0.0.1 \
		-p 5070 -r 5 -m 5 -nostdin -recv_timeout 10000 -trace_err) >"$d/uac.out" 2>&1
	rc_uac=$?
	for i in $(seq 1 150); do kill -0 "$uas" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$uas" 2>/dev/null && kill -TERM "$uas"
	wait "$uas"; rc_uas=$?
	kill -TERM "$pb" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$pb" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pb" 2>/dev/null && kill -KILL "$pb"
	wait "$pb" 2>/dev/null
	if [ "$rc_uac" = 0 ] && [ "$rc_uas" = 0 ]; then
		VERIFY=PASS
	else
		VERIFY=FAIL
		grep -aoh "regexp '[^']*'" "$d"/*errors.log 2>/dev/null | sort | uniq -c | sed 's/^/    /' >&2
	fi
	log "B2BUA functional check $VERIFY (uac rc=$rc_uac uas rc=$rc_uas; R-URI +44..., own Via, no Record-Route," \
		"no User-Agent, SDP 0 8 101); details in $d"
	echo "verify_b2bua=$VERIFY" >>"$OUT/machine.txt"
}
VERIFY=skipped
verify_b2bua
sleep 2

# ------------------------------------------------------------------ load runs ---
if [ "$KAMAILIO" = 1 ]; then
	log "kamailio (children=$KAM_CHILDREN): ${LOAD[*]}"
	mkdir -p "$OUT/kamailio-run"
	BENCH_RESULTS=$OUT/kamailio-run "$BENCH/run-kamailio-baseline.sh" --no-direct --children "$KAM_CHILDREN" \
		"${LOAD[@]}" | tee "$OUT/kamailio.txt"
	k=$(ls -d "$OUT"/kamailio-run/baseline-*/kamailio 2>/dev/null | tail -n1)
	[ -n "$k" ] && ln -sfn "$k" "$OUT/kamailio"
	sleep 3
fi

log "patchbay (default event loops): ${LOAD[*]}"
fresh_records
"$BENCH/run-proxy-bench.sh" --label patchbay --out "$OUT/patchbay" --no-verify "${LOAD[@]}" -- \
	"$ROOT/$BIN" run "$ROOT/$SITE" --log-level warning | tee "$OUT/patchbay.txt"
sleep 3

if [ "$THREADS1" = 1 ]; then
	log "patchbay --threads 1: ${LOAD[*]}"
	fresh_records
	"$BENCH/run-proxy-bench.sh" --label patchbay-1thread --out "$OUT/patchbay-1thread" --no-verify "${LOAD[@]}" -- \
		"$ROOT/$BIN" run "$ROOT/$SITE" --log-level warning --threads 1 | tee "$OUT/patchbay-1thread.txt"
fi

# ---------------------------------------------------------------- comparison ---
python3 - "$OUT" "$VERIFY" <<'EOF' | tee "$OUT/comparison.txt"
import glob, json, os, sys
out, verify = sys.argv[1], sys.argv[2]

def load(name):
    p = os.path.join(out, name, 'summary.json')
    if not os.path.exists(p):
        return None, {}
    s = json.load(open(p))
    steps = {}
    for f in glob.glob(os.path.join(out, name, 'r*_*', 'result.json')):
        r = json.load(open(f))
        steps.setdefault(r['rate'], []).append(r)
    return s, steps

def ratio(a, b):
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else '-'

runs = {n: load(n) for n in ('kamailio', 'patchbay', 'patchbay-1thread')}
print(open(os.path.join(out, 'machine.txt')).read().strip())
print()
for n, (s, _) in runs.items():
    if s:
        print(f"{n + ':':<18} {s['line']}")
print(f"(patchbay: B2BUA functional check {verify}; harness check --no-verify, see BENCHMARKS.md)")
k, p, p1 = runs['kamailio'][0], runs['patchbay'][0], runs['patchbay-1thread'][0]
if k and p:
    print()
    print('patchbay / kamailio:'
          f" max_cps {ratio(p['max_cps'], k['max_cps'])}"
          f"  p50 {ratio(p.get('p50_ms'), k.get('p50_ms'))}  p99 {ratio(p.get('p99_ms'), k.get('p99_ms'))}"
          f"  bye_p99 {ratio(p.get('bye_p99_ms'), k.get('bye_p99_ms'))}"
          f"  proxy_cpu_per_call {ratio(p.get('proxy_us_per_call'), k.get('proxy_us_per_call'))}"
          '   (latency and CPU at each one\'s max_cps)')
    # the same rate for both: the highest rate both passed
    ks, ps = runs['kamailio'][1], runs['patchbay'][1]
    common = [r for r in ks if r in ps and all(x['pass'] for x in ks[r]) and all(x['pass'] for x in ps[r])]
    if common:
        r = max(common)
        def m(rs, f):
            v = [f(x) for x in rs if f(x) is not None]
            return sum(v) / len(v) if v else None
        kv = {key: m(ks[r], fn) for key, fn in [('p50', lambda x: x['setup']['p50']), ('p99', lambda x: x['setup']['p99']),
              ('bye_p99', lambda x: x['bye']['p99']), ('us', lambda x: x['cpu'].get('proxy_us_per_call'))]}
        pv = {key: m(ps[r], fn) for key, fn in [('p50', lambda x: x['setup']['p50']), ('p99', lambda x: x['setup']['p99']),
              ('bye_p99', lambda x: x['bye']['p99']), ('us', lambda x: x['cpu'].get('proxy_us_per_call'))]}
        def f(x, nd=3):
            return '-' if x is None else f"{x:.{nd}f}"
        print(f"same rate {r} cps: kamailio p50={f(kv['p50'])} p99={f(kv['p99'])} bye_p99={f(kv['bye_p99'])}"
              f" proxy_us/call={f(kv['us'], 0)} | patchbay p50={f(pv['p50'])} p99={f(pv['p99'])}"
              f" bye_p99={f(pv['bye_p99'])} proxy_us/call={f(pv['us'], 0)}"
              f" | ratio p99 {ratio(pv['p99'], kv['p99'])} proxy_us/call {ratio(pv['us'], kv['us'])}")
if p and p1:
    print(f"patchbay 2 event loops / 1: max_cps {p['max_cps']} / {p1['max_cps']} = {ratio(p['max_cps'], p1['max_cps'])}"
          f"  proxy_us/call {p.get('proxy_us_per_call') and round(p['proxy_us_per_call'])}"
          f" / {p1.get('proxy_us_per_call') and round(p1['proxy_us_per_call'])}")
print(f"results: {out}")
EOF
