//! `#[timed]` on `impl` blocks names each method after its type, so that
//! methods of two types in one module keep apart; `skip`, a given name and
//! `const fn` inside; generic and trait impls; and plain `fn`s returning a
//! future, timed by that future's polls. Warnings denied.
#![deny(warnings)]

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

struct Mem(u32);
struct Other(u32);
struct Generic<T>(T);

#[timed]
impl Mem {
    fn get(&self) -> u32 {
        self.0
    }

    async fn fetch(&self) -> u32 {
        self.0 + 1
    }

    #[timed(skip)]
    fn untimed(&self) -> u32 {
        self.0
    }

    #[timed("mem.custom")]
    fn custom(&self) -> u32 {
        self.0
    }

    const fn zero() -> u32 {
        0
    }
}

#[timed]
impl Other {
    fn get(&self) -> u32 {
        self.0 * 10
    }
}

#[timed]
impl<T: Clone> Generic<T> {
    fn get(&self) -> T {
        self.0.clone()
    }
}

trait Describe {
    fn describe(&self) -> String;
}

#[perf_timer::timed]
impl Describe for Mem {
    fn describe(&self) -> String {
        format!("mem {}", self.0)
    }
}

/// Spins for `d` of wall time.
fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {}
}

#[timed]
fn later(x: u32) -> impl Future<Output = u32> {
    async move {
        spin(Duration::from_millis(2));
        x
    }
}

#[timed]
fn boxed(x: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        spin(Duration::from_millis(2));
        x
    })
}

fn busy_of(suffix: &str) -> Duration {
    let snapshot = perf_timer::global().snapshot();
    let stats = snapshot
        .iter()
        .find(|s| s.name().ends_with(suffix))
        .unwrap_or_else(|| panic!("no timer ends with {suffix}"));
    stats.total()
}

async fn run() {
    let mem = Mem(1);
    assert_eq!(mem.get(), 1);
    assert_eq!(mem.fetch().await, 2);
    assert_eq!(mem.untimed(), 1);
    assert_eq!(mem.custom(), 1);
    assert_eq!(Mem::zero(), 0);
    assert_eq!(Other(2).get(), 20);
    assert_eq!(Generic("g").get(), "g");
    assert_eq!(mem.describe(), "mem 1");
    for name in [
        "Mem::get",
        "Mem::fetch",
        "Other::get",
        "Generic::get",
        "<Mem as Describe>::describe",
    ] {
        assert_eq!(count_of(name), Some(1), "{name}");
    }
    assert_eq!(count_of("mem.custom"), Some(1));
    assert_eq!(count_of("Mem::untimed"), None, "skipped");
    assert_eq!(count_of("Mem::zero"), None, "a const fn is left as it is");

    // The returned future's polls are the run: the 2 ms spin inside it,
    // not the microseconds of making it.
    let future = later(3);
    assert_eq!(future.await, 3);
    assert_eq!(boxed(4).await, 4);
    for name in ["::later", "::boxed"] {
        assert_eq!(count_of(&name[2..]), Some(1), "{name}");
        assert!(
            busy_of(name) >= Duration::from_millis(2),
            "{name}: {:?}",
            busy_of(name)
        );
    }
}

fn main() {
    count::block_on(run());
}
