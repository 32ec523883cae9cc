//! What saving a run at exit costs: `TIMERS` timers (default 1,000), each
//! with `RUNS` runs (default 2: 1 µs and 30 min, the widest spread a
//! histogram holds), recorded into the global registry, reported and, with
//! `PERF_TIMER_SAVE=path`, saved when the program ends.
//!
//! ```sh
//! cargo build --release --features save --example save_memory
//! /usr/bin/time -f '%M KiB %e s' target/release/examples/save_memory 2> /dev/null
//! PERF_TIMER_SAVE=/tmp/runs.jsonl /usr/bin/time -f '%M KiB %e s' target/release/examples/save_memory
//! ```
//!
//! `benches/save_memory.sh` runs the cases of BENCHMARKS.md.

use std::time::Duration;

fn main() {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (timers, runs) = (number("TIMERS", 1_000), number("RUNS", 2));
    let registry = perf_timer::Registry::builder()
        .max_timers(timers + 1)
        .build_global()
        .expect("the first global registry");
    let _report = perf_timer::report_at_exit();
    for t in 0..timers {
        let timer = registry.timer(&format!("service::handler_{t:06}"));
        for r in 0..runs {
            // 1 µs, 30 min, then spread between them.
            let nanos = match r {
                0 => 1_000,
                1 => 1_800_000_000_000,
                r => 1_000 * (r as u64 * 7_919 % 1_000_000 + 1),
            };
            timer.record(Duration::from_nanos(nanos));
        }
    }
}
