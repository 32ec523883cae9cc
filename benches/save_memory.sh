#!/usr/bin/env bash
# Peak RSS and time of a program's exit with and without saving its run
# (examples/save_memory.rs), for the cases of BENCHMARKS.md:
#   1,000 timers × (1 µs, 30 min); 10,000 timers × 50 runs;
#   100,000 timers × 2 runs under a 2 GiB address-space limit.
# Usage: benches/save_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --features save --example save_memory
program=target/release/examples/save_memory
out=target/save-memory.jsonl
measure() { # LABEL ENV...
  local label=$1; shift
  rm -f "$out"
  local stats
  stats=$(env "$@" /usr/bin/time -f '%M %e' "$program" 2>&1 > /dev/null | tail -1)
  local size=0
  [ -f "$out" ] && size=$(stat -c %s "$out")
  printf '%-44s peak %7.1f MiB  %6.2f s  file %6.1f MiB\n' "$label" \
    "$(echo "$stats" | awk '{print $1 / 1024}')" "$(echo "$stats" | awk '{print $2}')" \
    "$(echo "$size" | awk '{print $1 / 1048576}')"
}
measure "1,000 timers × (1 µs, 30 min), no save" TIMERS=1000 RUNS=2
measure "1,000 timers × (1 µs, 30 min), saved" TIMERS=1000 RUNS=2 PERF_TIMER_SAVE=$out
measure "10,000 timers × 50 runs, no save" TIMERS=10000 RUNS=50
measure "10,000 timers × 50 runs, saved" TIMERS=10000 RUNS=50 PERF_TIMER_SAVE=$out
limit() { # the run under a 2 GiB address-space limit
  rm -f "$out"
  ( ulimit -v 2097152; TIMERS=100000 RUNS=2 PERF_TIMER_SAVE=$out /usr/bin/time -f '%M %e' "$program" 2>&1 > /dev/null | tail -1 )
}
stats=$(limit || true)
lines=0
[ -f "$out" ] && lines=$(wc -l < "$out")
echo "100,000 timers × 2 runs, saved, ulimit -v 2 GiB: peak $(echo "$stats" | awk '{print $1 / 1024}') MiB, $(echo "$stats" | awk '{print $2}') s, $lines line(s) written"
