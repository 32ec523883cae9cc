#[perf_timer::timed]
#[track_caller]
fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.parse()
}

fn main() {
    let _ = parse("1");
}
