#!/usr/bin/env python3
"""latency-summary.py - the latency table of `make bench-latency`, over one run's rounds or several runs' pooled.

Usage: scripts/latency-summary.py DIR [DIR ...]

Each DIR is a bench-latency output directory (round-N/<router>/ or round-N/<router>-<rate>/ with the harness's
files). Every round of every DIR counts as one round: percentiles are taken over the calls of all of them pooled,
and each round's own p99 is listed beside them. Pooling several runs of the same commit narrows the figure that a
few bursts decide (a p99 over one 10-second step is set by its slowest hundred calls).

The interval beside each ratio is a bootstrap: the rounds are drawn again with replacement (a round keeps both
routers' calls, which ran under the same conditions), the pooled p99 ratio is taken again, 1,000 times; it shows the
5th to 95th percentile of those ratios. Over several runs whole runs are drawn, not rounds: rounds of one run share
the machine's state of those minutes (two runs of the same build differed by more than the rounds within either),
so the runs are the independent samples. An interval that reaches across 1.0 means these runs cannot tell the two
routers apart at that rate.

Run one after the other, each step can also be disturbed by something else on the machine, which the harness
measures (other_pct: CPU of every process but the router and its sipp processes). Sequential results get a second
line per rate over the rounds in which neither router's step was disturbed (other_pct at most 10 % of a core).
In paired runs the other router and its sipp processes count as "other", so there is no such line.
"""
import glob
import json
import os
import random
import sys

ROUTERS = ('direct', 'kamailio', 'patchbay')
RESAMPLES = 1000
# A sequential step counts as disturbed when processes other than the router and its two sipp processes took more
# than this share of the machine's CPU during it (the harness's other_pct, in per cent of one core).
QUIET_OTHER_PCT = 10


def pct(values, q):
    """The q-quantile of values (nearest rank), or None for no values."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))]


def ms(x):
    return '-' if x is None else f'{x:.1f}'


def read_rtts(step):
    """INVITE->200 and BYE->200 times (ms) of one step, from sipp's rtt files."""
    setup, bye = [], []
    for f in glob.glob(os.path.join(step, '*_rtt.csv')):
        with open(f) as lines:
            next(lines, None)
            for line in lines:
                parts = line.strip().split(';')
                if len(parts) == 3:
                    (setup if parts[2] == '1' else bye).append(float(parts[1]))
    return setup, bye


def load(dirs):
    """{router: {rate: {round id: (step result, setup rtts, bye rtts)}}}, a round id being (dir index, N)."""
    data = {r: {} for r in ROUTERS}
    for d, out in enumerate(dirs):
        for round_dir in glob.glob(os.path.join(out, 'round-*')):
            n = int(round_dir.rsplit('-', 1)[1])
            for router in ROUTERS:
                # round-N/ROUTER/r*_1 (sequential), round-N/ROUTER-RATE/r*_1 (paired)
                for step in glob.glob(os.path.join(round_dir, router + '*', 'r*_1')):
                    res = os.path.join(step, 'result.json')
                    if not os.path.exists(res):
                        continue
                    with open(res) as f:
                        result = json.load(f)
                    setup, bye = read_rtts(step)
                    data[router].setdefault(result['rate'], {})[(d, n)] = (result, setup, bye)
    return data


def other(entry):
    """CPU of processes other than the router and its sipp processes during a step, per cent of one core."""
    return entry[0]['cpu'].get('other_pct') or 0


def pooled_p99(rounds, ids):
    return pct([x for i in ids for x in rounds[i][1]], 0.99)


def tails(rounds, draw_rounds):
    """Each round's slowest INVITE->200 times, slowest first: as many as the p99 of any draw of at most draw_rounds
    rounds can reach."""
    most = draw_rounds * max(len(setup) for _, setup, _ in rounds.values())
    keep = most - int(most * 0.99) + 1
    return {i: sorted(setup, reverse=True)[:keep] for i, (_, setup, _) in rounds.items()}


def p99_of_draw(rounds, tops, draw):
    """pct(calls of the drawn rounds, 0.99), from the rounds' tails: the p99 of N calls is the
    (N - int(0.99 N))-th slowest."""
    n = sum(len(rounds[i][1]) for i in draw)
    if n == 0:
        return None
    pool = [x for i in draw for x in tops[i]]
    pool.sort(reverse=True)
    return pool[n - int(n * 0.99) - 1]


def interval(k_rounds, p_rounds, ids, rng):
    """5th and 95th percentile of the pooled p99 ratio over draws with replacement: of whole runs when the rounds
    come from several runs, of rounds otherwise."""
    runs = {}
    for i in ids:
        runs.setdefault(i[0], []).append(i)
    units = list(runs.values()) if len(runs) > 1 else [[i] for i in ids]
    most = len(units) * max(len(u) for u in units)
    k_tops, p_tops = tails(k_rounds, most), tails(p_rounds, most)
    ratios = []
    for _ in range(RESAMPLES):
        draw = [i for _ in units for i in rng.choice(units)]
        k = p99_of_draw(k_rounds, k_tops, draw)
        p = p99_of_draw(p_rounds, p_tops, draw)
        if k and p is not None:
            ratios.append(p / k)
    ratios.sort()
    return ratios[int(len(ratios) * 0.05)], ratios[min(len(ratios) - 1, int(len(ratios) * 0.95))]


