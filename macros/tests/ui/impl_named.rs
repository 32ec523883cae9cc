struct Store;

#[perf_timer::timed("store")]
impl Store {
    fn get(&self) {}
}

fn main() {}
