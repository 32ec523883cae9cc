#!/usr/bin/env bash
# How often `perf-timer diff` is wrong, on real process runs of one
# program (examples/verdict_workload.rs: four timers of about 1, 10, 30 and
# 100 µs of CPU work, 2,000 runs each):
#   - no change: 20 runs of the same binary, diffed in disjoint pairs of
#     files (10 of 1-vs-1, 3 of 3-vs-3, 2 of 5-vs-5): every exit 1 is a
#     false regression;
#   - a 2× slower "render", 5 runs against 5, in 5 trials;
#   - a 20 % slower "render", 5-vs-5 and 10-vs-10, in 5 trials each.
# Usage: [LOAD=N] [BY=median] benches/verdict.sh [TRIALS]
#   LOAD=N runs N busy loops beside (a loaded machine); BY is diff's --by.
# Prints a summary; the files stay in target/verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-5}"
by="${BY:-median}"
cargo build --quiet --release --features save --example verdict_workload
cargo build --quiet --release -p perf-timer-cli
program=target/release/examples/verdict_workload
cli=target/release/perf-timer
dir=target/verdict
rm -rf "$dir" && mkdir -p "$dir"
loads=()
for _ in $(seq "${LOAD:-0}"); do
  yes > /dev/null &
  loads+=($!)
done
trap '[ "${#loads[@]}" -eq 0 ] || kill "${loads[@]}"' EXIT

runs() { # FILE COUNT [SLOW]
  for _ in $(seq "$2"); do
    SLOW="${3:-}" PERF_TIMER_SAVE="$1" "$program" > /dev/null 2>&1
  done
}

for i in $(seq -w 1 20); do runs "$dir/r$i.jsonl" 1; done
cat_runs() { for i in "$@"; do cat "$dir/r$(printf %02d "$i").jsonl"; done; }

false_exits=0; comparisons=0
declare -A verdicts=()
diff_files() { # BASE NEW LABEL
  set +e
  "$cli" diff "$1" "$2" --by "$by" --format json > "$dir/out.json"
  code=$?
  set -e
  comparisons=$((comparisons + 1))
  [ "$code" -eq 1 ] && false_exits=$((false_exits + 1))
  line=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (t["timer"], t["verdict"].replace(" ", "_")) for t in d["timers"]))
' "$dir/out.json")
  printf '%-8s exit %s  %s\n' "$3" "$code" "$line"
  for v in $line; do verdicts[${v#*=}]=$(( ${verdicts[${v#*=}]:-0} + 1 )); done
}

echo "== the same program, 20 runs, disjoint comparisons"
for i in 1 3 5 7 9 11 13 15 17 19; do
  diff_files "$dir/r$(printf %02d $i).jsonl" "$dir/r$(printf %02d $((i + 1))).jsonl" "1v1"
done
for start in 1 7 13; do
  cat_runs $start $((start + 1)) $((start + 2)) > "$dir/a.jsonl"
  cat_runs $((start + 3)) $((start + 4)) $((start + 5)) > "$dir/b.jsonl"
  diff_files "$dir/a.jsonl" "$dir/b.jsonl" "3v3"
done
for start in 1 11; do
  cat_runs $(seq $start $((start + 4))) > "$dir/a.jsonl"
  cat_runs $(seq $((start + 5)) $((start + 9))) > "$dir/b.jsonl"
  diff_files "$dir/a.jsonl" "$dir/b.jsonl" "5v5"
done
echo "false regressions (exit 1): $false_exits of $comparisons comparisons"
for v in "${!verdicts[@]}"; do echo "  timer verdicts $v: ${verdicts[$v]}"; done

power() { # FACTOR RUNS LABEL
  hits=0
  for t in $(seq "$trials"); do
    rm -f "$dir/base.jsonl" "$dir/new.jsonl"
    runs "$dir/base.jsonl" "$2"
    runs "$dir/new.jsonl" "$2" "render:$1"
    set +e
    "$cli" diff "$dir/base.jsonl" "$dir/new.jsonl" --by "$by" --format json > "$dir/out.json"
    code=$?
    set -e
    summary=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
rows = {t["timer"]: t for t in d["timers"]}
r = rows["render"]
others = [t["timer"] for t in d["timers"] if t["timer"] != "render" and t["verdict"] == "regressed"]
spread = max((r[s]["spread"] or 0) for s in ("base", "new")) * 100
c = r["change"]
print("%s render=%s %+.1f%% [%+.1f, %+.1f] spread ±%.1f%% others_regressed=%s" % (
    "HIT" if r["verdict"] == "regressed" and not others else "MISS",
    r["verdict"].replace(" ", "_"), c["percent"], c["low_percent"], c["high_percent"], spread,
    ",".join(others) or "none"))
' "$dir/out.json")
    echo "$3 trial $t: exit $code $summary"
    case "$summary" in HIT*) hits=$((hits + 1)) ;; esac
  done
  echo "$3: detected (only render regressed) in $hits of $trials trials"
}

echo "== render 2× slower"
power 2 5 "2x 5v5"
echo "== render 20 % slower"
power 1.2 5 "1.2x 5v5"
power 1.2 10 "1.2x 10v10"
