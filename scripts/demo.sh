#!/usr/bin/env bash
# Patchbay's main job on the bundled example: start `patchbay run` on Examples/berlin, play the site's PBX,
# gateway and trunks with sipp on 127.0.0.1, place a handful of calls, and print what happened to each.
# Every process this script starts is stopped by its pid when it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.build/debug/patchbay
SITE=Examples/berlin/patchbay.yaml
WORK=$(mktemp -d /tmp/patchbay-demo.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
}
trap cleanup EXIT

# The test scenarios take ${key:-default} placeholders (filled in by the Swift harness); here sed fills them.
render() { # scenario out key=value...
    local in="Tests/Scenarios/$1.xml" out="$2"; shift 2
    cp "$in" "$out"
    for kv in "$@"; do sed -i -E "s/\\\$\\{${kv%%=*}(:-[^}]*)?\\}/${kv#*=}/g" "$out"; done
    sed -i -E 's/\$\{[a-z_]+:-([^}]*)\}/\1/g' "$out"
}

# rtpengine for the trunk's media (the site's `rtpengine:`): userspace, loopback, its own port range.
if command -v rtpengine > /dev/null; then
    rtpengine --config-file=none --foreground --table=-1 --interface=inside/127.0.0.1 --interface=outside/127.0.0.2 \
        --listen-ng=127.0.0.1:22223 --port-min=27000 --port-max=27999 --delete-delay=0 --log-stderr \
        > "$WORK/rtpengine.log" 2>&1 &
    PIDS+=($!)
    sleep 0.5
else
    echo "rtpengine is not installed (make deps): calls to the trunk will fail over, unanchored media refused"
fi

# DNS for the main trunk (the site's `dns:`): the provider publishes sip.trunk.example with NAPTR and SRV records
# for two SBCs, as providers do. dnsmasq answers only these names, from its command line.
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
if [ -x "$DNSMASQ" ]; then
    "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll --port=15353 \
        --listen-address=127.0.0.1 --bind-interfaces --pid-file= --local-ttl=30 --local=/trunk.example/ \
        --naptr-record=sip.trunk.example,10,10,S,SIP+D2U,,_sip._udp.sip.trunk.example \
        --srv-host=_sip._udp.sip.trunk.example,sbc1.trunk.example,5090,10,1 \
        --srv-host=_sip._udp.sip.trunk.example,sbc2.trunk.example,5092,20,1 \
        --host-record=sbc1.trunk.example,127.0.0.1 --host-record=sbc2.trunk.example,127.0.0.1 \
        --log-queries --log-facility=- > "$WORK/dnsmasq.log" 2>&1 &
    PIDS+=($!)
    sleep 0.3
else
    echo "dnsmasq is not installed (make deps): the trunk's name will not resolve, its calls fail over"
fi

"$BIN" run "$SITE" > "$WORK/patchbay.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/patchbay.log" && break; sleep 0.1; done
grep -q listening "$WORK/patchbay.log" || { cat "$WORK/patchbay.log"; exit 1; }

# This site's call records of the last 10 minutes, counted; earlier demo runs may have left some.
records() { .build/debug/patchbay calls "$SITE" --since 10m 2>/dev/null | grep -c ended_by; }
records_before=$(records)

