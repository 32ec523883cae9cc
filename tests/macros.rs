//! `#[perf_timer::timed]`: what it records, and clear errors for misuse.

mod common;

use std::time::Duration;

use common::spin;
use perf_timer::timed;

#[timed]
async fn fetch(n: u64) -> Result<u64, String> {
    spin(Duration::from_millis(1));
    tokio::time::sleep(Duration::from_millis(20)).await; // not busy
    if n == 0 {
        return Err("zero".to_owned());
    }
    let half = n.checked_div(2).ok_or("no half")?;
    Ok(half)
}

#[timed("render page")]
fn render(items: &[u32]) -> u32 {
    spin(Duration::from_millis(1));
    items.iter().sum()
}

struct Service;

impl Service {
    #[timed]
    async fn handle(&self, x: u32) -> u32 {
        x + 1
    }
}

#[tokio::test]
async fn timed_functions_record_runs_under_their_names() {
    assert_eq!(fetch(10).await, Ok(5));
    assert_eq!(fetch(0).await, Err("zero".to_owned()));
    assert_eq!(render(&[1, 2, 3]), 6);
    assert_eq!(Service.handle(1).await, 2);

    let global = perf_timer::global();
    let fetch = global
        .stats("macros::fetch")
        .expect("named module::function");
    assert_eq!(fetch.count(), 2);
    // Async: poll time only, the 20 ms sleeps are idle time.
    assert!(
        fetch.mean() >= Duration::from_millis(1),
        "{:?}",
        fetch.mean()
    );
    assert!(
        fetch.mean() < Duration::from_millis(15),
        "{:?}",
        fetch.mean()
    );
    assert!(fetch.wall().mean() >= Duration::from_millis(20));

    let render = global.stats("render page").unwrap();
    assert_eq!(render.count(), 1);
    assert!(render.total() >= Duration::from_millis(1));
    assert_eq!(global.stats("macros::handle").unwrap().count(), 1);
}
