#!/usr/bin/env bash
# diaoyan against the Python reference pipeline (../shared/baseline), side by side, in one run, on
# the same generated corpus: wall time, peak memory, and the ratio.
#
#   bash benches/vs_python.sh [DOCS] [SEED]        # default 10000 docs, seed 42
#   ROUNDS=3 bash benches/vs_python.sh             # both sides 3 times, alternating; medians
#
# This machine's speed drifts by ±15% from one run to the next (and by a third between days):
# with ROUNDS above 1 the two programs take turns, each round's times are printed, and the
# ratio is that of the medians.
#
# Then adds 1% new or changed files and times the re-run into the same output folder.
#
# Sets up the reference's venv from its requirements.txt (in $VENV, default
# target/pyref-venv) on first use; builds diaoyan in release. Needs python3 (3.11) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-10000}
SEED=${2:-42}
ROUNDS=${ROUNDS:-1}
BASE=${BASELINE:-../shared/baseline}
VENV=${VENV:-target/pyref-venv}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ ! -f "$BASE/pipeline.py" ]; then
  echo "没有找到 Python 参照程序：$BASE/pipeline.py（可用 BASELINE=目录 指定）" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "== 安装参照程序的 Python 环境（$VENV）"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$BASE/requirements.txt"
fi
cargo build --release --quiet

echo "== 生成语料：$DOCS 份，seed $SEED"
"$VENV/bin/python" "$BASE/make_corpus.py" "$WORK/corpus" "$DOCS" --seed "$SEED"
# The manifest is the truth, not input.
mv "$WORK/corpus/manifest.csv" "$WORK/manifest.csv"
MB=$(du -sm --apparent-size "$WORK/corpus" | cut -f1)

# Runs a command under GNU time; prints "wall_seconds peak_kb".
measure() {
  local log="$WORK/time.$1"
  shift
  /usr/bin/time -v "$@" >"$log.out" 2>"$log"
  local wall peak
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  peak=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$wall $peak"
}

# One round: diaoyan, then the reference, each into a fresh output folder.
d_walls=(); d_peaks=(); p_walls=(); p_peaks=()
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/out-rust" "$WORK/out-py"
  echo "== diaoyan（第 $round 轮）"
  read -r w p < <(measure diaoyan target/release/diaoyan run --input "$WORK/corpus" --out "$WORK/out-rust" --quiet)
  d_walls+=("$w"); d_peaks+=("$p")
  echo "== Python 参照程序（第 $round 轮）"
  read -r w p < <(measure python "$VENV/bin/python" "$BASE/pipeline.py" "$WORK/corpus" "$WORK/out-py")
  p_walls+=("$w"); p_peaks+=("$p")
  [ "$ROUNDS" -gt 1 ] && awk -v r="$round" -v d="${d_walls[-1]}" -v p="${p_walls[-1]}" \
    'BEGIN { printf "第 %d 轮：diaoyan %.1f 秒，Python %.1f 秒，%.1f×\n", r, d, p, p / d }'
done
# The middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
d_wall=$(median "${d_walls[@]}"); d_peak=$(median "${d_peaks[@]}")
p_wall=$(median "${p_walls[@]}"); p_peak=$(median "${p_peaks[@]}")
# The reference's peak counts its largest worker too (timings.json); GNU time sees the main process.
p_worker=$("$VENV/bin/python" -c "import json,sys; t=json.load(open(sys.argv[1])); print(t.get('peak_rss_worker_mb') or t.get('peak_rss_workers_mb') or '')" "$WORK/out-py/timings.json" 2>/dev/null || true)

echo
printf '语料 %s 份（%s MB），%s 核\n' "$DOCS" "$MB" "$(nproc)"
[ "$ROUNDS" -gt 1 ] && printf '（%s 轮交替运行，下面是中位数）\n' "$ROUNDS"
printf '%-10s %10s %12s\n' "程序" "用时（秒）" "峰值内存（MB）"
printf '%-10s %10.1f %12d\n' "diaoyan" "$d_wall" $((d_peak / 1024))
printf '%-10s %10.1f %12d\n' "Python" "$p_wall" $((p_peak / 1024))
[ -n "$p_worker" ] && printf '（Python 最大工作进程峰值 %s MB）\n' "$p_worker"
awk -v p="$p_wall" -v d="$d_wall" -v mb="$MB" 'BEGIN {
  printf "速度比 %.1f×；diaoyan 吞吐 %.1f MB/s\n", p / d, mb / d }'

# The evening re-run: 1% of the files added or changed (half new texts from another seed, half
# existing files with a sentence appended), run again into the same folder.
CHANGE=$((DOCS / 200))
if [ "$CHANGE" -gt 0 ]; then
  "$VENV/bin/python" "$BASE/make_corpus.py" "$WORK/more" "$CHANGE" --seed $((SEED + 1)) >/dev/null 2>&1
  source benches/rerun_change.sh
  change_corpus "$WORK/corpus" "$WORK/more" "$CHANGE"
  read -r r_wall r_peak < <(measure rerun target/release/diaoyan run --input "$WORK/corpus" --out "$WORK/out-rust" --quiet)
  printf '再次运行（新增 %s 份、改动 %s 份）：%.1f 秒，峰值 %d MB，为全量运行的 %.0f%%\n' \
    "$CHANGE" "$CHANGE" "$r_wall" $((r_peak / 1024)) "$(awk -v r="$r_wall" -v d="$d_wall" 'BEGIN { print 100 * r / d }')"
fi
