// A return type named `Result` that is not `std`'s: `#[timed]` takes it for
// one and says how to opt out.
mod own {
    pub enum Result {
        Fine,
    }
}

#[perf_timer::timed]
fn check() -> own::Result {
    own::Result::Fine
}

#[perf_timer::timed]
async fn check_later() -> own::Result {
    own::Result::Fine
}

fn main() {}
