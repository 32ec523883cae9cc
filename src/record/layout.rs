//! HdrHistogram's bucket layout, reproduced so that the recorder can count
//! into compact counters of its own and a reader can rebuild an identical
//! `hdrhistogram::Histogram` from them.
//!
//! The formulas mirror `hdrhistogram::Histogram::new_with_bounds`,
//! `index_for` and `value_for`; a test checks index for index that both agree.

use std::time::Duration;

use hdrhistogram::{CreationError, Histogram};

use crate::error::ConfigError;

/// Range and precision of every histogram in one registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) lowest: u64,
    pub(crate) highest: u64,
    pub(crate) significant_figures: u8,
    unit_magnitude: u32,
    sub_bucket_half_count_magnitude: u32,
    sub_bucket_half_count: usize,
    sub_bucket_mask: u64,
    leading_zero_count_base: u32,
    len: usize,
}

/// Bytes a run allocated are counted from 1 B to 1 TiB (more counts as
/// 1 TiB) at 2 significant figures: 4,352 counters, 34 KiB were they all
/// used (a timer's runs usually use a few, kept sparse); 3 figures would
/// make that 248 KiB, the whole of a timer's budget, for a precision of
/// bytes nobody reads.
pub(crate) fn allocated_bytes() -> &'static Layout {
    static LAYOUT: std::sync::OnceLock<Layout> = std::sync::OnceLock::new();
    LAYOUT.get_or_init(|| Layout::new(1, 1 << 40, 2).expect("a valid range"))
}

impl Layout {
    /// The default layout (1 ns to 1 h at 3 figures).
    #[cfg(feature = "save")]
    pub(crate) fn default_range() -> Self {
        use crate::defaults;
        Layout::new(
            defaults::LOWEST.as_nanos() as u64,
            defaults::HIGHEST.as_nanos() as u64,
            defaults::SIGNIFICANT_FIGURES,
        )
        .expect("the default range is valid")
    }

    /// Validates the range with HdrHistogram itself, then derives the layout.
    pub(crate) fn new(
        lowest: u64,
        highest: u64,
        significant_figures: u8,
    ) -> Result<Self, ConfigError> {
        let empty = Histogram::<u64>::new_with_bounds(lowest, highest, significant_figures)
            .map_err(|e| config_error(e, lowest, highest, significant_figures))?;
        let largest_single_unit = 2 * 10_u32.pow(u32::from(significant_figures));
        let unit_magnitude = (lowest as f64).log2().floor() as u32;
        let sub_bucket_count_magnitude = f64::from(largest_single_unit).log2().ceil() as u32;
        let sub_bucket_count = 1_u64 << sub_bucket_count_magnitude;
        Ok(Layout {
            lowest,
            highest,
            significant_figures,
            unit_magnitude,
            sub_bucket_half_count_magnitude: sub_bucket_count_magnitude - 1,
            sub_bucket_half_count: (sub_bucket_count / 2) as usize,
            sub_bucket_mask: (sub_bucket_count - 1) << unit_magnitude,
            leading_zero_count_base: 64 - unit_magnitude - sub_bucket_count_magnitude,
            len: empty.distinct_values(),
        })
    }

    /// Number of counters a histogram of this layout holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The counter index of `value`; `value` must be at most `highest`.
    #[inline(always)]
    pub(crate) fn index(&self, value: u64) -> usize {
        let bucket = self.leading_zero_count_base - (value | self.sub_bucket_mask).leading_zeros();
        let sub_bucket = (value >> (bucket + self.unit_magnitude)) as usize;
        ((bucket as usize + 1) << self.sub_bucket_half_count_magnitude) + sub_bucket
            - self.sub_bucket_half_count
    }

    /// The lowest value counted at `index`.
    pub(crate) fn value(&self, index: usize) -> u64 {
        let mut bucket = (index >> self.sub_bucket_half_count_magnitude) as i64 - 1;
        let mut sub_bucket =
            (index & (self.sub_bucket_half_count - 1)) + self.sub_bucket_half_count;
        if bucket < 0 {
            sub_bucket -= self.sub_bucket_half_count;
            bucket = 0;
        }
        (sub_bucket as u64) << (bucket as u32 + self.unit_magnitude)
    }

    /// The highest value counted at `index`.
    pub(crate) fn highest_value(&self, index: usize) -> u64 {
        // Counters are contiguous in value: the next one starts right after.
        self.value(index + 1)
            .saturating_sub(1)
            .max(self.value(index))
    }

