//! `perf-timer top` replaying an HdrHistogram interval log (what
//! `export::IntervalLog` writes): each interval's busy-time histograms,
//! one per timer (its tag), already a window of its own.

use std::time::Duration;

use perf_timer::hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use perf_timer::hdrhistogram::serialization::Deserializer;
use perf_timer::hdrhistogram::Histogram;

use super::frame::{self, Row, Window};

/// One interval of the log: when it started (from the log's start), how
/// long it lasted, and each tagged histogram (nanoseconds).
#[derive(Debug, Clone)]
pub struct Interval {
    pub start: Duration,
    pub length: Duration,
    pub timers: Vec<(String, Histogram<u64>)>,
}

/// The intervals of `text` in order if it is an interval log (any entry
/// reads: its start time, its base time, an interval); `None` if not.
pub fn parse(text: &[u8]) -> Option<Vec<Interval>> {
    use base64::Engine as _;
    let mut intervals: Vec<Interval> = Vec::new();
    let mut deserializer = Deserializer::new();
    let mut is_log = false;
    for entry in IntervalLogIterator::new(text) {
        is_log |= entry.is_ok();
        let Ok(LogEntry::Interval(h)) = entry else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(h.encoded_histogram())
        else {
            continue;
        };
        let Ok(histogram) = deserializer.deserialize::<u64, _>(&mut bytes.as_slice()) else {
            continue;
        };
        let tag = h
            .tag()
            .map_or_else(|| "(untagged)".to_owned(), |t| t.as_str().to_owned());
        // An interval's lines share its start, each timer once: a timer
        // seen again begins the next interval (two may share a start
        // written to the millisecond).
        match intervals.last_mut() {
            Some(last)
                if last.start == h.start_timestamp()
                    && last.timers.iter().all(|(t, _)| *t != tag) =>
            {
                last.timers.push((tag, histogram))
            }
            _ => intervals.push(Interval {
                start: h.start_timestamp(),
                length: h.duration(),
                timers: vec![(tag, histogram)],
            }),
        }
    }
    is_log.then_some(intervals)
}

/// One row per timer of `interval`: its runs, busy time (mean × count,
/// to the histogram's precision) and percentiles; in flight, errors,
/// cancelled and slow polls are not in the log.
pub fn rows(interval: &Interval) -> Vec<Row> {
    let windows = interval
        .timers
        .iter()
        .map(|(name, h)| {
            let ran = !h.is_empty();
            let at = |q: f64| ran.then(|| Duration::from_nanos(h.value_at_quantile(q)));
            let window = Window {
                runs: h.len() as f64,
                busy_seconds: h.mean() * h.len() as f64 / 1e9,
                p50: at(0.5),
                p99: at(0.99),
                max: ran.then(|| Duration::from_nanos(h.max())),
            };
            (name.clone(), window)
        })
        .collect();
    frame::rows_of_windows(windows, interval.length.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_log_reads_back_interval_by_interval() {
        let registry = perf_timer::Registry::new();
        let mut intervals = registry.intervals();
        let mut log = perf_timer::export::IntervalLog::new(Vec::new()).unwrap();
        let db = registry.timer("db query");
        for us in 1..=100 {
            db.record(Duration::from_micros(us));
        }
        // The log keeps lengths to the millisecond: intervals of 20 ms.
        std::thread::sleep(Duration::from_millis(20));
        log.write_interval(&intervals.next().unwrap()).unwrap();
        db.record(Duration::from_millis(3));
        std::thread::sleep(Duration::from_millis(20));
        log.write_interval(&intervals.next().unwrap()).unwrap();
        let text = log.into_inner();
        let read = parse(&text).unwrap();
        assert_eq!(read.len(), 2);
        let first = rows(&read[0]);
        assert_eq!(first[0].timer, "db_query");
        let seconds = read[0].length.as_secs_f64();
        assert!(seconds >= 0.02, "{seconds}");
        assert!((first[0].runs_per_second - 100.0 / seconds).abs() < 1e-6);
        assert_eq!(first[0].p99.unwrap().as_micros(), 99);
        let second = rows(&read[1]);
        assert_eq!(second[0].max.unwrap().as_micros(), 3_000);
        assert!(parse(b"{\"perf_timer\":2}\n").is_none());
    }
}
