set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || exit 3
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
if [ "${TESTS:-1}" = 1 ]; then
( /tmp/bin/lean_tests_gpu > $OUT/t0.log 2>&1; echo "tests default rc=$? $(tail -2 $OUT/t0.log | head -1)"; LEAN_TMA=${ALT_TMA:-0} /tmp/bin/lean_tests_gpu > $OUT/t1.log 2>&1; echo "tests LEAN_TMA=${ALT_TMA:-0} rc=$? $(tail -2 $OUT/t1.log | head -1)" ) | tee $OUT/tests.txt
fi
VS=${VS:-base new}; R=$OUT/ab; mkdir -p $R
CASES=${CASES:-"b=1 hq=32 hk=32 d=128 lens=16384;b=1 hq=32 hk=8 d=128 lens=65536;b=1 hq=32 hk=1 d=128 lens=131072;b=1 hq=32 hk=32 d=128 lens=524288;b=1 hq=64 hk=64 d=64 lens=65536"}
for rep in 1 2 3; do for v in $VS; do
  /tmp/bin/$v/lean_bench --matrix small > $R/small${rep}_$v.txt 2>&1
  IFS=';'; for c in $CASES; do /tmp/bin/$v/lean_bench --case "$c" >> $R/case${rep}_$v.txt 2>&1; done; unset IFS
done; VS=$(echo $VS | tr ' ' '\n' | tac | tr '\n' ' '); done
python3 - $R $VS <<'PY' | tee $OUT/ab_table.txt
import sys,re,glob,os
R=sys.argv[1]; vs=sorted(sys.argv[2:])
rows={}
for f in sorted(glob.glob(R+'/*.txt')):
  tag,v=os.path.basename(f)[:-4].rsplit('_',1)
  for l in open(f):
    m=re.match(r'(b=\S+ hq=\S+ hk=\S+ d=\S+ \S+ tile=\S+ ctx=\S+)\s+([\d.]+)us\s+([\d.]+)us\s+([\d.]+)us',l)
    if m: rows.setdefault(m.group(1),{}).setdefault(v,[]).append(tuple(float(m.group(i)) for i in (2,3,4)))
print('%-46s'%'row', ' | '.join('%-20s'%(v+' sk fixed nosplit') for v in vs))
for k,d in rows.items():
  print('%-46s'%k, ' | '.join('%-20s'%(' '.join('/'.join('%.1f'%x[i] for x in d.get(v,[])) for i in range(3))) for v in vs))
PY
tar czf $OUT/ab.tgz -C $OUT ab && rm -rf $R