    /// The middle of the values counted at `index`, as HdrHistogram's
    /// `median_equivalent`.
    pub(crate) fn median_value(&self, index: usize) -> u64 {
        let low = self.value(index);
        low + (self.highest_value(index) - low).div_ceil(2)
    }

    /// An HdrHistogram holding `counts` ((counter index, count) pairs),
    /// sized to the largest value among them, at counter index `last`.
    pub(crate) fn histogram_of(
        &self,
        last: Option<u32>,
        counts: impl Iterator<Item = (u32, u64)>,
    ) -> Histogram<u64> {
        let max_value = last.map_or(0, |i| self.value(i as usize));
        let mut histogram = self.histogram_up_to(max_value);
        for (index, count) in counts {
            histogram.saturating_record_n(self.value(index as usize), count);
        }
        histogram
    }

    /// An empty HdrHistogram of this layout.
    pub(crate) fn empty_histogram(&self) -> Histogram<u64> {
        Histogram::new_with_bounds(self.lowest, self.highest, self.significant_figures)
            .expect("validated in Layout::new")
    }

    /// An empty, auto-resizing HdrHistogram of this layout's precision with
    /// counters allocated only up to `max_value` (at most `highest`): a
    /// reader's copy costs memory for the values seen, not the whole range.
    pub(crate) fn histogram_up_to(&self, max_value: u64) -> Histogram<u64> {
        let high = max_value.min(self.highest).max(2 * self.lowest);
        let mut histogram = Histogram::new_with_bounds(self.lowest, high, self.significant_figures)
            .unwrap_or_else(|_| self.empty_histogram());
        histogram.auto(true);
        histogram
    }
}

fn config_error(error: CreationError, lowest: u64, highest: u64, sigfig: u8) -> ConfigError {
    match error {
        CreationError::LowIsZero => ConfigError::LowestIsZero,
        CreationError::SigFigExceedsMax => ConfigError::SignificantFigures(sigfig),
        CreationError::HighLessThanTwiceLow | CreationError::LowExceedsMax => {
            ConfigError::HighestBelowTwiceLowest {
                lowest: Duration::from_nanos(lowest),
                highest: Duration::from_nanos(highest),
            }
        }
        CreationError::CannotRepresentSigFigBeyondLow => ConfigError::LowestTooLarge {
            lowest: Duration::from_nanos(lowest),
            significant_figures: sigfig,
        },
        CreationError::UsizeTypeTooSmall => ConfigError::RangeTooLarge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lowest: u64, highest: u64, sigfig: u8, values: impl Iterator<Item = u64>) {
        let layout = Layout::new(lowest, highest, sigfig).unwrap();
        let reference = layout.empty_histogram();
        for v in values.filter(|v| *v <= highest) {
            let i = layout.index(v);
            assert!(i < layout.len(), "index {i} of {v} out of {}", layout.len());
            assert_eq!(
                layout.value(i),
                reference.lowest_equivalent(v),
                "value {v} (layout {lowest}..{highest}, {sigfig} sig figs)"
            );
        }
    }

    fn spread() -> impl Iterator<Item = u64> {
        (0..64).flat_map(|shift| {
            let base = 1_u64 << shift;
            [base - 1, base, base + 1, base + base / 3]
        })
    }

    #[test]
    fn matches_hdrhistogram_at_default_precision() {
        check(1, 3_600_000_000_000, 3, spread().chain(0..5000));
    }

    #[test]
    fn matches_hdrhistogram_at_other_precisions_and_units() {
        for sigfig in 0..=5 {
            check(1, u64::MAX / 4, sigfig, spread());
            check(1000, 10_000_000_000, sigfig, spread());
        }
    }

    #[test]
    fn highest_and_median_values_match_hdrhistogram() {
        let layout = Layout::new(1, 3_600_000_000_000, 3).unwrap();
        let reference = layout.empty_histogram();
        assert_eq!(layout.len(), 33 * 1024);
        for v in spread().filter(|v| *v <= 3_600_000_000_000) {
            let i = layout.index(v);
            assert_eq!(
                layout.highest_value(i),
                reference.highest_equivalent(v),
                "{v}"
            );
            assert_eq!(
                layout.median_value(i),
                reference.median_equivalent(v),
                "{v}"
            );
        }
    }
}
