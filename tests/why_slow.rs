//! Why a run was slow: each run's parts (per direct timed child: busy,
//! parked-in idle, runs), the slowest runs kept, and busy and parked time
//! by nesting path. Exact on a mock clock; real sleeps for parked time.

mod common;

use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::*;
use perf_timer::{Clock, Folded, MockClock, Registry, SlowRun, Snapshot};

/// The gap the driver leaves between two polls of the outermost run.
const GAP: Duration = Duration::from_micros(100);

/// Polls `future` until it is ready, moving the clock by [`GAP`] between
/// polls: time the outermost run spends parked.
fn drive<F: std::future::Future>(mock: &MockClock, future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = poll_once(future.as_mut()) {
            return out;
        }
        mock.advance(GAP);
    }
}

fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

/// The one kept run of `name`.
fn only_run(registry: &Registry, name: &str) -> SlowRun {
    let stats = registry.stats(name).unwrap();
    assert_eq!(stats.slowest().len(), 1, "{name}: {:?}", stats.slowest());
    stats.slowest()[0].clone()
}

/// `(name, busy µs, idle µs, runs)` of each part.
fn parts(run: &SlowRun) -> Vec<(String, u64, u64, u64)> {
    (run.parts().iter())
        .map(|p| {
            let us = |d: Duration| d.as_nanos() as u64 / 1000;
            (p.name().to_owned(), us(p.busy()), us(p.idle()), p.runs())
        })
        .collect()
}

fn owned(parts: &[(&str, u64, u64, u64)]) -> Vec<(String, u64, u64, u64)> {
    (parts.iter())
        .map(|&(n, b, i, r)| (n.to_owned(), b, i, r))
        .collect()
}

/// `self + Σ(part.busy + part.idle) + idle_untimed == wall`, exactly.
fn assert_adds_up(run: &SlowRun) {
    let parts: Duration = run.parts().iter().map(|p| p.busy() + p.idle()).sum();
    assert_eq!(
        run.self_time() + parts + run.idle_untimed(),
        run.wall(),
        "{run:?}"
    );
}

/// Folded lines as (path, nanoseconds).
fn lines(snapshot: &Snapshot, kind: Folded) -> Vec<(String, u64)> {
    (snapshot.folded(kind).lines())
        .map(|line| {
            let (path, n) = line.rsplit_once(' ').unwrap();
            (path.to_owned(), n.parse().unwrap())
        })
        .collect()
}

/// The folded busy lines at or under `root` sum to its busy total.
fn assert_busy_sums_to_root(snapshot: &Snapshot, root: &str) {
    let under: u64 = (lines(snapshot, Folded::Busy).into_iter())
        .filter(|(path, _)| path == root || path.starts_with(&format!("{root};")))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(under, ns(snapshot.get(root).unwrap().total()));
}

#[test]
fn sequential_children_each_get_their_busy_and_parked_time() {
    let (registry, mock) = mock_registry();
    let (api, a, b) = (
        registry.timer("api"),
        registry.timer("a"),
        registry.timer("b"),
    );
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(5)).await;
            a.time(Steps::new(&m, &[us(10), us(20)])).await; // parked in a
            work(&m, us(3)).await;
            b.time(Steps::new(&m, &[us(7), us(1)])).await; // parked in b
            yield_once().await; // parked in nothing timed
            work(&m, us(2)).await;
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(ns(run.busy()), 48_000);
    assert_eq!(ns(run.self_time()), 10_000);
    assert_eq!(ns(run.idle_untimed()), 100_000);
    assert_eq!(ns(run.wall()), 348_000);
    assert_eq!(parts(&run), owned(&[("a", 30, 100, 1), ("b", 8, 100, 1)]));
    assert_adds_up(&run);
    // The children's own runs: no parts, idle in nothing timed.
    let a = only_run(&registry, "a");
    assert_eq!(
        (ns(a.busy()), ns(a.wall()), a.parts().len()),
        (30_000, 130_000, 0)
    );
    assert_eq!(ns(a.idle_untimed()), 100_000);
    assert_eq!(registry.stats("api").unwrap().self_time().total(), us(10));
}