def main(dirs):
    for out in dirs:
        machine = os.path.join(out, 'machine.txt')
        if not os.path.exists(machine):
            sys.exit(f'latency-summary: {out} is not a bench-latency result (no machine.txt)')
    data = load(dirs)
    paired = False
    for out in dirs:
        with open(os.path.join(out, 'machine.txt')) as f:
            text = f.read().strip()
        paired = paired or 'paired=1' in text
        if len(dirs) == 1:
            print(text)
        else:
            fields = dict(line.split('=', 1) for line in text.splitlines() if '=' in line)
            print(f"run {out}: commit {fields.get('commit', '?')}, {fields.get('date', '?')},"
                  f" {fields.get('load_options', '')}")
    print()
    print('Percentiles over the calls of all rounds pooled, in ms; "rounds" lists each round\'s own p99 INVITE->200;')
    print('us/call is the router\'s CPU per call (mean of the rounds); "fail" counts rounds whose step did not pass.')
    print()
    print(f"{'rate':>5} {'router':<9} {'calls':>6} {'p50':>5} {'p90':>6} {'p99':>6} {'p99.9':>6} {'bye p99':>7}"
          f" {'us/call':>7} {'fail':>4}  rounds")
    rng = random.Random(5)
    ratios, quiet_ratios = [], []
    for rate in sorted({rate for r in ROUTERS for rate in data[r]}):
        row = {}
        for router in ROUTERS:
            rounds = data[router].get(rate)
            if not rounds:
                continue
            s = [x for _, setup, _ in rounds.values() for x in setup]
            b = [x for _, _, bye in rounds.values() for x in bye]
            cpu = [r['cpu'].get('proxy_us_per_call') for r, _, _ in rounds.values() if r['cpu'].get('proxy_us_per_call')]
            fails = sum(1 for r, _, _ in rounds.values() if not r['pass'])
            per_round = ' '.join(ms(rounds[i][0]['setup']['p99']) for i in sorted(rounds))
            row[router] = pct(s, 0.99)
            print(f"{rate:>5} {router:<9} {len(s):>6} {ms(pct(s, .5)):>5} {ms(pct(s, .9)):>6} {ms(pct(s, .99)):>6}"
                  f" {ms(pct(s, .999)):>6} {ms(pct(b, .99)):>7} {(f'{sum(cpu) / len(cpu):.0f}' if cpu else '-'):>7}"
                  f" {fails:>4}  {per_round}")
        if row.get('patchbay') and row.get('kamailio'):
            k_rounds, p_rounds = data['kamailio'][rate], data['patchbay'][rate]
            both = sorted(set(k_rounds) & set(p_rounds))
            wins = sum(1 for i in both if p_rounds[i][0]['setup']['p99'] <= k_rounds[i][0]['setup']['p99'])
            low, high = interval(k_rounds, p_rounds, both, rng) if len(both) > 1 else (None, None)
            ratios.append((rate, row['patchbay'] / row['kamailio'], wins, len(both), low, high))
            quiet = [i for i in both if max(other(k_rounds[i]), other(p_rounds[i])) <= QUIET_OTHER_PCT]
            if quiet and not paired:
                k, p = pooled_p99(k_rounds, quiet), pooled_p99(p_rounds, quiet)
                quiet_ratios.append((rate, p / k if k else None, len(quiet), len(both)))
        print()
    if paired:
        print('Paired: both routers ran at once, each at the rate shown, each with its own sipp UAC and UAS.')
    print('p99 INVITE->200, Patchbay / Kamailio, calls pooled (target <= 1.0), with the 5-95 % bootstrap interval'
          + (' over runs:' if len(dirs) > 1 else ' over rounds:'))
    for rate, pk, wins, n, low, high in ratios:
        spread = f' [{low:.2f}, {high:.2f}]' if low is not None else ''
        print(f"  {rate:>5} calls/s: {pk:.2f}{spread}{'  (met)' if pk <= 1.0 else ''};"
              f" Patchbay at or below Kamailio in {wins} of {n} rounds")
    if quiet_ratios:
        print(f'The same over the rounds in which no other process took more than {QUIET_OTHER_PCT} % of a core during'
              ' either router\'s step:')
        for rate, pk, n, total in quiet_ratios:
            text = '-' if pk is None else f"{pk:.2f}{'  (met)' if pk <= 1.0 else ''}"
            print(f"  {rate:>5} calls/s: {text}; {n} of {total} rounds undisturbed")
    print('results: ' + ' '.join(dirs))


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) > 1 else 2)
    main(sys.argv[1:])
