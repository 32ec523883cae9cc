//! Our HdrHistogram buckets as exponential buckets: Prometheus' native
//! histograms (and OpenTelemetry's exponential histograms, whose index is
//! this one less one).
//!
//! At schema `s` the bucket boundaries in seconds are the powers of
//! `base = 2^(2^-s)`, and bucket `i` holds the values in
//! `(base^(i-1), base^i]`. An HDR bucket (a range of equivalent values,
//! 0.1 % wide at 3 significant figures) goes whole to the native bucket
//! holding its *lowest* value, as the classic `le` buckets count a value
//! under a bound when its HDR bucket starts at or below it. So a value is
//! counted one native bucket low only when an HDR bucket straddles a
//! native boundary, that is, when it lies within the histogram's precision
//! above the boundary; never high, and never further.
//!
//! The first HDR bucket is the one exception. With the default `lowest`
//! (1 ns) it holds only zero, which goes to the zero bucket. With a raised
//! `lowest` (say 1 µs, a first bucket of 0 to 511 ns) it holds every value
//! under the first power of two at or below `lowest`, zeros included, told
//! apart no finer: it goes whole to the native bucket holding its
//! *highest* value, where our own quantiles place it, not to the zero
//! bucket, where Prometheus would read them all as 0.

use crate::read::Distribution;

/// The schema served by default: base 2^(1/8), buckets about 9 % wide.
pub(crate) const SCHEMA: i8 = 3;

/// Prometheus' zero bucket width: values at or below it (recorded zeros,
/// where the first HDR bucket holds only zero) are counted apart. Below
/// any value a registry tells apart from zero (1 ns at the least); non-zero,
/// which is also what marks a histogram as native to a parser.
pub(crate) const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;
const _: () = assert!(ZERO_THRESHOLD < 1e-9, "the zero bucket is below 1 ns");

/// Empty runs this short, or shorter, between populated buckets are sent
/// as zero counts rather than a new span: cheaper on the wire.
const GAP_FILLED: i32 = 2;

/// A distribution in exponential buckets, in the sparse form of the wire:
/// spans of consecutive buckets and their counts.
#[derive(Debug, Default)]
pub(crate) struct Exponential {
    /// Recorded zeros, where the layout tells them apart.
    pub(crate) zero_count: u64,
    /// (offset, length): the first span's offset is its first index, each
    /// later one's the empty buckets since the previous span.
    pub(crate) spans: Vec<(i32, u32)>,
    /// Every spanned bucket's count, in index order.
    pub(crate) counts: Vec<u64>,
    /// The native buckets of the last layout filled from.
    table: Option<Table>,
}

impl Exponential {
    /// Refills `self` with `distribution` at `schema` (1 to 8), reusing
    /// its vectors and its table of boundaries: no allocation and no
    /// floating point per timer once they are built.
    pub(crate) fn fill(&mut self, distribution: &Distribution, schema: i8) {
        self.zero_count = 0;
        self.spans.clear();
        self.counts.clear();
        let layout = distribution.layout();
        let table = match self.table.take() {
            Some(table) if table.layout == layout && table.bounds.schema == schema => table,
            _ => Table::new(layout, schema),
        };
        let mut last: Option<i32> = None;
        // HDR buckets come in order: the table's cursor only moves up.
        let mut k = 0;
        // What counter 0 holds: only zero at a `lowest` of 1 ns; else the
        // values under the first unit, told apart no finer (see the module
        // docs).
        let first_top = layout.highest_value(0);
        distribution.for_each_bucket(|counter, n| {
            if counter == 0 && first_top == 0 {
                self.zero_count = self.zero_count.saturating_add(n);
                return;
            }
            while k < table.tops.len() && table.tops[k] < counter {
                k += 1;
            }
            let index = if counter == 0 {
                table.bounds.index(first_top as f64 / 1e9)
            } else if k < table.tops.len() {
                table.first + k as i32
            } else {
                // Beyond the table (a layout widened past its highest).
                let lowest = layout.value(counter as usize);
                table.bounds.index(lowest as f64 / 1e9)
            };
            match last {
                Some(prev) if prev == index => {
                    if let Some(count) = self.counts.last_mut() {
                        *count = count.saturating_add(n);
                    }
                    return;
                }
                Some(prev) if index - prev - 1 <= GAP_FILLED => {
                    for _ in prev + 1..index {
                        self.counts.push(0);
                    }
                    if let Some(span) = self.spans.last_mut() {
                        span.1 += (index - prev) as u32;
                    }
                }
                Some(prev) => self.spans.push((index - prev - 1, 1)),
                None => self.spans.push((index, 1)),
            }
            self.counts.push(n);
            last = Some(index);
        });
        self.table = Some(table);
    }
}

