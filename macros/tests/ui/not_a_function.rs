#[perf_timer::timed]
struct Work;

fn main() {}
