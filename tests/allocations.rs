//! Allocations per run, counted by `CountingAllocator` installed as this
//! test binary's global allocator (one per process: a binary of its own).

mod common;

use std::hint::black_box;
use std::task::{Context, Poll, Waker};

// `yield_once` yields through the waker and allocates nothing (unlike
// `tokio::task::yield_now`, see
// `timed_runs_on_a_multi_thread_runtime_count_their_own_allocations`).
use common::{poll_once, yield_once};
use perf_timer::{CountingAllocator, Registry, TimedExt as _};

#[global_allocator]
static ALLOC: CountingAllocator<std::alloc::System> = CountingAllocator::new(std::alloc::System);

/// A timer's allocations: (runs, allocations, bytes).
fn allocated(registry: &Registry, name: &str) -> (u64, u64, u64) {
    let stats = registry.stats(name).unwrap();
    let a = stats.allocations().unwrap();
    (a.runs(), a.count(), a.bytes())
}

/// A current-thread runtime that has run once: its first `block_on`
/// allocates, and no run may see that.
fn warm_runtime() -> tokio::runtime::Runtime {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {});
    runtime
}

/// Allocates exactly one block of `bytes` (and frees it).
fn allocate(bytes: usize) {
    drop(black_box(Vec::<u8>::with_capacity(bytes)));
}

