#[perf_timer::timed(errors = "no")]
fn work() -> Result<(), ()> {
    Ok(())
}

fn main() {}
