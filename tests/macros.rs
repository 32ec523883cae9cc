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
    // A `Result`'s `Err` is an error, and still a sample.
    assert_eq!(fetch.errors(), 1);
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

#[timed]
fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
    spin(Duration::from_millis(1));
    let port = text.parse()?;
    Ok(port)
}

#[timed(errors = false)]
fn probe_port(text: &str) -> Result<u16, std::num::ParseIntError> {
    text.parse()
}

#[test]
fn a_sync_fn_returning_err_counts_an_error_that_stays_a_sample() {
    assert_eq!(parse_port("80"), Ok(80));
    assert!(parse_port("x").is_err());
    assert!(parse_port("").is_err());
    assert!(probe_port("x").is_err());

    let global = perf_timer::global();
    let parse = global.stats("macros::parse_port").unwrap();
    assert_eq!((parse.count(), parse.errors()), (3, 2));
    // Each call's wall time, the failed ones included: at least 1 ms, to
    // the histogram's precision (3 figures: a bucket's lowest value may
    // read 999.9 µs).
    assert!(
        parse.min() >= Duration::from_micros(999),
        "{:?}",
        parse.min()
    );
    let probe = global.stats("macros::probe_port").unwrap();
    assert_eq!((probe.count(), probe.errors()), (1, 0), "errors = false");
}
