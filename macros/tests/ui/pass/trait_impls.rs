//! `#[timed]` on trait impls names each method `module::<Type as Trait>::method`,
//! with the impl's concrete type arguments and without its generic
//! parameters, so that an inherent method and the trait impls of one type
//! keep apart. Exact names, read back from the registry. Warnings denied.
#![deny(warnings)]

use std::collections::BTreeSet;

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

struct Store;

trait Gen<T> {
    fn get(&self) -> T;
}

trait Greet {
    fn hello(&self) -> &'static str;
}

trait Other {
    fn hello(&self) -> &'static str;
}

trait Hello {
    fn hello(&self) -> String;
}

#[timed]
impl Store {
    async fn get(&self) -> u8 {
        8
    }
}

#[timed]
impl Gen<u32> for Store {
    fn get(&self) -> u32 {
        32
    }
}

#[timed]
impl Gen<u64> for Store {
    fn get(&self) -> u64 {
        64
    }
}

#[timed]
impl Greet for Store {
    fn hello(&self) -> &'static str {
        "greet"
    }
}

#[timed]
impl Other for Store {
    fn hello(&self) -> &'static str {
        "other"
    }
}

#[perf_timer::timed]
impl<T: std::fmt::Display> Hello for Box<T> {
    fn hello(&self) -> String {
        format!("hello {}", self)
    }
}

mod inner {
    /// A trait impl in another module, for a type and a trait named by path.
    #[perf_timer::timed]
    impl std::fmt::Display for super::Store {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("store")
        }
    }
}

async fn run() {
    let store = Store;
    assert_eq!(store.get().await, 8);
    assert_eq!(Gen::<u32>::get(&store), 32);
    assert_eq!(Gen::<u64>::get(&store), 64);
    assert_eq!(Greet::hello(&store), "greet");
    assert_eq!(Other::hello(&store), "other");
    assert_eq!(Box::new(1_u8).hello(), "hello 1");
    assert_eq!(Box::new("x").hello(), "hello x");
    assert_eq!(store.to_string(), "store");

    let module = module_path!();
    let expected: BTreeSet<String> = [
        format!("{module}::Store::get"),
        format!("{module}::<Store as Gen<u32>>::get"),
        format!("{module}::<Store as Gen<u64>>::get"),
        format!("{module}::<Store as Greet>::hello"),
        format!("{module}::<Store as Other>::hello"),
        format!("{module}::<Box as Hello>::hello"),
        format!("{module}::inner::<super::Store as std::fmt::Display>::fmt"),
    ]
    .into_iter()
    .collect();
    let snapshot = perf_timer::global().snapshot();
    let names: BTreeSet<String> = snapshot.iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, expected);
    // The two instances of the generic impl share one timer.
    assert_eq!(count_of("<Box as Hello>::hello"), Some(2));
    for stats in snapshot
        .iter()
        .filter(|s| !s.name().ends_with("<Box as Hello>::hello"))
    {
        assert_eq!(stats.count(), 1, "{}", stats.name());
    }
}

fn main() {
    count::block_on(run());
}