/// One layout's native buckets in HDR counter indexes: a counter goes to
/// the first native bucket whose top counter is at or above it.
#[derive(Debug)]
struct Table {
    layout: crate::record::Layout,
    bounds: Bounds,
    /// The native index of 1 ns, the least non-zero value.
    first: i32,
    /// For each native bucket from `first` up to the layout's highest
    /// value, the counter holding its highest nanosecond: the last counter
    /// whose lowest value is in it.
    tops: Vec<u32>,
}

impl Table {
    fn new(layout: crate::record::Layout, schema: i8) -> Self {
        let bounds = Bounds::new(schema);
        let first = bounds.index(1e-9);
        let last = bounds.index(layout.highest as f64 / 1e9);
        let tops = (first..=last)
            .map(|index| layout.index(bounds.highest_nanos(index).min(layout.highest)) as u32)
            .collect();
        Table {
            layout,
            bounds,
            first,
            tops,
        }
    }
}

/// The bucket boundaries of one schema within an octave.
#[derive(Debug)]
struct Bounds {
    schema: i8,
    /// Buckets per power of two: 2^schema.
    per_octave: i32,
    /// `2^(j / per_octave) / 2` for each j: the boundaries within [0.5, 1).
    within: [f64; 256],
}

impl Bounds {
    fn new(schema: i8) -> Self {
        let schema = schema.clamp(1, 8);
        let per_octave = 1_i32 << schema;
        let mut within = [1.0; 256];
        for (j, bound) in within.iter_mut().take(per_octave as usize).enumerate() {
            *bound = (j as f64 / f64::from(per_octave)).exp2() / 2.0;
        }
        Bounds {
            schema,
            per_octave,
            within,
        }
    }

    /// The index of the bucket holding `x` (positive, normal): with
    /// `x = frac * 2^exp`, `frac` in [0.5, 1), the first boundary at or
    /// above `frac` in its octave. A power of two lands exactly on its
    /// boundary, which belongs to the bucket below it.
    fn index(&self, x: f64) -> i32 {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
        let frac = f64::from_bits((bits & ((1 << 52) - 1)) | (1022 << 52));
        let within = &self.within[..self.per_octave as usize];
        let j = within.partition_point(|&b| b < frac) as i32;
        (exp - 1) * self.per_octave + j
    }

