#!/usr/bin/env bash
# Two builds of diaoyan compared the way this machine allows: taking turns on the same input
# (its speed drifts by ±15% from one run to the next and by 2× between hours), each run into a
# fresh output folder with `--no-cache`. Prints each run's wall seconds (run.json) and CPU
# seconds (user + system, GNU time), the means and the new build's change, and then whether the
# two builds' outputs are the same byte for byte — apart from what differs between any two runs
# (run.json, the index folder's segment files, the creation time inside the workbooks).
#
#   bash benches/ab.sh OLD NEW [ROUNDS]          # two binaries; default 3 rounds
#   CORPUS=dir bash benches/ab.sh OLD NEW        # an existing folder of texts (default: 10,000
#                                                # documents of `diaoyan gen`, seed 42)
#   KEEP=dir                                     # keep the corpus and the last outputs
#
# Build the old binary first (`git stash; cargo build --release; cp target/release/diaoyan
# /tmp/old; git stash pop`) and never build while this runs. Needs GNU time, unzip, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "用法：bash benches/ab.sh 旧程序 新程序 [轮数]（两个可执行文件都要存在）" >&2
  exit 2
fi
OLD=$(realpath "$1")
NEW=$(realpath "$2")
ROUNDS=${3:-3}
BIN=$NEW
# shellcheck source=benches/work.sh
source benches/work.sh
bench_setup
if [ -n "${CORPUS:-}" ]; then
  IN=$CORPUS
else
  IN=$WORK/corpus
  if [ ! -d "$IN" ]; then
    echo "== 生成语料：10000 份，seed 42"
    "$NEW" gen --docs 10000 --seed 42 --out "$IN" >/dev/null
  fi
fi

# One run of binary $2 into $WORK/out-$1; prints "wall cpu".
run() {
  local out=$WORK/out-$1
  rm -rf "$out"
  /usr/bin/time -f "%U %S" -o "$WORK/time-$1" "$2" run --input "$IN" --out "$out" --no-cache --quiet
  python3 - "$out/run.json" "$WORK/time-$1" <<'PY'
import json, sys
wall = json.load(open(sys.argv[1]))["seconds"]
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
print(f"{wall:.2f} {user + system:.2f}")
PY
}

: >"$WORK/ab.txt"
for round in $(seq 1 "$ROUNDS"); do
  read -r ow oc < <(run old "$OLD")
  read -r nw nc < <(run new "$NEW")
  echo "$ow $oc $nw $nc" >>"$WORK/ab.txt"
  printf '第 %d 轮：旧 %.2f 秒（CPU %.2f 秒），新 %.2f 秒（CPU %.2f 秒）\n' "$round" "$ow" "$oc" "$nw" "$nc"
done
awk '{ ow += $1; oc += $2; nw += $3; nc += $4; n++ }
  END {
    printf "平均：旧 %.2f 秒（CPU %.2f 秒），新 %.2f 秒（CPU %.2f 秒）；墙钟 %+.1f%%，CPU %+.1f%%\n",
      ow / n, oc / n, nw / n, nc / n, 100 * (nw - ow) / ow, 100 * (nc - oc) / oc
  }' "$WORK/ab.txt"

# The outputs of the last round, file by file. Workbooks are compared by their parts, without
# docProps/core.xml (it holds the time it was written).
differ=0
while IFS= read -r f; do
  a=$WORK/out-old/$f
  b=$WORK/out-new/$f
  if [ ! -f "$b" ]; then
    echo "只有旧程序写了：$f"
    differ=1
  elif [[ $f == *.xlsx ]]; then
    rm -rf "$WORK/xa" "$WORK/xb"
    unzip -q "$a" -d "$WORK/xa"
    unzip -q "$b" -d "$WORK/xb"
    rm -f "$WORK/xa/docProps/core.xml" "$WORK/xb/docProps/core.xml"
    if ! diff -rq "$WORK/xa" "$WORK/xb" >/dev/null; then
      echo "不同：$f"
      differ=1
    fi
  elif ! cmp -s "$a" "$b"; then
    echo "不同：$f"
    differ=1
  fi
done < <(cd "$WORK/out-old" && find . -type f -not -path './index/*' -not -path './.diaoyan-cache/*' \
  -not -name run.json | sed 's|^\./||' | sort)
while IFS= read -r f; do
  [ -f "$WORK/out-old/$f" ] || { echo "只有新程序写了：$f"; differ=1; }
done < <(cd "$WORK/out-new" && find . -type f -not -path './index/*' -not -path './.diaoyan-cache/*' \
  -not -name run.json | sed 's|^\./||' | sort)
if [ "$differ" = 0 ]; then
  echo "两个程序的输出逐字节相同（不计 run.json、索引的段文件和工作簿里的写出时间）"
fi
exit "$differ"
