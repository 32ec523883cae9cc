//! The README's first example, as it stands there (`tests/readme.rs`
//! checks that the two agree).

use perf_timer::{TimedExt as _, Timer};

#[tokio::main]
async fn main() {
    let _report = perf_timer::report_at_exit(); // prints when the program ends

    let parse = Timer::new("parse"); // resolve a name once
    for _ in 0..100 {
        let body = fetch().timed("fetch").await; // poll time of each run
        let _n = {
            let _guard = parse.start(); // a sync section, timed until the guard drops
            body.len()
        };
    }
    let worker = perf_timer::spawn("worker", work(7)); // a whole task
    worker.await.unwrap();
}

async fn fetch() -> String {
    tokio::task::yield_now().await;
    "<html>".repeat(100)
}

async fn work(n: u64) -> u64 {
    tokio::task::yield_now().await;
    n * 2
}
