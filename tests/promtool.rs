//! `promtool check metrics` (Prometheus' own linter, from Debian's
//! `prometheus` package) on what we expose: the Prometheus exporter's text
//! with summaries and with histograms, and the `metrics` bridge's series as
//! `metrics-exporter-prometheus` renders them. Both carry the figure
//! table's names, units and help, so both must lint clean. Without
//! `promtool` the test is skipped with a note, unless
//! `PERF_TIMER_INTEROP=require`.
#![cfg(unix)]

mod common;

use std::process::Command;
use std::time::Duration;

use perf_timer::export::Prometheus;
use perf_timer::{ErrOutput, Registry};

/// promtool's verdict on `text`: `None` when it is clean, else what it said.
fn lint(text: &str) -> Option<Option<String>> {
    let Ok(out) = common::pipe(Command::new("promtool").args(["check", "metrics"]), text) else {
        common::tool_missing("there is no `promtool` on PATH (apt-get install prometheus)");
        return None;
    };
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((!out.status.success() || !said.trim().is_empty()).then_some(said))
}

/// Runs of every kind, so that every series has a value.
fn record_everything(registry: &Registry) {
    let timer = registry.timer("GET /users/{id}");
    for us in [120, 250, 900] {
        timer.record(Duration::from_micros(us));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = timer
            .time(async {
                perf_timer::add_bytes(512);
                Err::<(), ()>(())
            })
            .classify::<ErrOutput>()
            .await;
    });
}

#[test]
#[cfg_attr(
    perf_timer_no_prometheus,
    ignore = "needs `promtool` on PATH (apt-get install prometheus)"
)]
fn the_exporter_and_the_bridge_lint_clean() {
    let registry = Registry::builder()
        .forward_to_metrics("app")
        .build()
        .unwrap();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || record_everything(&registry));
    let snapshot = registry.snapshot();
    let outputs = [
        ("summaries", Prometheus::new("app").render(&snapshot)),
        (
            "histograms",
            Prometheus::new("app").histograms().render(&snapshot),
        ),
        ("the metrics bridge", handle.render()),
    ];
    for (what, text) in outputs {
        assert!(text.contains("app_runs_total{"), "{what}: {text}");
        let Some(verdict) = lint(&text) else {
            return;
        };
        assert_eq!(verdict, None, "promtool on {what}:\n{text}");
    }
}
