#[perf_timer::timed(42)]
fn work() {}

fn main() {}
