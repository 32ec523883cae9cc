//! Allocations per run: with `perf_timer::CountingAllocator` installed as
//! the global allocator, every timer counts the allocations and bytes of
//! its runs, and the report shows them per run. Two ways to build the
//! same JSON reply, one of them careless, side by side on a multi-thread
//! runtime; tasks move between workers and other tasks allocate
//! meanwhile, and each run still counts only its own:
//!
//! ```text
//! timer "reply.one_buffer": avg 4.18 µs ± 1.44 µs, ..., allocs 1.02/run, 319 B/run
//! timer "reply.pieces": avg 7.02 µs ± 2.16 µs, ..., allocs 24.5/run, 1.27 KiB/run
//! ```
//!
//! (The 0.02 beyond one allocation per run is tokio's: `yield_now` puts the
//! task's waker on its worker's list of deferred wakers, which grows a few
//! times while the workers warm up.)
//!
//! Run: `cargo run --release --example allocations`

use std::fmt::Write as _;

use perf_timer::{CountingAllocator, TimedExt as _};

#[global_allocator]
static ALLOC: CountingAllocator<std::alloc::System> = CountingAllocator::new(std::alloc::System);

/// A reply of `items` items, built by appending to one buffer.
fn reply_in_one_buffer(items: u32) -> String {
    let mut out = String::with_capacity(16 * items as usize + 2);
    out.push('[');
    for i in 0..items {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"id\":{i}}}");
    }
    out.push(']');
    out
}

/// The same reply, one `String` per item, joined at the end.
fn reply_in_pieces(items: u32) -> String {
    let pieces: Vec<String> = (0..items).map(|i| format!("{{\"id\":{i}}}")).collect();
    format!("[{}]", pieces.join(","))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _report = perf_timer::report_at_exit();
    let handles: Vec<_> = (0..200_u32)
        .flat_map(|n| {
            let items = 10 + n % 20;
            [
                tokio::spawn(
                    async move {
                        let reply = reply_in_one_buffer(items);
                        tokio::task::yield_now().await; // as if sent
                        std::hint::black_box(reply);
                    }
                    .timed("reply.one_buffer"),
                ),
                tokio::spawn(
                    async move {
                        let reply = reply_in_pieces(items);
                        tokio::task::yield_now().await;
                        std::hint::black_box(reply);
                    }
                    .timed("reply.pieces"),
                ),
            ]
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    let stats = perf_timer::global().stats("reply.pieces").unwrap();
    let allocations = stats
        .allocations()
        .expect("the counting allocator is installed");
    println!(
        "reply.pieces: {} allocations in {} runs, {:.1} per run, at most {} bytes in one run",
        allocations.count(),
        allocations.runs(),
        allocations.count_per_run(),
        allocations.distribution().max(),
    );
    // The report at exit (stderr) shows each timer's allocations per run.
}
