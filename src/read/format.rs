//! Durations at 3 significant figures with a unit, rolling over cleanly:
//! 999.96 µs prints `1.00 ms`, never `1000 µs`.

use std::fmt;

const UNITS: [(&str, f64); 4] = [("ns", 1.0), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)];

/// A duration scaled to its unit and rounded to 3 significant figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scaled {
    unit: usize,
    decimals: usize,
}

impl Scaled {
    /// Picks the unit and the decimals that print `nanos` with 3 significant
    /// figures. Durations of 1000 s and more print as whole seconds.
    pub(crate) fn of(nanos: f64) -> Scaled {
        let nanos = if nanos.is_finite() {
            nanos.max(0.0)
        } else {
            0.0
        };
        let mut unit = UNITS
            .iter()
            .rposition(|(_, scale)| nanos >= *scale)
            .unwrap_or(0);
        loop {
            let x = nanos / UNITS[unit].1;
            let mut decimals = decimals_for(x);
            // Rounding can add a digit (9.996 → 10.00): take one decimal
            // fewer, or the next unit once three integer digits become four.
            loop {
                let rounded = round(x, decimals);
                if rounded < 10_f64.powi(3 - decimals as i32) {
                    return Scaled { unit, decimals };
                }
                if decimals == 0 {
                    break;
                }
                decimals -= 1;
            }
            if unit + 1 == UNITS.len() {
                return Scaled { unit, decimals: 0 };
            }
            unit += 1;
        }
    }

    /// Writes `nanos` in this unit with these decimals, then the unit.
    pub(crate) fn write(&self, f: &mut impl fmt::Write, nanos: f64) -> fmt::Result {
        let (name, scale) = UNITS[self.unit];
        let x = round(nanos.max(0.0) / scale, self.decimals);
        write!(f, "{x:.prec$} {name}", prec = self.decimals)
    }
}

fn decimals_for(x: f64) -> usize {
    if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    }
}

fn round(x: f64, decimals: usize) -> f64 {
    let factor = 10_f64.powi(decimals as i32);
    (x * factor).round() / factor
}

/// A byte count (or rate) at 3 significant figures in decimal units, e.g.
/// `4.10 KB`, `12.3 MB`; under 1,000 whole, e.g. `512 B`.
pub(crate) struct Bytes(pub(crate) f64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        scaled_bytes(f, self.0, 1000.0, ["B", "KB", "MB", "GB", "TB"])
    }
}

/// `bytes` at 3 significant figures in `units` of `base` apart; under
/// 1,000 whole. Moves up a unit while the value, rounded to 3 figures,
/// reaches 1000 (999.6 KB is `1.00 MB`).
fn scaled_bytes(
    f: &mut fmt::Formatter<'_>,
    bytes: f64,
    base: f64,
    units: [&str; 5],
) -> fmt::Result {
    let bytes = if bytes.is_finite() {
        bytes.max(0.0)
    } else {
        0.0
    };
    if bytes < 999.5 {
        return write!(f, "{bytes:.0} B");
    }
    let mut unit = 0;
    let mut x = bytes;
    while unit + 1 < units.len() && round(x, decimals_for(x)) >= 1000.0 {
        x /= base;
        unit += 1;
    }
    let decimals = decimals_for(x);
    write!(
        f,
        "{:.prec$} {}",
        round(x, decimals),
        units[unit],
        prec = decimals
    )
}

/// Bytes allocated, at 3 significant figures in binary units, e.g.
/// `45.0 KiB`, `1.50 MiB`; under 1,000 whole, e.g. `512 B`.
pub(crate) struct BinaryBytes(pub(crate) f64);

impl fmt::Display for BinaryBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        scaled_bytes(f, self.0, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB"])
    }
}

/// A count per run: whole when it is (`120`, `3`), otherwise at 3
/// significant figures (`2.50`, `0.333`, `41.7`).
pub(crate) struct PerRun(pub(crate) f64);

impl fmt::Display for PerRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = if self.0.is_finite() {
            self.0.max(0.0)
        } else {
            0.0
        };
        if x.fract() == 0.0 || x >= 99.95 {
            write!(f, "{x:.0}")
        } else if x >= 9.995 {
            write!(f, "{x:.1}")
        } else if x >= 0.9995 {
            write!(f, "{x:.2}")
        } else {
            write!(f, "{x:.3}")
        }
    }
}