#[test]
fn join_gives_each_gap_to_the_child_whose_pending_came_last() {
    let (registry, mock) = mock_registry();
    let (both, a, b) = (
        registry.timer("both"),
        registry.timer("a"),
        registry.timer("b"),
    );
    let m = mock.clone();
    // a is the longer one, polled first: the first gap goes to b (polled
    // last, pending), the second to a (the only one still pending).
    drive(
        &mock,
        both.time(async move {
            futures::join!(
                a.time(Steps::new(&m, &[us(1), us(2), us(4)])),
                b.time(Steps::new(&m, &[us(8), us(16)])),
            )
        }),
    );
    let run = only_run(&registry, "both");
    assert_eq!(parts(&run), owned(&[("a", 7, 100, 1), ("b", 24, 100, 1)]));
    assert_eq!((ns(run.self_time()), ns(run.idle_untimed())), (0, 0));
    assert_adds_up(&run);

    // The other way round: the longer one polled last gets every gap.
    let (registry, mock) = mock_registry();
    let (both, a, b) = (
        registry.timer("both"),
        registry.timer("a"),
        registry.timer("b"),
    );
    let m = mock.clone();
    drive(
        &mock,
        both.time(async move {
            futures::join!(
                a.time(Steps::new(&m, &[us(1), us(2)])),
                b.time(Steps::new(&m, &[us(4), us(8), us(16)])),
            )
        }),
    );
    let run = only_run(&registry, "both");
    assert_eq!(parts(&run), owned(&[("a", 3, 0, 1), ("b", 28, 200, 1)]));
    assert_adds_up(&run);
}

#[test]
fn three_levels_add_up_at_each_level_and_in_the_folded_paths() {
    let (registry, mock) = mock_registry();
    let (api, service, db) = (
        registry.timer("api"),
        registry.timer("service"),
        registry.timer("db"),
    );
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(1)).await;
            let m2 = m.clone();
            service
                .time(async move {
                    work(&m2, us(2)).await;
                    db.time(Steps::new(&m2, &[us(4), us(8)])).await;
                    work(&m2, us(16)).await;
                })
                .await;
            work(&m, us(32)).await;
        }),
    );
    let api_run = only_run(&registry, "api");
    assert_eq!(parts(&api_run), owned(&[("service", 30, 100, 1)]));
    assert_eq!(
        (ns(api_run.busy()), ns(api_run.self_time())),
        (63_000, 33_000)
    );
    assert_adds_up(&api_run);
    let json = serde_json::to_value(registry.stats("api").unwrap()).unwrap();
    let kept = &json["slowest"][0];
    assert_eq!(kept["wall_ns"], 163_000);
    assert_eq!(kept["self_time_ns"], 33_000);
    assert_eq!(kept["parts"][0]["name"], "service");
    assert_eq!(kept["parts"][0]["idle_ns"], 100_000);
    let service_run = only_run(&registry, "service");
    assert_eq!(parts(&service_run), owned(&[("db", 12, 100, 1)]));
    assert_eq!(ns(service_run.self_time()), 18_000);
    assert_adds_up(&service_run);

    let snapshot = registry.snapshot();
    assert_eq!(
        lines(&snapshot, Folded::Busy),
        [
            ("api".to_owned(), 33_000),
            ("api;service".to_owned(), 18_000),
            ("api;service;db".to_owned(), 12_000)
        ]
    );
    assert_busy_sums_to_root(&snapshot, "api");
    // Parked once, at the deepest path pending: not also in api;service.
    assert_eq!(
        lines(&snapshot, Folded::Idle),
        [("api;service;db".to_owned(), 100_000)]
    );
    assert_eq!(
        lines(&snapshot, Folded::Wall),
        [
            ("api".to_owned(), 33_000),
            ("api;service".to_owned(), 18_000),
            ("api;service;db".to_owned(), 12_000),
            ("api;service;db;[parked]".to_owned(), 100_000)
        ]
    );
}

#[test]
fn a_cancelled_run_is_not_kept_but_its_parts_count_in_the_paths() {
    let (registry, mock) = mock_registry();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    let m = mock.clone();
    {
        let mut run = pin!(api.time(async move {
            work(&m, us(3)).await;
            db.time(Steps::new(&m, &[us(5), us(5)])).await;
        }));
        assert!(poll_once(run.as_mut()).is_pending());
        mock.advance(GAP);
    } // dropped while parked in db
    let stats = registry.stats("api").unwrap();
    assert_eq!((stats.count(), stats.cancelled()), (0, 1));
    assert!(stats.slowest().is_empty());
    assert!(registry.stats("db").unwrap().slowest().is_empty());
    let busy = lines(&registry.snapshot(), Folded::Busy);
    assert!(busy.contains(&("api;db".to_owned(), 5_000)), "{busy:?}");
}

#[test]
fn a_panicking_child_leaves_the_next_run_exact() {
    let (registry, mock) = mock_registry();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    let m = mock.clone();
    let (api2, db2) = (api.clone(), db.clone());
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
        drive(
            &mock,
            api2.time(async move {
                db2.time(async {
                    work(&m, us(5)).await;
                    panic!("child fails");
                })
                .await
            }),
        )
    }));
    assert!(panicked.is_err());
    assert_eq!(perf_timer::task_perf_counter(), None);
    assert_eq!(registry.stats("api").unwrap().panicked(), 1);
    assert!(registry.stats("api").unwrap().slowest().is_empty());

    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(1)).await;
            db.time(Steps::new(&m, &[us(2), us(4)])).await;
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("db", 6, 100, 1)]));
    assert_eq!((ns(run.self_time()), ns(run.wall())), (1_000, 107_000));
    assert_adds_up(&run);
}

