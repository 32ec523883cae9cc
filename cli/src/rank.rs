//! The Mann-Whitney U test on two histograms' buckets: does one run's busy
//! time tend to be larger than the other's?
//!
//! Why this test: it compares whole distributions by rank, so a few huge
//! outliers (common in latency) cannot decide it; it needs no resampling,
//! so the same two files always get the same verdict (what a CI gate
//! needs); and on bucketed values it is exact about ties: values sharing a
//! bucket share their average rank, and the variance is corrected for them.
//! Its normal approximation accounts for both sample sizes (`n₁n₂/12`).

/// The two one-sided p-values of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// The standardized U statistic of `new` (positive: `new` tends larger).
    pub z: f64,
    /// p-value of "new tends to be larger than base".
    pub p_larger: f64,
    /// p-value of "new tends to be smaller than base".
    pub p_smaller: f64,
}

/// `base` and `new` as (value, count) buckets, each sorted by value.
/// `None` when either side is empty.
pub fn mann_whitney(base: &[(u64, u64)], new: &[(u64, u64)]) -> Option<RankTest> {
    let n_base: f64 = base.iter().map(|b| b.1 as f64).sum();
    let n_new: f64 = new.iter().map(|b| b.1 as f64).sum();
    if n_base == 0.0 || n_new == 0.0 {
        return None;
    }
    let (mut i, mut j) = (0, 0);
    let (mut below, mut rank_sum_new, mut ties) = (0.0_f64, 0.0_f64, 0.0_f64);
    while i < base.len() || j < new.len() {
        let value = match (base.get(i), new.get(j)) {
            (Some(b), Some(n)) => b.0.min(n.0),
            (Some(b), None) => b.0,
            (None, Some(n)) => n.0,
            (None, None) => unreachable!(),
        };
        let mut count_base = 0.0;
        while base.get(i).is_some_and(|b| b.0 == value) {
            count_base += base[i].1 as f64;
            i += 1;
        }
        let mut count_new = 0.0;
        while new.get(j).is_some_and(|n| n.0 == value) {
            count_new += new[j].1 as f64;
            j += 1;
        }
        let tied = count_base + count_new;
        let average_rank = below + (tied + 1.0) / 2.0;
        rank_sum_new += count_new * average_rank;
        ties += tied * tied * tied - tied;
        below += tied;
    }
    let all = n_base + n_new;
    let u_new = rank_sum_new - n_new * (n_new + 1.0) / 2.0;
    let mean = n_base * n_new / 2.0;
    let variance = n_base * n_new / 12.0 * ((all + 1.0) - ties / (all * (all - 1.0)));
    if variance <= 0.0 {
        // Every value in one bucket: no evidence either way.
        return Some(RankTest {
            z: 0.0,
            p_larger: 1.0,
            p_smaller: 1.0,
        });
    }
    let sd = variance.sqrt();
    // Continuity correction, toward the mean.
    let z_larger = (u_new - mean - 0.5) / sd;
    let z_smaller = (u_new - mean + 0.5) / sd;
    Some(RankTest {
        z: (u_new - mean) / sd,
        p_larger: 1.0 - normal_cdf(z_larger),
        p_smaller: normal_cdf(z_smaller),
    })
}

/// Φ(z), the standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function, to a relative error below 1.2e-7
/// (the Chebyshev fit of Numerical Recipes' `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_distribution_function_is_right() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-2.326_348) - 0.01).abs() < 1e-6);
    }

    /// Against a textbook case computed by hand: base 1..=5, new 6..=10,
    /// no ties: U = 25, mean 12.5, sd √22.9167.
    #[test]
    fn separated_samples_give_the_textbook_statistic() {
        let base: Vec<(u64, u64)> = (1..=5).map(|v| (v, 1)).collect();
        let new: Vec<(u64, u64)> = (6..=10).map(|v| (v, 1)).collect();
        let test = mann_whitney(&base, &new).unwrap();
        assert!((test.z - 12.5 / (275.0_f64 / 12.0).sqrt()).abs() < 1e-12);
        assert!(test.p_larger < 0.01 && test.p_smaller > 0.99);
    }

    #[test]
    fn the_same_distribution_is_no_evidence() {
        let side: Vec<(u64, u64)> = (1..=50).map(|v| (v * 10, v % 7 + 1)).collect();
        let test = mann_whitney(&side, &side).unwrap();
        assert!(test.z.abs() < 1e-12);
        assert!(test.p_larger > 0.4 && test.p_smaller > 0.4);
    }

    #[test]
    fn ties_count_at_their_average_rank() {
        // All values tied but one: a shift of one value among 2,000 is no
        // evidence of a difference.
        let base = [(100, 1_000)];
        let new = [(100, 999), (200, 1)];
        let test = mann_whitney(&base, &new).unwrap();
        assert!(test.p_larger > 0.1, "{test:?}");
        assert!(mann_whitney(&base, &[]).is_none());
        let same = mann_whitney(&base, &base).unwrap();
        assert_eq!((same.p_larger, same.p_smaller), (1.0, 1.0));
    }
}