/// `nanos` at 3 significant figures, e.g. `73.1 µs`.
pub(crate) struct Nanos(pub(crate) f64);

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Scaled::of(self.0).write(f, self.0)
    }
}

/// A duration the way reports print it: 3 significant figures and a unit
/// (`73.1 µs`, `1.00 ms`, `2.50 s`), for output of your own that should
/// read like the report's.
///
/// ```
/// use std::time::Duration;
/// use perf_timer::ReportDuration;
///
/// assert_eq!(ReportDuration(Duration::from_nanos(73_140)).to_string(), "73.1 µs");
/// assert_eq!(ReportDuration(Duration::from_nanos(999_960)).to_string(), "1.00 ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportDuration(pub std::time::Duration);

impl fmt::Display for ReportDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Nanos(self.0.as_nanos() as f64).fmt(f)
    }
}

/// A deviation beside a mean: 3 significant figures, in the mean's unit
/// while that reads well (`± 18.0 µs` beside `73.1 µs`, `± 0.410 ms` beside
/// `2.10 ms`), otherwise in its own (`± 1.56 s` beside `1.75 ms`).
pub(crate) struct Deviation {
    pub(crate) nanos: f64,
    pub(crate) mean: Scaled,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = if self.nanos.is_finite() {
            self.nanos.max(0.0)
        } else {
            0.0
        };
        let x = nanos / UNITS[self.mean.unit].1;
        if x == 0.0 {
            return self.mean.write(f, 0.0);
        }
        // 3 significant figures in the mean's unit, from 0.100 to 999.
        let decimals = if x >= 100.0 {
            0
        } else if x >= 10.0 {
            1
        } else if x >= 1.0 {
            2
        } else {
            3
        };
        let rounded = round(x, decimals);
        if (0.1..1000.0).contains(&rounded) && decimals_fit(rounded, decimals) {
            let name = UNITS[self.mean.unit].0;
            write!(f, "{rounded:.decimals$} {name}")
        } else {
            Nanos(nanos).fmt(f)
        }
    }
}

/// Whether `rounded` still has 3 significant figures with `decimals`
/// (rounding 9.996 up to 10.00 would give 4).
fn decimals_fit(rounded: f64, decimals: usize) -> bool {
    rounded < 10_f64.powi(3 - decimals as i32)
}