#[test]
fn a_child_that_panics_in_a_run_that_goes_on_is_its_part_not_self_time() {
    let (registry, mock) = mock_registry();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            let child = db.time(async {
                work(&m, us(5)).await;
                panic!("child fails");
            });
            let caught = std::panic::catch_unwind(AssertUnwindSafe(|| poll_once(pin!(child))));
            assert!(caught.is_err());
            work(&m, us(1)).await;
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("db", 5, 0, 1)]));
    assert_eq!(ns(run.self_time()), 1_000);
    assert_adds_up(&run);
    assert_eq!(registry.stats("db").unwrap().panicked(), 1);
    let snapshot = registry.snapshot();
    assert_busy_sums_to_root(&snapshot, "api");
    assert!(lines(&snapshot, Folded::Busy).contains(&("api;db".to_owned(), 5_000)));
}

#[test]
fn a_sync_section_is_a_part_with_busy_time_only() {
    let (registry, mock) = mock_registry();
    let (api, parse) = (registry.timer("api"), registry.timer("parse"));
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(1)).await;
            for _ in 0..2 {
                let _section = parse.start();
                m.advance(us(7));
            }
            yield_once().await;
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("parse", 14, 0, 2)]));
    assert_eq!(
        (ns(run.self_time()), ns(run.idle_untimed())),
        (1_000, 100_000)
    );
    assert_adds_up(&run);
    assert_busy_sums_to_root(&registry.snapshot(), "api");
}

#[test]
fn past_seven_children_the_rest_share_one_part() {
    let (registry, mock) = mock_registry();
    let api = registry.timer("api");
    let children: Vec<_> = (0..10).map(|i| registry.timer(&format!("c{i}"))).collect();
    let (section, deep, leaf) = (
        registry.timer("section"),
        registry.timer("deep"),
        registry.timer("leaf"),
    );
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            for child in &children {
                child.time(work(&m, us(1))).await;
            }
            // A sync section past the parts, and a child past them with a
            // child of its own.
            let _section = section.start();
            m.advance(us(2));
            drop(_section);
            deep.time(async {
                m.advance(us(4));
                leaf.time(work(&m, us(8))).await;
            })
            .await;
        }),
    );
    let run = only_run(&registry, "api");
    let names: Vec<_> = run.parts().iter().map(|p| p.name().to_owned()).collect();
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "(other)"]);
    assert_eq!(
        (run.parts()[7].busy(), run.parts()[7].runs()),
        (us(3 + 2 + 12), 5)
    );
    assert_adds_up(&run);
    // Each child past the parts counts in its own path: the lines under
    // the root sum to its busy total, and none of them is a root.
    let snapshot = registry.snapshot();
    assert_busy_sums_to_root(&snapshot, "api");
    let busy = lines(&snapshot, Folded::Busy);
    for (path, n) in &busy {
        assert!(path == "api" || path.starts_with("api;"), "{path} {n}");
    }
    for (path, n) in [
        ("api;c9", 1_000),
        ("api;section", 2_000),
        ("api;deep", 4_000),
    ] {
        assert!(busy.contains(&(path.to_owned(), n)), "{path}: {busy:?}");
    }
    assert!(
        busy.contains(&("api;deep;leaf".to_owned(), 8_000)),
        "{busy:?}"
    );
}

#[test]
fn the_slowest_runs_are_the_slowest_and_bounded() {
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .slowest_runs(3)
        .build()
        .unwrap();
    let timer = registry.timer("job");
    for wall in [5, 50, 20, 40, 10, 30, 1] {
        drive(&mock, timer.time(Steps::new(&mock, &[us(wall)])));
    }
    let walls: Vec<u64> = (registry.stats("job").unwrap().slowest().iter())
        .map(|r| ns(r.wall()) / 1000)
        .collect();
    assert_eq!(walls, [50, 40, 30]);

    let off = Registry::builder().slowest_runs(0).build().unwrap();
    poll_to_end(off.timer("job").time(async {}));
    assert!(off.stats("job").unwrap().slowest().is_empty());
}

