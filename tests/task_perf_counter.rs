//! `task_perf_counter()`: the busy time so far of the outermost timed future.

mod common;

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use perf_timer::task_perf_counter;

#[test]
fn none_outside_timed_futures() {
    assert_eq!(task_perf_counter(), None);
    let (registry, _mock) = mock_registry();
    let mut fut = pin!(registry.timer("t").time(async { task_perf_counter() }));
    assert!(matches!(
        poll_once(fut.as_mut()),
        std::task::Poll::Ready(Some(_))
    ));
    assert_eq!(task_perf_counter(), None);
}

#[test]
fn grows_with_polls_not_with_waiting() {
    let (registry, mock) = mock_registry();
    let m = mock.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut fut = pin!(registry.timer("t").time(async move {
        m.advance(us(10));
        s.lock().unwrap().push(task_perf_counter().unwrap()); // mid-poll
        yield_once().await;
        m.advance(us(5));
        s.lock().unwrap().push(task_perf_counter().unwrap());
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(Duration::from_millis(20)); // waiting
    assert!(poll_once(fut.as_mut()).is_ready());
    assert_eq!(*seen.lock().unwrap(), [us(10), us(15)]);
}

#[test]
fn follows_the_outermost_timer_when_nested() {
    let (registry, mock) = mock_registry();
    let m = mock.clone();
    let inner = registry.timer("inner");
    let mut fut = pin!(registry.timer("outer").time(async move {
        m.advance(us(10));
        inner
            .time(async {
                m.advance(us(5));
                yield_once().await;
                m.advance(us(1));
                task_perf_counter().unwrap()
            })
            .await
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(us(700));
    let std::task::Poll::Ready(counter) = poll_once(fut.as_mut()) else {
        panic!("not ready");
    };
    // The outer run's 16 µs, not the inner run's 6 µs.
    assert_eq!(counter, us(16));
}

#[test]
fn stays_right_when_the_task_moves_between_threads() {
    let (registry, mock) = mock_registry();
    let m = mock.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut fut = Box::pin(registry.timer("moving").time(async move {
        for _ in 0..4 {
            m.advance(us(3));
            s.lock()
                .unwrap()
                .push((std::thread::current().id(), task_perf_counter().unwrap()));
            yield_once().await;
        }
    }));
    // Poll on four different threads, as worker threads of a runtime would.
    for _ in 0..5 {
        fut = std::thread::spawn(move || {
            let _ = poll_once(fut.as_mut());
            assert_eq!(task_perf_counter(), None, "no frame left on the thread");
            fut
        })
        .join()
        .unwrap();
        mock.advance(us(100));
    }
    let seen = seen.lock().unwrap();
    let counters: Vec<Duration> = seen.iter().map(|(_, c)| *c).collect();
    assert_eq!(counters, [us(3), us(6), us(9), us(12)]);
    let threads: std::collections::HashSet<_> = seen.iter().map(|(t, _)| *t).collect();
    assert_eq!(threads.len(), 4);
    assert_eq!(registry.stats("moving").unwrap().total(), us(12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_it_tracks_cpu_not_sleeps() {
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            perf_timer::spawn("migrating", async move {
                let mut last = task_perf_counter().unwrap();
                let mut threads = std::collections::HashSet::new();
                for _ in 0..20 {
                    spin(Duration::from_micros(200));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    threads.insert(std::thread::current().id());
                    let now = task_perf_counter().unwrap();
                    assert!(now >= last + Duration::from_micros(200), "task {i}");
                    last = now;
                }
                (last, threads.len())
            })
        })
        .collect();
    for task in tasks {
        let (busy, _threads) = task.await.unwrap();
        // 20 × 200 µs of spinning; 20 × 10 ms of sleeping must not count.
        // Had the sleeps counted, busy time would pass 204 ms: half that
        // leaves a loaded machine room to take the spinning thread away.
        assert!(busy >= Duration::from_millis(4), "{busy:?}");
        assert!(busy < Duration::from_millis(100), "{busy:?}");
    }
}
