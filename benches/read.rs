//! What reading costs: a snapshot and its report over many timers, side by
//! side with a baseline that keeps one `hdrhistogram::Histogram` per timer
//! and reads the same quantiles from clones of them; then a table of the
//! memory recorders hold and reading takes, counted by the allocator (on
//! the reading thread).
//!
//! `cargo bench -p perf-timer-benches --bench read`; see BENCHMARKS.md for the results.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hdrhistogram::Histogram;
use perf_timer::Registry;

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{peak_during, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The i-th of 50 runs, spread over 1 µs..1 ms.
fn wide(i: u64) -> u64 {
    1_000 + (i % 50) * (i % 50) * 400
}

/// The i-th of 50 runs, spread over 20..40 µs.
fn narrow(i: u64) -> u64 {
    20_000 + (i % 50) * 400
}

/// `timers` timers of `runs` runs each, recorded by `threads` threads.
fn registry(timers: usize, runs: u64, threads: u64, value: fn(u64) -> u64) -> Registry {
    let registry = Registry::builder()
        .max_timers(timers.max(1))
        .build()
        .unwrap();
    let handles: Vec<_> = (0..timers)
        .map(|t| registry.timer(&format!("timer {t}")))
        .collect();
    std::thread::scope(|s| {
        for th in 0..threads {
            let handles = &handles;
            s.spawn(move || {
                for timer in handles {
                    for i in (th..runs).step_by(threads as usize) {
                        timer.record(Duration::from_nanos(value(i)));
                    }
                }
            });
        }
    });
    registry
}

/// The baseline: one HdrHistogram per timer, read by cloning each and
/// taking the report's quantiles.
fn histograms(timers: usize, runs: u64, value: fn(u64) -> u64) -> Vec<(String, Histogram<u64>)> {
    (0..timers)
        .map(|t| {
            let mut h = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
            for i in 0..runs {
                h.record(value(i)).unwrap();
            }
            (format!("timer {t}"), h)
        })
        .collect()
}

fn read_histograms(all: &[(String, Histogram<u64>)]) -> usize {
    let mut out = String::new();
    for (name, h) in all {
        let h = h.clone();
        for q in [0.5, 0.9, 0.99] {
            out.push_str(&format!("{name} {} ", h.value_at_quantile(q)));
        }
        out.push_str(&format!("{} {}\n", h.mean(), h.stdev()));
    }
    out.len()
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("read/snapshot_and_report");
    group.sample_size(20);
    for (label, value) in [("wide", wide as fn(u64) -> u64), ("narrow", narrow)] {
        let registry = registry(1_000, 50, 1, value);
        group.bench_function(BenchmarkId::new("perf_timer", label), |b| {
            b.iter(|| black_box(registry.report().to_string().len()))
        });
        let baseline = histograms(1_000, 50, value);
        group.bench_function(BenchmarkId::new("hdrhistogram_clones", label), |b| {
            b.iter(|| black_box(read_histograms(&baseline)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("read/100k_timers");
    group.sample_size(10);
    let registry = registry(100_000, 50, 1, wide);
    group.bench_function("perf_timer", |b| {
        b.iter(|| black_box(registry.report().to_string().len()))
    });
    group.finish();
    drop(registry);

    memory_table();
}

/// Bytes per timer the recorders hold, and the most reading takes at once,
/// for 1,000 timers (1,000 runs each for the worst case, which touches
/// every counter of both histograms: 1 ns .. 1 h).
fn memory_table() {
    let every_counter = |i: u64| {
        let v = 1_u64 << (i % 42);
        v + (i / 42) * (v / 1024 + 1)
    };
    println!();
    println!("memory per timer, 1,000 timers        recorders   reading (peak)   ratio");
    for (label, runs, value) in [
        ("empty", 0, wide as fn(u64) -> u64),
        ("narrow, 50 runs 20..40 µs", 50, narrow),
        ("wide, 50 runs 1 µs..1 ms", 50, wide),
        ("worst, 40,000 runs 1 ns..1 h", 40_000, every_counter),
    ] {
        for threads in [1, 4] {
            let registry = registry(1_000, runs, threads, value);
            let kept = registry.reserved_bytes();
            let (_, peak) = peak_during(|| black_box(registry.report().to_string()));
            println!(
                "{label:<29} {threads} thr {:>9} B {:>13} B {:>7.2}",
                kept / 1_000,
                peak / 1_000,
                peak as f64 / kept as f64
            );
        }
    }
}

criterion_group!(benches, read);
criterion_main!(benches);
