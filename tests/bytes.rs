//! Bytes and throughput: `add_bytes` finds the innermost timed run being
//! polled, the report and exports show bytes per run and per busy second.

mod common;

use std::time::Duration;

use common::*;
use perf_timer::export::Prometheus;

#[test]
fn add_bytes_goes_to_the_innermost_timed_run_being_polled() {
    let (registry, _mock) = mock_registry();
    let inner = registry.timer("inner");
    let outer = registry.timer("outer");
    perf_timer::add_bytes(1_000); // outside any timed poll: nobody's
    poll_to_end(outer.time(async {
        perf_timer::add_bytes(100);
        inner
            .time(async {
                perf_timer::add_bytes(50);
                yield_once().await; // across polls, still the inner run
                perf_timer::add_bytes(5);
            })
            .await;
        perf_timer::add_bytes(10); // the inner run is over: the outer's again
                                   // An inner run that panics puts the frame back as well.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            poll_to_end(inner.time(async { panic!("boom") }));
        }));
        assert!(panicked.is_err());
        perf_timer::add_bytes(1);
    }));
    assert_eq!(registry.stats("outer").unwrap().bytes(), 111);
    assert_eq!(registry.stats("inner").unwrap().bytes(), 55);

    // Switched off, nothing counts.
    registry.set_enabled(false);
    poll_to_end(outer.time(async { perf_timer::add_bytes(7) }));
    registry.set_enabled(true);
    assert_eq!(registry.stats("outer").unwrap().bytes(), 111);
}

#[test]
fn the_report_and_exports_show_bytes_per_run_and_per_busy_second() {
    let (registry, _mock) = mock_registry();
    let encode = registry.timer("encode");
    encode.record_with_bytes(Duration::from_millis(1), 4_000);
    encode.record_with_bytes(Duration::from_millis(1), 4_200);
    let parse = registry.timer("parse");
    {
        let guard = parse.start();
        guard.add_bytes(512);
    }
    let stats = encode.stats();
    assert_eq!(stats.bytes(), 8_200);
    assert_eq!(stats.bytes_per_run(), Some(4_100.0));
    assert_eq!(stats.bytes_per_busy_second(), Some(4_100_000.0));
    let report = registry.report().to_string();
    assert!(
        report.contains("timer \"encode\": avg 1.00 ms ± 0.00 ms, 50% ≤ 1.00 ms, 90% ≤ 1.00 ms, 99% ≤ 1.00 ms, max 1.00 ms in 2 runs, 4.10 KB/run, 4.10 MB/s busy\n"),
        "{report}"
    );
    // A section on a mock clock that did not move: bytes, no rate.
    assert!(
        report.contains("timer \"parse\": 0.00 ns in 1 run, 512 B/run\n"),
        "{report}"
    );
    let text = Prometheus::new("app").render(&registry.snapshot());
    assert!(
        text.contains("app_bytes_total{timer=\"encode\"} 8200\n"),
        "{text}"
    );
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["bytes"], 8_200);
    let run = perf_timer::saved::SavedRun::capture(&registry);
    let back = perf_timer::saved::SavedRun::from_json_line(&run.to_json_line()).unwrap();
    assert_eq!(back.snapshot().get("encode").unwrap().bytes(), 8_200);
}

#[tokio::test]
async fn add_bytes_in_a_real_task_counts_for_its_timed_future() {
    let registry = perf_timer::Registry::new();
    let timer = registry.timer("upload");
    let handle = tokio::spawn(timer.time(async {
        for _ in 0..10 {
            perf_timer::add_bytes(1_024);
            tokio::task::yield_now().await;
        }
    }));
    handle.await.unwrap();
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.bytes()), (1, 10_240));
    assert!(stats.bytes_per_busy_second().unwrap() > 0.0);
}