#[test]
fn trace_ids_are_asked_only_for_runs_that_are_kept() {
    let asked = Arc::new(AtomicU64::new(0));
    let count = asked.clone();
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .slowest_runs(1)
        .trace_ids(move || Some(format!("trace-{}", count.fetch_add(1, Relaxed))))
        .build()
        .unwrap();
    let timer = registry.timer("job");
    // Slower first: only the first is kept, since the start and in the
    // interval.
    for wall in [50, 40, 30, 20] {
        drive(&mock, timer.time(Steps::new(&mock, &[us(wall)])));
    }
    assert_eq!(asked.load(Relaxed), 1);
    let run = only_run(&registry, "job");
    assert_eq!((run.trace_id(), ns(run.wall())), (Some("trace-0"), 50_000));
    drive(&mock, timer.time(Steps::new(&mock, &[us(60)])));
    assert_eq!(asked.load(Relaxed), 2);
    assert_eq!(only_run(&registry, "job").trace_id(), Some("trace-1"));
}

#[test]
fn a_child_cancelled_while_pending_is_not_parked_in_afterwards() {
    let (registry, mock) = mock_registry();
    let (api, a) = (registry.timer("api"), registry.timer("a"));
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            {
                // Polled last in this poll, then dropped in it: what a
                // `timeout` that elapsed does to its future.
                let mut child = pin!(a.time(Steps::new(&m, &[us(10), us(20)])));
                assert!(poll_once(child.as_mut()).is_pending());
            }
            yield_once().await; // parked in no timed child
            work(&m, us(1)).await;
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("a", 10, 0, 1)]));
    assert_eq!(ns(run.idle_untimed()), ns(GAP));
    assert_adds_up(&run);
    assert_eq!(registry.stats("a").unwrap().cancelled(), 1);
}

#[test]
fn a_few_nanoseconds_of_untimed_idle_are_rounding_and_not_printed() {
    let shown = |gap: u64| {
        let (registry, mock) = mock_registry();
        let (api, db) = (registry.timer("api"), registry.timer("db"));
        let m = mock.clone();
        let mut run = pin!(api.time(async move {
            db.time(work(&m, us(2))).await;
            yield_once().await;
        }));
        assert!(poll_once(run.as_mut()).is_pending());
        mock.advance(Duration::from_nanos(gap));
        assert!(poll_once(run.as_mut()).is_ready());
        only_run(&registry, "api").to_string()
    };
    // One part: wall, busy and the part each convert apart, up to 3 ns.
    assert_eq!(shown(3), "2.00 µs: busy 2.00 µs (db 2.00 µs)");
    assert_eq!(
        shown(4),
        "2.00 µs: idle 4.00 ns untimed; busy 2.00 µs (db 2.00 µs)"
    );
}

#[test]
fn a_root_run_keeps_its_line_beside_many_nested_polls() {
    // 20,000 nested polls of `db` against 10 µs of `db` as a root: more
    // polls than root nanoseconds, and still root time, not rounding.
    let (registry, mock) = mock_registry();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    drive(
        &mock,
        api.time(db.time(Steps::new(&mock, &[us(1); 20_000]))),
    );
    drive(&mock, db.time(work(&mock, us(10))));
    let snapshot = registry.snapshot();
    assert_eq!(
        lines(&snapshot, Folded::Busy),
        [("api;db".to_owned(), 20_000_000), ("db".to_owned(), 10_000)]
    );
    assert_busy_sums_to_root(&snapshot, "api");
}

#[test]
fn a_run_nested_in_another_registrys_run_has_its_paths_there() {
    let (clock, mock) = Clock::mock();
    let build = || Registry::builder().clock(clock.clone()).build().unwrap();
    let (first, second) = (build(), build());
    let (root, a) = (first.timer("root"), first.timer("a"));
    let x = second.timer("x");
    let m = mock.clone();
    drive(
        &mock,
        root.time(async move {
            work(&m, us(1)).await;
            x.time(async {
                work(&m, us(2)).await;
                a.time(Steps::new(&m, &[us(4), us(8)])).await;
            })
            .await;
        }),
    );
    // The first registry's paths hold the whole nesting: its root sums to
    // its busy total, and its own `a` is under it, not a root of its own.
    let snapshot = first.snapshot();
    assert_busy_sums_to_root(&snapshot, "root");
    let busy = lines(&snapshot, Folded::Busy);
    assert_eq!(
        busy,
        [
            ("root".to_owned(), 1_000),
            ("root;x".to_owned(), 2_000),
            ("root;x;a".to_owned(), 12_000)
        ]
    );
    // The second registry's run names its part as the first's did.
    let run = only_run(&second, "x");
    assert_eq!(parts(&run), owned(&[("a", 12, 100, 1)]));
    assert_eq!(
        parts(&only_run(&first, "root")),
        owned(&[("x", 14, 100, 1)])
    );
}

