#!/usr/bin/env python3
"""Plots a peers.csv (bench/peers.py) as two SVGs per row family with a context sweep: time per
call and K/V bandwidth against context length, one line per schedule and peer. No dependencies.

    python3 bench/plot_peers.py bench/results/h100/final/peers.csv bench/results/h100/final
"""
import csv
import math
import os
import sys

NAMES = ["stream-k", "fixed-split", "no-split", "cudnn", "flash"]
COLOURS = ["#d62728", "#ff7f0e", "#7f7f7f", "#1f77b4", "#2ca02c"]


def context(row):
    return int(row["row"].split()[3])  # "b1 h32/32 d128 1024 fp16"


def svg(points, title, ylabel, log_y):
    """points: {name: [(context, value)]} -> SVG text, log2 x axis."""
    W, H, L, B = 760, 420, 80, 50
    xs = sorted({x for pts in points.values() for x, _ in pts})
    ys = [y for pts in points.values() for _, y in pts if y > 0 and not math.isnan(y)]
    fy = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    x0, x1 = math.log2(xs[0]), math.log2(xs[-1])
    y0, y1 = fy(min(ys)), fy(max(ys))
    if not log_y:
        y0 = 0.0
    px = lambda x: L + (math.log2(x) - x0) / max(1e-9, x1 - x0) * (W - L - 150)
    py = lambda y: H - B - (fy(y) - y0) / max(1e-9, y1 - y0) * (H - B - 40)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='11'>",
           "<rect width='100%' height='100%' fill='white'/>", f"<text x='{L}' y='20' font-size='13'>{title}</text>"]
    for x in xs:
        out.append(f"<text x='{px(x):.0f}' y='{H - B + 16}' text-anchor='middle'>{x // 1024}k</text>")
    ticks = [10 ** e for e in range(math.floor(y0), math.ceil(y1) + 1)] if log_y else [y1 * k / 5 for k in range(6)]
    for t in ticks:
        v = t if log_y else t
        if (fy(v) if log_y else v) < y0 - 1e-9 or (fy(v) if log_y else v) > y1 + 1e-9:
            continue
        yy = py(v) if log_y else H - B - (v - y0) / max(1e-9, y1 - y0) * (H - B - 40)
        out.append(f"<line x1='{L}' x2='{W - 150}' y1='{yy:.0f}' y2='{yy:.0f}' stroke='#eee'/>")
        out.append(f"<text x='{L - 6}' y='{yy + 4:.0f}' text-anchor='end'>{v:g}</text>" if log_y else f"<text x='{L - 6}' y='{yy + 4:.0f}' text-anchor='end'>{v:.0f}</text>")
    for k, (name, colour) in enumerate(zip(NAMES, COLOURS)):
        pts = [(x, y) for x, y in points.get(name, []) if y > 0 and not math.isnan(y)]
        if not pts:
            continue
        coords = " ".join(f"{px(x):.1f},{(py(y) if log_y else H - B - (y - y0) / max(1e-9, y1 - y0) * (H - B - 40)):.1f}" for x, y in pts)
        out.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{coords}'/>")
        out.append(f"<text x='{W - 140}' y='{60 + 16 * k}' fill='{colour}'>{name}</text>")
    out.append(f"<text x='{(W - 150) / 2}' y='{H - 12}'>context tokens; y: {ylabel}</text></svg>")
    return "\n".join(out)


def plot(csv_path, out_dir):
    rows = list(csv.DictReader(open(csv_path)))
    card = rows[0]["card"]
    written = []
    for family in sorted({r["family"] for r in rows}):
        fam = [r for r in rows if r["family"] == family and r["row"].split()[3].isdigit() and len(r["row"].split()) == 5]
        if len({context(r) for r in fam}) < 2:
            continue
        fam.sort(key=context)
        mb = {context(r): float(r["kv_mb"]) for r in fam}
        times = {n: [(context(r), float(r[f"{n}_us"])) for r in fam] for n in NAMES}
        bw = {n: [(x, mb[x] * 1e6 / (t * 1e3)) for x, t in pts] for n, pts in times.items()}
        slug = family.replace(" ", "_").lower()
        for kind, pts, label, log_y in (("time", times, "us per call (log)", True), ("bandwidth", bw, "K/V GB/s", False)):
            path = os.path.join(out_dir, f"plot_{slug}_{kind}.svg")
            title = f"{card}: {family}, {'time per decode call' if kind == 'time' else 'K/V bandwidth'} (read ceiling {rows[0]['read_gbps']} GB/s)"
            open(path, "w").write(svg(pts, title, label, log_y))
            written.append(path)
    return written


if __name__ == "__main__":
    for p in plot(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "."):
        print("wrote", p)
