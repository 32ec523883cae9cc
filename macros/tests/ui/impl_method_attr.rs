struct Store;

#[perf_timer::timed]
impl Store {
    #[timed(never)]
    fn get(&self) {}
}

fn main() {}