    /// The highest whole number of nanoseconds in bucket `index`, as
    /// [`index`](Bounds::index) places values (so the two never disagree).
    fn highest_nanos(&self, index: i32) -> u64 {
        let of = |ns: u64| self.index(ns as f64 / 1e9);
        let top = (f64::from(index) / f64::from(self.per_octave)).exp2() * 1e9;
        if top >= u64::MAX as f64 {
            return u64::MAX;
        }
        let mut ns = top as u64;
        while ns > 0 && of(ns) > index {
            ns -= 1;
        }
        while of(ns + 1) <= index {
            ns += 1;
        }
        ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, by floating point: the least i with x <= base^i.
    fn index_by_definition(x: f64, schema: i8) -> i32 {
        (x.log2() * f64::from(1 << schema)).ceil() as i32
    }

    #[test]
    fn an_index_is_the_least_i_with_the_value_at_most_base_to_the_i() {
        let bounds = Bounds::new(SCHEMA);
        // 1 ms: log2(0.001) * 8 = -79.73.
        assert_eq!(bounds.index(0.001), -79);
        // Powers of two sit on the top boundary of their bucket.
        assert_eq!(bounds.index(1.0), 0);
        assert_eq!(bounds.index(0.5), -8);
        assert_eq!(bounds.index(2.0), 8);
        assert_eq!(bounds.index(1.0 + 1e-9), 1);
        for schema in 1..=8 {
            let bounds = Bounds::new(schema);
            for ns in (1_u64..2_000_000).step_by(997).chain([3_600_000_000_000]) {
                let x = ns as f64 / 1e9;
                assert_eq!(
                    bounds.index(x),
                    index_by_definition(x, schema),
                    "{ns} ns at {schema}"
                );
            }
        }
    }

    #[test]
    fn the_highest_nanoseconds_of_a_bucket_are_its_last() {
        let bounds = Bounds::new(SCHEMA);
        for index in -240..=100 {
            let top = bounds.highest_nanos(index);
            // A bucket under 1 ns wide may hold no whole nanosecond.
            assert!(top == 0 || bounds.index(top as f64 / 1e9) <= index);
            assert!(bounds.index((top + 1) as f64 / 1e9) > index);
        }
        assert_eq!(bounds.highest_nanos(0), 1_000_000_000);
    }

    #[test]
    fn every_value_lands_in_its_bucket_or_one_below_within_the_precision() {
        let registry = crate::registry::Registry::new();
        let timer = registry.timer("t");
        let mut expected = std::collections::BTreeMap::<i32, u64>::new();
        let mut values = Vec::new();
        let mut v = 1_u64;
        while v < 3_000_000_000 {
            values.push(v);
            v = v * 21 / 17 + 3;
        }
        for &ns in &values {
            timer.record(std::time::Duration::from_nanos(ns));
            *expected
                .entry(index_by_definition(ns as f64 / 1e9, SCHEMA))
                .or_default() += 1;
        }
        let stats = timer.stats();
        let mut native = Exponential::default();
        native.fill(stats.busy(), SCHEMA);
        assert_eq!(native.zero_count, 0);
        let mut got = std::collections::BTreeMap::<i32, u64>::new();
        let mut index = 0;
        let mut counts = native.counts.iter();
        for (n, &(offset, length)) in native.spans.iter().enumerate() {
            index = if n == 0 { offset } else { index + offset };
            for _ in 0..length {
                let count = *counts.next().unwrap();
                if count > 0 {
                    got.insert(index, count);
                }
                index += 1;
            }
        }
        assert!(counts.next().is_none(), "the counts match the spans");
        assert_eq!(got.values().sum::<u64>(), values.len() as u64);
        // Wherever we differ from the definition, the value moved one
        // bucket down and lies within 0.1 % above that boundary.
        // `fill`'s shortcut (one compare per HDR bucket) places every value
        // where the index of its HDR bucket's lowest value says.
        let mut by_lowest = std::collections::BTreeMap::<i32, u64>::new();
        let layout = stats.busy().layout();
        for &ns in &values {
            let lowest = layout.value(layout.index(ns));
            *by_lowest
                .entry(Bounds::new(SCHEMA).index(lowest as f64 / 1e9))
                .or_default() += 1;
        }
        assert_eq!(got, by_lowest);
        let base = 2_f64.powf(1.0 / 8.0);
        for &ns in &values {
            let x = ns as f64 / 1e9;
            let exact = index_by_definition(x, SCHEMA);
            let lowest = stats.busy().layout().value(stats.busy().layout().index(ns));
            let ours = Bounds::new(SCHEMA).index(lowest as f64 / 1e9);
            assert!(
                ours == exact || ours == exact - 1,
                "{ns} ns: {ours} vs {exact}"
            );
            if ours != exact {
                let boundary = base.powi(exact - 1);
                assert!(x / boundary - 1.0 < 1e-3, "{ns} ns is not near {boundary}");
            }
        }
        // The spans leave gaps of more than GAP_FILLED empty buckets only.
        assert!(native.spans[1..].iter().all(|s| s.0 > GAP_FILLED));
    }

    #[test]
    fn under_a_raised_lowest_values_go_to_a_bucket_not_to_zero() {
        // lowest 1 µs: HDR's first bucket holds 0 to 511 ns.
        let registry = crate::registry::Registry::builder()
            .lowest(std::time::Duration::from_micros(1))
            .build()
            .unwrap();
        let timer = registry.timer("t");
        for ns in [0, 1, 300, 511, 512, 5_000] {
            timer.record(std::time::Duration::from_nanos(ns));
        }
        let stats = timer.stats();
        let mut native = Exponential::default();
        native.fill(stats.busy(), SCHEMA);
        assert_eq!(native.zero_count, 0, "nothing under 512 ns reads as 0");
        let bounds = Bounds::new(SCHEMA);
        let at_511 = bounds.index(511e-9);
        let at_512 = bounds.index(512e-9);
        // 5 µs, as its HDR bucket (512 ns wide here) starts: 4,608 ns.
        let layout = stats.busy().layout();
        assert_eq!(layout.value(layout.index(5_000)), 4_608);
        let at_5us = bounds.index(4_608e-9);
        // 511 ns and 512 ns share a native bucket at schema 3 ((470, 512]).
        assert_eq!(at_511, at_512);
        assert_eq!(native.spans, [(at_511, 1), (at_5us - at_511 - 1, 1)]);
        assert_eq!(native.counts, [5, 1]);
        // Where our own quantiles place the first bucket.
        assert_eq!(stats.quantile(0.5), std::time::Duration::from_nanos(511));
    }

    #[test]
    fn zeros_go_to_the_zero_bucket_and_an_empty_histogram_has_no_span() {
        let registry = crate::registry::Registry::new();
        let timer = registry.timer("t");
        let mut native = Exponential::default();
        native.fill(timer.stats().busy(), SCHEMA);
        assert!(native.spans.is_empty() && native.counts.is_empty());
        timer.record(std::time::Duration::ZERO);
        timer.record(std::time::Duration::from_millis(1));
        native.fill(timer.stats().busy(), SCHEMA);
        assert_eq!(native.zero_count, 1);
        assert_eq!(native.spans, [(-79, 1)]);
        assert_eq!(native.counts, [1]);
    }
}
