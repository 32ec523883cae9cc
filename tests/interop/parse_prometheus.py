"""Parses Prometheus text exposition (or, with --openmetrics, OpenMetrics
text) from stdin with the official Python client's parser (an
implementation independent of ours) and prints one JSON array per sample:
family, type, sample name, labels, value."""
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
        print(json.dumps([family.name, family.type, sample.name, sample.labels, value]))
