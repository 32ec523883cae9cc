#!/bin/sh
# The CI recipe's commands: run the baseline and the change RUNS times each,
# alternating (so that a drift of the machine hits both sides alike), save
# every process run, and compare them. Writes base.jsonl, new.jsonl and
# perf.md (the comparison as a pull-request comment) in the current
# directory; exits with perf-timer diff's status: 0 no regression,
# 1 a timer regressed, 2 an error.
#
#   docs/ci/perf.sh "BASE_COMMAND" "NEW_COMMAND" [RUNS]
#
# Each command is a program built with perf-timer's `save` feature that
# calls `perf_timer::report_at_exit()`. PERF_TIMER (default: perf-timer)
# names the command; extra `perf-timer diff` options go in PERF_TIMER_DIFF
# (e.g. "--threshold 10%").
set -u
base=$1
new=$2
runs=${3:-5}
perf_timer=${PERF_TIMER:-perf-timer}
rm -f base.jsonl new.jsonl perf.md
i=1
while [ "$i" -le "$runs" ]; do
  PERF_TIMER_SAVE=base.jsonl PERF_TIMER_LABELS="side=base,run=$i" $base > /dev/null || exit 2
  PERF_TIMER_SAVE=new.jsonl PERF_TIMER_LABELS="side=new,run=$i" $new > /dev/null || exit 2
  i=$((i + 1))
done
# shellcheck disable=SC2086 # PERF_TIMER_DIFF is a list of options
"$perf_timer" diff base.jsonl new.jsonl --format markdown ${PERF_TIMER_DIFF:-} > perf.md
