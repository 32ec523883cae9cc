//! The protobuf writer: a snapshot as length-delimited
//! `io.prometheus.client.MetricFamily` messages (Prometheus'
//! `metrics.proto`), busy and wall time as native histograms, then the
//! common families; written with the encoder in `wire.rs`.

use std::fmt::Write as _;

use super::exemplars::{self, Measure};
use super::families::{secs, Kind, COMMON};
use super::wire::Encoder;
use super::Prometheus;
use crate::export::native::{self, Exponential};
use crate::figures::{figure, Id};
use crate::read::{Distribution, Snapshot, Stats};

/// `metrics.proto`'s field numbers, message by message, as far as we
/// write them.
mod metric_family {
    pub(super) const NAME: u32 = 1;
    pub(super) const HELP: u32 = 2;
    pub(super) const TYPE: u32 = 3;
    pub(super) const METRIC: u32 = 4;
}

mod metric {
    pub(super) const LABEL: u32 = 1;
    pub(super) const GAUGE: u32 = 2;
    pub(super) const COUNTER: u32 = 3;
    pub(super) const HISTOGRAM: u32 = 7;
}

mod label_pair {
    pub(super) const NAME: u32 = 1;
    pub(super) const VALUE: u32 = 2;
}

mod gauge {
    pub(super) const VALUE: u32 = 1;
}

mod counter {
    pub(super) const VALUE: u32 = 1;
}

mod histogram {
    pub(super) const SAMPLE_COUNT: u32 = 1;
    pub(super) const SAMPLE_SUM: u32 = 2;
    pub(super) const SCHEMA: u32 = 5;
    pub(super) const ZERO_THRESHOLD: u32 = 6;
    pub(super) const ZERO_COUNT: u32 = 7;
    pub(super) const POSITIVE_SPAN: u32 = 12;
    pub(super) const POSITIVE_DELTA: u32 = 13;
    pub(super) const EXEMPLARS: u32 = 16;
}

mod exemplar {
    pub(super) const LABEL: u32 = 1;
    pub(super) const VALUE: u32 = 2;
    pub(super) const TIMESTAMP: u32 = 3;
}

/// `google.protobuf.Timestamp`.
mod timestamp {
    pub(super) const SECONDS: u32 = 1;
    pub(super) const NANOS: u32 = 2;
}

mod bucket_span {
    pub(super) const OFFSET: u32 = 1;
    pub(super) const LENGTH: u32 = 2;
}

/// `io.prometheus.client.MetricType`.
fn metric_type(kind: Kind) -> u64 {
    match kind {
        Kind::Counter => 0,
        Kind::Gauge => 1,
        Kind::Summary => 2,
        Kind::Histogram => 4,
    }
}

/// Busy or wall time of a timer's stats.
type DistributionOf = fn(&Stats) -> &Distribution;

/// `snapshot` as length-delimited `MetricFamily` messages appended to
/// `body`: busy and wall time as native histograms with their exemplars
/// (`Histogram.exemplars`: every kept run with a trace id), then the
/// [`COMMON`] families.
pub(super) fn write(format: &Prometheus, body: &mut Vec<u8>, snapshot: &Snapshot) {
    let mut e = Encoder { buf: body };
    let mut name = String::new();
    let mut native = Exponential::default();
    let mut family = |e: &mut Encoder<'_>,
                      suffix: &str,
                      kind: Kind,
                      help: &str,
                      metrics: &mut dyn FnMut(&mut Encoder<'_>, &Stats)| {
        name.clear();
        let _ = write!(name, "{}_{suffix}", format.namespace);
        e.delimited(|e| {
            e.string(metric_family::NAME, &name);
            e.string(metric_family::HELP, help);
            e.uint(metric_family::TYPE, metric_type(kind));
            for stats in snapshot.iter() {
                metrics(e, stats);
            }
        });
    };
    let histograms: [(Id, DistributionOf, Measure); 2] = [
        (Id::Busy, Stats::busy, Measure::Busy),
        (Id::Wall, Stats::wall, Measure::Wall),
    ];
    for (id, distribution, measure) in histograms {
        let f = figure(id);
        family(
            &mut e,
            f.prometheus,
            Kind::Histogram,
            f.help,
            &mut |e, stats| {
                let distribution = distribution(stats);
                native.fill(distribution, native::SCHEMA);
                e.message(metric_family::METRIC, |m| {
                    timer_label(m, stats.name());
                    m.message(metric::HISTOGRAM, |h| {
                        write_native(h, distribution, &native);
                        for e in exemplars::all(stats.slowest(), measure) {
                            write_exemplar(h, &e);
                        }
                    });
                });
            },
        );
    }
    for f in &COMMON {
        let (field, value_field) = if f.kind() == Kind::Gauge {
            (metric::GAUGE, gauge::VALUE)
        } else {
            (metric::COUNTER, counter::VALUE)
        };
        family(&mut e, f.suffix(), f.kind(), f.help(), &mut |e, stats| {
            (f.samples)(stats, &mut |label, value| {
                e.message(metric_family::METRIC, |m| {
                    timer_label(m, stats.name());
                    if let Some((name, value)) = label {
                        m.message(metric::LABEL, |l| {
                            l.string(label_pair::NAME, name);
                            l.string(label_pair::VALUE, value);
                        });
                    }
                    m.message(field, |v| v.double(value_field, value));
                });
            });
        });
    }
}

