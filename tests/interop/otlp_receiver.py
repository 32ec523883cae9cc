"""An OTLP/HTTP metrics receiver on 127.0.0.1 that decodes what an exporter
posts with the official protobuf definitions (the `opentelemetry-proto`
package, an implementation independent of ours and of the Rust SDK's).

Prints `listening PORT`, then for every request one JSON object per data
point: metric name, unit, kind, attributes, and the point's figures
(value; or count, sum, scale, zero count, positive offset and bucket
counts of an exponential histogram; or count, sum, bounds and bucket
counts of an explicit one). Runs until stdin closes."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def points(request):
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                data = getattr(metric, kind)
                for point in data.data_points:
                    out = {
                        "name": metric.name,
                        "unit": metric.unit,
                        "kind": kind,
                        "attributes": {a.key: value_of(a.value) for a in point.attributes},
                    }
                    if kind in ("sum", "gauge"):
                        field = point.WhichOneof("value")
                        out["value"] = getattr(point, field)
                        if kind == "sum":
                            out["monotonic"] = data.is_monotonic
                    elif kind == "exponential_histogram":
                        out.update(
                            count=point.count,
                            sum=point.sum,
                            scale=point.scale,
                            zero_count=point.zero_count,
                            offset=point.positive.offset,
                            bucket_counts=list(point.positive.bucket_counts),
                            negative=sum(point.negative.bucket_counts),
                        )
                    elif kind == "histogram":
                        out.update(
                            count=point.count,
                            sum=point.sum,
                            bounds=list(point.explicit_bounds),
                            bucket_counts=list(point.bucket_counts),
                        )
                    yield out


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        request.ParseFromString(body)
        lines = [json.dumps(p) for p in points(request)]
        sys.stdout.write("".join(line + "\n" for line in lines) + "end of request\n")
        sys.stdout.flush()
        reply = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Receiver)
print("listening", server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
