//! HdrHistogram's classic percentile distribution text (`.hgrm`).

use std::io::{self, Write};

use hdrhistogram::Histogram;

/// Writes `histogram` as HdrHistogram's percentile distribution: the
/// shortcut for `Hgrm::new().write(out, histogram)` (see [`Hgrm`]).
///
/// ```
/// let timer = perf_timer::Registry::new().timer("x");
/// timer.record(std::time::Duration::from_micros(5));
/// let mut out = Vec::new();
/// perf_timer::export::write_hgrm(&mut out, timer.stats().histogram())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_hgrm(out: &mut impl Write, histogram: &Histogram<u64>) -> io::Result<()> {
    Hgrm::new().write(out, histogram)
}

/// HdrHistogram's percentile distribution (`.hgrm`) of one histogram
/// (nanoseconds, as in [`Stats::histogram`](crate::Stats::histogram)),
/// values in milliseconds: the text that HdrHistogram's plotters and tools
/// read. The same shape as every exporter here: `new`, then `write` into
/// an output or `render` into a `String`.
///
/// ```
/// let timer = perf_timer::Registry::new().timer("x");
/// for us in 1..=100 {
///     timer.record(std::time::Duration::from_micros(us));
/// }
/// let mut out = Vec::new();
/// perf_timer::export::Hgrm::new().write(&mut out, timer.stats().histogram())?;
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n"));
/// assert!(text.contains("#[Max     =        0.100, Total count    =          100]"));
/// assert!(text.ends_with(", SubBuckets     =         2048]\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Hgrm {
    _private: (),
}

impl Hgrm {
    /// The `.hgrm` format, with HdrHistogram's own layout (5 ticks per half
    /// distance).
    ///
    /// ```
    /// let _ = perf_timer::export::Hgrm::new();
    /// ```
    pub fn new() -> Self {
        Hgrm::default()
    }

    /// [`write`](Hgrm::write) into a new `String`.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("x");
    /// timer.record(std::time::Duration::from_micros(5));
    /// let text = perf_timer::export::Hgrm::new().render(timer.stats().histogram());
    /// assert!(text.contains("Total count    =            1]"));
    /// ```
    pub fn render(&self, histogram: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        self.write(&mut out, histogram)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the text is ASCII")
    }

    /// Writes `histogram`.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("x");
    /// timer.record(std::time::Duration::from_micros(5));
    /// perf_timer::export::Hgrm::new().write(&mut std::io::sink(), timer.stats().histogram())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(&self, out: &mut impl Write, histogram: &Histogram<u64>) -> io::Result<()> {
        const SCALE: f64 = 1e6; // nanoseconds per millisecond
        writeln!(
            out,
            "{:>12} {:>14} {:>10} {:>14}\n",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        )?;
        if !histogram.is_empty() {
            let mut total = 0_u64;
            for v in histogram.iter_quantiles(5) {
                total += v.count_since_last_iteration();
                let q = v.quantile_iterated_to();
                let value = v.value_iterated_to() as f64 / SCALE;
                if q < 1.0 {
                    writeln!(
                        out,
                        "{value:12.3} {q:2.12} {:10} {:14.2}",
                        total,
                        1.0 / (1.0 - q)
                    )?;
                } else {
                    writeln!(out, "{value:12.3} {q:2.12} {total:10}")?;
                }
            }
        }
        let (mean, stdev) = (histogram.mean() / SCALE, histogram.stdev() / SCALE);
        let max = if histogram.is_empty() {
            0.0
        } else {
            histogram.max() as f64 / SCALE
        };
        writeln!(
            out,
            "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
        )?;
        writeln!(
            out,
            "#[Max     = {max:12.3}, Total count    = {:12}]",
            histogram.len()
        )?;
        writeln!(
            out,
            "#[Buckets = {:12}, SubBuckets     = {:12}]",
            histogram.buckets(),
            sub_bucket_count(histogram.sigfig())
        )
    }
}

/// HdrHistogram's sub-bucket count: the power of two that holds `2 × 10^sigfig`
/// (2048 at 3 significant figures), as its own writers print it.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10_u64.pow(u32::from(sigfig))).next_power_of_two()
}
