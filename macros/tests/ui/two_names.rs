#[perf_timer::timed("a", "b")]
fn work() {}

fn main() {}
