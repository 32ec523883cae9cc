//! Scheduling delay, opt-in: the time from a sampled run's wake to its next
//! poll, checked against tokio-metrics on the same tasks, and nothing at
//! all for unsampled runs.

mod common;

use std::time::Duration;

use common::{runtime, spin};
use perf_timer::Registry;
use tokio_metrics::TaskMonitor;

/// Eight tasks on two workers, each spinning 200 µs between yields: every
/// wake waits behind the others for a worker.
#[test]
fn the_delay_agrees_with_tokio_metrics_on_a_saturated_runtime() {
    let registry = Registry::builder().scheduling_delay(1).build().unwrap();
    let timer = registry.timer("crowded");
    let monitor = TaskMonitor::new();
    let rt = runtime(2);
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let work = async {
                    for _ in 0..40 {
                        spin(Duration::from_micros(200));
                        tokio::task::yield_now().await;
                    }
                };
                tokio::spawn(monitor.instrument(timer.time(work)))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let ours = timer.stats();
    let theirs = monitor.cumulative();
    assert_eq!(ours.count(), 8);
    assert_eq!(ours.scheduled().count(), theirs.total_scheduled_count);
    let ours_mean = ours.scheduled().mean().as_secs_f64();
    let theirs_mean = theirs.mean_scheduled_duration().as_secs_f64();
    assert!(
        (ours_mean - theirs_mean).abs() <= 0.25 * theirs_mean,
        "ours {ours_mean:e} s, tokio-metrics {theirs_mean:e} s"
    );
    // Waiting behind busy workers shows: tens of microseconds at least
    // (about three polls' 600 µs on a quiet machine).
    assert!(ours_mean > 50e-6, "{ours_mean:e}");
    let report = registry.report().to_string();
    assert!(report.contains(", scheduled avg "), "{report}");
}

#[test]
fn only_sampled_runs_record_a_delay() {
    let registry = Registry::builder().scheduling_delay(4).build().unwrap();
    let timer = registry.timer("some");
    let off = Registry::new().timer("off");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..40 {
            timer.time(tokio::task::yield_now()).await;
            off.time(tokio::task::yield_now()).await;
        }
        // Cancelled runs, sampled or not, record no delay without a wake.
        for _ in 0..8 {
            let _ = tokio::time::timeout(
                Duration::from_millis(1),
                timer.time(std::future::pending::<()>()),
            )
            .await;
        }
    });
    // One run in four of each thread's runs, one wake each.
    assert_eq!(timer.stats().scheduled().count(), 10);
    assert_eq!(off.stats().scheduled().count(), 0);
    assert_eq!(timer.stats().cancelled(), 8);
}
