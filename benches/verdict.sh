#!/usr/bin/env bash
# How often `perf-timer diff` is wrong, on real process runs of one
# program (examples/verdict_workload.rs: four timers of about 1, 10, 30 and
# 100 µs of CPU work, a two-mode "cache" (~10 or ~100 µs, even odds per
# call) and a clock-tick-sized "guard", 2,000 runs each):
#   - no change: 110 runs of the same binary, diffed in disjoint sets of
#     files: 40 of 1-vs-1 (runs 1–80), 10 of one-vs-ten (runs 1–110 in
#     groups of 11, the one run as base and as new in turn), 3 of 3-vs-3
#     and 2 of 5-vs-5 (runs 1–20): every exit 1 is a false regression;
#   - a 2× slower "render", 5 runs against 5, in 5 trials;
#   - a 20 % slower "render", 5-vs-5 and 10-vs-10, in 5 trials each;
#   base and new runs alternated, and a trial counts only when "render"
#   alone regressed.
# Usage: [LOAD=N] [BY=median] [POOL=110] benches/verdict.sh [TRIALS]
#   LOAD=N runs N busy loops beside (a loaded machine); BY is diff's --by;
#   POOL fewer runs of the same program for a shorter run (comparisons
#   that need runs beyond it are left out).
# Prints a summary; the files stay in target/verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-5}"
by="${BY:-median}"
pool="${POOL:-110}"
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

for i in $(seq 1 "$pool"); do runs "$dir/r$(printf %03d "$i").jsonl" 1; done
cat_runs() { for i in "$@"; do cat "$dir/r$(printf %03d "$i").jsonl"; done; }

declare -A false_exits=() comparisons=() verdicts=()
diff_files() { # BASE NEW LABEL
  set +e
  "$cli" diff "$1" "$2" --by "$by" --format json > "$dir/out.json"
  code=$?
  set -e
  comparisons[$3]=$(( ${comparisons[$3]:-0} + 1 ))
  [ "$code" -eq 1 ] && false_exits[$3]=$(( ${false_exits[$3]:-0} + 1 ))
  line=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (t["timer"], t["verdict"].replace(" ", "_")) for t in d["timers"]))
' "$dir/out.json")
  printf '%-8s exit %s  %s\n' "$3" "$code" "$line"
  for v in $line; do
    key="$3 ${v%%=*} ${v#*=}"
    verdicts[$key]=$(( ${verdicts[$key]:-0} + 1 ))
  done
}

echo "== the same program, $pool runs, disjoint comparisons"
for i in $(seq 1 2 $((pool - 1))); do
  [ "$i" -gt 79 ] && break
  cat_runs "$i" > "$dir/a.jsonl"
  cat_runs $((i + 1)) > "$dir/b.jsonl"
  diff_files "$dir/a.jsonl" "$dir/b.jsonl" "1v1"
done
for g in $(seq 0 9); do
  first=$((g * 11 + 1))
  [ $((first + 10)) -gt "$pool" ] && break
  cat_runs "$first" > "$dir/a.jsonl"
  cat_runs $(seq $((first + 1)) $((first + 10))) > "$dir/b.jsonl"
  if [ $((g % 2)) -eq 0 ]; then
    diff_files "$dir/a.jsonl" "$dir/b.jsonl" "1v10"
  else
    diff_files "$dir/b.jsonl" "$dir/a.jsonl" "10v1"
  fi
done
for start in 1 7 13; do
  [ $((start + 5)) -gt "$pool" ] && break
  cat_runs $start $((start + 1)) $((start + 2)) > "$dir/a.jsonl"
  cat_runs $((start + 3)) $((start + 4)) $((start + 5)) > "$dir/b.jsonl"
  diff_files "$dir/a.jsonl" "$dir/b.jsonl" "3v3"
done
for start in 1 11; do
  [ $((start + 9)) -gt "$pool" ] && break
  cat_runs $(seq $start $((start + 4))) > "$dir/a.jsonl"
  cat_runs $(seq $((start + 5)) $((start + 9))) > "$dir/b.jsonl"
  diff_files "$dir/a.jsonl" "$dir/b.jsonl" "5v5"
done
for label in 1v1 1v10 10v1 3v3 5v5; do
  echo "$label: false regressions (exit 1): ${false_exits[$label]:-0} of ${comparisons[$label]:-0} comparisons"
done
for key in "${!verdicts[@]}"; do echo "  $key: ${verdicts[$key]}"; done | sort

power() { # FACTOR RUNS LABEL
  hits=0
  for t in $(seq "$trials"); do
    rm -f "$dir/base.jsonl" "$dir/new.jsonl"
    # Alternated, as docs/ci/perf.sh does: a drift of the machine (a build
    # starting beside) hits both sides alike.
    for _ in $(seq "$2"); do
      runs "$dir/base.jsonl" 1
      runs "$dir/new.jsonl" 1 "render:$1"
    done
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