n=0
# call DESCRIPTION CALLER_PORT DIALLED UAS_PORT UAS_SCENARIO [key=value ...] -- UAC_SCENARIO [key=value ...]
call() {
    local what=$1 from_port=$2 dialled=$3 to_port=$4 uas=$5; shift 5
    local uas_keys=() uac_keys=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do uas_keys+=("$1"); shift; done
    shift; local uac=$1; shift; uac_keys=("$@")
    n=$((n + 1))
    local dir="$WORK/call$n"; mkdir -p "$dir"
    local uas_pid=""
    if [ "$to_port" != "-" ]; then
        render "$uas" "$dir/uas.xml" "${uas_keys[@]}"
        sipp -sf "$dir/uas.xml" -i 127.0.0.1 -p "$to_port" -mp 26000 -m 1 -nostdin -timeout 12s -timeout_error \
            -trace_msg -message_file "$dir/uas.msg" > /dev/null 2>&1 &
        uas_pid=$!; PIDS+=("$uas_pid"); sleep 0.3
    fi
    local extra_pid=""
    if [ -n "${FALLBACK_PORT:-}" ]; then
        render uas-answer "$dir/fallback.xml"
        sipp -sf "$dir/fallback.xml" -i 127.0.0.1 -p "$FALLBACK_PORT" -mp 26200 -m 1 -nostdin -timeout 12s \
            -timeout_error -trace_msg -message_file "$dir/fallback.msg" > /dev/null 2>&1 &
        extra_pid=$!; PIDS+=("$extra_pid"); sleep 0.3
    fi
    render "$uac" "$dir/uac.xml" "${uac_keys[@]}"
    local before; before=$(grep -c "call \(ended\|failed\|rejected\)" "$WORK/patchbay.log")
    sipp -sf "$dir/uac.xml" 127.0.0.1:5060 -i 127.0.0.1 -p "$from_port" -mp 26100 -s "$dialled" -m 1 -nostdin \
        -timeout 12s -timeout_error > /dev/null 2>&1 &
    local uac_pid=$!; PIDS+=("$uac_pid")
    wait "$uac_pid"; local rc=$?
    # The callees end by themselves once their call is over (-m 1); give them a moment, then stop them.
    for pid in $uas_pid $extra_pid; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    for _ in $(seq 30); do
        [ "$(grep -c "call \(ended\|failed\|rejected\)" "$WORK/patchbay.log")" -gt "$before" ] && break; sleep 0.1
    done
    local line; line=$(grep "call \(ended\|failed\|rejected\)" "$WORK/patchbay.log" | sed -n "$((before + 1))p")
    local route result tried received=""
    route=$(sed -E 's/.*route=([^ ]+).*/\1/' <<< "$line")
    result=$(sed -E 's/.*result=([^ ]+).*/\1/' <<< "$line")
    tried=$(grep -o "tried=[^ ]*" <<< "$line" | cut -d= -f2)
    for msg in "$dir/fallback.msg" "$dir/uas.msg"; do
        [ -z "$received" ] && [ -f "$msg" ] && received=$(grep -m1 -a "^INVITE " "$msg" | cut -d' ' -f2)
    done
    local media="" via=""
    for msg in "$dir/fallback.msg" "$dir/uas.msg"; do
        [ -z "$media" ] && [ -f "$msg" ] && media=$(grep -m1 -a "^c=IN IP4 " "$msg" | tr -d '\r' | cut -d' ' -f3)
        [ -z "$via" ] && [ -f "$msg" ] && via=$(grep -m1 -a "^Via: " "$msg" | tr -d '\r' | sed -E 's/^Via: SIP\/2\.0\/[A-Z]+ ([^;]+).*/\1/')
    done
    printf '%d. %s\n   dialled %s -> route %s -> tried %s -> result %s%s%s   (caller sipp exit %d)\n' \
        "$n" "$what" "$dialled" "$route" "${tried:--}" "$result" "${received:+, target received $received}" \
        "${via:+, signalling from $via}${media:+, media at $media}" "$rc"
}

echo "Patchbay on $SITE: demo calls between simulated peers (sipp on 127.0.0.1)"
echo
call "PBX extension 2345 calls a Berlin number" 5070 0030987654 5080 uas-answer -- uac-call caller=2345
call "PBX calls a mobile: the trunk gets +E.164, G.711 only, and only outside addresses (127.0.0.2)" 5070 001701234567 5090 uas-answer -- uac-call caller=2345
call "PBX calls a premium-rate number: barred" 5070 009001234567 - - -- uac-expect-status status=403 caller=2345
call "PBX calls a busy Berlin number: 486 goes back" 5070 0030987654 5080 uas-reject status=486 "reason=Busy Here" -- uac-expect-status status=486 caller=2345
FALLBACK_PORT=5090 call "Gateway out of service (503): failover to the trunk" 5070 0030987654 5080 uas-reject status=503 "reason=Service Unavailable" -- uac-call caller=2345
FALLBACK_PORT=5092 call "The trunk's first SBC out of service (503): its second (SRV priority 20) takes the call" 5070 001701234567 5090 uas-reject status=503 "reason=Service Unavailable" -- uac-call caller=2345
call "Trunk delivers a DID call: the PBX gets extension 2345" 5090 +49301232345 5070 uas-answer -- uac-call caller=+4940123456
echo
# The example site serves metrics, the API and the status page on 127.0.0.1:8080 (http: in patchbay.yaml).
if command -v curl > /dev/null; then
    echo "Calls by route and outcome, from http://127.0.0.1:8080/metrics:"
    curl -s --max-time 3 http://127.0.0.1:8080/metrics | grep '^patchbay_calls_total' | sed 's/^/   /'
    echo "(status page: http://127.0.0.1:8080/ while patchbay run Examples/berlin/patchbay.yaml is running)"
fi
if [ -x .build/debug/patchbay ] && .build/debug/patchbay calls --help > /dev/null 2>&1; then
    echo
    echo "Call records (patchbay calls $SITE --since 10m):"
    # Records are written in batches at most 200 ms apart: wait for this run's last one (at most about 3 s), or the
    # listing can miss the last call.
    for _ in $(seq 30); do [ "$(records)" -ge $((records_before + n)) ] && break; sleep 0.1; done
    .build/debug/patchbay calls "$SITE" --since 10m 2>&1 | tail -6 | sed 's/^/   /'
fi
echo
echo "How the trunk's name was found (Patchbay's log):"
grep -m1 "peer located" "$WORK/patchbay.log" | sed -E 's/.*(name=[^ ]+).*(servers=.*) ttl=.*/   \1 \2/'
echo
echo "Patchbay's log: $WORK/patchbay.log"
