import re,sys
for f in sys.argv[1:]:
    ins=[]
    for l in open(f):
        m=re.match(r'\s+/\*([0-9a-f]+)\*/\s+(.*?);',l)
        if m: ins.append((int(m.group(1),16),m.group(2).strip()))
    addr=[a for a,_ in ins]
    hm=[a for a,t in ins if 'HMMA' in t]
    lo,hi=min(hm),max(hm)
    # back edges enclosing the HMMA range
    best=None
    for a,t in ins:
        m=re.search(r'BRA\s+(?:`?\(?\.?L_x_\d+\)?|0x([0-9a-f]+))',t)
        m2=re.search(r'0x([0-9a-f]+)',t) if 'BRA' in t else None
        if m2:
            tgt=int(m2.group(1),16)
            if tgt<=lo and a>=hi and (best is None or a-tgt<best[1]-best[0]): best=(tgt,a)
    if best is None: print(f,'no loop'); continue
    body=[(a,t) for a,t in ins if best[0]<=a<=best[1]]
    ops={}
    for a,t in body:
        op=t.split()[0] if not t.startswith('@') else t.split()[1]
        op=op.split('.')[0]; ops[op]=ops.get(op,0)+1
    print(f,'loop %x-%x'%best,len(body),'instr;',' '.join('%s=%d'%(k,v) for k,v in sorted(ops.items(),key=lambda x:-x[1])[:28]))
