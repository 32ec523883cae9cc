//! How a comparison judges (`diff`, and `html` of two files or more):
//! the options both commands take, as one argument group.

use crate::figure::By;

/// How far a figure may move and which figure is judged: the verdict's
/// options, shared by `diff` and `html`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Judging {
    /// How far the judged figure (--by) may move, either way, before it
    /// counts, in percent: 5% or 5 (1.05x slower or faster); below 0.5
    /// warns, as 0.05 means 0.05%.
    #[arg(long, default_value = "5%", value_parser = threshold)]
    pub threshold: f64,
    /// The figure of each run's busy time to judge: median (default:
    /// steady on a loaded machine), mean (total CPU), or a percentile
    /// such as p90 or p99.
    #[arg(long, default_value = "median", value_parser = By::parse)]
    pub by: By,
    /// Compare runs saved with different clocks (TSC, thread CPU, …)
    /// instead of refusing.
    #[arg(long)]
    pub allow_mixed_clocks: bool,
}

/// The largest `--threshold`: 100× a side, past any change worth a
/// verdict (and the widest a verdict's text prints sensibly).
const MOST_THRESHOLD: f64 = 10_000.0;

/// `--threshold`: `5%`, `5` (both percent) or `2.5%`.
pub fn threshold(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if (0.0..=MOST_THRESHOLD).contains(&p) => Ok(p),
        _ => Err(format!(
            "--threshold takes a percentage from 0% to {MOST_THRESHOLD}% such as 5% or 2.5, \
             not {text:?}"
        )),
    }
}

/// Says on stderr when a `--threshold` below 0.5 (percent) looks like a
/// fraction meant as a percentage (0.05 for 5 %).
pub fn warn_of_threshold(percent: f64) {
    if let Some(warning) = threshold_warning(percent) {
        note!("perf-timer: {warning}");
    }
}

fn threshold_warning(percent: f64) -> Option<String> {
    let trimmed = |x: f64| {
        let text = format!("{x:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    (percent > 0.0 && percent < 0.5).then(|| {
        let (given, meant) = (trimmed(percent), trimmed(percent * 100.0));
        format!(
            "--threshold {given} means {given} %, not a fraction; did you mean {meant} %? \
             (--threshold {meant}% for that)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_is_a_percentage_with_or_without_its_sign() {
        assert_eq!(threshold("5%"), Ok(5.0));
        assert_eq!(threshold("5"), Ok(5.0));
        assert_eq!(threshold(" 2.5% "), Ok(2.5));
        assert!(threshold("-1").is_err() && threshold("five").is_err());
        assert_eq!(threshold("10000%"), Ok(10_000.0));
        assert!(threshold("1e308").is_err() && threshold("inf").is_err());
    }

    #[test]
    fn a_threshold_below_half_a_percent_asks_whether_a_fraction_was_meant() {
        assert_eq!(
            threshold_warning(0.05).as_deref(),
            Some("--threshold 0.05 means 0.05 %, not a fraction; did you mean 5 %? (--threshold 5% for that)")
        );
        assert!(threshold_warning(0.1)
            .unwrap()
            .contains("did you mean 10 %?"));
        assert_eq!(threshold_warning(0.5), None);
        assert_eq!(threshold_warning(5.0), None);
        assert_eq!(threshold_warning(0.0), None);
    }
}
