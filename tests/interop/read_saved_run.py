"""Reads a file of saved runs with Python's `json` and the `hdrhistogram`
package (an implementation independent of ours) and prints, per timer of
each run: name, count, p50, p99, max of busy time (nanoseconds)."""
import json
import sys

from hdrh.histogram import HdrHistogram

with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        run = json.loads(line)
        for timer in run["timers"]:
            busy = HdrHistogram.decode(timer["busy"])
            print(
                timer["name"].replace(" ", "_"),
                busy.get_total_count(),
                busy.get_value_at_percentile(50),
                busy.get_value_at_percentile(99),
                busy.get_max_value(),
            )
