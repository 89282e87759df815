# The evening re-run's change, shared by vs_python.sh and scale.sh (sourced, not run):
#   change_corpus CORPUS NEW COUNT
# adds the .txt files of NEW to CORPUS/补交 (补交1.txt, 补交2.txt, … in sorted order) and appends
# one sentence to each of the first COUNT other .txt files of CORPUS (sorted).
change_corpus() {
  local corpus=$1 new=$2 count=$3 i=0 f texts
  mkdir -p "$corpus/补交"
  while IFS= read -r f; do
    i=$((i + 1))
    cp "$f" "$corpus/补交/补交$i.txt"
  done < <(find "$new" -type f -name '*.txt' | sort)
  # (No `head` in a pipeline: under pipefail its early exit would fail the script.)
  mapfile -t texts < <(find "$corpus" -type f -name '*.txt' -not -path '*/补交/*' | sort)
  for f in "${texts[@]:0:$count}"; do
    echo "补记：三组反映灌溉水渠有2处渗漏，涉及农户6户。" >>"$f"
  done
}
