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

/// `nanos` at 3 significant figures, e.g. `73.1 µs`.
pub(crate) struct Nanos(pub(crate) f64);

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Scaled::of(self.0).write(f, self.0)
    }
}

/// A quantile as a percentage label: 0.5 → `50%`, 0.999 → `99.9%`.
pub(crate) struct Percent(pub(crate) f64);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.4}", self.0 * 100.0);
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn percent_labels() {
        assert_eq!(Percent(0.5).to_string(), "50%");
        assert_eq!(Percent(0.999).to_string(), "99.9%");
        assert_eq!(Percent(0.9999).to_string(), "99.99%");
        assert_eq!(Percent(1.0).to_string(), "100%");
        assert_eq!(Percent(0.0).to_string(), "0%");
    }
}
