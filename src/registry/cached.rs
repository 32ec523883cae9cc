//! The global registry's timers by name, remembered per thread: what lets
//! `.timed("name")` cost about what a `Timer` handle does, where a map
//! lookup under the registry's lock costs a hash of the name and two
//! atomic read-modify-writes.
//!
//! A slot is picked by the name's address and length, and holds the
//! timer found for them last. A hit still compares the name with the
//! timer's, byte for byte: the same address may hold another string later
//! (a `String` freed and another allocated in its place), and only the
//! content says it is the same name. A string literal, the common case,
//! keeps its address, so it hits every time after its first.
//!
//! The slots are a fixed array per thread ([`SLOTS`]), holding raw
//! pointers to timers that are never freed (the global registry's), so a
//! thread's cache needs no destructor and never grows.

use std::cell::Cell;

use super::global;
use crate::record::FIBONACCI;
use crate::state::timer::{RunTimer, TimerCore};

/// Slots per thread: 24 bytes each.
const SLOTS: usize = 64;

#[derive(Clone, Copy)]
struct Slot {
    /// The name's address and length; a null address for an empty slot.
    name: *const u8,
    len: usize,
    /// The timer found for that name: one of the global registry's,
    /// never freed.
    core: *const TimerCore,
}

impl Slot {
    const EMPTY: Slot = Slot {
        name: std::ptr::null(),
        len: 0,
        core: std::ptr::null(),
    };
}

thread_local! {
    static CACHE: [Cell<Slot>; SLOTS] = const { [const { Cell::new(Slot::EMPTY) }; SLOTS] };
}

/// The slot of the name at `name`.
#[inline(always)]
fn slot_of(name: *const u8) -> usize {
    // Fibonacci hashing, twice: once leaves some strides between
    // literals on a few slots (4 of 16 names, 18 bytes apart).
    let once = (name as u64).wrapping_mul(FIBONACCI);
    ((once ^ (once >> 32)).wrapping_mul(FIBONACCI) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// The global registry's timer `name`, as `global().timer(name)` gives it,
/// held for one run.
#[inline]
pub(crate) fn global_timer(name: &str) -> RunTimer {
    let key = name.as_ptr();
    let at = slot_of(key);
    let slot = CACHE.with(|cache| cache[at].get());
    if slot.name == key && slot.len == name.len() {
        // SAFETY: a slot's timer is one of the global registry's, which
        // are never freed (see `fill`).
        let core = unsafe { &*slot.core };
        if same_bytes(core.name.as_bytes(), name.as_bytes()) {
            // Asked for by name: shown, as `Registry::timer` does.
            if !core.is_listed() {
                core.set_listed(true);
            }
            // SAFETY: `slot.core` is `Arc::as_ptr` of an immortal timer.
            return unsafe { RunTimer::immortal(slot.core) };
        }
    }
    fill(name, at)
}

/// A miss: the registry's lookup, remembered in slot `at` when the timer
/// found bears the name asked for (past the registry's cap, a new name
/// gets the overflow timer, and is looked up every time).
#[cold]
#[inline(never)]
fn fill(name: &str, at: usize) -> RunTimer {
    // A name's first lookup allocates (the timer, the registry's map):
    // the library's, not the enclosing run's.
    let _unseen = crate::alloc::thread::unseen();
    let registry = global();
    let timer = registry.timer(name);
    let core = timer.core();
    if core.is_immortal() && core.name.as_ref() == name {
        let slot = Slot {
            name: name.as_ptr(),
            len: name.len(),
            core: std::sync::Arc::as_ptr(&timer.core),
        };
        CACHE.with(|cache| cache[at].set(slot));
    }
    RunTimer::from_owned(timer)
}

/// `a == b`, inline, eight bytes at a time (the last eight overlapping
/// the others): names are short, and a call to `memcmp` costs as much as
/// comparing them.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |s: &[u8], at: usize| {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(bytes)
    };
    let mut differ = word(a, n - 8) ^ word(b, n - 8);
    let mut at = 0;
    while at + 8 < n {
        differ |= word(a, at) ^ word(b, at);
        at += 8;
    }
    differ == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_resolves_to_the_global_timer_of_that_name() {
        let timer = global_timer("cached.a");
        assert_eq!(timer.name(), "cached.a");
        assert!(std::sync::Arc::ptr_eq(
            &timer.core,
            &global().timer("cached.a").core
        ));
        // Now from the cache.
        let again = global_timer("cached.a");
        assert!(std::sync::Arc::ptr_eq(&timer.core, &again.core));
    }

    #[test]
    fn another_string_at_the_same_address_gets_its_own_timer() {
        // One buffer, two names in turn at the same address and length:
        // the address alone would give the first name's timer.
        let mut buffer = String::from("cached.one");
        let first = global_timer(&buffer);
        assert_eq!(first.name(), "cached.one");
        buffer.replace_range(.., "cached.two");
        let second = global_timer(&buffer);
        assert_eq!(second.name(), "cached.two");
        assert_eq!(global_timer(&buffer).name(), "cached.two");
    }

    #[test]
    fn names_that_differ_in_any_byte_compare_unequal() {
        let text = "abcdefghijklmnopqrstuvwxyz";
        for len in 0..=text.len() {
            let name = &text.as_bytes()[..len];
            for i in 0..len {
                let mut other = name.to_vec();
                other[i] ^= 1;
                assert!(!same_bytes(name, &other), "byte {i} of {len}");
            }
            let copy = name.to_vec(); // the same bytes elsewhere
            assert!(same_bytes(name, &copy), "{len}");
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }

    #[test]
    fn literals_side_by_side_spread_over_the_slots() {
        // 16 names laid out one after another, as literals are, at every
        // spacing up to 64 bytes: at random, 14 slots on average.
        static TEXT: [u8; 16 * 64] = [b'x'; 16 * 64];
        for stride in 1..=64 {
            let used: std::collections::HashSet<usize> = (0..16)
                .map(|i| slot_of(TEXT[i * stride..].as_ptr()))
                .collect();
            assert!(used.len() >= 10, "{} slots at stride {stride}", used.len());
        }
    }
}
