#!/usr/bin/env bash
# bench-media.sh - what anchoring media through rtpengine costs Patchbay, beside what it costs Kamailio (issue 22).
#
#   sipp UAC 127.0.0.1:5070 -> router udp 127.0.0.1:5060 -> sipp UAS 127.0.0.1:5080
#                                  | ng (offer, answer, delete)
#                              rtpengine 127.0.0.1:22222 (userspace; media interface 127.0.0.2)
#
# One rtpengine, started here with the same options for both routers, and four routers on the shared harness
# (../shared/bench, the bench-load call: INVITE/100/180/200/ACK/BYE/200, SDP only, no RTP):
#   kamailio         the harness's kamailio.cfg
#   kamailio-media   the same with Kamailio's rtpengine module: rtpengine_offer on the INVITE, rtpengine_answer on
#                    its 18x/2xx with SDP, rtpengine_delete on the BYE (replace origin and session-connection)
#   patchbay         Examples/bench
#   patchbay-media   Examples/bench with `rtpengine:` and the UAS peer `media: {mode: anchor}`
# First a check that each anchored router really anchors (the UAS must see rtpengine's 127.0.0.2 in c=), then
# every router at one rate (--rate, default 300 calls/s, --duration s): the router's own CPU per call, anchored
# minus unanchored, for each router. Then the anchored routers' highest rate (--rates, stepped and refined as
# bench-load): calls per second and p99 setup, Patchbay / Kamailio.
#
# Usage: scripts/bench-media.sh [--rate R] [--duration S] [--repeat N] [--rates "R1 R2 .."] [--no-max] [--no-build]
#                               [--out DIR]
#   --repeat   runs per router at the one rate (default 3; the harness reports their mean): CPU per call at a low
#              rate moves by 100 us and more between single runs on this 2-core machine
#   --no-max   only the runs at one rate (the added CPU per call), not the highest-rate search
# Results: DIR (default .build/bench/media-<time>); the last lines are the figures BENCHMARKS.md quotes.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
RATE=300
DURATION=10
REPEAT=3
RATES="200 400 800 1200 1600 2400 3200 4800"
BUILD=1
MAX=1
OUT=""
KAM_CHILDREN=2
NG_PORT=22222

while [ $# -gt 0 ]; do
	case "$1" in
	--rate) RATE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--repeat) REPEAT=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--no-max) MAX=0; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

require_harness
for c in sipp python3 ss timeout gcc kamailio rtpengine; do
	command -v "$c" >/dev/null || die "'$c' not found (make bench-deps)"
