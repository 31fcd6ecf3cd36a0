#!/usr/bin/env python3
"""Random decode problems for a planner audit (bench/NOTES.md step 66): one `lean_bench --case` spec a
line. Uniform and ragged batches, MHA/GQA/MQA, head dims 64-256, 1k-300k tokens, K/V <= 4 GB.
Usage: audit_cases.py [count] [seed]"""
import random
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 18)
heads = [(32, 32), (32, 8), (32, 4), (32, 1), (64, 8), (64, 1), (16, 16), (40, 8), (28, 4), (48, 1), (16, 2)]
made = 0
while made < count:
    b = rng.choice([1, 1, 1, 2, 3, 4, 6, 8, 12, 16])
    hq, hk = rng.choice(heads)
    d = rng.choice([64, 128, 128, 128, 256])
    ragged = b > 1 and rng.random() < 0.3
    lens = [int(10 ** rng.uniform(3, 5.48)) for _ in range(b if ragged else 1)]
    if 4 * d * hk * sum(lens) * (1 if ragged else b) > 4e9:
        continue
    spec = ",".join(map(str, lens))
    print(f"b={b} hq={hq} hk={hk} d={d} lens={spec}")
    made += 1