/// The `timer` label pair of a `Metric`: any name is a valid label value
/// there, unescaped.
fn timer_label(m: &mut Encoder<'_>, timer: &str) {
    m.message(metric::LABEL, |l| {
        l.string(label_pair::NAME, "timer");
        l.string(label_pair::VALUE, timer);
    });
}

/// One of a native `Histogram`'s `exemplars`: the trace id, the value in
/// seconds, and when the run ended.
fn write_exemplar(h: &mut Encoder<'_>, e: &exemplars::Exemplar<'_>) {
    h.message(histogram::EXEMPLARS, |x| {
        x.message(exemplar::LABEL, |l| {
            l.string(label_pair::NAME, exemplars::LABEL);
            l.string(label_pair::VALUE, e.trace_id);
        });
        x.double(exemplar::VALUE, e.seconds());
        if let Some(ended) = e.timestamp {
            x.message(exemplar::TIMESTAMP, |t| {
                // int64 and int32, never negative here: plain varints.
                t.uint(timestamp::SECONDS, ended.as_secs());
                t.uint(timestamp::NANOS, u64::from(ended.subsec_nanos()));
            });
        }
    });
}

/// A `Histogram` with native buckets only.
fn write_native(h: &mut Encoder<'_>, distribution: &Distribution, native: &Exponential) {
    h.uint(histogram::SAMPLE_COUNT, distribution.count());
    h.double(histogram::SAMPLE_SUM, secs(distribution.total()));
    h.sint(histogram::SCHEMA, i64::from(native::SCHEMA));
    h.double(histogram::ZERO_THRESHOLD, native::ZERO_THRESHOLD);
    h.uint(histogram::ZERO_COUNT, native.zero_count);
    if native.spans.is_empty() {
        // No bucket: an empty span still says "native" to any parser.
        h.message(histogram::POSITIVE_SPAN, |s| {
            s.sint(bucket_span::OFFSET, 0);
            s.uint(bucket_span::LENGTH, 0);
        });
        return;
    }
    for &(offset, length) in &native.spans {
        h.message(histogram::POSITIVE_SPAN, |s| {
            s.sint(bucket_span::OFFSET, i64::from(offset));
            s.uint(bucket_span::LENGTH, u64::from(length));
        });
    }
    let mut previous = 0_i64;
    h.packed_sint(
        histogram::POSITIVE_DELTA,
        native.counts.iter().map(|&n| {
            let n = n.min(i64::MAX as u64) as i64;
            let delta = n - previous;
            previous = n;
            delta
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::prometheus::exemplars::tests::{run, snapshot};

    /// One field of a message: its number and its varint, 64-bit or
    /// length-delimited payload.
    #[derive(Debug, Clone, Copy)]
    enum Value<'a> {
        Varint(u64),
        Fixed64(u64),
        Bytes(&'a [u8]),
    }

    fn varint(buf: &mut &[u8]) -> u64 {
        let (mut v, mut shift) = (0, 0);
        loop {
            let byte = buf[0];
            *buf = &buf[1..];
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    /// A message's fields, in order: read as the wire format says,
    /// independently of the encoder.
    fn fields(mut buf: &[u8]) -> Vec<(u32, Value<'_>)> {
        let mut fields = Vec::new();
        while !buf.is_empty() {
            let key = varint(&mut buf);
            let value = match key & 7 {
                0 => Value::Varint(varint(&mut buf)),
                1 => {
                    let (bytes, rest) = buf.split_at(8);
                    buf = rest;
                    Value::Fixed64(u64::from_le_bytes(bytes.try_into().unwrap()))
                }
                2 => {
                    let len = varint(&mut buf) as usize;
                    let (bytes, rest) = buf.split_at(len);
                    buf = rest;
                    Value::Bytes(bytes)
                }
                wire => panic!("wire type {wire}"),
            };
            fields.push(((key >> 3) as u32, value));
        }
        fields
    }

    fn bytes_of<'a>(fields: &[(u32, Value<'a>)], field: u32) -> Vec<&'a [u8]> {
        (fields.iter())
            .filter_map(|&(f, v)| match v {
                Value::Bytes(b) if f == field => Some(b),
                _ => None,
            })
            .collect()
    }

    /// An exemplar read back: (labels, value, timestamp's seconds, nanos).
    type ReadBack = (Vec<(String, String)>, f64, u64, u64);

    /// The `Histogram.exemplars` of the first metric of family `name`.
    fn exemplars_of(body: &[u8], name: &str) -> Vec<ReadBack> {
        let mut stream = body;
        while !stream.is_empty() {
            let len = varint(&mut stream) as usize;
            let (family, rest) = stream.split_at(len);
            stream = rest;
            let family = fields(family);
            if bytes_of(&family, 1) != [name.as_bytes()] {
                continue;
            }
            let metric = fields(bytes_of(&family, 4)[0]);
            let histogram = fields(bytes_of(&metric, 7)[0]);
            return (bytes_of(&histogram, 16).into_iter())
                .map(|e| {
                    let e = fields(e);
                    let labels = (bytes_of(&e, 1).into_iter())
                        .map(|l| {
                            let l = fields(l);
                            let text = |f| String::from_utf8(bytes_of(&l, f)[0].to_vec()).unwrap();
                            (text(1), text(2))
                        })
                        .collect();
                    let value = e.iter().find_map(|&(f, v)| match v {
                        Value::Fixed64(bits) if f == 2 => Some(f64::from_bits(bits)),
                        _ => None,
                    });
                    let timestamp = fields(bytes_of(&e, 3)[0]);
                    let int = |field| {
                        timestamp.iter().find_map(|&(f, v)| match v {
                            Value::Varint(n) if f == field => Some(n),
                            _ => None,
                        })
                    };
                    (labels, value.unwrap(), int(1).unwrap(), int(2).unwrap_or(0))
                })
                .collect();
        }
        panic!("no family {name}");
    }

    #[test]
    fn native_histograms_carry_every_kept_run_with_a_trace_id() {
        let snapshot = snapshot(vec![
            run(3_000_000, 40_000_000, 1_733_140_000_123, Some("4bf92f35")),
            run(4_000_000, 30_000_000, 1_733_139_999_000, Some("a\"b")), // older
            run(200_000, 35_000_000, 1_733_140_002_000, None),
        ]);
        let body = Prometheus::new("app").protobuf().encode(&snapshot);
        let label = |id: &str| vec![("trace_id".to_owned(), id.to_owned())];
        // Oldest first; values in seconds; ended as a Timestamp.
        assert_eq!(
            exemplars_of(&body, "app_busy_seconds"),
            [
                (label("a\"b"), 0.004, 1_733_139_999, 0),
                (label("4bf92f35"), 0.003, 1_733_140_000, 123_000_000),
            ]
        );
        assert_eq!(
            exemplars_of(&body, "app_wall_seconds"),
            [
                (label("a\"b"), 0.03, 1_733_139_999, 0),
                (label("4bf92f35"), 0.04, 1_733_140_000, 123_000_000),
            ]
        );
        // None without trace ids.
        let none = snapshot_without_ids();
        let body = Prometheus::new("app").protobuf().encode(&none);
        assert!(exemplars_of(&body, "app_busy_seconds").is_empty());
        assert!(exemplars_of(&body, "app_wall_seconds").is_empty());
    }

    fn snapshot_without_ids() -> Snapshot {
        snapshot(vec![run(3_000_000, 40_000_000, 1_733_140_000_123, None)])
    }
}
