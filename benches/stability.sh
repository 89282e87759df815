#!/usr/bin/env bash
# How much an evening's new material moves the issues of material already in: generates DOCS
# documents with `diaoyan gen`, runs diaoyan on them (`--no-cache`), changes 0.5% of the files
# and adds 0.5% more (as `scale.sh` does for its re-run), runs again into another folder, and
# compares the two suggestion lists. Each issue of the first run is matched to the issue of the
# second run that holds most of its suggestions; an unchanged suggestion (same id: same file,
# same place, same text) that is not in its issue's match has moved. Also counts issues of the
# first run that went into one issue of the second (merged) and the issues of each run.
#
#   bash benches/stability.sh [DOCS] [SEED]      # default 10000 docs, seed 42
#   BIN=path KEEP=dir                            # another binary; keep the corpus and outputs
#
# The figures `benches/HISTORY.md` quotes for issue stability (2026-12-05) come from this
# method. Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-10000}
SEED=${2:-42}
BIN=${BIN:-target/release/diaoyan}
# shellcheck source=benches/work.sh
source benches/work.sh
bench_setup
# shellcheck source=benches/rerun_change.sh
source benches/rerun_change.sh
CHANGED=$(((DOCS + 199) / 200))
echo "== 生成语料：$DOCS 份，seed $SEED；再改动、新增各 $CHANGED 份"
"$BIN" gen --docs "$DOCS" --seed "$SEED" --out "$WORK/corpus" >/dev/null
"$BIN" gen --docs "$CHANGED" --seed $((SEED + 1)) --out "$WORK/more" >/dev/null
"$BIN" run --input "$WORK/corpus" --out "$WORK/before" --quiet --no-cache
change_corpus "$WORK/corpus" "$WORK/more" "$CHANGED"
"$BIN" run --input "$WORK/corpus" --out "$WORK/after" --quiet --no-cache
python3 - "$WORK/before" "$WORK/after" <<'EOF'
import collections, csv, sys
csv.field_size_limit(1 << 30)

def issues(out):
    with open(out + "/suggestions.csv", encoding="utf-8-sig", newline="") as f:
        return {r["ID"]: r["问题编号"] for r in csv.DictReader(f)}

before, after = issues(sys.argv[1]), issues(sys.argv[2])
common = [k for k in before if k in after]
held = collections.defaultdict(collections.Counter)
for k in common:
    if before[k]:
        held[before[k]][after[k]] += 1
match = {i: c.most_common(1)[0][0] for i, c in held.items()}
in_issue = sum(1 for k in common if before[k] or after[k])
moved = sum(1 for k in common if before[k] and after[k] != match[before[k]])
joined = sum(1 for k in common if not before[k] and after[k])
merged = sum(1 for n in collections.Counter(v for v in match.values() if v).values() if n > 1)
count = lambda m: len({v for v in m.values() if v})
print(f"未改动的意见 {len(common)} 条，其中在问题清单里的 {in_issue} 条")
print(f"换到别的问题的 {moved} 条（{100 * moved / max(in_issue, 1):.2f}%），新进问题清单的 {joined} 条")
print(f"前一次的问题并进同一个问题的 {merged} 处；问题数 {count(before)} → {count(after)}")
EOF
