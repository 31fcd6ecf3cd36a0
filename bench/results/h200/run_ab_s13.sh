#!/usr/bin/env bash
# Session 13: A/B of two builds (VS="base new") on the quick, small and paged matrices, and on
# CASES (";"-separated lean_bench --case specs), three alternating repeats, after the new
# build's GPU tests (three load modes) and sanitizers. Binaries from .carry/bin.tar.xz ({base,new}/).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
NEW=${NEW:-new}
if [ "${TESTS:-1}" = 1 ]; then
  for m in def 0 1; do
    if [ $m = def ]; then /tmp/bin/$NEW/lean_tests_gpu > $OUT/tests_$m.log 2>&1; else LEAN_TMA=$m /tmp/bin/$NEW/lean_tests_gpu > $OUT/tests_$m.log 2>&1; fi
    echo "tests LEAN_TMA=$m rc=$? $(grep -E 'passed|failed' $OUT/tests_$m.log | tail -1)"
  done | tee $OUT/tests.txt
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --error-exitcode 9 /tmp/bin/$NEW/lean_tests_gpu "[sanitize]" > $OUT/san_$tool.log 2>&1
    echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $OUT/san_$tool.log | tail -1)" | tee -a $OUT/tests.txt
  done
fi
VS=${VS:-base new}; R=$OUT/ab; mkdir -p $R
for rep in 1 2 3; do for v in $VS; do
  for m in ${MATS:-quick small}; do /tmp/bin/$v/lean_bench --matrix $m > $R/${m}${rep}_$v.txt 2>&1; done
  for pg in ${PAGES:-64 16}; do /tmp/bin/$v/lean_bench --matrix paged --page $pg > $R/page${pg}x${rep}_$v.txt 2>&1; done
  IFS=';'; for c in ${CASES:-}; do /tmp/bin/$v/lean_bench --case "$c" >> $R/case${rep}_$v.txt 2>&1; done; unset IFS
done; VS=$(echo $VS | tr ' ' '\n' | tac | tr '\n' ' '); done
python3 - $R $VS <<'PY' | tee $OUT/ab_table.txt
import sys,re,glob,os
R=sys.argv[1]; vs=sorted(set(sys.argv[2:]))
rows={}
for f in sorted(glob.glob(R+'/*.txt')):
  tag,v=os.path.basename(f)[:-4].rsplit('_',1)
  mat=re.sub(r'x?\d+$','',tag)
  for l in open(f):
    m=re.match(r'(b=.*?)\s+([\d.]+)us\s+([\d.]+)us\s+([\d.]+)us',l)
    if m:
      key=(mat if mat.startswith('page') else '')+' '+m.group(1).replace(' tile=64','').replace('fp16 ','')
      rows.setdefault(key.strip(),{}).setdefault(v,[]).append(tuple(float(m.group(i)) for i in (2,3,4)))
print('%-58s'%'row (us: stream-k | fixed | no-split, per repeat)', ' | '.join('%-34s'%v for v in vs))
for k,d in rows.items():
  print('%-58s'%k[:58], ' | '.join('%-34s'%('  '.join('/'.join('%.1f'%x[i] for x in d.get(v,[])) for i in range(3))) for v in vs))
PY
tar czf $OUT/ab.tgz -C $OUT ab && rm -rf $R