/// A quantile as a percentage label, with as many digits as the quantile
/// has: 0.5 → `50%`, 0.999 → `99.9%`, 0.9999999 → `99.99999%`. The digits
/// are those of the shortest decimal that reads back as the quantile, moved
/// two places, so distinct quantiles get distinct labels and none below 1
/// prints as `100%`.
pub(crate) struct Percent(pub(crate) f64);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{}` of an f64 is the shortest round-trip decimal, never an
        // exponent; `+ 0.0` turns -0.0 into 0.0.
        let text = format!("{}", self.0 + 0.0);
        let (sign, text) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        // Move the point two places right, padding with zeros.
        let frac = format!("{frac:0<2}");
        let (moved, rest) = frac.split_at(2);
        let whole = format!("{int}{moved}");
        let whole = whole.trim_start_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        let rest = rest.trim_end_matches('0');
        f.write_str(sign)?;
        f.write_str(whole)?;
        if !rest.is_empty() {
            write!(f, ".{rest}")?;
        }
        f.write_str("%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_at_three_figures() {
        for (bytes, text) in [
            (0.0, "0 B"),
            (512.0, "512 B"),
            (999.4, "999 B"),
            (999.6, "1.00 KB"),
            (4_100.0, "4.10 KB"),
            (12_345_678.0, "12.3 MB"),
            (999_960.0, "1.00 MB"),
            (2.5e12, "2.50 TB"),
        ] {
            assert_eq!(Bytes(bytes).to_string(), text, "{bytes}");
        }
    }

    fn show(nanos: f64) -> String {
        Nanos(nanos).to_string()
    }

    #[test]
    fn three_significant_figures_in_each_unit() {
        assert_eq!(show(0.0), "0.00 ns");
        assert_eq!(show(7.0), "7.00 ns");
        assert_eq!(show(73.14), "73.1 ns");
        assert_eq!(show(731.0), "731 ns");
        assert_eq!(show(73_100.0), "73.1 µs");
        assert_eq!(show(1_230_000.0), "1.23 ms");
        assert_eq!(show(2_500_000_000.0), "2.50 s");
        assert_eq!(show(321_000.0), "321 µs");
    }

    #[test]
    fn allocations_print_in_binary_units_and_counts_whole_when_whole() {
        let bytes = |b: f64| BinaryBytes(b).to_string();
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(999.4), "999 B");
        assert_eq!(bytes(999.6), "0.98 KiB");
        assert_eq!(bytes(45.0 * 1024.0), "45.0 KiB");
        assert_eq!(bytes(1536.0 * 1024.0), "1.50 MiB");
        assert_eq!(bytes(1023.9 * 1024.0), "1.00 MiB");
        assert_eq!(bytes(f64::NAN), "0 B");
        let per_run = |n: f64| PerRun(n).to_string();
        assert_eq!(per_run(120.0), "120");
        assert_eq!(per_run(3.0), "3");
        assert_eq!(per_run(2.5), "2.50");
        assert_eq!(per_run(41.66), "41.7");
        assert_eq!(per_run(1.0 / 3.0), "0.333");
        assert_eq!(per_run(1234.4), "1234");
    }

    #[test]
    fn rounding_rolls_over_to_the_next_unit() {
        assert_eq!(show(999.6), "1.00 µs");
        assert_eq!(show(999.4), "999 ns");
        assert_eq!(show(999_960.0), "1.00 ms");
        assert_eq!(show(999_960_000.0), "1.00 s");
        assert_eq!(show(9.996), "10.0 ns");
        assert_eq!(show(99_960.0), "100 µs");
        assert_eq!(show(99.94), "99.9 ns");
    }

    #[test]
    fn a_thousand_seconds_and_more_print_whole_seconds() {
        assert_eq!(show(999_600_000_000.0), "1000 s");
        assert_eq!(show(1_234_567_000_000.0), "1235 s");
        assert_eq!(show(86_400e9 * 400.0), "34560000 s");
    }

    #[test]
    fn a_second_value_uses_the_first_ones_unit() {
        let scaled = Scaled::of(2_100_000.0);
        let mut out = String::new();
        scaled.write(&mut out, 410_000.0).unwrap();
        assert_eq!(out, "0.41 ms");
    }

    #[test]
    fn percent_labels_are_exact_and_distinct() {
        for (q, label) in [
            (0.5, "50%"),
            (0.9, "90%"),
            (0.999, "99.9%"),
            (0.9999, "99.99%"),
            (0.99999, "99.999%"),
            (0.9999999, "99.99999%"),
            (1e-7, "0.00001%"),
            (0.001, "0.1%"),
            (0.05, "5%"),
            (0.123, "12.3%"),
            (1.0, "100%"),
            (0.0, "0%"),
            (-0.0, "0%"),
        ] {
            assert_eq!(Percent(q).to_string(), label, "{q}");
        }
        let near_one = 1.0 - f64::EPSILON;
        assert_ne!(Percent(near_one).to_string(), "100%");
    }

    fn deviation(nanos: f64, mean: f64) -> String {
        Deviation {
            nanos,
            mean: Scaled::of(mean),
        }
        .to_string()
    }

    #[test]
    fn deviations_have_three_significant_figures() {
        assert_eq!(deviation(18_000.0, 73_100.0), "18.0 µs");
        assert_eq!(deviation(297_000.0, 34_500.0), "297 µs");
        assert_eq!(deviation(410_000.0, 2_100_000.0), "0.410 ms");
        assert_eq!(deviation(1_558_955_710_000.0, 1_750_000.0), "1559 s");
        assert_eq!(deviation(41_000.0, 2_100_000_000.0), "41.0 µs");
        assert_eq!(deviation(999_700.0, 5_000.0), "1.00 ms");
        assert_eq!(deviation(0.0, 5_000.0), "0.00 µs");
        assert_eq!(deviation(f64::NAN, 5_000.0), "0.00 µs");
    }
}
