#[perf_timer::timed]
const fn work() -> u8 {
    1
}

fn main() {}
