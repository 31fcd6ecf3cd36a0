#!/usr/bin/env bash
# Same-run A/B of builds on a GPU machine (bench/NOTES.md: compare only within one run).
# Binaries come from .carry/bin.tar.xz, one directory per build ({base,new}/ with lean_bench,
# lean_tests_gpu, stream_probe). A variant NAME=VAR=VALUE (e.g. pad0=LEAN_UNIT_PAD=0) runs the
# `new` build with that environment override. Environment:
#   WANT       substring the card's name must hold (exit 3 otherwise), default "H"
#   VS         variants timed on the matrices, in alternating order per repeat, default "base new"
#   CASE_VS    variants timed on the cases, default $VS
#   MATS       lean_bench matrices, default "quick small"; PAGES page sizes of the paged matrix
#   CASES_FILE one lean_bench --case spec a line; REPS repeats (3); TESTS=1 runs the new build's
#              GPU tests in three load modes plus memcheck and racecheck first
# Writes under $OUT: card.txt, probe.txt, tests*.log, ab.tgz (raw), ab_table.txt (printed last).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/ab_bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
export LEAN_GOLDEN_DIR=golden/data
VS=${VS:-base new}; CASE_VS=${CASE_VS:-$VS}
for v in $VS $CASE_VS; do  # variants NAME=VAR=VALUE: wrappers around the new build
  case $v in *=*=*) n=${v%%=*}; kv=${v#*=}; mkdir -p $B/$n
    for exe in lean_bench lean_tests_gpu; do printf '#!/bin/sh\nexport %s\nexec %s/new/%s "$@"\n' "$kv" $B $exe > $B/$n/$exe; chmod +x $B/$n/$exe; done;;
  esac
done
name() { echo ${1%%=*}; }
$B/new/stream_probe 2>&1 | head -2 | tee $OUT/probe.txt
[ "${TESTS:-1}" = 1 ] && bash bench/gpu_tests.sh $B/new
R=$OUT/ab; mkdir -p $R
for rep in $(seq ${REPS:-3}); do
  for v in $VS; do n=$(name $v)
    for m in ${MATS:-quick small}; do $B/$n/lean_bench --matrix $m > $R/${m}${rep}_$n.txt 2>&1; done
    for pg in ${PAGES:-}; do $B/$n/lean_bench --matrix paged --page $pg > $R/page${pg}x${rep}_$n.txt 2>&1; done
  done
  for v in $CASE_VS; do n=$(name $v)
    [ -n "${CASES_FILE:-}" ] && while IFS= read -r c; do [ -n "$c" ] && $B/$n/lean_bench --case "$c" >> $R/case${rep}_$n.txt 2>&1; done < "$CASES_FILE"
  done
  VS=$(echo $VS | tr ' ' '\n' | tac | tr '\n' ' '); CASE_VS=$(echo $CASE_VS | tr ' ' '\n' | tac | tr '\n' ' ')
done
python3 - $R <<'PY' | tee $OUT/ab_table.txt
import sys,re,glob,os
R=sys.argv[1]
rows={}; vs=[]
for f in sorted(glob.glob(R+'/*.txt')):
  tag,v=os.path.basename(f)[:-4].rsplit('_',1)
  if v not in vs: vs.append(v)
  mat=re.sub(r'x?\d+$','',tag)
  for l in open(f):
    m=re.match(r'(b=.*?)\s+([\d.]+)us\s+([\d.]+)us\s+([\d.]+)us',l)
    if m:
      key=(mat if mat.startswith('page') else '')+' '+re.sub(r' total=\d+','',m.group(1).replace(' tile=64','').replace('fp16 ',''))
      rows.setdefault(key.strip(),{}).setdefault(v,[]).append(tuple(float(m.group(i)) for i in (2,3,4)))
print('%-50s'%'row (us: stream-k | fixed | no-split, per repeat)', ' | '.join('%-30s'%v for v in vs))
for k,d in rows.items():
  print('%-50s'%k[:50], ' | '.join('%-30s'%('  '.join('/'.join('%.1f'%x[i] for x in d.get(v,[])) for i in range(3))) for v in vs))
PY
tar czf $OUT/ab.tgz -C $OUT ab && rm -rf $R
