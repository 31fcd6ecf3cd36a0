#!/usr/bin/env python3
"""Held-out check of the timeline model: for each problem of bench/results/<card>/final/bench.csv,
refit the preset without it (lean timeline calibrate), predict it (lean timeline evaluate), and
report the error and whether a schedule within 3% of the fastest is named.
Usage, from the repository root after building: tools/timeline_leave_one_out.py h100"""
import csv, subprocess, sys, collections, os, tempfile, statistics
card = sys.argv[1]
src = f"bench/results/{card}/final/bench.csv"
rows = list(csv.reader(open(src)))
head, body = rows[0], rows[1:]
problems = list(collections.OrderedDict.fromkeys(r[1] for r in body))
errs, named = [], 0
def write(path, head, rs):
    with open(path, "w") as f:
        f.write(",".join(head) + "\n")
        for r in rs: f.write(",".join([r[0], '"' + r[1] + '"'] + r[2:]) + "\n")
d = tempfile.mkdtemp()
for p in problems:
    train = [r for r in body if r[1] != p]; test = [r for r in body if r[1] == p]
    tr, te, pr = f"{d}/train.csv", f"{d}/test.csv", f"{d}/preset.json"
    write(tr, head, train); write(te, head, test)
    subprocess.run(["./build/lean", "timeline", "calibrate", "--csv", tr, "--start", f"sim/presets/{card}.json", "--name", "loo", "-o", pr], check=True, capture_output=True)
    out = subprocess.run(["./build/lean", "timeline", "evaluate", "--csv", te, "--preset", pr], check=True, capture_output=True, text=True).stdout
    v = []
    for l in out.splitlines():
        if l.startswith("| b"):
            c = [x.strip() for x in l.strip().strip("|").split("|")]
            v.append((c[1], float(c[3]), float(c[4])))
    for s, meas, model in v: errs.append(abs(model / meas - 1))
    best = min(v, key=lambda x: x[1]); pick = min(v, key=lambda x: x[2])
    ok = pick[1] <= 1.03 * best[1]
    named += ok
    print(("ok  " if ok else "MISS"), p[:70], " ".join(f"{s[:2]}:{m:.1f}/{q:.1f}" for s, m, q in v))
print(f"{card} leave-one-problem-out: median |error| {100*statistics.median(errs):.1f}%, worst {100*max(errs):.1f}% over {len(errs)} rows; "
      f"a schedule within 3% of the fastest named on {named}/{len(problems)} held-out problems")
