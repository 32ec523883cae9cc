#[perf_timer::timed(skip)]
fn work() {}

fn main() {}
