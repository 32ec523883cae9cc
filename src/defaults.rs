//! The defaults every reader and writer agrees on, declared once: the
//! builder starts from them; a saved run, a merge or an export with no
//! timer to take them from falls back to them.

use std::time::Duration;

/// The lowest duration told apart: 1 ns.
pub(crate) const LOWEST: Duration = Duration::from_nanos(1);
/// The highest duration tracked before clamping: 1 h.
pub(crate) const HIGHEST: Duration = Duration::from_secs(3600);
/// HdrHistogram's precision: 3 significant figures.
pub(crate) const SIGNIFICANT_FIGURES: u8 = 3;
/// The quantiles a report prints.
pub(crate) const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// The slowest runs each timer keeps.
pub(crate) const SLOWEST_RUNS: usize = 5;

/// Most slowest runs a timer may keep (see `ConfigError::SlowestRuns`).
pub(crate) const MAX_SLOWEST_RUNS: usize = 1_000;
