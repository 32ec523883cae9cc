//! HdrHistogram interval logs: V2-compressed histograms, one line per timer
//! per interval, readable by every HdrHistogram implementation.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{
    IntervalLogWriterBuilder, IntervalLogWriterError, Tag,
};
use hdrhistogram::serialization::{V2DeflateSerializeError, V2DeflateSerializer};

use crate::read::Snapshot;
use crate::registry::interval::Interval;

/// Why a histogram could not be written to an [`IntervalLog`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalLogError {
    /// Writing failed.
    #[error("writing the interval log failed: {0}")]
    Io(#[from] io::Error),
    /// HdrHistogram could not encode a histogram.
    #[error("encoding a histogram failed: {0}")]
    Encode(#[from] V2DeflateSerializeError),
}

/// Writes busy-time histograms as an HdrHistogram interval log (values in
/// nanoseconds, V2 deflate encoding), each line tagged with its timer's name
/// (`,`, spaces and line breaks replaced by `_`, as tags allow neither).
/// Logs from many processes or machines can then be merged and plotted by
/// the HdrHistogram tools of any language.
///
/// ```
/// use perf_timer::export::IntervalLog;
///
/// let registry = perf_timer::Registry::new();
/// let mut intervals = registry.intervals();
/// let mut log = IntervalLog::new(Vec::new())?;
/// registry.timer("db query").record(std::time::Duration::from_micros(420));
/// log.write_interval(&intervals.next().unwrap())?;
/// let text = String::from_utf8(log.into_inner()).unwrap();
/// assert!(text.contains("\nTag=db_query,0.000,"));
/// # Ok::<(), perf_timer::export::IntervalLogError>(())
/// ```
pub struct IntervalLog<W: Write> {
    writer: W,
    serializer: V2DeflateSerializer,
    /// Where the next interval starts, from the log's start time.
    next_start: Duration,
    started: SystemTime,
}

impl<W: Write> std::fmt::Debug for IntervalLog<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalLog")
            .field("next_start", &self.next_start)
            .finish_non_exhaustive()
    }
}

impl<W: Write> IntervalLog<W> {
    /// Starts a log, writing its header (start time: now).
    ///
    /// ```
    /// let log = perf_timer::export::IntervalLog::new(Vec::new())?;
    /// # drop(log);
    /// # Ok::<(), perf_timer::export::IntervalLogError>(())
    /// ```
    pub fn new(mut writer: W) -> Result<Self, IntervalLogError> {
        let started = SystemTime::now();
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment("perf-timer busy time per run, in nanoseconds")
            .with_start_time(started)
            .with_base_time(started)
            .begin_log_with(&mut writer, &mut serializer)?;
        writeln!(
            writer,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        Ok(IntervalLog {
            writer,
            serializer,
            next_start: Duration::ZERO,
            started,
        })
    }

    /// Writes the runs of one [`Interval`], one line per timer that
    /// completed runs in it; the interval starts where the previous one ended.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let mut intervals = registry.intervals();
    /// let mut log = perf_timer::export::IntervalLog::new(std::io::sink())?;
    /// log.write_interval(&intervals.next().unwrap())?;
    /// # Ok::<(), perf_timer::export::IntervalLogError>(())
    /// ```
    pub fn write_interval(&mut self, interval: &Interval) -> Result<(), IntervalLogError> {
        let start = self.next_start;
        self.next_start += interval.elapsed();
        for stats in interval.iter().filter(|s| s.count() > 0) {
            self.write_histogram(stats.name(), stats.histogram(), start, interval.elapsed())?;
        }
        Ok(())
    }

    /// Writes every timer's cumulative histogram as one interval from the
    /// log's start until now.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("x").record(std::time::Duration::from_micros(1));
    /// let mut log = perf_timer::export::IntervalLog::new(Vec::new())?;
    /// log.write_snapshot(&registry.snapshot())?;
    /// # Ok::<(), perf_timer::export::IntervalLogError>(())
    /// ```
    pub fn write_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), IntervalLogError> {
        let length = self.started.elapsed().unwrap_or_default();
        for stats in snapshot.iter().filter(|s| s.count() > 0) {
            self.write_histogram(stats.name(), stats.histogram(), Duration::ZERO, length)?;
        }
        Ok(())
    }

    fn write_histogram(
        &mut self,
        name: &str,
        histogram: &hdrhistogram::Histogram<u64>,
        start: Duration,
        length: Duration,
    ) -> Result<(), IntervalLogError> {
        let tag: String = name
            .chars()
            .map(|c| {
                if c == ',' || c.is_whitespace() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let tag = if tag.is_empty() { "_".to_owned() } else { tag };
        // An empty builder writes no header: only the line below.
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.writer, &mut self.serializer)?;
        writer
            .write_histogram(histogram, start, length, Tag::new(&tag))
            .map_err(|e| match e {
                IntervalLogWriterError::IoError(e) => IntervalLogError::Io(e),
                IntervalLogWriterError::SerializeError(e) => IntervalLogError::Encode(e),
            })
    }

    /// The writer, after flushing it.
    ///
    /// ```
    /// let log = perf_timer::export::IntervalLog::new(Vec::new())?;
    /// assert!(!log.into_inner().is_empty()); // the header
    /// # Ok::<(), perf_timer::export::IntervalLogError>(())
    /// ```
    pub fn into_inner(mut self) -> W {
        let _ = self.writer.flush();
        self.writer
    }
}
