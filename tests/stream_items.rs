//! Streams timed item by item: each item one run of its own poll time,
//! waits between polls left out, the end not a run, a drop mid-item
//! cancelled and a panic mid-item panicked.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::time::Duration;

use common::*;
use futures::{Stream as _, StreamExt as _};
use perf_timer::TimedStreamExt as _;

#[tokio::test]
async fn each_item_is_one_run_of_its_own_poll_time() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("items");
    // Item i costs i µs in one poll; between items the consumer waits 1 ms.
    let work = mock.clone();
    let items = futures::stream::unfold(1_u64, move |i| {
        let work = work.clone();
        async move {
            if i > 3 {
                work.advance(us(7)); // reaching the end: not a run
                return None;
            }
            work.advance(us(i));
            Some((i, i + 1))
        }
    });
    let mut items = pin!(timer.time_items(items));
    let mut seen = Vec::new();
    while let Some(i) = items.next().await {
        seen.push(i);
        mock.advance(Duration::from_millis(1)); // the consumer's own time
    }
    assert_eq!(seen, [1, 2, 3]);
    let stats = timer.stats();
    assert_eq!(stats.count(), 3);
    assert_eq!(stats.total(), us(6));
    assert_eq!(stats.max().as_micros(), 3); // the dearest item, to 3 figures
    assert_eq!(stats.wall().total(), us(6));
    assert_eq!((stats.cancelled(), stats.panicked()), (0, 0));
}

#[tokio::test]
async fn polls_that_wait_mid_item_add_up_and_the_wait_is_idle() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("two polls");
    let work = mock.clone();
    let items = async_stream::stream! {
        for i in 0..2_u64 {
            work.advance(us(2));
            yield_once().await; // pending once, mid-item
            work.advance(us(3));
            yield i;
        }
    };
    let mut items = pin!(timer.time_items(items));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..2 {
        assert!(items.as_mut().poll_next(&mut cx).is_pending());
        mock.advance(us(100)); // waiting between polls
        assert!(items.as_mut().poll_next(&mut cx).is_ready());
    }
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.polls()), (2, 4));
    assert_eq!(stats.total(), us(10));
    assert_eq!(stats.idle().total(), us(200));
}

#[tokio::test]
async fn real_sleeps_between_items_never_count() {
    let registry = perf_timer::Registry::new();
    let items = async_stream::stream! {
        for i in 0..3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            spin(Duration::from_micros(200));
            yield i;
        }
    };
    let n = registry.timer("sleepy").time_items(items).count().await;
    assert_eq!(n, 3);
    let stats = registry.stats("sleepy").unwrap();
    assert_eq!(stats.count(), 3);
    // 200 µs of spinning per item; the 20 ms sleeps left out (wide margin).
    assert!(
        stats.mean() >= Duration::from_micros(200),
        "{:?}",
        stats.mean()
    );
    assert!(
        stats.mean() < Duration::from_millis(10),
        "{:?}",
        stats.mean()
    );
    assert!(stats.wall().mean() >= Duration::from_millis(20));
}

#[tokio::test]
async fn a_channel_stream_counts_each_message() {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let consumer = tokio::spawn(
        tokio_stream::wrappers::ReceiverStream::new(rx)
            .map(|m: u32| m * 2)
            .timed_items("stream_items.channel")
            .collect::<Vec<_>>(),
    );
    for m in 0..5 {
        tx.send(m).await.unwrap();
        tokio::task::yield_now().await;
    }
    drop(tx);
    assert_eq!(consumer.await.unwrap(), [0, 2, 4, 6, 8]);
    let stats = perf_timer::global().stats("stream_items.channel").unwrap();
    assert_eq!(stats.count(), 5);
}

#[test]
fn dropped_mid_item_is_cancelled_and_between_items_is_nothing() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("dropped");
    let work = mock.clone();
    let items = async_stream::stream! {
        work.advance(us(1));
        yield 1;
        work.advance(us(1));
        yield_once().await;
        yield 2;
    };
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    {
        let mut items = Box::pin(timer.time_items(items));
        assert!(items.as_mut().poll_next(&mut cx).is_ready());
        assert!(items.as_mut().poll_next(&mut cx).is_pending()); // mid-item
    }
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.cancelled()), (1, 1));

    let between = futures::stream::iter([1, 2]);
    let mut between = Box::pin(timer.time_items(between));
    assert!(between.as_mut().poll_next(&mut cx).is_ready());
    drop(between); // between items: nothing more
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.cancelled()), (2, 1));
}

#[test]
fn a_panic_mid_item_is_counted_and_leaves_no_state_behind() {
    let (registry, _mock) = mock_registry();
    let timer = registry.timer("panics");
    let items = futures::stream::iter([1, 2]).map(|i| {
        assert!(i < 2, "item {i} failed");
        i
    });
    let mut items = Box::pin(timer.time_items(items));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(items.as_mut().poll_next(&mut cx).is_ready());
    let result = catch_unwind(AssertUnwindSafe(|| items.as_mut().poll_next(&mut cx)));
    assert!(result.is_err());
    drop(items);
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.panicked()), (1, 1));
    // No timed poll is left open on this thread.
    assert_eq!(perf_timer::task_perf_counter(), None);
}

#[test]
fn wrappers_debug_print_their_timer() {
    let timer = perf_timer::Registry::new().timer("shown");
    let items = timer.time_items(futures::stream::iter([1]));
    assert_eq!(format!("{items:?}"), "TimedItems { timer: \"shown\", .. }");
    let fut = timer.time(async {});
    assert_eq!(
        format!("{fut:?}"),
        "Timed { timer: \"shown\", busy: 0ns, .. }"
    );
}
