//! A benchmark program for `perf-timer diff`: four timers of real CPU work
//! from about 1 µs to 100 µs, 2,000 runs each, saved at exit; and two that
//! are hard to judge: `cache`, with two modes (a hit of ~10 µs or a miss
//! of ~100 µs, even odds per call, drawn afresh in each process), whose
//! median lands on either mode from one process to the next, and `guard`,
//! a synchronous section of a few tens of nanoseconds whose busy time is a
//! clock tick or two. Run it several times into a base file and into a new
//! one and diff them; with `SLOW=name:factor` one timer does `factor` times
//! its work (a regression of known size).
//!
//! ```sh
//! cargo build --release --features save --example verdict_workload
//! for i in 1 2 3 4 5; do PERF_TIMER_SAVE=base.jsonl target/release/examples/verdict_workload; done
//! for i in 1 2 3 4 5; do SLOW=render:2 PERF_TIMER_SAVE=new.jsonl target/release/examples/verdict_workload; done
//! cargo run -p perf-timer-cli -- diff base.jsonl new.jsonl
//! ```

use std::hint::black_box;

use perf_timer::TimedExt as _;

/// `rounds` rounds of FNV-1a over 64 bytes: about 40 ns a round here.
fn work(rounds: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for round in 0..rounds {
        for byte in 0..64_u64 {
            hash = (hash ^ black_box(byte ^ round)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The timers and their rounds of work per run (two polls each).
const TIMERS: [(&str, u64); 4] = [
    ("parse", 17),
    ("hash", 170),
    ("render", 500),
    ("compress", 1_600),
];

/// `cache`'s rounds of work on a hit and on a miss.
const CACHE: (u64, u64) = (250, 2_500);

/// A generator seeded by the process (its id and the time), so that each
/// process draws its own hits and misses: xorshift64*.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ u64::from(std::process::id()).rotate_left(32)) | 1
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _report = perf_timer::report_at_exit();
    let slow = std::env::var("SLOW").ok();
    let slow = slow.as_deref().and_then(|s| s.split_once(':'));
    let scaled = |name: &str, rounds: u64| match slow {
        Some((slow, factor)) if slow == name => {
            (rounds as f64 * factor.parse::<f64>().expect("SLOW=name:factor")) as u64
        }
        _ => rounds,
    };
    let guard = perf_timer::global().timer("guard");
    let mut state = seed();
    let mut sink = 0_u64;
    for _ in 0..2_000 {
        let hit = next(&mut state) >> 63 == 0;
        let rounds = scaled("cache", if hit { CACHE.0 } else { CACHE.1 });
        sink ^= async { work(rounds) }.timed("cache").await;
        {
            let _section = guard.start();
            sink ^= work(scaled("guard", 1));
        }
        for (name, rounds) in TIMERS {
            let rounds = scaled(name, rounds);
            sink ^= async {
                let first = work(rounds / 2);
                tokio::task::yield_now().await; // a second poll
                first ^ work(rounds - rounds / 2)
            }
            .timed(name)
            .await;
        }
    }
    black_box(sink);
}
