#!/bin/sh
# Two builds of the overhead bench, alternated round by round, so that both
# see the same machine: the fastest round of each is the figure to compare
# on a shared machine.
#
#   benches/side_by_side.sh BEFORE_BINARY AFTER_BINARY [REGEX] [ROUNDS]
#
# Build each with `cargo bench -p perf-timer-benches --bench overhead
# --no-run` in its checkout (the binary is the path cargo prints).
set -eu
before=$1
after=$2
filter=${3:-'^(direct_poll/(pending|ready)/timed_tsc|nesting/)'}
rounds=${4:-5}
for round in $(seq 1 "$rounds"); do
    for side in before after; do
        eval binary=\$$side
        "$binary" --bench --noplot "$filter" 2>/dev/null |
            awk -v side="$side" '/^[a-z_]+\//{name=$1} /time:/{print side, name, $4}'
    done
done | awk '{k = $2 " " $1; if (!(k in min) || $3 < min[k]) min[k] = $3}
            END {for (k in min) print k, min[k], "ns"}' | sort