done
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ] || ls /usr/lib/*/kamailio/modules/rtpengine.so \
	>/dev/null 2>&1 || die "Kamailio's rtpengine module is missing"
require_free_ports 5060 5070 5080 "$NG_PORT"

cd "$ROOT" || die "cannot cd to $ROOT"
make_out media
[ "$BUILD" = 1 ] && build_release
[ -x "$BIN" ] || die "$BIN missing (run without --no-build)"
copy_harness "$OUT"
{ machine_info; echo "rate=$RATE duration=$DURATION rates=$RATES"; rtpengine --version 2>&1 | head -n1; } \
	>"$OUT/machine.txt"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# ---------------------------------------------------------------- rtpengine ---
timeout -k 5 7200 rtpengine --config-file=none --foreground --table=-1 --interface=127.0.0.2 \
	--listen-ng=127.0.0.1:$NG_PORT --port-min=30000 --port-max=59999 --delete-delay=0 --log-level=4 \
	--log-stderr >"$OUT/rtpengine.log" 2>&1 &
RTPENGINE=$!
PIDS+=("$RTPENGINE")
for _ in $(seq 1 50); do [ -n "$(ss -Hlun "sport = :$NG_PORT")" ] && break; sleep 0.1; done
[ -n "$(ss -Hlun "sport = :$NG_PORT")" ] || die "rtpengine did not start: $(tail -n 5 "$OUT/rtpengine.log")"

# rtpengine's open sessions (ng `list`), to show that every call's session was deleted.
sessions() {
	python3 - "$NG_PORT" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"c1 d7:command4:liste", ("127.0.0.1", int(sys.argv[1])))
data = s.recv(65535).split(b" ", 1)[1]
# d5:callsl<len>:<id>...e6:result2:oke: count the Call-IDs in the list
i = data.find(b"5:callsl") + len(b"5:callsl")
n = 0
while i > 7 and data[i:i + 1] != b"e":
    colon = data.index(b":", i)
    i = colon + 1 + int(data[i:colon])
    n += 1
print(n)
PYEOF
}

# ---------------------------------------------------------- the four routers ---
KCFG=$OUT/kamailio-media.cfg
python3 - "$HARNESS/kamailio/kamailio.cfg" "$KCFG" "$NG_PORT" <<'PYEOF' || die "cannot derive kamailio-media.cfg"
import sys
src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()
def once(old, new):
    global text
    if text.count(old) != 1:
        sys.exit(f"kamailio.cfg: expected one '{old}'")
    text = text.replace(old, new)
once('loadmodule "dialplan.so"\n',
     'loadmodule "dialplan.so"\nloadmodule "rtpengine.so"\n'
     f'modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:{port}")\n')
once('\t\tif (loose_route()) {\n', '\t\tif (loose_route()) {\n\t\t\tif (is_method("BYE")) {\n'
     '\t\t\t\trtpengine_delete();\n\t\t\t}\n')
once('\t\t$du = DOWNSTREAM;\n', '\t\t$du = DOWNSTREAM;\n'
     '\t\trtpengine_offer("replace-origin replace-session-connection");\n\t\tt_on_reply("MEDIA");\n')
text += ('\nonreply_route[MEDIA] {\n\tif (has_body("application/sdp")) {\n'
         '\t\trtpengine_answer("replace-origin replace-session-connection");\n\t}\n}\n')
open(dst, "w").write(text)
PYEOF

PSITE=$OUT/site-media
mkdir -p "$PSITE"
cp "$ROOT/Examples/bench/routes.yaml" "$PSITE/"
python3 - "$ROOT/Examples/bench/patchbay.yaml" "$PSITE/patchbay.yaml" "$NG_PORT" <<'PYEOF' || die "cannot derive the media site"
import sys
src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()
if text.count("\npeers:\n") != 1 or text.count("  - name: uas\n") != 1:
    sys.exit("Examples/bench/patchbay.yaml is not what bench-media.sh expects")
text = text.replace("\npeers:\n", f'\nrtpengine:\n  instances: [{{name: local, address: "127.0.0.1:{port}"}}]\n\npeers:\n')
text = text.replace("  - name: uas\n", "  - name: uas\n    media: {mode: anchor}\n")
open(dst, "w").write(text)
PYEOF
"$BIN" check "$PSITE/patchbay.yaml" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt" >&2; die "the media site is refused"; }

KAM_ARGS=(-f "$HARNESS/kamailio/kamailio.cfg" -A "CHILDREN=$KAM_CHILDREN"
	-A "DBURL=\"text://$HARNESS/kamailio/dbtext\"" -DD -E -m 256 -M 16)
KAMM_ARGS=(-f "$KCFG" -A "CHILDREN=$KAM_CHILDREN" -A "DBURL=\"text://$HARNESS/kamailio/dbtext\"" -DD -E -m 256 -M 16)
kamailio -c "${KAMM_ARGS[@]}" >"$OUT/kamailio-check.log" 2>&1 ||
	{ cat "$OUT/kamailio-check.log" >&2; die "kamailio-media.cfg refused"; }

# router NAME: the command line of router NAME (bash array in CMD).
router() {
	case "$1" in
	kamailio) CMD=(kamailio "${KAM_ARGS[@]}" -P "$OUT/$1.pid" -Y "$OUT") ;;
	kamailio-media) CMD=(kamailio "${KAMM_ARGS[@]}" -P "$OUT/$1.pid" -Y "$OUT") ;;
	patchbay) CMD=("$ROOT/$BIN" run "$ROOT/$SITE" --log-level warning) ;;
	patchbay-media) CMD=("$ROOT/$BIN" run "$PSITE/patchbay.yaml" --log-level warning) ;;
	esac
}

# ------------------------------------------------- do the anchored ones anchor ---
# check NAME: 3 calls through router NAME to a UAS that wants rtpengine's address in the offer.
check() {
	local d=$OUT/check-$1 rp uas rc
	mkdir -p "$d"
	router "$1"
	timeout -k 5 120 "${CMD[@]}" >"$d/router.log" 2>&1 &
	rp=$!
	PIDS+=("$rp")
	for _ in $(seq 1 100); do [ -n "$(ss -Hlun 'sport = :5060')" ] && break; sleep 0.1; done
	sed -E 's/\$\{expect_c:-[^}]*\}/127\\.0\\.0\\.2/; s/\$\{expect_pt:-[^}]*\}/0/; s/\$\{[a-z_]+:-([^}]*)\}/\1/g' \
		"$ROOT/Tests/Scenarios/uas-media.xml" >"$d/uas.xml"
	(cd "$d" && exec timeout -k 5 60 sipp -sf uas.xml -i 127.0.0.1 -p 5080 -m 3 -nostdin -trace_err) \
		>"$d/uas.out" 2>&1 &
	uas=$!
	PIDS+=("$uas")
	for _ in $(seq 1 50); do [ -n "$(ss -Hlun 'sport = :5080')" ] && break; sleep 0.1; done
	(cd "$d" && exec timeout -k 5 60 sipp 127.0.0.1:5060 -sf "$HARNESS/sipp/uac.xml" -s 0123456789 -i 127.0.0.1 \
		-p 5070 -r 3 -m 3 -nostdin -recv_timeout 10000 -trace_err) >"$d/uac.out" 2>&1
	rc=$?
	for _ in $(seq 1 100); do kill -0 "$uas" 2>/dev/null || break; sleep 0.1; done
	kill "$uas" 2>/dev/null; wait "$uas"; rc=$((rc + $?))
	kill -TERM "$rp" 2>/dev/null; kill -TERM "$(cat "$OUT/$1.pid" 2>/dev/null)" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$rp" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$rp" 2>/dev/null; wait "$rp" 2>/dev/null
	sleep 1
	local left; left=$(sessions)
	echo "$1: $([ "$rc" = 0 ] && echo PASS || echo FAIL) (the UAS saw c=127.0.0.2; rtpengine sessions left: $left)"
	[ "$rc" = 0 ] && [ "$left" = 0 ]
}
check kamailio-media | tee -a "$OUT/checks.txt" || die "kamailio-media does not anchor (see $OUT/check-kamailio-media)"
check patchbay-media | tee -a "$OUT/checks.txt" || die "patchbay-media does not anchor (see $OUT/check-patchbay-media)"

# -------------------------------------------------------------- load runs ---
# run NAME LABEL RATES REFINE REPEAT: the harness against router NAME; its summary line in $OUT/LABEL.summary.
run() {
	router "$1"
	fresh_records
	fresh_records "$PSITE"
	log "$2: rates $3 x ${DURATION}s"
	"$HARNESS/run-proxy-bench.sh" --label "$2" --out "$OUT/$2" --no-verify --duration "$DURATION" --rates "$3" \
		--refine "$4" --repeat "$5" -- "${CMD[@]}" >"$OUT/$2.txt" 2>&1
	tail -n1 "$OUT/$2/summary.txt" 2>/dev/null | tee "$OUT/$2.summary"
	sleep 3
	# Calls sipp gave up on under overload end on the routers' timers; what is still open after that is a leak.
	local before=$LEFT
	sleep 5
	LEFT=$(sessions)
	echo "$2: rtpengine sessions left open: $((LEFT - before))" | tee -a "$OUT/sessions.txt"
}
LEFT=$(sessions)
field() { grep -o "$2=[0-9.]*" "$OUT/$1.summary" | head -n1 | cut -d= -f2; }

for r in kamailio kamailio-media patchbay patchbay-media; do run "$r" "$r-at-$RATE" "$RATE" 0 "$REPEAT"; done
if [ "$MAX" = 1 ]; then
	for r in kamailio-media patchbay-media; do run "$r" "$r-max" "$RATES" 2 1; done
fi

echo
echo "=== bench-media ($OUT) ==="
cat "$OUT/checks.txt" "$OUT/sessions.txt"
python3 - "$OUT" "$RATE" <<'PYEOF' | tee "$OUT/figures.txt"
import re, sys, os
out, rate = sys.argv[1], sys.argv[2]
def f(label, key):
    path = os.path.join(out, label + ".summary")
    text = open(path).read() if os.path.exists(path) else ""
    m = re.search(re.escape(key) + r"=([0-9.]+)", text)
    return float(m.group(1)) if m else None
rows = {}
for r in ("kamailio", "patchbay"):
    plain, media = f(f"{r}-at-{rate}", "proxy_us_per_call"), f(f"{r}-media-at-{rate}", "proxy_us_per_call")
    rows[r] = (plain, media)
    if plain is None or media is None:
        print(f"{r}: no CPU figure at {rate} calls/s (a run failed: see {r}-at-{rate}.txt)")
    else:
        print(f"{r}: {plain:.0f} us/call unanchored, {media:.0f} anchored at {rate} calls/s: anchoring adds {media - plain:.0f} us")
k, p = rows["kamailio"], rows["patchbay"]
if None not in k + p:
    added_k, added_p = k[1] - k[0], p[1] - p[0]
    verdict = "met" if added_p <= added_k else "not met"
    print(f"added CPU per call, patchbay / kamailio: {added_p:.0f} / {added_k:.0f} us (goal: patchbay's no more: {verdict})")
km, pm = f(f"kamailio-media-at-{rate}", "p99_ms"), f(f"patchbay-media-at-{rate}", "p99_ms")
if km and pm:
    print(f"anchored p99 setup at {rate} calls/s: patchbay {pm:g} ms, kamailio {km:g} ms, ratio {pm / km:.2f}")
for key, name in (("max_cps", "calls/s"), ("p99_ms", "p99 setup ms at each one's maximum")):
    km, pm = f("kamailio-media-max", key), f("patchbay-media-max", key)
    if km and pm:
        print(f"anchored {name}: patchbay {pm:g}, kamailio {km:g}, ratio {pm / km:.2f}")
    else:
        print(f"anchored {name}: missing (see kamailio-media-max.txt, patchbay-media-max.txt)")
PYEOF
echo "rtpengine sessions left: $(sessions)"
