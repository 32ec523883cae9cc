//! Errors returned by constructors that can fail.

use std::time::Duration;

/// A registry configuration that cannot work, returned by
/// [`RegistryBuilder::build`](crate::RegistryBuilder::build).
///
/// Each message says what was wrong and what is allowed.
///
/// ```
/// use perf_timer::{ConfigError, Registry};
///
/// let err = Registry::builder().quantiles([0.5, 1.5]).build().unwrap_err();
/// assert_eq!(err, ConfigError::QuantileOutOfRange(1.5));
/// assert_eq!(err.to_string(), "quantile 1.5 is outside [0, 1]");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A report quantile is NaN or outside `[0, 1]`.
    #[error("quantile {0} is outside [0, 1]")]
    QuantileOutOfRange(f64),
    /// A report quantile is listed twice (`-0.0` and `0.0` are the same);
    /// each must appear once, or the report and the exports would print it
    /// twice.
    #[error("quantile {0} is listed twice; list each quantile once")]
    DuplicateQuantile(f64),
    /// The stripes per timer must be 1 to 64.
    #[error("{0} stripes per timer requested; allowed: 1 to 64")]
    Stripes(usize),
    /// A timer keeps at most 1,000 slowest runs: each is kept with its
    /// parts, and a run that enters them is placed among them on the
    /// thread that ran it.
    #[error("{0} slowest runs per timer requested; allowed: 0 to 1000")]
    SlowestRuns(usize),
    /// HdrHistogram keeps at most 5 significant figures.
    #[error("{0} significant figures requested; HdrHistogram allows 0 to 5")]
    SignificantFigures(u8),
    /// The lowest discernible duration must be at least 1 ns.
    #[error("lowest discernible duration is 0 ns; it must be at least 1 ns")]
    LowestIsZero,
    /// The highest trackable duration must be at least twice the lowest.
    #[error("highest trackable duration {highest:?} is less than twice the lowest {lowest:?}")]
    HighestBelowTwiceLowest {
        /// The lowest discernible duration asked for.
        lowest: Duration,
        /// The highest trackable duration asked for.
        highest: Duration,
    },
    /// The lowest discernible duration is too large for the significant figures asked for.
    #[error(
        "lowest discernible duration {lowest:?} is too large to keep {significant_figures} \
         significant figures in 64 bits; lower one of them"
    )]
    LowestTooLarge {
        /// The lowest discernible duration asked for.
        lowest: Duration,
        /// The significant figures asked for.
        significant_figures: u8,
    },
    /// The histogram would need more buckets than this platform can index.
    #[error("the histogram range is too large for this platform; lower the precision or range")]
    RangeTooLarge,
}

/// Why [`RegistryBuilder::build_global`](crate::RegistryBuilder::build_global)
/// installed no registry.
///
/// ```
/// use perf_timer::{ConfigError, GlobalError, Registry};
///
/// let _ = perf_timer::global(); // the global registry is now in use
/// let err = Registry::builder().build_global().unwrap_err();
/// assert_eq!(err, GlobalError::AlreadySet);
/// let err = Registry::builder().stripes(0).build_global().unwrap_err();
/// assert_eq!(err, GlobalError::Config(ConfigError::Stripes(0)));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobalError {
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The global registry was already in use or installed: it is made on
    /// first use, so configure it before anything records into it.
    #[error("the global registry is already in use; build it before the first timer")]
    AlreadySet,
}
