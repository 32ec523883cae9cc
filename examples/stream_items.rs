//! A channel-fed stream timed two ways: `.timed_items()` makes each
//! message a run (the work done for it, never the wait for the next one),
//! `.timed()` on the loop that drives it makes the whole stream one run
//! (a connection's life: all its busy time, and its idle time between
//! messages). The report shows both.
//!
//! `cargo run --example stream_items`

use std::time::{Duration, Instant};

use perf_timer::{TimedExt as _, TimedStreamExt as _};
use tokio_stream::StreamExt as _;

/// Busy work for about `d` (a real service would parse, route, encode).
fn work(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _report = perf_timer::report_at_exit();
    let (tx, rx) = tokio::sync::mpsc::channel::<u64>(16);

    // The producer sends 60 messages, 2 ms apart: the consumer mostly waits.
    let producer = tokio::spawn(async move {
        for n in 0..60 {
            tokio::time::sleep(Duration::from_millis(2)).await;
            tx.send(n).await.unwrap();
        }
    });

    // Uneven work per message: 20 µs, with every tenth costing 300 µs.
    let consume = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|n| {
            work(Duration::from_micros(if n % 10 == 9 { 300 } else { 20 }));
            n
        })
        .timed_items("consumer.message") // a run per message
        .fold(0, |n, _| n + 1);
    let handled = consume.timed("consumer.loop").await; // one run: the whole stream
    producer.await.unwrap();

    // The loop's one run holds every message's busy time (timers nest
    // inclusively) and the waits between them as idle time.
    let whole = perf_timer::global().stats("consumer.loop").unwrap();
    assert_eq!(whole.count(), 1);
    assert!(whole.wall().total() >= Duration::from_millis(100));

    let stats = perf_timer::global().stats("consumer.message").unwrap();
    assert_eq!((handled, stats.count()), (60, 60));
    // Busy time per message is its work, not the 2 ms wait for it.
    assert!(
        stats.mean() < Duration::from_millis(1),
        "{:?}",
        stats.mean()
    );
    assert!(stats.wall().mean() >= Duration::from_millis(1));
}
