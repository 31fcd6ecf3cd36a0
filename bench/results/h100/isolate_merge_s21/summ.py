import csv, glob, sys, collections, os
d = sys.argv[1]
t = collections.defaultdict(list)
cfgs = []
for f in sorted(glob.glob(os.path.join(d, '*.csv'))):
    mat, cfg, rep = os.path.basename(f)[:-4].split('_')
    if cfg not in cfgs: cfgs.append(cfg)
    for r in csv.DictReader(open(f)):
        t[(r['problem'].replace(' fp16 tile=64', '') + (' ' + mat if mat.startswith('p') else ''), r['schedule'], cfg)].append(float(r['us']))
probs = sorted({(k[0], k[1]) for k in t})
print('%-44s %-11s' % ('problem', 'sched') + ''.join('%16s' % c for c in cfgs))
for p, s in probs:
    print('%-44s %-11s' % (p, s) + ''.join('%16s' % '/'.join('%.1f' % x for x in t.get((p, s, c), [])) for c in cfgs))
