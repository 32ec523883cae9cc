//! Shared by the trybuild pass cases: reading what `#[timed]` recorded.

/// Runs of the timer `name`, or of `path::name` (the crate's name in a
/// trybuild case is trybuild's).
pub fn count_of(name: &str) -> Option<u64> {
    let snapshot = perf_timer::global().snapshot();
    let suffix = format!("::{name}");
    let stats = snapshot
        .iter()
        .find(|s| s.name() == name || s.name().ends_with(&suffix))?;
    Some(stats.count())
}

/// Runs `future` to completion on a current-thread runtime.
#[allow(dead_code)]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