#[test]
fn a_poll_that_polls_no_child_leaves_the_run_parked_in_the_pending_one() {
    // What `FuturesUnordered` does: it wakes itself, and its next poll
    // polls no child; the child is pending all the while.
    let (registry, mock) = mock_registry();
    let (api, a) = (registry.timer("api"), registry.timer("a"));
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            let mut child = pin!(a.time(Steps::new(&m, &[us(1), us(2)])));
            assert!(poll_once(child.as_mut()).is_pending());
            yield_once().await;
            yield_once().await;
            child.await;
            yield_once().await; // a is done: untimed
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("a", 3, 200, 1)]));
    assert_eq!(ns(run.idle_untimed()), ns(GAP));
    assert_adds_up(&run);
}

#[test]
fn a_section_inside_a_section_is_its_child_not_a_second_part_of_the_run() {
    let (registry, mock) = mock_registry();
    let (req, outer, inner) = (
        registry.timer("req"),
        registry.timer("outer"),
        registry.timer("inner"),
    );
    let m = mock.clone();
    drive(
        &mock,
        req.time(async move {
            work(&m, us(10)).await;
            let _outer = outer.start();
            m.advance(us(100));
            {
                let _inner = inner.start();
                m.advance(us(1_000));
            }
        }),
    );
    let run = only_run(&registry, "req");
    assert_eq!(parts(&run), owned(&[("outer", 1_100, 0, 1)]));
    assert_eq!(ns(run.self_time()), 10_000);
    assert_adds_up(&run);
    let snapshot = registry.snapshot();
    assert_busy_sums_to_root(&snapshot, "req");
    assert_eq!(
        lines(&snapshot, Folded::Busy),
        [
            ("req".to_owned(), 10_000),
            ("req;outer".to_owned(), 100_000),
            ("req;outer;inner".to_owned(), 1_000_000)
        ]
    );
    let self_of = |name: &str| ns(snapshot.get(name).unwrap().self_time().total());
    assert_eq!((self_of("outer"), self_of("inner")), (100_000, 1_000_000));
}

#[test]
fn sections_inside_sections_outside_any_future_leave_each_others_time_out() {
    let (registry, mock) = mock_registry();
    let (outer, inner) = (registry.timer("outer"), registry.timer("inner"));
    {
        let _outer = outer.start();
        mock.advance(us(100));
        let _inner = inner.start();
        mock.advance(us(1_000));
    }
    let snapshot = registry.snapshot();
    assert_eq!(ns(snapshot.get("outer").unwrap().total()), 1_100_000);
    // No timed future: no paths, each a root, and nothing counted twice.
    assert_eq!(
        lines(&snapshot, Folded::Busy),
        [
            ("inner".to_owned(), 1_000_000),
            ("outer".to_owned(), 100_000)
        ]
    );
}

#[test]
fn a_section_that_panics_inside_a_run_that_goes_on_is_its_part() {
    let (registry, mock) = mock_registry();
    let (api, c) = (registry.timer("api"), registry.timer("c"));
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(1)).await;
            let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let _section = c.start();
                m.advance(us(2));
                panic!("section fails");
            }));
            assert!(caught.is_err());
        }),
    );
    let run = only_run(&registry, "api");
    assert_eq!(parts(&run), owned(&[("c", 2, 0, 1)]));
    assert_eq!(ns(run.self_time()), 1_000);
    assert_adds_up(&run);
    assert_eq!(registry.stats("c").unwrap().panicked(), 1);
}

#[test]
fn a_trace_id_source_that_panics_gives_no_id_and_leaves_the_run_alone() {
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .trace_ids(|| panic!("no trace here"))
        .build()
        .unwrap();
    let timer = registry.timer("job");
    // A future's run and a sync section's: both end as they would have.
    let out = drive(&mock, timer.time(async { 7 }));
    {
        let _section = timer.start();
        mock.advance(us(3));
    }
    assert_eq!(out, 7);
    let stats = registry.stats("job").unwrap();
    assert_eq!((stats.count(), stats.panicked()), (2, 0));
    assert_eq!(stats.slowest().len(), 2);
    assert!(stats.slowest().iter().all(|run| run.trace_id().is_none()));
}

#[test]
fn a_trace_id_source_that_times_itself_gives_its_own_runs_no_id() {
    let (clock, mock) = Clock::mock();
    let registry = Arc::new(std::sync::OnceLock::<Registry>::new());
    let inside = registry.clone();
    let built = Registry::builder()
        .clock(clock)
        .trace_ids(move || {
            // Timed itself: its section is kept too, and asks no id.
            let source = inside.get().unwrap().timer("source");
            let _section = source.start();
            Some("trace".to_owned())
        })
        .build()
        .unwrap();
    let registry = registry.get_or_init(|| built);
    drive(
        &mock,
        registry.timer("job").time(Steps::new(&mock, &[us(5)])),
    );
    assert_eq!(only_run(registry, "job").trace_id(), Some("trace"));
    assert_eq!(only_run(registry, "source").trace_id(), None);
}

