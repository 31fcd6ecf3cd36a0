#!/usr/bin/env python3
"""Summarise a planner audit (bench/results/*/audit_s18/run.sh): per case the planner's stream-K,
fixed split and no split, and the fastest swept stream-K grid; flags (*) where stream-K is over 2%
slower than any of them (no split since session 20: it was left out). Usage: audit_summary.py audit.txt"""
import re
import sys

cases = []
for line in open(sys.argv[1]):
    if line.startswith("case "):
        cases.append({"spec": line[5:].strip(), "sweep": {}, "ctas": {}})
    elif cases:
        c = cases[-1]
        m = re.match(r"\S.*?\s(stream-k|fixed-split|no-split)\s+(\d+) CTAs\s+([\d.]+) us", line)
        if m:
            c[m.group(1)] = float(m.group(3))
            c["ctas"][m.group(1)] = int(m.group(2))
        m = re.match(r"sweep .* G=(\d+)\s+([\d.]+) us", line)
        if m:
            c["sweep"][int(m.group(1))] = float(m.group(2))
print(f"{'case':70s} {'sk':>8s} {'G':>4s} {'fixed':>8s} {'nosplit':>8s} {'best G':>6s} {'best':>8s}  flag")
flagged = 0
for c in cases:
    if "stream-k" not in c:
        print(f"{c['spec']:70s} (no result)")
        continue
    bg, bt = min(c["sweep"].items(), key=lambda kv: kv[1]) if c["sweep"] else (0, float("inf"))
    sk = c["stream-k"]
    flag = "*" if sk > 1.02 * min(c.get("fixed-split", 1e30), c.get("no-split", 1e30), bt) else ""
    flagged += bool(flag)
    print(f"{c['spec'][:70]:70s} {sk:8.1f} {c['ctas']['stream-k']:4d} {c.get('fixed-split', 0):8.1f} {c.get('no-split', 0):8.1f} {bg:6d} {bt:8.1f}  {flag}")
print(f"{flagged} of {len(cases)} cases with stream-K over 2% slower than our fixed split, our no split or a swept grid")
