//! Percentiles for code that already uses `tracing`: add `PerfTimerLayer`
//! to the subscriber, and every span becomes a timer, no future touched.
//!
//! Run: `cargo run --example tracing_layer --features tracing`

use std::time::Duration;

use perf_timer::PerfTimerLayer;
use tracing_subscriber::prelude::*;

#[tracing::instrument]
async fn load_user(id: u64) -> String {
    tokio::time::sleep(Duration::from_millis(2)).await; // waiting: not busy
    format!("user-{id}")
}

#[tracing::instrument(skip(names))]
fn render(names: &[String]) -> usize {
    names.iter().map(|n| n.len() * 31 % 7).sum()
}

#[tokio::main]
async fn main() {
    let registry = perf_timer::global();
    tracing_subscriber::registry()
        .with(PerfTimerLayer::new(registry))
        .init();
    let _report = perf_timer::report_at_exit();

    for round in 0..20 {
        let users = futures_join(round).await;
        render(&users);
    }
}

async fn futures_join(round: u64) -> Vec<String> {
    let tasks: Vec<_> = (0..5)
        .map(|i| tokio::spawn(load_user(round * 5 + i)))
        .collect();
    let mut users = Vec::new();
    for task in tasks {
        users.push(task.await.expect("task"));
    }
    users
}
