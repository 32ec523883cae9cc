//! A function returning `Result` counts each `Err` as an error, as
//! `.timed_result()` does: async and sync, `Result` under any path or alias,
//! futures of a `Result`, methods; `errors = false` counts none. Every
//! shape compiles with warnings denied (the sync body runs in a closure:
//! borrows, `?`, `return` and `impl Trait` must mean what they meant).
#![deny(warnings)]

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::str::FromStr;

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

/// An alias as `anyhow` has one: `anyhow::Result<T>`.
mod app {
    pub type Result<T> = std::result::Result<T, String>;
}

/// A type of one's own named `Result`, not an `std` one.
mod own {
    #[derive(Debug, PartialEq)]
    pub enum Result {
        Fine,
    }
}

#[timed]
async fn fetch(fail: bool) -> Result<u32, String> {
    if fail {
        return Err("refused".to_owned());
    }
    Ok(1)
}

#[timed]
async fn parse_later(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.parse()?;
    Ok(n)
}

#[timed]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.parse()?;
    Ok(n)
}

#[timed]
fn full_path(fail: bool) -> std::result::Result<(), ()> {
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[timed]
fn read(fail: bool) -> io::Result<u8> {
    if fail {
        return Err(io::Error::other("closed"));
    }
    Ok(3)
}

#[timed]
fn aliased(fail: bool) -> app::Result<u8> {
    if fail {
        Err("no".to_owned())?;
    }
    Ok(4)
}

#[timed]
fn opaque(fail: bool) -> Result<impl Display, String> {
    if fail {
        return Err("no".to_owned());
    }
    Ok(5)
}

#[timed]
fn generic<T: FromStr>(text: &str) -> Result<T, T::Err> {
    text.parse()
}

#[timed]
fn owned(mut bytes: Vec<u8>) -> Result<Vec<u8>, ()> {
    bytes.push(1);
    Ok(bytes)
}

#[timed]
unsafe fn raw_read(p: *const u8) -> Result<u8, ()> {
    // SAFETY: the caller passes a valid pointer.
    Ok(unsafe { *p })
}

#[timed]
fn later(fail: bool) -> impl Future<Output = Result<u8, String>> {
    async move {
        if fail {
            Err("later".to_owned())
        } else {
            Ok(6)
        }
    }
}

#[timed]
fn boxed(fail: bool) -> Pin<Box<dyn Future<Output = io::Result<u8>> + Send>> {
    Box::pin(async move {
        if fail {
            Err(io::Error::other("boxed"))
        } else {
            Ok(7)
        }
    })
}

#[timed(errors = false)]
fn uncounted(fail: bool) -> Result<(), ()> {
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[timed("named uncounted", errors = false)]
async fn named_uncounted() -> Result<(), ()> {
    Err(())
}

#[timed(errors = false)]
fn own_result() -> own::Result {
    own::Result::Fine
}

struct Store {
    words: Vec<String>,
    n: u32,
}

#[timed]
impl Store {
    fn first(&self) -> Result<&str, ()> {
        self.words.first().map(String::as_str).ok_or(())
    }

    fn bump(&mut self) -> Result<&mut Self, ()> {
        self.n += 1;
        Ok(self)
    }

    async fn find(&self, word: &str) -> Result<usize, ()> {
        self.words.iter().position(|w| w == word).ok_or(())
    }

    #[timed(errors = false)]
    fn last(&self) -> Result<&str, ()> {
        self.words.last().map(String::as_str).ok_or(())
    }

    fn into_words(self) -> Result<Vec<String>, ()> {
        Ok(self.words)
    }
}

struct Quiet;

#[timed(errors = false)]
impl Quiet {
    fn fail(&self) -> Result<(), ()> {
        Err(())
    }
}

/// Runs and errors of the timer `module::name`.
fn runs_and_errors(name: &str) -> (u64, u64) {
    let name = format!("{}::{name}", module_path!());
    let stats = perf_timer::global()
        .stats(&name)
        .unwrap_or_else(|| panic!("no timer {name}"));
    (stats.count(), stats.errors())
}

async fn run() {
    assert_eq!(fetch(false).await, Ok(1));
    assert!(fetch(true).await.is_err());
    assert_eq!(parse_later("12").await, Ok(12));
    assert!(parse_later("x").await.is_err());
    assert_eq!(parse("12"), Ok(12));
    assert!(parse("x").is_err());
    assert!(parse("y").is_err());
    assert_eq!(full_path(false), Ok(()));
    assert_eq!(full_path(true), Err(()));
    assert_eq!(read(false).unwrap(), 3);
    assert!(read(true).is_err());
    assert_eq!(aliased(false), Ok(4));
    assert!(aliased(true).is_err());
    assert_eq!(opaque(false).unwrap().to_string(), "5");
    assert!(opaque(true).is_err());
    assert_eq!(generic::<u8>("9"), Ok(9));
    assert!(generic::<u8>("300").is_err());
    assert_eq!(owned(vec![0]), Ok(vec![0, 1]));
    let byte = 2_u8;
    // SAFETY: a valid pointer to a live byte.
    assert_eq!(unsafe { raw_read(&byte) }, Ok(2));
    assert_eq!(later(false).await, Ok(6));
    assert!(later(true).await.is_err());
    assert_eq!(boxed(false).await.unwrap(), 7);
    assert!(boxed(true).await.is_err());
    assert_eq!(uncounted(true), Err(()));
    assert_eq!(uncounted(false), Ok(()));
    assert_eq!(named_uncounted().await, Err(()));
    assert_eq!(own_result(), own::Result::Fine);

    let mut store = Store {
        words: vec!["a".to_owned(), "b".to_owned()],
        n: 0,
    };
    assert_eq!(store.first(), Ok("a"));
    assert_eq!(store.bump().map(|s| s.n), Ok(1));
    assert_eq!(store.find("b").await, Ok(1));
    assert_eq!(store.find("z").await, Err(()));
    assert_eq!(store.last(), Ok("b"));
    assert_eq!(store.into_words().map(|w| w.len()), Ok(2));
    let empty = Store {
        words: Vec::new(),
        n: 0,
    };
    assert_eq!(empty.first(), Err(()));
    assert_eq!(empty.last(), Err(()));
    assert_eq!(Quiet.fail(), Err(()));

    for (name, runs, errors) in [
        ("fetch", 2, 1),
        ("parse_later", 2, 1),
        ("parse", 3, 2),
        ("full_path", 2, 1),
        ("read", 2, 1),
        ("aliased", 2, 1),
        ("opaque", 2, 1),
        ("generic", 2, 1),
        ("owned", 1, 0),
        ("raw_read", 1, 0),
        ("later", 2, 1),
        ("boxed", 2, 1),
        ("uncounted", 2, 0),
        ("own_result", 1, 0),
        ("Store::first", 2, 1),
        ("Store::bump", 1, 0),
        ("Store::find", 2, 1),
        ("Store::last", 2, 0),
        ("Store::into_words", 1, 0),
        ("Quiet::fail", 1, 0),
    ] {
        assert_eq!(runs_and_errors(name), (runs, errors), "{name}");
    }
    let named = perf_timer::global().stats("named uncounted").unwrap();
    assert_eq!((named.count(), named.errors()), (1, 0));
    assert_eq!(count_of("fetch"), Some(2));
}

fn main() {
    count::block_on(run());
}
