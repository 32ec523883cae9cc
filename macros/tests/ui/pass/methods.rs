//! Timed methods: `&self`, `&mut self`, `self`, `self: Pin<&mut Self>`, in
//! inherent and trait impl blocks, sync and async, with warnings denied.
#![deny(warnings)]

use std::pin::Pin;

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

struct Counter {
    n: u32,
}

impl Counter {
    #[timed]
    fn get(&self) -> u32 {
        self.n
    }

    #[timed]
    fn bump(&mut self) {
        self.n += 1;
    }

    #[timed]
    async fn get_later(&self) -> u32 {
        self.n
    }

    #[timed]
    async fn bump_later(&mut self) -> &mut Self {
        self.n += 1;
        self
    }

    #[timed]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.n
    }

    #[timed]
    fn into_inner(self) -> u32 {
        self.n
    }
}

trait Describe {
    fn describe(&self) -> String;
    async fn describe_later(&self) -> String;
}

impl Describe for Counter {
    #[timed]
    fn describe(&self) -> String {
        format!("counter at {}", self.n)
    }

    #[timed]
    async fn describe_later(&self) -> String {
        format!("counter at {}", self.n)
    }
}

async fn run() {
    let mut counter = Counter { n: 0 };
    counter.bump();
    assert_eq!(counter.get(), 1);
    assert_eq!(counter.get_later().await, 1);
    assert_eq!(counter.bump_later().await.n, 2);
    assert_eq!(Pin::new(&mut counter).pinned(), 2);
    assert_eq!(counter.describe(), "counter at 2");
    assert_eq!(counter.describe_later().await, "counter at 2");
    assert_eq!(counter.into_inner(), 2);
    for name in [
        "get",
        "bump",
        "get_later",
        "bump_later",
        "pinned",
        "into_inner",
        "describe",
        "describe_later",
    ] {
        assert_eq!(count_of(name), Some(1), "{name}");
    }
}

fn main() {
    count::block_on(run());
}

