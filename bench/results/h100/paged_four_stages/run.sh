# Session 7, run 7 (H100): pages at one CTA per SM with four stages (experiment build: KernelShape::stages 4 at
# head dim <= 128, .carry/exp) against the library's three (.carry), b8 GQA 32/8 16k, pages of 16 and 64
set -u
R=/tmp/r7; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 || { echo "not an H100"; exit 3; }
for r in 1 2; do for v in base exp; do D=.carry; [ $v = exp ] && D=.carry/exp
  for pg in 16 64; do $D/lean_bench --matrix paged --page $pg --sweep-grid 128,256 --reps 100 > $R/p${pg}_${v}_$r.txt 2>&1; done; done; done
for f in $R/p*_*.txt; do echo "== $(basename $f)"; grep -E "ctx=|sweep" $f | cut -c1-160; done
tar czf $OUT/r7.tgz -C /tmp r7