#[test]
fn a_timer_keeps_at_most_a_thousand_slowest_runs() {
    let err = Registry::builder().slowest_runs(1_001).build().unwrap_err();
    assert_eq!(err, perf_timer::ConfigError::SlowestRuns(1_001));
    assert!(err.to_string().contains("allowed: 0 to 1000"), "{err}");
    assert!(Registry::builder().slowest_runs(1_000).build().is_ok());
}

#[test]
fn each_interval_keeps_its_own_slowest_run() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let mut intervals = registry.intervals();
    for wall in [50, 10] {
        drive(&mock, timer.time(Steps::new(&mock, &[us(wall)])));
    }
    let first = intervals.next().unwrap();
    let walls = |i: &perf_timer::Interval| -> Vec<u64> {
        let slowest = i.get("job").unwrap().slowest();
        slowest.iter().map(|r| ns(r.wall()) / 1000).collect()
    };
    assert_eq!(walls(&first), [50]);
    for wall in [20, 30, 5] {
        drive(&mock, timer.time(Steps::new(&mock, &[us(wall)])));
    }
    // Slower than nothing since the start, the interval's own slowest.
    assert_eq!(walls(&intervals.next().unwrap()), [30]);
}

#[test]
fn a_child_of_a_spawned_task_is_no_part() {
    let registry = Registry::new();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(api.time(async move {
        let sleep = tokio::time::sleep(Duration::from_millis(20));
        tokio::spawn(db.time(sleep)).await.unwrap();
    }));
    let run = only_run(&registry, "api");
    assert!(run.parts().is_empty());
    assert!(run.idle_untimed() >= Duration::from_millis(20), "{run:?}");
    assert_adds_up(&run);
}

#[test]
fn real_sleeps_show_as_parked_time_in_the_child_that_slept() {
    let registry = Registry::new();
    let (api, db, cache) = (
        registry.timer("api"),
        registry.timer("db"),
        registry.timer("cache"),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(api.time(async move {
        cache
            .time(tokio::time::sleep(Duration::from_millis(10)))
            .await;
        db.time(tokio::time::sleep(Duration::from_millis(50))).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }));
    let run = only_run(&registry, "api");
    let (cache, db) = (&run.parts()[0], &run.parts()[1]);
    assert_eq!((cache.name(), db.name()), ("cache", "db"));
    assert!(cache.idle() >= Duration::from_millis(10), "{run:?}");
    assert!(db.idle() >= Duration::from_millis(50), "{run:?}");
    assert!(run.idle_untimed() >= Duration::from_millis(5), "{run:?}");
    assert!(run.wall() >= Duration::from_millis(65), "{run:?}");
    assert_adds_up(&run);
    // Busy time is time on the CPU or preempted inside polls: far less than
    // the sleeps here, bounded by the wall time less the parked time.
    assert!(run.busy() <= run.wall() - db.idle() - cache.idle());
    // On the TSC too, the busy lines under the root add up to its busy total.
    assert_busy_sums_to_root(&registry.snapshot(), "api");
    let idle = lines(&registry.snapshot(), Folded::Idle);
    let parked_in_db = idle.iter().find(|(p, _)| p == "api;db").unwrap().1;
    assert!(parked_in_db >= 50_000_000, "{idle:?}");
}

#[test]
fn kept_runs_carry_the_trace_of_the_opentelemetry_context_they_ran_in() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .trace_ids(perf_timer::opentelemetry_trace_id)
        .build()
        .unwrap();
    let timer = registry.timer("request");
    let traces = [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c",
    ];
    for (trace, wall) in traces.iter().zip([10, 20]) {
        let span = SpanContext::new(
            TraceId::from_hex(trace).unwrap(),
            SpanId::from(7),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let _entered = opentelemetry::Context::current()
            .with_remote_span_context(span)
            .attach();
        drive(&mock, timer.time(Steps::new(&mock, &[us(wall), us(1)])));
    }
    // Outside any span: kept (the fastest of three), with no trace id.
    drive(&mock, timer.time(Steps::new(&mock, &[us(30)])));
    let ids: Vec<_> = (registry.stats("request").unwrap().slowest().iter())
        .map(|r| r.trace_id().map(str::to_owned))
        .collect();
    assert_eq!(
        ids,
        [Some(traces[1].to_owned()), Some(traces[0].to_owned()), None]
    );
}

#[test]
fn the_report_says_where_the_slowest_run_went() {
    let (registry, mock) = mock_registry();
    let (api, db, cache) = (
        registry.timer("api"),
        registry.timer("db"),
        registry.timer("cache"),
    );
    let m = mock.clone();
    drive(
        &mock,
        api.time(async move {
            work(&m, us(2)).await;
            cache.time(Steps::new(&m, &[us(1), us(3)])).await;
            db.time(Steps::new(&m, &[us(5), us(5)])).await;
            yield_once().await;
        }),
    );
    let report = registry.report().to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0],
        "timer \"api\": 16.0 µs in 1 run, idle 300 µs, self 2.00 µs"
    );
    assert_eq!(
        lines[1],
        "  slowest 316 µs: parked 100 µs in cache, 100 µs in db, idle 100 µs untimed; busy 16.0 µs (db 10.0 µs, cache 4.00 µs)",
        "{report}"
    );
    // Children without children of their own: no second line.
    assert!(lines[2].starts_with("timer \"cache\": "), "{report}");
    assert!(lines[3].starts_with("timer \"db\": "), "{report}");
    assert_eq!(lines.len(), 4, "{report}");
}

