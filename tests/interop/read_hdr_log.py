"""Reads an HdrHistogram interval log with the Python `hdrhistogram`
package (an implementation independent of ours) and prints, per interval
line: tag, count, p50, p90, p99, max (nanoseconds), space-separated."""
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3_600_000_000_000, 3))
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    print(
        h.get_tag(),
        h.get_total_count(),
        h.get_value_at_percentile(50),
        h.get_value_at_percentile(90),
        h.get_value_at_percentile(99),
        h.get_max_value(),
    )
