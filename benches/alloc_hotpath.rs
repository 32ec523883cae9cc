//! hotpath 0.30's allocation mode (`hotpath-alloc`) on the workload of
//! `alloc_cost.rs`, its own `CountingAllocator` installed (a global
//! allocator is per process: this binary's own):
//!
//! * `allocation/64B`: an allocation and its deallocation, through
//!   `System` directly and through hotpath's counting allocator.
//! * `vec_per_poll/two_polls`: a run that allocates one `Vec` per poll,
//!   two polls, bare and with `#[hotpath::measure]`.
//!
//! `cargo bench -p perf-timer-benches --features hotpath-alloc --bench alloc_hotpath`
//! (the feature turns hotpath's `#[measure]` into allocation counting for
//! the whole package: do not combine it with `run_cost`'s timing rows).

#[path = "alloc_workload.rs"]
mod alloc_workload;
mod yield_once;

use std::alloc::System;

use alloc_workload::{alloc_dealloc, drive, vec_per_poll};
use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static ALLOC: hotpath::CountingAllocator = hotpath::CountingAllocator::new();

#[hotpath::measure]
async fn measured(x: u64) -> u64 {
    vec_per_poll(x).await
}

fn allocation(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocation/64B");
    group.bench_function("system", |b| b.iter(|| alloc_dealloc(&System)));
    group.bench_function("hotpath_counting", |b| b.iter(|| alloc_dealloc(&ALLOC)));
    group.finish();
}

fn vec_per_poll_runs(c: &mut Criterion) {
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("HOTPATH_METRICS_SERVER_OFF", "1") };
    let _hotpath = hotpath::HotpathGuardBuilder::new("alloc_hotpath")
        .output_path(std::env::temp_dir().join("perf-timer-alloc.hotpath.txt"))
        .build();
    let mut group = c.benchmark_group("vec_per_poll/two_polls");
    group.bench_function("bare", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            i += 1;
            drive(vec_per_poll(i))
        })
    });
    group.bench_function("hotpath", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            i += 1;
            drive(measured(i))
        })
    });
    group.finish();
}

criterion_group!(benches, allocation, vec_per_poll_runs);
criterion_main!(benches);
