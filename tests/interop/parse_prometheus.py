"""Parses Prometheus text exposition (or, with --openmetrics, OpenMetrics
text) from stdin with the official Python client's parser (an
implementation independent of ours) and prints one JSON array per sample:
family, type, sample name, labels, value, and its exemplar as [labels,
value, timestamp in seconds] or null."""
import json
import math
import sys

if "--openmetrics" in sys.argv:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        value = "NaN" if math.isnan(sample.value) else sample.value  # JSON has no NaN
        exemplar = sample.exemplar
        if exemplar is not None:
            timestamp = None if exemplar.timestamp is None else float(exemplar.timestamp)
            exemplar = [exemplar.labels, exemplar.value, timestamp]
        print(json.dumps([family.name, family.type, sample.name, sample.labels, value, exemplar]))