#[test]
fn sync_sections_are_kept_among_the_slowest_too() {
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .slowest_runs(2)
        .build()
        .unwrap();
    let parse = registry.timer("parse");
    for us_ in [3, 9, 5] {
        let _section = parse.start();
        mock.advance(us(us_));
    }
    let walls: Vec<u64> = (registry.stats("parse").unwrap().slowest().iter())
        .map(|r| ns(r.wall()) / 1000)
        .collect();
    assert_eq!(walls, [9, 5]);
}

/// `count` runs of `api` each awaiting one run of each of `children`, each
/// child 1 µs on the mock clock.
fn nested_runs(
    mock: &MockClock,
    api: &perf_timer::Timer,
    children: &[perf_timer::Timer],
    count: usize,
) {
    for _ in 0..count {
        for chunk in children.chunks(7) {
            poll_to_end(api.time(async {
                for child in chunk {
                    child.time(work(mock, us(1))).await;
                }
            }));
        }
    }
}

#[test]
fn paths_count_exactly_past_a_threads_shard_and_across_threads() {
    // More paths than one thread's shard holds, from two registries in
    // turn (their entries replace each other), one of them dropped.
    let (registry, mock) = mock_registry();
    let api = registry.timer("api");
    let children: Vec<_> = (0..200)
        .map(|i| registry.timer(&format!("c{i:03}")))
        .collect();
    {
        let (other, other_mock) = mock_registry();
        let other_api = other.timer("api");
        let other_children: Vec<_> = (0..100).map(|i| other.timer(&format!("c{i:03}"))).collect();
        for _ in 0..3 {
            nested_runs(&mock, &api, &children, 1);
            nested_runs(&other_mock, &other_api, &other_children, 1);
        }
        let busy = lines(&other.snapshot(), Folded::Busy);
        assert!(busy
            .iter()
            .filter(|(p, _)| p.starts_with("api;"))
            .all(|(_, n)| *n == 3_000));
    }
    nested_runs(&mock, &api, &children, 1);
    let busy = lines(&registry.snapshot(), Folded::Busy);
    let under: Vec<_> = busy.iter().filter(|(p, _)| p.starts_with("api;")).collect();
    assert_eq!(under.len(), 200);
    assert!(under.iter().all(|(_, n)| *n == 4_000), "{under:?}");

    // Threads, one after another (each ended thread's shard goes to the
    // next) and at once, each on a registry of its own.
    let (registry, mock) = mock_registry();
    let (api, db) = (registry.timer("api"), registry.timer("db"));
    for _ in 0..4 {
        let (api, db, mock) = (api.clone(), db.clone(), mock.clone());
        std::thread::spawn(move || nested_runs(&mock, &api, &[db], 10))
            .join()
            .unwrap();
    }
    assert_eq!(
        lines(&registry.snapshot(), Folded::Busy),
        [("api;db".to_owned(), 40_000)]
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let (registry, mock) = mock_registry();
                let (api, db) = (registry.timer("api"), registry.timer("db"));
                nested_runs(&mock, &api, &[db], 1_000);
                lines(&registry.snapshot(), Folded::Busy)
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), [("api;db".to_owned(), 1_000_000)]);
    }
}

