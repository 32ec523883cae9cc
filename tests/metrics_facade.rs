//! Forwarding into the `metrics` facade, read back through metrics-util's
//! debugging recorder: busy time per run, outcomes, errors and poll time,
//! labelled by timer.

mod common;

use std::pin::pin;

use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use perf_timer::{Clock, ErrOutput, MockClock, Registry};

/// A debugging recorder and its snapshotter, and a registry on a mock
/// clock forwarding to it under the prefix `pt`.
fn forwarding() -> (DebuggingRecorder, Snapshotter, MockClock, Registry) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .forward_to_metrics("pt")
        .build()
        .unwrap();
    (recorder, snapshotter, mock, registry)
}

#[test]
fn runs_outcomes_and_poll_time_reach_the_metrics_recorder() {
    let (recorder, snapshotter, mock, registry) = forwarding();
    let unforwarded = Registry::builder().build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        let timer = registry.timer("load");
        for n in [1, 2, 3] {
            poll_to_end(timer.time(async {
                perf_timer::add_bytes(100 * n);
                work(&mock, ms(n)).await
            }));
        }
        let failing = timer
            .time(async { Err::<(), ()>(()) })
            .classify::<ErrOutput>();
        let _ = poll_to_end(failing);
        // Cancelled after 15 ms of polls, 10 of them flushed while in flight.
        {
            let mut cancelled = pin!(timer.time(Steps::new(&mock, &[ms(15), ms(1)])));
            assert!(poll_once(cancelled.as_mut()).is_pending());
        }
        unforwarded.timer("quiet").record(ms(1));
    });

    let metrics = snapshotter.snapshot().into_vec();
    let value = |kind: MetricKind, name: &str, labels: &[(&str, &str)]| {
        metrics
            .iter()
            .find(|(key, ..)| {
                key.kind() == kind
                    && key.key().name() == name
                    && labels
                        .iter()
                        .all(|(k, v)| key.key().labels().any(|l| l.key() == *k && l.value() == *v))
            })
            .map(|(_, _, _, value)| value)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in {metrics:#?}"))
    };
    let DebugValue::Histogram(busy) = value(
        MetricKind::Histogram,
        "pt_busy_seconds",
        &[("timer", "load")],
    ) else {
        panic!("not a histogram")
    };
    let mut busy: Vec<f64> = busy.iter().map(|v| v.into_inner()).collect();
    busy.sort_by(f64::total_cmp);
    assert_eq!(busy, [0.0, 0.001, 0.002, 0.003]);
    let counter =
        |name: &str, labels: &[(&str, &str)]| match value(MetricKind::Counter, name, labels) {
            DebugValue::Counter(n) => *n,
            other => panic!("{name} is {other:?}"),
        };
    let completed = [("timer", "load"), ("outcome", "completed")];
    let cancelled = [("timer", "load"), ("outcome", "cancelled")];
    assert_eq!(counter("pt_runs_total", &completed), 4);
    assert_eq!(counter("pt_runs_total", &cancelled), 1);
    let error = [("timer", "load"), ("outcome", "error")];
    assert_eq!(counter("pt_runs_total", &error), 1);
    // Polls of the completed runs: one each.
    assert_eq!(counter("pt_polls_total", &[("timer", "load")]), 4);
    // Every poll's time, as poll_total: 6 ms of samples and the 15 ms run,
    // in seconds (a gauge that only grows: the facade counts whole numbers).
    let gauge = |name: &str| match value(MetricKind::Gauge, name, &[("timer", "load")]) {
        DebugValue::Gauge(v) => v.into_inner(),
        other => panic!("{name} is {other:?}"),
    };
    let stats = registry.stats("load").unwrap();
    assert!((gauge("pt_poll_seconds") - 0.021).abs() < 1e-12);
    assert!((gauge("pt_poll_seconds") - stats.poll_total().as_secs_f64()).abs() < 1e-12);
    // The 15 ms run, in flight once it flushed, is out since it was dropped.
    assert_eq!(gauge("pt_in_flight"), 0.0);
    let DebugValue::Histogram(wall) = value(
        MetricKind::Histogram,
        "pt_wall_seconds",
        &[("timer", "load")],
    ) else {
        panic!("not a histogram")
    };
    assert_eq!(wall.len(), 4);
    assert_eq!(counter("pt_bytes_total", &[("timer", "load")]), 600);
    assert_eq!(stats.bytes(), 600);
    // A registry that does not forward sends nothing.
    assert!(metrics
        .iter()
        .all(|(key, ..)| key.key().labels().all(|l| l.value() != "quiet")));
}

/// A run counts in flight from its first flush (10 ms in) until it ends.
#[test]
fn a_run_in_flight_is_in_the_in_flight_gauge_until_it_ends() {
    let (recorder, snapshotter, mock, registry) = forwarding();
    let in_flight = || {
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .find_map(|(key, _, _, value)| match (key.key().name(), value) {
                ("pt_in_flight", DebugValue::Gauge(n)) => Some(n.into_inner()),
                _ => None,
            })
    };
    metrics::with_local_recorder(&recorder, || {
        let timer = registry.timer("long");
        let mut run = pin!(timer.time(Steps::new(&mock, &[ms(15), ms(1)])));
        assert!(poll_once(run.as_mut()).is_pending());
        let flushed = in_flight();
        assert!(poll_once(run.as_mut()).is_ready());
        // The debugging recorder hands out each gauge's change since its
        // last snapshot: one in, then one out.
        assert_eq!((flushed, in_flight()), (Some(1.0), Some(-1.0)));
    });
}
