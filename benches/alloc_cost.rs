//! What counting allocations costs, with `perf_timer::CountingAllocator`
//! installed (a global allocator is per process: this binary's own; see
//! `alloc_hotpath.rs` for hotpath's, and `overhead.rs` for a timed poll
//! without any):
//!
//! * `allocation/64B`: an allocation and its deallocation, through
//!   `System` directly and through the counting allocator.
//! * `allocated_poll/pending`: a poll of a pending future, bare and timed,
//!   the allocator installed (the poll reads the thread's counters twice).
//! * `vec_per_poll/two_polls`: a run that allocates one `Vec` per poll,
//!   two polls, bare and timed: per run, against hotpath's in
//!   `alloc_hotpath.rs`.
//!
//! `cargo bench -p perf-timer-benches --bench alloc_cost`

#[path = "alloc_workload.rs"]
mod alloc_workload;
mod yield_once;

use std::alloc::System;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Waker};

use alloc_workload::{alloc_dealloc, drive, vec_per_poll};
use criterion::{criterion_group, criterion_main, Criterion};
use perf_timer::{CountingAllocator, Registry};

#[global_allocator]
static ALLOC: CountingAllocator<System> = CountingAllocator::new(System);

fn allocation(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocation/64B");
    group.bench_function("system", |b| b.iter(|| alloc_dealloc(&System)));
    group.bench_function("counting", |b| b.iter(|| alloc_dealloc(&ALLOC)));
    group.finish();
}

fn allocated_poll(c: &mut Criterion) {
    let registry = Registry::new();
    let timer = registry.timer("pending");
    let mut cx = Context::from_waker(Waker::noop());
    let mut group = c.benchmark_group("allocated_poll/pending");
    group.bench_function("bare", |b| {
        let mut future = pin!(std::future::pending::<()>());
        b.iter(|| black_box(future.as_mut().poll(&mut cx).is_pending()))
    });
    group.bench_function("timed", |b| {
        let mut future = pin!(timer.time(std::future::pending::<()>()));
        b.iter(|| black_box(future.as_mut().poll(&mut cx).is_pending()))
    });
    group.finish();
}

fn vec_per_poll_runs(c: &mut Criterion) {
    let registry = Registry::new();
    let timer = registry.timer("vec_per_poll");
    let mut group = c.benchmark_group("vec_per_poll/two_polls");
    group.bench_function("bare", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            i += 1;
            drive(vec_per_poll(i))
        })
    });
    group.bench_function("perf_timer", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            i += 1;
            drive(timer.time(vec_per_poll(i)))
        })
    });
    group.finish();
    // What was measured is what the bench says it is.
    let allocations = timer.stats().allocations().unwrap();
    assert_eq!(allocations.count(), 2 * allocations.runs());
    assert_eq!(allocations.bytes(), 128 * allocations.runs());
}

criterion_group!(benches, allocation, allocated_poll, vec_per_poll_runs);
criterion_main!(benches);
