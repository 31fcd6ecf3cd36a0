import json,sys,statistics as st
for v in sys.argv[1:]:
    d=json.load(open(v+'/trace_0.json')); t=d['trace']; G=d['grid']; S=d['max_segments']; w=4+5*S
    ctas=[t[i*w:(i+1)*w] for i in range(G)]
    t0=min(c[1] for c in ctas)
    bynseg={}; gaps=[]; epi=[]; first=[]
    for c in ctas:
        n=c[3]; end=(c[2]-t0)/1e3
        bynseg.setdefault(n,[]).append(end)
        segs=[c[4+5*k:9+5*k] for k in range(min(n,S))]
        first.append((segs[0][1]-c[1])/1e3)
        for k,s in enumerate(segs):
            epi.append((s[3]-s[2])/1e3)
            if k+1<len(segs): gaps.append((segs[k+1][1]-s[3])/1e3)
    print(v,'end max %.1f'%max(e for l in bynseg.values() for e in l))
    for n in sorted(bynseg): l=bynseg[n]; print('  %d segs: %3d CTAs, end median %.1f max %.1f'%(n,len(l),st.median(l),max(l)))
    print('  epilogue median %.2f us, gap written->next begin median %.2f max %.2f, start->first seg median %.2f'%(st.median(epi),st.median(gaps),max(gaps),st.median(first)))
