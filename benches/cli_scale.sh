#!/usr/bin/env bash
# The perf-timer command on large files, peak RSS and time of each call:
# two runs of 10,000 timers × 50 runs each (examples/save_memory.rs), a
# file of 5,000 runs (one run of 30 timers × 300 runs, repeated), and two
# files of 20 runs of 1,000 timers × 50 runs (a chart per timer draws a
# line per run).
# Usage: benches/cli_scale.sh [PERF_TIMER_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --features save --example save_memory
cargo build --quiet --release -p perf-timer-cli
cli="${1:-$PWD/target/release/perf-timer}"
dir=target/cli-scale
rm -rf "$dir" && mkdir -p "$dir"
TIMERS=10000 RUNS=50 PERF_TIMER_SAVE=$dir/a.jsonl target/release/examples/save_memory 2> /dev/null
TIMERS=10000 RUNS=50 PERF_TIMER_SAVE=$dir/b.jsonl target/release/examples/save_memory 2> /dev/null
TIMERS=30 RUNS=300 PERF_TIMER_SAVE=$dir/one.jsonl target/release/examples/save_memory 2> /dev/null
for _ in $(seq 5000); do cat "$dir/one.jsonl"; done > "$dir/many.jsonl"
for side in c d; do
  for _ in $(seq 20); do
    TIMERS=1000 RUNS=50 PERF_TIMER_SAVE=$dir/$side.jsonl target/release/examples/save_memory 2> /dev/null
  done
done
cd "$dir"
printf 'files: a.jsonl and b.jsonl %s MB each, many.jsonl %s MB\n' \
  "$(du -m a.jsonl | cut -f1)" "$(du -m many.jsonl | cut -f1)"
for args in "report a.jsonl" "diff a.jsonl b.jsonl" "merge a.jsonl b.jsonl -o m.jsonl" \
  "html a.jsonl b.jsonl -o p.html" "report many.jsonl --run 5000" "diff many.jsonl many.jsonl" \
  "diff c.jsonl d.jsonl" "html c.jsonl d.jsonl -o q.html"; do
  rm -f m.jsonl
  # shellcheck disable=SC2086 # the arguments are words
  stats=$(/usr/bin/time -f '%M %e' "$cli" $args 2>&1 > /dev/null | tail -1)
  printf '%-34s %8.1f MiB %7.2f s\n' "$args" "$(echo "$stats" | awk '{print $1 / 1024}')" \
    "$(echo "$stats" | awk '{print $2}')"
done
[ -f p.html ] && printf 'the page: %s MB\n' "$(du -m p.html | cut -f1)"
