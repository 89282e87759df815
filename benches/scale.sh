#!/usr/bin/env bash
# Stage times and memory at scale: generates DOCS documents with `diaoyan gen`, runs diaoyan on
# them into a fresh output folder, samples its resident memory twice a second, and prints each
# step of run.json with its seconds and the highest memory sampled while it ran, then the total
# wall time, MB/s (of text, as the README counts it, and of files) and GNU time's peak: the
# figures the README's scale rows and the closing notes of issue 12 quote (10k, 100k, 1M).
#
#   bash benches/scale.sh [DOCS] [SEED]        # default 100000 docs, seed 42, --no-cache
#   RERUN=1 bash benches/scale.sh 100000       # cache on; then 0.5% of the files changed and
#                                              # 0.5% added, and the re-run measured the same way
#   CORPUS=dir bash benches/scale.sh           # an existing folder instead (never changed:
#                                              # RERUN needs a generated corpus)
#   BIN=path  KEEP=dir                         # another binary; keep the corpus and outputs
#
# The samples are RSS read from /proc every 0.5 s: a step shorter than that may show no sample,
# and a peak between two samples is missed (GNU time's peak is exact). A 1M corpus is 1.7 GB of
# text in 4.5 GB of small files; it takes `diaoyan gen` about 2 minutes. Needs Linux, GNU time,
# python3.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-100000}
SEED=${2:-42}
RERUN=${RERUN:-0}
BIN=${BIN:-target/release/diaoyan}
# shellcheck source=benches/work.sh
source benches/work.sh
bench_setup
if [ -n "${CORPUS:-}" ]; then
  if [ "$RERUN" != 0 ]; then
    echo "RERUN 会改动语料，只能用本脚本生成的语料（去掉 CORPUS）" >&2
    exit 2
  fi
  IN=$CORPUS
else
  IN=$WORK/corpus
  if [ ! -d "$IN" ]; then
    echo "== 生成语料：$DOCS 份，seed $SEED"
    "$BIN" gen --docs "$DOCS" --seed "$SEED" --out "$IN" >/dev/null
    # A file modified within 3 s of a run is read again by the next one (see ingest/src/memo.rs).
    sleep 4
  fi
fi
MB=$(du -sm --apparent-size "$IN" | cut -f1)

# One run, named $1, into the output folder $WORK/$2 (with the rest of the arguments): RSS
# samples in $WORK/$1.rss ("seconds kB" lines), GNU time's report in $WORK/$1.time, then the
# per-step table.
measure() {
  local name=$1 out=$WORK/$2 log=$WORK/$1
  shift 2
  /usr/bin/time -v "$BIN" run --input "$IN" --out "$out" --quiet "$@" 2>"$log.time" &
  local timer=$! pid=""
  : >"$log.rss"
  local t0
  t0=$(date +%s.%N)
  while kill -0 "$timer" 2>/dev/null; do
    [ -z "$pid" ] && pid=$(pgrep -P "$timer" | head -n 1 || true)
    if [ -n "$pid" ]; then
      awk -v t="$(date +%s.%N)" -v t0="$t0" '/^VmRSS/ { printf "%.2f %d\n", t - t0, $2 }' \
        "/proc/$pid/status" >>"$log.rss" 2>/dev/null || true
    fi
    sleep 0.5
  done
  wait "$timer"
  python3 - "$out" "$log" "$MB" "$name" <<'EOF'
import json, sys
out, log, mb, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
run = json.load(open(out + "/run.json"))
rss = [tuple(map(float, l.split())) for l in open(log + ".rss") if len(l.split()) == 2]
report = open(log + ".time").read()
wall = next(l for l in report.splitlines() if "Elapsed (wall clock)" in l).split()[-1]
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
peak = int(next(l for l in report.splitlines() if "Maximum resident" in l).split()[-1])
# The steps run one after another from the start of the run, which begins once the program
# has loaded (the difference between the wall time and the run's own seconds).
t = max(0.0, wall - run["seconds"])
def highest(a, b):
    v = [r for (x, r) in rss if a <= x <= b + 0.5]
    return f"{max(v) / 1e6:.2f}" if v else "—"
text = run["counts"]["text_bytes"] / 1e6
print(f"\n{name}：{run['counts']['submissions']} 份，文件 {mb:.0f} MB，其中文字 {text:.0f} MB")
print(f"{'步骤':<8}{'秒':>9}{'单位':>12}{'最高内存 GB':>12}")
# Each step's start ("at", seconds into the run; summed from the durations where an older
# run.json lacks it): what lies between one step's end and the next one's start, and after the
# last, is work no bar shows.
end, gaps = 0.0, []
for s in run["steps"]:
    at = s.get("at", end)
    if at - end > 0.05:
        gaps.append((at - end, s["step"]))
    end = at + s["seconds"]
    a = t + at
    print(f"{s['step']:<8}{s['seconds']:>9.1f}{s['units']:>12}{highest(a, a + s['seconds']):>12}")
if run["seconds"] - end > 0.05:
    gaps.append((run["seconds"] - end, "（结束）"))
print(f"进度条之外 {sum(g for g, _ in gaps):.1f} 秒" + (
    "：" + "，".join(f"{name}之前 {g:.1f}" for g, name in gaps) if gaps else "")
    + f"；程序载入与收尾 {t:.1f} 秒")
print("写出结果各部分（秒）：" + "，".join(f"{w['part']} {w['seconds']:.1f}" for w in run["writing"]))
cache = run.get("cache") or {}
if cache.get("files"):
    f = cache["files"]
    print(f"缓存：沿用 {f['reused']} 个文件，重读 {f['read']} 个")
print(f"合计 {wall:.1f} 秒，按文字 {text / wall:.1f} MB/s（按文件 {mb / wall:.1f} MB/s），"
      f"峰值 {peak / 1e6:.2f} GB（GNU time）")
open(log + ".wall", "w").write(f"{wall}\n")
EOF
}

rm -rf "$WORK/out"
if [ "$RERUN" = 0 ]; then
  measure 全量运行 out --no-cache
  exit 0
fi
measure 全量运行 out
# The evening re-run: half of 1% new documents (another seed), half existing files with a
# sentence appended, then the same output folder again.
CHANGE=$((DOCS / 200))
rm -rf "$WORK/more"
"$BIN" gen --docs "$CHANGE" --seed $((SEED + 1)) --out "$WORK/more" >/dev/null
source benches/rerun_change.sh
change_corpus "$IN" "$WORK/more" "$CHANGE"
sleep 4
measure 再次运行 out
awk -v r="$(cat "$WORK/再次运行.wall")" -v f="$(cat "$WORK/全量运行.wall")" \
  'BEGIN { printf "\n再次运行（改动、新增各 0.5%%）为全量运行的 %.0f%%\n", 100 * r / f }'
