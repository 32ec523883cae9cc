//! The protobuf writer: a snapshot as length-delimited
//! `io.prometheus.client.MetricFamily` messages (Prometheus'
//! `metrics.proto`), busy and wall time as native histograms, then the
//! common families; written with the encoder in `wire.rs`.

use std::fmt::Write as _;

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
/// `body`: busy and wall time as native histograms, then the [`COMMON`]
/// families.
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
    let histograms: [(Id, DistributionOf); 2] = [(Id::Busy, Stats::busy), (Id::Wall, Stats::wall)];
    for (id, distribution) in histograms {
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
                        write_native(h, distribution, &native)
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