#[test]
fn timed_runs_on_a_multi_thread_runtime_count_their_own_allocations() {
    const RUNS: u64 = 200;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let registry = Registry::new();
    let plain = registry.timer("plain_yields");
    let tokio_yields = registry.timer("tokio_yields");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.block_on(async {
        // Untimed tasks allocating on the same workers all along: none of
        // theirs may count.
        let noise: Vec<_> = (0..4)
            .map(|_| {
                let done = done.clone();
                tokio::spawn(async move {
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        allocate(7);
                        allocate(70_000);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let runs: Vec<_> = (0..RUNS as usize)
            .flat_map(|i| {
                let run = move || async move {
                    allocate(1_000 + i);
                    yield_once().await;
                    allocate(10);
                    tokio::task::yield_now().await;
                    allocate(20);
                };
                [
                    tokio::spawn(plain.time(async move {
                        allocate(1_000 + i);
                        yield_once().await;
                        allocate(10);
                        yield_once().await;
                        allocate(20);
                    })),
                    tokio::spawn(tokio_yields.time(run())),
                ]
            })
            .collect();
        for run in runs {
            run.await.unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in noise {
            task.await.unwrap();
        }
    });
    let bytes: u64 = (0..RUNS).map(|i| 1_030 + i).sum();

    // Yielding through the waker allocates nothing: exact.
    let stats = plain.stats();
    let allocations = stats.allocations().unwrap();
    assert_eq!(stats.count(), RUNS);
    assert_eq!((allocations.runs(), allocations.count()), (RUNS, 3 * RUNS));
    assert_eq!(allocations.bytes(), bytes);
    assert_eq!(allocations.self_count(), 3 * RUNS);
    assert_eq!(allocations.distribution().count(), RUNS);
    // 2 significant figures: 1,030 B is in the bucket 1,024..=1,031.
    assert_eq!(allocations.distribution().min(), 1_024);

    // `tokio::task::yield_now` puts the task's waker on its worker's list
    // of deferred wakers (a `Vec<Waker>` of 16-byte wakers): while that
    // list grows (4, 8, 16, ... wakers), the poll that pushes to it counts
    // the growth. A few allocations per worker, never the noise's.
    let stats = tokio_yields.stats();
    let allocations = stats.allocations().unwrap();
    let runtime_count = allocations.count() - 3 * RUNS;
    let runtime_bytes = allocations.bytes() - bytes;
    assert!(
        runtime_count <= 2 * 10,
        "{runtime_count} allocations by the runtime"
    );
    assert!(
        runtime_bytes <= 2 * 16 * 1024,
        "{runtime_bytes} bytes by the runtime"
    );
}

#[test]
fn nested_runs_count_for_the_outer_run_and_self_counts_leave_them_out() {
    let registry = Registry::new();
    let (outer, inner, section) = (
        registry.timer("outer"),
        registry.timer("inner"),
        registry.timer("section"),
    );
    let runtime = warm_runtime();
    runtime.block_on(outer.time(async {
        allocate(100);
        inner
            .time(async {
                allocate(10);
                yield_once().await;
                {
                    let _section = section.start();
                    allocate(1);
                }
                allocate(20);
            })
            .await;
        allocate(200);
    }));
    let read = |name: &str| {
        let stats = registry.stats(name).unwrap();
        let a = stats.allocations().unwrap().clone();
        (a.count(), a.bytes(), a.self_count(), a.self_bytes())
    };
    assert_eq!(read("section"), (1, 1, 1, 1));
    assert_eq!(read("inner"), (3, 31, 2, 30));
    assert_eq!(read("outer"), (5, 331, 2, 300));
}

#[test]
fn a_timer_made_inside_a_run_counts_for_no_run() {
    // Making a timer allocates (its name, its core, the registry's map):
    // the library's bookkeeping, not the run's.
    let registry = Registry::new();
    let (section, run) = (registry.timer("section"), registry.timer("run"));
    {
        let _section = section.start();
        allocate(5);
        let made = registry.timer("made.in.a.section");
        drop(made.start()); // its first stripe: the library's too
    }
    let runtime = warm_runtime();
    runtime.block_on(run.time(async {
        allocate(7);
        let made = registry.timer("made.in.a.run");
        // Its first run is nested in this one: it counts, inclusive.
        made.time(async { allocate(3) }).await;
        yield_once().await;
        black_box(registry.timer("made.after.a.yield"));
    }));
    let read = |name: &str| allocated(&registry, name);
    assert_eq!(read("section"), (1, 1, 5));
    assert_eq!(read("run"), (1, 2, 10));
    assert_eq!(read("made.in.a.run"), (1, 1, 3));
}

#[test]
fn a_fresh_timers_first_record_inside_a_run_counts_for_no_run() {
    // A manual sample's first recording allocates the timer's stripe and
    // counters: the library's, not the run's (nor the section's).
    let registry = Registry::new();
    let (section, run) = (registry.timer("section"), registry.timer("run"));
    let recorded = registry.timer("recorded.in.a.section");
    {
        let _section = section.start();
        allocate(5);
        recorded.record(std::time::Duration::from_micros(3));
    }
    let recorded = registry.timer("recorded.in.a.run");
    let runtime = warm_runtime();
    runtime.block_on(run.time(async {
        allocate(7);
        // A new distinct value each: new counters, grown where needed.
        for micros in 1..200 {
            recorded.record(std::time::Duration::from_micros(micros * 37));
        }
    }));
    let read = |name: &str| allocated(&registry, name);
    assert_eq!(read("section"), (1, 1, 5));
    assert_eq!(read("run"), (1, 1, 7));
    assert_eq!(registry.stats("recorded.in.a.run").unwrap().count(), 199);
}

#[test]
fn a_run_that_allocates_nothing_reads_zero() {
    let timer = Registry::new().timer("none");
    let mut run = Box::pin(timer.time(async {
        let x = black_box(5_u64);
        yield_once().await;
        x * 2
    }));
    // The box above is made outside the run: not counted.
    assert_eq!(poll_once(run.as_mut()), Poll::Pending);
    assert_eq!(poll_once(run.as_mut()), Poll::Ready(10));
    let stats = timer.stats();
    let allocations = stats.allocations().unwrap();
    assert_eq!((allocations.runs(), allocations.count()), (1, 0));
    assert_eq!(allocations.bytes(), 0);
    let distribution = allocations.distribution();
    assert_eq!((distribution.count(), distribution.max()), (1, 0));
}

/// Allocates `0` bytes' worth of `String` when dropped.
struct AllocatesOnDrop(usize);

impl Drop for AllocatesOnDrop {
    fn drop(&mut self) {
        allocate(self.0);
    }
}

/// A run of `timer` that allocates 64 bytes, is polled once, then (after
/// `between`) dropped, allocating 7 more as it drops: 2 allocations and
/// 71 bytes abandoned.
fn cancel_a_run(timer: &perf_timer::Timer, between: impl FnOnce()) {
    let mut run = Box::pin(timer.time(async {
        let kept = black_box(vec![0_u8; 64]);
        let _on_drop = AllocatesOnDrop(7);
        std::future::pending::<()>().await;
        drop(kept);
    }));
    assert_eq!(poll_once(run.as_mut()), Poll::Pending);
    between();
    drop(run);
}

#[test]
fn a_cancelled_run_counts_what_dropping_its_future_allocates() {
    let timer = Registry::new().timer("cancelled");
    cancel_a_run(&timer, || allocate(1_000)); // between polls: not the run's
    let stats = timer.stats();
    let allocations = stats.allocations().unwrap();
    assert_eq!((stats.count(), stats.cancelled()), (0, 1));
    assert_eq!((allocations.count(), allocations.runs()), (0, 0));
    assert_eq!(allocations.abandoned_count(), 2);
    assert_eq!(allocations.abandoned_bytes(), 71);
}

#[test]
fn a_timer_whose_runs_were_all_cancelled_reports_their_allocations() {
    let registry = Registry::new();
    let timer = registry.timer("cancelled");
    for _ in 0..2 {
        cancel_a_run(&timer, || ());
    }
    let line = registry.report().to_string();
    assert!(line.contains("0 runs, 2 cancelled, poll total "), "{line}");
    assert!(
        line.contains(", allocs abandoned 2/run, 71 B/run"),
        "{line}"
    );
}

#[test]
fn a_completed_run_dropped_later_counts_nothing_more() {
    let timer = Registry::new().timer("completed");
    let mut run = Box::pin(timer.time(async {
        allocate(5);
        AllocatesOnDrop(3)
    }));
    let Poll::Ready(output) = poll_once(run.as_mut()) else {
        panic!("ready in one poll");
    };
    drop(run);
    drop(output);
    let allocations = timer.stats().allocations().unwrap().clone();
    assert_eq!((allocations.count(), allocations.bytes()), (1, 5));
    assert_eq!(allocations.abandoned_count(), 0);
}

#[test]
fn a_sync_section_counts_its_allocations_and_reallocations_count_their_growth() {
    let timer = Registry::new().timer("section");
    {
        let _section = timer.start();
        let mut v: Vec<u8> = Vec::new();
        for i in 0..100 {
            v.push(i); // 8, then grown to 16, 32, 64, 128
        }
        v.truncate(10);
        v.shrink_to_fit(); // one more reallocation, of no growth
        black_box(v);
    }
    let allocations = timer.stats().allocations().unwrap().clone();
    assert_eq!(allocations.count(), 6);
    assert_eq!(allocations.bytes(), 128);
}

#[test]
fn a_timed_stream_item_counts_its_allocations() {
    let timer = Registry::new().timer("items");
    let items = futures::stream::iter([3_usize, 30]).map_allocating();
    let mut items = Box::pin(timer.time_items(items));
    let mut cx = Context::from_waker(Waker::noop());
    use futures::Stream as _;
    while let Poll::Ready(Some(_)) = items.as_mut().poll_next(&mut cx) {}
    let stats = timer.stats();
    let a = stats.allocations().unwrap();
    assert_eq!((stats.count(), a.count(), a.bytes()), (2, 2, 33));
}

trait MapAllocating: futures::Stream<Item = usize> + Sized {
    fn map_allocating(self) -> impl futures::Stream<Item = usize> {
        use futures::StreamExt as _;
        self.map(|n| {
            allocate(n);
            n
        })
    }
}

impl<S: futures::Stream<Item = usize>> MapAllocating for S {}

#[test]
fn intervals_and_merges_keep_allocations() {
    let registry = Registry::new();
    let timer = registry.timer("windowed");
    let run = |bytes| {
        let _section = timer.start();
        allocate(bytes);
    };
    run(100);
    let before = registry.snapshot();
    run(40);
    run(60);
    let window = registry.snapshot().since(&before);
    let a = window
        .get("windowed")
        .unwrap()
        .allocations()
        .unwrap()
        .clone();
    assert_eq!((a.runs(), a.count(), a.bytes()), (2, 2, 100));
    assert_eq!(a.distribution().count(), 2);
    let merged = perf_timer::Snapshot::merge([&before, &registry.snapshot()]);
    let a = merged
        .get("windowed")
        .unwrap()
        .allocations()
        .unwrap()
        .clone();
    assert_eq!((a.runs(), a.bytes(), a.distribution().count()), (4, 300, 4));
}

/// A saved run of `registry` as another program without a counting
/// allocator would have it, but keeping the allocation counters: each
/// timer's bytes-per-run histogram taken out of the line by hand.
fn saved_without_allocated(registry: &Registry) -> perf_timer::saved::SavedRun {
    use perf_timer::saved::SavedRun;
    let line = SavedRun::capture(registry).to_json_line();
    let mut json: serde_json::Value = serde_json::from_str(&line).unwrap();
    for timer in json["timers"].as_array_mut().unwrap() {
        let timer = timer.as_object_mut().unwrap();
        assert!(timer.remove("allocated").is_some(), "{line}");
        assert!(
            timer["totals"]["alloc_runs"].as_u64().unwrap() > 0,
            "{line}"
        );
    }
    SavedRun::from_json_line(&json.to_string()).unwrap()
}

#[test]
fn a_merge_of_runs_that_counted_allocations_and_runs_that_did_not_reads_back() {
    use perf_timer::saved::SavedRun;
    let (counted, uncounted) = (Registry::new(), Registry::new());
    for (registry, bytes) in [(&counted, [100, 300]), (&uncounted, [5_000, 7_000])] {
        let timer = registry.timer("work");
        for n in bytes {
            let _section = timer.start();
            allocate(n);
        }
    }
    let uncounted = saved_without_allocated(&uncounted);
    assert!(uncounted
        .snapshot()
        .get("work")
        .unwrap()
        .allocations()
        .is_none());
    for parts in [
        [uncounted.snapshot(), &counted.snapshot()],
        [&counted.snapshot(), uncounted.snapshot()],
    ] {
        let merged = perf_timer::Snapshot::merge(parts);
        let stats = merged.get("work").unwrap();
        // Every run counted, allocations over the runs that counted them.
        assert_eq!(stats.count(), 4);
        let a = stats.allocations().unwrap();
        assert_eq!((a.runs(), a.count(), a.bytes()), (2, 2, 400));
        assert_eq!(a.distribution().count(), 2);
        assert_eq!(a.bytes_per_run(), 200.0);
        // And its line reads back with the same figures.
        let line = SavedRun::of_snapshot(merged.clone()).to_json_line();
        let back = SavedRun::from_json_line(&line).unwrap();
        let stats = back.snapshot().get("work").unwrap();
        let a = stats.allocations().unwrap();
        assert_eq!(stats.count(), 4);
        assert_eq!((a.runs(), a.count(), a.bytes()), (2, 2, 400));
        assert_eq!(a.distribution().count(), 2);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

    /// Parts that counted allocations and parts that did not (their
    /// histograms taken out, their counters left), merged in any order:
    /// every run counted, allocations over the counted parts' runs only,
    /// and the merge reads back with the same figures.
    #[test]
    fn any_mix_of_counted_and_uncounted_parts_merges_and_reads_back(
        parts in proptest::collection::vec(
            (proptest::bool::ANY, proptest::collection::vec(1_usize..5_000, 0..6)),
            1..5,
        )
    ) {
        use perf_timer::saved::SavedRun;
        let (mut runs, mut counted_runs, mut counted_bytes) = (0, 0, 0);
        let snapshots: Vec<perf_timer::Snapshot> = parts
            .iter()
            .map(|(counted, sizes)| {
                let registry = Registry::new();
                let timer = registry.timer("work");
                for &n in sizes {
                    let _section = timer.start();
                    allocate(n);
                }
                runs += sizes.len() as u64;
                if *counted {
                    counted_runs += sizes.len() as u64;
                    counted_bytes += sizes.iter().sum::<usize>() as u64;
                }
                // A part without runs has no counter to leave in.
                match counted | sizes.is_empty() {
                    true => registry.snapshot(),
                    false => saved_without_allocated(&registry).into_snapshot(),
                }
            })
            .collect();
        let check = |snapshot: &perf_timer::Snapshot| {
            let stats = snapshot.get("work").unwrap();
            assert_eq!(stats.count(), runs);
            if let Some(a) = stats.allocations() {
                assert_eq!((a.runs(), a.count()), (counted_runs, counted_runs));
                assert_eq!(a.bytes(), counted_bytes);
                assert_eq!(a.distribution().count(), counted_runs);
            } else {
                assert_eq!(counted_runs, 0);
            }
        };
        for order in [false, true] {
            let mut parts: Vec<&perf_timer::Snapshot> = snapshots.iter().collect();
            if order {
                parts.reverse();
            }
            let merged = perf_timer::Snapshot::merge(parts);
            check(&merged);
            let line = SavedRun::of_snapshot(merged).to_json_line();
            check(SavedRun::from_json_line(&line).unwrap().snapshot());
        }
    }
}

#[test]
fn the_global_allocator_is_seen_as_installed_in_an_async_fn() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        async { allocate(9) }.timed("allocations::global").await;
    });
    let stats = perf_timer::global().stats("allocations::global").unwrap();
    assert_eq!(stats.allocations().unwrap().bytes(), 9);
}

#[test]
fn the_report_and_detail_show_allocations_per_run() {
    let registry = Registry::new();
    let timer = registry.timer("render");
    for bytes in [40 * 1024, 50 * 1024] {
        let _section = timer.start();
        allocate(bytes);
        allocate(0); // a zero-size Vec allocates nothing
        allocate(1);
    }
    let line = registry.report().to_string();
    assert!(line.contains(", allocs 2/run, 45.0 KiB/run"), "{line}");
    let detail = timer.stats().detail().to_string();
    assert!(
        detail
            .contains("  allocs 2/run, 45.0 KiB/run, self 2/run, 45.0 KiB/run; bytes min 40.0 KiB"),
        "{detail}"
    );
}

#[test]
fn every_allocation_figure_is_exported() {
    use perf_timer::export::Prometheus;
    let registry = Registry::new();
    let timer = registry.timer("t");
    {
        let _section = timer.start();
        allocate(100);
    }
    let text = Prometheus::new("ns").render(&registry.snapshot());
    assert!(
        text.contains("ns_allocations_total{timer=\"t\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("ns_allocated_bytes_total{timer=\"t\"} 100\n"),
        "{text}"
    );
    assert!(text.contains("# HELP ns_allocations_total "), "{text}");

    // The `metrics` facade, forwarded run by run.
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let forwarding = Registry::builder().forward_to_metrics("p").build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        let timer = forwarding.timer("t");
        let _section = timer.start();
        allocate(300);
    });
    let counters: Vec<(String, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            metrics_util::debugging::DebugValue::Counter(n) => {
                Some((key.key().name().to_owned(), n))
            }
            _ => None,
        })
        .collect();
    assert!(
        counters.contains(&("p_allocations_total".to_owned(), 1)),
        "{counters:?}"
    );
    assert!(
        counters.contains(&("p_allocated_bytes_total".to_owned(), 300)),
        "{counters:?}"
    );
}

#[test]
fn json_has_the_allocations() {
    let timer = Registry::new().timer("json");
    for bytes in [10, 30] {
        let _section = timer.start();
        allocate(bytes);
    }
    let json = serde_json::to_value(timer.stats()).unwrap();
    let a = &json["allocations"];
    assert_eq!(
        (a["runs"].as_u64(), a["count"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(a["bytes"], 40);
    assert_eq!(a["bytes_per_run"], 20.0);
    assert_eq!(a["self_bytes"], 40);
    assert_eq!(a["distribution"]["max"], 30);
    assert_eq!(a["distribution"]["quantiles"]["0.5"], 10);
}

#[test]
fn saved_runs_keep_allocations_and_older_lines_still_read() {
    use perf_timer::saved::SavedRun;
    let registry = Registry::new();
    let timer = registry.timer("saved");
    for bytes in [10, 1_000, 100_000] {
        let _section = timer.start();
        allocate(bytes);
        allocate(1);
    }
    registry.timer("empty"); // no runs: allocations of none
    let line = SavedRun::capture(&registry).to_json_line();
    let back = SavedRun::from_json_line(&line).unwrap();
    let (a, b) = (
        registry.stats("saved").unwrap(),
        back.snapshot().get("saved").unwrap().clone(),
    );
    let (a, b) = (a.allocations().unwrap(), b.allocations().unwrap());
    assert_eq!((b.runs(), b.count(), b.bytes()), (3, 6, 101_013));
    assert_eq!(
        (b.self_count(), b.self_bytes()),
        (a.self_count(), a.self_bytes())
    );
    assert_eq!(b.distribution().histogram(), a.distribution().histogram());
    assert_eq!(back.to_json_line(), line, "written again, the same line");

    // A line saved without allocations (an older version, or no counting
    // allocator) reads with none.
    let mut json: serde_json::Value = serde_json::from_str(&line).unwrap();
    for timer in json["timers"].as_array_mut().unwrap() {
        let timer = timer.as_object_mut().unwrap();
        timer.remove("allocated");
        let totals = timer["totals"].as_object_mut().unwrap();
        totals.retain(|name, _| !name.contains("alloc"));
    }
    let old = SavedRun::from_json_line(&json.to_string()).unwrap();
    let old = old.snapshot().get("saved").unwrap().clone();
    assert!(old.allocations().is_none());
    assert_eq!(old.count(), 3);

    // A histogram that disagrees with the totals is named.
    let mut json: serde_json::Value = serde_json::from_str(&line).unwrap();
    json["timers"][1]["totals"]["alloc_runs"] = 4.into();
    let error = SavedRun::from_json_line(&json.to_string()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("bytes allocated per run counts 3 runs, its totals 4"),
        "{error}"
    );
}

#[test]
fn manual_samples_count_no_allocations() {
    let timer = Registry::new().timer("manual");
    timer.record(std::time::Duration::from_micros(5));
    {
        let _section = timer.start();
        allocate(10);
    }
    let stats = timer.stats();
    let a = stats.allocations().unwrap();
    assert_eq!((stats.count(), a.runs(), a.count()), (2, 1, 1));
    assert_eq!((a.count_per_run(), a.distribution().count()), (1.0, 1));
}