#[test]
fn past_the_cap_on_paths_each_timer_counts_in_its_own_overflow_path() {
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .max_timers(2_000)
        .build()
        .unwrap();
    let api = registry.timer("api");
    // `api` and 1,023 children fill the 1,024 paths; the other 77
    // children overflow.
    let children: Vec<_> = (0..1_100)
        .map(|i| registry.timer(&format!("c{i:04}")))
        .collect();
    let (leaf, late, late_child) = (
        registry.timer("leaf"),
        registry.timer("late"),
        registry.timer("late.child"),
    );
    for chunk in children[..1_098].chunks(7) {
        drive(
            &mock,
            api.time(async {
                for child in chunk {
                    child.time(work(&mock, us(1))).await;
                }
            }),
        );
    }
    // An overflowed child parked once, and one with a child of its own
    // (parked once too): a path under an overflow path.
    let (pending, parent) = (&children[1_098], &children[1_099]);
    drive(
        &mock,
        api.time(async {
            pending.time(Steps::new(&mock, &[us(1), us(2)])).await;
            parent
                .time(async {
                    work(&mock, us(1)).await;
                    leaf.time(Steps::new(&mock, &[us(2), us(2)])).await;
                })
                .await;
        }),
    );
    // A root past the cap, with a child; an overflowed child that also
    // runs as a root of its own.
    drive(
        &mock,
        late.time(async {
            work(&mock, us(3)).await;
            late_child.time(work(&mock, us(5))).await;
        }),
    );
    drive(&mock, children[1_050].time(work(&mock, us(7))));

    let snapshot = registry.snapshot();
    let busy = lines(&snapshot, Folded::Busy);
    let line = |path: &str| {
        let found = busy.iter().filter(|(p, _)| p == path).map(|(_, n)| *n);
        found.collect::<Vec<_>>()
    };
    // No double count: the lines sum to the busy time of the outermost
    // runs (`api` and `late` run only as roots, `c1050` once for 7 µs).
    let roots = ns(snapshot.get("api").unwrap().total())
        + ns(snapshot.get("late").unwrap().total())
        + 7_000;
    assert_eq!(roots, 1_106_000 + 8_000 + 7_000);
    assert_eq!(busy.iter().map(|(_, n)| n).sum::<u64>(), roots);
    // The first 1,023 children have their paths under `api`; each of the
    // others counts in its own overflow path, exactly its self time.
    let named = busy.iter().filter(|(p, _)| p.starts_with("api;")).count();
    assert_eq!(named, 1_023);
    for (i, child) in children.iter().enumerate().skip(1_023) {
        let overflow = format!("(other);{}", child.name());
        let self_time = match i {
            1_098 => 3_000,
            _ => 1_000,
        };
        assert_eq!(line(&overflow), [self_time], "{overflow}");
    }
    let overflowed = busy.iter().filter(|(p, _)| p.starts_with("(other);"));
    let overflowed: u64 = overflowed.map(|(_, n)| n).sum();
    // The 77 children (one of them 3 µs), `leaf` and `late.child`.
    assert_eq!(overflowed, 76 * 1_000 + 3_000 + 4_000 + 5_000);
    // Under an overflow path: the timer's own, never a deeper chain.
    assert_eq!(line("(other);leaf"), [4_000]);
    assert_eq!(line("(other);late.child"), [5_000]);
    assert!(
        (busy.iter()).all(|(p, _)| !p.starts_with("(other);") || p.matches(';').count() == 1),
        "{busy:?}"
    );
    // Root lines leave the overflowed time out: `c1050` ran 7 µs as a
    // root and 1 µs overflowed; `leaf` and the children ran only nested.
    assert_eq!(line("c1050"), [7_000]);
    assert_eq!(line("late"), [3_000]);
    let roots: Vec<_> = busy.iter().filter(|(p, _)| !p.contains(';')).collect();
    assert_eq!(
        roots,
        [&("c1050".to_owned(), 7_000), &("late".to_owned(), 3_000)]
    );

    // A kept run names its parts in overflow paths by their timers.
    let slowest = registry.stats("api").unwrap().slowest()[0].clone();
    assert_eq!(
        parts(&slowest),
        owned(&[("c1098", 3, 100, 1), ("c1099", 5, 100, 1)])
    );

    // Parked time goes to the same overflow paths.
    assert_eq!(
        lines(&snapshot, Folded::Idle),
        [
            ("(other);c1098".to_owned(), 100_000),
            ("(other);leaf".to_owned(), 100_000)
        ]
    );
    let wall = lines(&snapshot, Folded::Wall);
    assert!(
        wall.contains(&("(other);leaf;[parked]".to_owned(), 100_000)),
        "{wall:?}"
    );

    // A saved run keeps them, and reads back the same.
    let saved = perf_timer::saved::SavedRun::capture(&registry).to_json_line();
    assert!(saved.contains(r#""path":["(other)","leaf"]"#), "{saved}");
    let back = perf_timer::saved::SavedRun::from_json_line(&saved).unwrap();
    for kind in [Folded::Busy, Folded::Idle, Folded::Wall] {
        assert_eq!(
            back.snapshot().folded(kind),
            snapshot.folded(kind),
            "{kind:?}"
        );
    }
}
