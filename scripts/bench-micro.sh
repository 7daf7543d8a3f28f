#!/usr/bin/env bash
# bench-micro.sh - the per-message hot path (Benchmarks/HotPath, ordo-one/benchmark) beside libosip2's parse +
# serialise of the same message, in one run: wall-clock time (p50) and mallocs per message, and the ratios
# Patchbay / osip. The full tables are in DIR/benchmark.txt.
#
# Usage: scripts/bench-micro.sh [--out DIR]
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-micro: unknown option '$1'" >&2; exit 2 ;;
	esac
done
cd "$ROOT" || exit 2
OUT=${OUT:-$ROOT/.build/bench/micro-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" || exit 2

echo "[$(date +%H:%M:%S)] bench-micro: building and running Benchmarks/HotPath (release)" >&2
swift package --package-path Benchmarks benchmark --target HotPath --no-progress --time-units nanoseconds >"$OUT/benchmark.txt" 2>&1 || {
	tail -n 40 "$OUT/benchmark.txt" >&2
	echo "bench-micro: the benchmark failed (full output in $OUT/benchmark.txt)" >&2
	exit 1
}

python3 - "$OUT/benchmark.txt" <<'EOF' | tee "$OUT/summary.txt"
import re, sys
text = open(sys.argv[1]).read()
units = {'ns': 1e-3, 'μs': 1.0, 'us': 1.0, 'ms': 1e3, 's': 1e6}
scale = {'': 1, '(K)': 1e3, '(M)': 1e6}
res, name = {}, None
for line in text.splitlines():
    s = line.strip()
    if s and not s.startswith(('│', '╒', '╞', '├', '╘', '=', '[', 'Build', 'Running', 'Host ', 'Benchmark', 'Compiling', 'Linking')) \
            and ('hot path' in s or 'parse' in s):
        name = s
        continue
    m = re.match(r'│\s*(Malloc \(total\)|Time \(wall clock\))\s*(\((\w+)\))?\s*(\(K\)|\(M\))?\s*\*?\s*│\s*\S+\s*│\s*\S+\s*│\s*(\d+)', s)
    if name and m:
        what, unit, p50 = m.group(1), m.group(3) or '', float(m.group(5))
        if what.startswith('Malloc'):
            res.setdefault(name, {})['mallocs'] = p50 * scale[m.group(4) or '']
        else:
            res.setdefault(name, {})['us'] = p50 * units.get(unit, 1.0) * scale[m.group(4) or '']
print('per message (p50 of the per-iteration figures; 1 iteration = 1,000 messages):')
print(f"{'benchmark':<32} {'time_us':>9} {'mallocs':>8}")
for n, v in res.items():
    print(f"{n:<32} {v.get('us', float('nan')):>9.2f} {v.get('mallocs', float('nan')):>8.0f}")
print()
for kind, ours in (('INVITE', 'patchbay INVITE hot path'), ('200 OK', 'patchbay 200 OK hot path'), ('BYE', 'patchbay BYE hot path')):
    o, p = res.get(f'osip parse+serialise {kind}'), res.get(ours)
    if o and p and o.get('us') and o.get('mallocs'):
        print(f"{kind:<7} patchbay / osip: time {p['us'] / o['us']:.1f}x  mallocs {p['mallocs'] / o['mallocs']:.1f}x"
              f"  ({p['us']:.2f} us vs {o['us']:.2f} us, {p['mallocs']:.0f} vs {o['mallocs']:.0f} mallocs)")
EOF
echo "results: $OUT"
