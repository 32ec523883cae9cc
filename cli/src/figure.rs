//! The figure of a run's busy time that a verdict judges (`--by`), and
//! the one way quantiles are named (`p50`, `p99.9`): what loading runs,
//! comparing them and drawing them all speak of.

use perf_timer::Stats;

use crate::evidence::Reading;

/// The figure of each process run's busy-time distribution that verdicts
/// compare (`--by`).
///
/// The median is the default: busy time includes time the OS took the
/// thread away, and on a loaded machine a few runs of each process absorb
/// a whole time slice (milliseconds), which moves a process's mean by
/// 100 % and more for a timer of a few microseconds (measured: +397 % for
/// a 1.5 µs timer, one run against one, with two busy loops beside); the
/// median does not move. `mean` follows total CPU (a slowdown of a few
/// runs counts), `p90`/`p99` the tail; both move with the machine's load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum By {
    /// The mean busy time.
    Mean,
    /// A quantile of busy time, in (0, 1).
    Quantile(f64),
}

impl By {
    /// `mean`, `median`, `p50`, `p99`, `p99.9`.
    pub fn parse(text: &str) -> Result<By, String> {
        let wrong = || {
            format!("--by takes mean, median or a percentile such as p90 or p99.9, not {text:?}")
        };
        match text {
            "mean" => Ok(By::Mean),
            "median" => Ok(By::Quantile(0.5)),
            _ => {
                let percent: f64 = text
                    .strip_prefix('p')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(wrong)?;
                if percent > 0.0 && percent < 100.0 {
                    Ok(By::Quantile(percent / 100.0))
                } else {
                    Err(wrong())
                }
            }
        }
    }

    /// The figure of `stats`' busy time with the interval its samples
    /// allow; `None` without samples.
    pub fn reading(self, stats: &Stats) -> Option<Reading> {
        match self {
            By::Mean => Reading::mean(stats.busy()),
            By::Quantile(q) => Reading::quantile(stats.busy(), q),
        }
    }

    /// `mean`, `p50`, …
    pub fn name(self) -> String {
        match self {
            By::Mean => "mean".to_owned(),
            By::Quantile(q) => quantile_name(q),
        }
    }
}

/// `p50`, `p99`, `p99.9`.
pub fn quantile_name(q: f64) -> String {
    let percent = q * 100.0;
    let text = format!("{percent:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("p{text}")
}
