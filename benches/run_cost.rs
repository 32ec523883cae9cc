//! A whole run's cost, side by side: an `async fn` of one poll, of two
//! polls, and a sync section, bare and timed every way perf-timer offers
//! (a `Timer` handle, `#[timed]`, `.timed("name")`), and with hotpath's
//! `#[measure]` as the peer (feature `hotpath` of this package).
//!
//! `cargo bench -p perf-timer-benches --bench run_cost --features hotpath`:
//! rounds of `CALLS` calls of every variant, alternated in one process,
//! each timed on the calling thread's CPU clock and on the whole process's
//! (which charges any background thread, such as hotpath's aggregator).
//! Per call over the same round's bare variant of the same workload:
//! median [min–max] of the rounds. Each round's figures go to stderr as
//! `index:ns` (the rounds of one variant can differ by 10 ns on a VM: the
//! table's range shows it, the rounds say when). `RUN_COST_ONLY=1,4`
//! times only those variants (by index in `VARIANTS`) and their bare ones.
//!
//! With `-- --callgrind /`, instead: each variant's instructions per call,
//! counted by valgrind's callgrind over two lengths (one-time costs
//! cancel), which hold still on a busy machine where times do not; the
//! global registry then runs on the mock clock, moved by the workloads
//! (see `MOCK`), so that the counts are the same in every process.
//! `-- --callgrind Literal` counts the bare variants and those whose name
//! (`Workload/Way`, as in `VARIANTS`) contains `Literal`; the filter is
//! the first argument after `--callgrind`, and without one cargo's own
//! trailing `--bench` takes its place, which matches only the bare ones.
//! Indexes (`RUN_COST_ONLY`, `--measure`, stderr) are positions in
//! `VARIANTS`, which has the hotpath rows only with that feature.

mod callgrind;
mod least;
mod yield_once;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use perf_timer::{Clock, MockClock, Registry, TimedExt as _, Timer};
use yield_once::yield_once;

/// Calls per variant and round.
const CALLS: u64 = 1_000_000;
/// Rounds; the table gives the median and the range.
const ROUNDS: usize = 11;

/// Under callgrind, the global registry's clock: moved by the workloads,
/// so that every run of a variant records the same values in every
/// process (16 distinct busy times, as a trivial body shows on the TSC),
/// and the instruction counts hold still.
static MOCK: OnceLock<MockClock> = OnceLock::new();

/// The work of a workload's body: under callgrind, `x % 16 + 20` ns on
/// the mock clock.
#[inline(always)]
fn work(x: u64) -> u64 {
    if let Some(mock) = MOCK.get() {
        mock.advance(Duration::from_nanos(20 + x % 16));
    }
    black_box(x)
}

/// Polls `future` to the end with a waker that does nothing: the cheapest
/// executor there is, so that what is left is the future's own cost.
/// Under callgrind, 7 ns pass between two polls.
#[inline(always)]
fn drive<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        if let Some(mock) = MOCK.get() {
            mock.advance(Duration::from_nanos(7));
        }
    }
}

// The workloads: the same body, bare and timed each way.

async fn bare_one(x: u64) -> u64 {
    work(x)
}

/// An `async fn` of one poll whose body awaits another.
async fn bare_nested(x: u64) -> u64 {
    bare_one(x).await
}

async fn bare_two(x: u64) -> u64 {
    yield_once().await;
    work(x)
}

fn bare_sync(x: u64) -> u64 {
    work(x)
}

#[perf_timer::timed("run_cost.attribute.one")]
async fn attribute_one(x: u64) -> u64 {
    work(x)
}

#[perf_timer::timed("run_cost.attribute.two")]
async fn attribute_two(x: u64) -> u64 {
    yield_once().await;
    work(x)
}

#[perf_timer::timed("run_cost.attribute.sync")]
fn attribute_sync(x: u64) -> u64 {
    work(x)
}

#[cfg(feature = "hotpath")]
mod peer {
    use super::*;

    #[hotpath::measure]
    pub(crate) async fn hotpath_one(x: u64) -> u64 {
        work(x)
    }

    #[hotpath::measure]
    pub(crate) async fn hotpath_two(x: u64) -> u64 {
        yield_once().await;
        work(x)
    }

    #[hotpath::measure]
    pub(crate) fn hotpath_sync(x: u64) -> u64 {
        work(x)
    }
}

fn handle(name: &'static str) -> &'static Timer {
    static TIMERS: OnceLock<[Timer; 5]> = OnceLock::new();
    let timers = TIMERS.get_or_init(|| {
        [
            "run_cost.handle.one",
            "run_cost.handle.two",
            "run_cost.handle.sync",
            "run_cost.handle.nested",
            "run_cost.handle.child",
        ]
        .map(Timer::new)
    });
    timers
        .iter()
        .find(|t| t.name() == name)
        .expect("a handle's name")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    OnePoll,
    TwoPolls,
    Sync,
    Floor,
    /// One more poll of a long-lived future, never ready: the per-poll
    /// cost that the `overhead` bench holds.
    Pending,
    /// An `async fn` of one poll awaiting a timed one: two runs, one
    /// nested in the other (its part).
    Nested,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Workload::OnePoll => "async fn, 1 poll",
            Workload::TwoPolls => "async fn, 2 polls (yield once)",
            Workload::Sync => "sync section",
            Workload::Floor => "two clock reads (the floor)",
            Workload::Pending => "a pending poll of a long-lived future",
            Workload::Nested => "async fn, 1 poll, awaiting a timed one",
        }
    }
}

/// One column of the table: a way of timing a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Bare,
    Handle,
    Attribute,
    Literal,
    #[cfg_attr(not(feature = "hotpath"), allow(dead_code))]
    Hotpath,
    /// Two bare `quanta::Clock::raw()` reads and their difference.
    TwoReads,
    /// The least a recorder of busy-time percentiles does (`least.rs`):
    /// the floor of each workload.
    Least,
}

impl Way {
    fn label(self) -> &'static str {
        match self {
            Way::Bare => "bare",
            Way::Handle => "`Timer::time` / `start()`",
            Way::Attribute => "`#[timed]`",
            Way::Literal => "`.timed(\"name\")`",
            Way::Hotpath => "hotpath `#[measure]`",
            Way::TwoReads => "two `quanta` reads",
            Way::Least => "the least a recorder does (floor)",
        }
    }
}

const VARIANTS: &[(Workload, Way)] = &[
    (Workload::OnePoll, Way::Bare),
    (Workload::OnePoll, Way::Handle),
    (Workload::OnePoll, Way::Attribute),
    (Workload::OnePoll, Way::Literal),
    (Workload::OnePoll, Way::Least),
    #[cfg(feature = "hotpath")]
    (Workload::OnePoll, Way::Hotpath),
    (Workload::TwoPolls, Way::Bare),
    (Workload::TwoPolls, Way::Handle),
    (Workload::TwoPolls, Way::Attribute),
    (Workload::TwoPolls, Way::Literal),
    (Workload::TwoPolls, Way::Least),
    #[cfg(feature = "hotpath")]
    (Workload::TwoPolls, Way::Hotpath),
    (Workload::Sync, Way::Bare),
    (Workload::Sync, Way::Handle),
    (Workload::Sync, Way::Attribute),
    (Workload::Sync, Way::Least),
    #[cfg(feature = "hotpath")]
    (Workload::Sync, Way::Hotpath),
    (Workload::Floor, Way::Bare),
    (Workload::Floor, Way::TwoReads),
    (Workload::Pending, Way::Bare),
    (Workload::Pending, Way::Handle),
    (Workload::Nested, Way::Bare),
    (Workload::Nested, Way::Handle),
];

/// `calls` calls of variant `index`; the sum of their outputs. The one
/// function callgrind counts (`--toggle-collect`).
#[inline(never)]
fn measured(index: usize, calls: u64) -> u64 {
    let mut sum = 0_u64;
    macro_rules! each {
        ($call:expr) => {
            for i in 0..calls {
                sum = sum.wrapping_add($call(black_box(i)));
            }
        };
    }
    match VARIANTS[index] {
        (Workload::OnePoll, Way::Bare) => each!(|i| drive(bare_one(i))),
        (Workload::OnePoll, Way::Handle) => {
            let timer = handle("run_cost.handle.one");
            each!(|i| drive(timer.time(bare_one(i))))
        }
        (Workload::OnePoll, Way::Attribute) => each!(|i| drive(attribute_one(i))),
        (Workload::OnePoll, Way::Literal) => {
            each!(|i| drive(bare_one(i).timed("run_cost.literal.one")))
        }
        (Workload::OnePoll, Way::Least) => each!(|i| drive(least::time(bare_one(i)))),
        #[cfg(feature = "hotpath")]
        (Workload::OnePoll, Way::Hotpath) => each!(|i| drive(peer::hotpath_one(i))),
        (Workload::TwoPolls, Way::Bare) => each!(|i| drive(bare_two(i))),
        (Workload::TwoPolls, Way::Handle) => {
            let timer = handle("run_cost.handle.two");
            each!(|i| drive(timer.time(bare_two(i))))
        }
        (Workload::TwoPolls, Way::Attribute) => each!(|i| drive(attribute_two(i))),
        (Workload::TwoPolls, Way::Literal) => {
            each!(|i| drive(bare_two(i).timed("run_cost.literal.two")))
        }
        (Workload::TwoPolls, Way::Least) => each!(|i| drive(least::time(bare_two(i)))),
        #[cfg(feature = "hotpath")]
        (Workload::TwoPolls, Way::Hotpath) => each!(|i| drive(peer::hotpath_two(i))),
        (Workload::Sync, Way::Bare) => each!(bare_sync),
        (Workload::Sync, Way::Handle) => {
            let timer = handle("run_cost.handle.sync");
            each!(|i| {
                let _guard = timer.start();
                bare_sync(i)
            })
        }
        (Workload::Sync, Way::Attribute) => each!(attribute_sync),
        (Workload::Sync, Way::Least) => each!(|i| least::section(|| bare_sync(i))),
        #[cfg(feature = "hotpath")]
        (Workload::Sync, Way::Hotpath) => each!(peer::hotpath_sync),
        (Workload::Floor, Way::Bare) => each!(work),
        (Workload::Floor, Way::TwoReads) => {
            let clock = two_reads_clock();
            each!(|i: u64| {
                let start = clock.raw();
                work(i);
                clock.raw().wrapping_sub(start)
            })
        }
        (Workload::Pending, Way::Bare) => sum = poll_pending(std::future::pending::<()>(), calls),
        (Workload::Pending, Way::Handle) => {
            let timer = handle("run_cost.handle.one");
            sum = poll_pending(timer.time(std::future::pending::<()>()), calls)
        }
        (Workload::Nested, Way::Bare) => each!(|i| drive(bare_nested(i))),
        (Workload::Nested, Way::Handle) => {
            let (outer, child) = (
                handle("run_cost.handle.nested"),
                handle("run_cost.handle.child"),
            );
            each!(|i| drive(outer.time(async move { child.time(bare_one(i)).await })))
        }
        other => unreachable!("no such variant: {other:?}"),
    }
    sum
}

/// The clock of the two-reads row: made (and calibrated) before any
/// counted call, as the least recorder's is (`least::clock`), so that
/// callgrind counts only the reads.
fn two_reads_clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Polls `future` (never ready) `calls` times; the number of polls.
#[inline(always)]
fn poll_pending<F: Future>(future: F, calls: u64) -> u64 {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    for _ in 0..calls {
        polls += u64::from(future.as_mut().poll(&mut cx).is_pending());
        work(polls);
    }
    polls
}

/// A CPU clock's reading in nanoseconds.
fn cpu_nanos(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({clock})");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// How long the process's other threads must stay idle to count as
/// caught up: longer than two ticks of hotpath's aggregator (it drains
/// its queues every 50 ms, at most 65,536 events a tick).
const SETTLED: Duration = Duration::from_millis(120);

/// Waits until the process's other threads are idle (a background
/// aggregator has caught up), so that their work is charged to the
/// variant that made it.
fn settle() {
    loop {
        let (process, thread) = (
            cpu_nanos(libc::CLOCK_PROCESS_CPUTIME_ID),
            cpu_nanos(libc::CLOCK_THREAD_CPUTIME_ID),
        );
        std::thread::sleep(SETTLED);
        // Saturating: the two clocks are read apart, and with no other
        // thread this one's share can read a little above the process's.
        let others = (cpu_nanos(libc::CLOCK_PROCESS_CPUTIME_ID) - process)
            .saturating_sub(cpu_nanos(libc::CLOCK_THREAD_CPUTIME_ID) - thread);
        // Less than 1 % of the time busy elsewhere: caught up.
        if u128::from(others) * 100 < SETTLED.as_nanos() {
            return;
        }
    }
}

/// Nanoseconds per call of variant `index`: on this thread's CPU clock,
/// and on the process's (every thread).
fn time_variant(index: usize) -> (f64, f64) {
    settle();
    let process = cpu_nanos(libc::CLOCK_PROCESS_CPUTIME_ID);
    let thread = cpu_nanos(libc::CLOCK_THREAD_CPUTIME_ID);
    black_box(measured(index, CALLS));
    let thread = cpu_nanos(libc::CLOCK_THREAD_CPUTIME_ID) - thread;
    settle();
    // The settling's own sleeps cost this thread next to nothing.
    let process = cpu_nanos(libc::CLOCK_PROCESS_CPUTIME_ID) - process;
    (thread as f64 / CALLS as f64, process as f64 / CALLS as f64)
}

fn median_range(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn timing() {
    // Warm up every variant once: timers made, stripes and buckets
    // allocated, hotpath's threads started.
    for index in 0..VARIANTS.len() {
        black_box(measured(index, CALLS / 10));
    }
    let only = only_variants();
    let mut per_call = vec![[Vec::new(), Vec::new()]; VARIANTS.len()];
    for round in 0..ROUNDS {
        // A different order each round, so that no variant always follows
        // the same one.
        let mut order: Vec<usize> = (0..VARIANTS.len()).collect();
        order.rotate_left(round % VARIANTS.len());
        order.retain(|&index| only.as_ref().is_none_or(|only| only.contains(&index)));
        let mut thread = vec![0.0; VARIANTS.len()];
        let mut process = vec![0.0; VARIANTS.len()];
        for &index in &order {
            (thread[index], process[index]) = time_variant(index);
        }
        for &index in &order {
            let bare = bare_of(index);
            per_call[index][0].push(thread[index] - thread[bare]);
            per_call[index][1].push(process[index] - process[bare]);
        }
        // Each round's figures (calling thread, over bare), by index: the
        // spread of the rounds shows here, not in the table.
        let row: Vec<String> = order
            .iter()
            .map(|&i| format!("{i}:{:+.1}", thread[i] - thread[bare_of(i)]))
            .collect();
        eprintln!("round {round}: {}", row.join(" "));
    }
    println!("| workload | way | calling thread, ns per call over bare | whole process |");
    println!("|---|---|---|---|");
    for (index, &(workload, way)) in VARIANTS.iter().enumerate() {
        let [thread, process] = &mut per_call[index];
        if thread.is_empty() {
            continue;
        }
        let (tm, tl, th) = median_range(thread);
        let (pm, pl, ph) = median_range(process);
        println!(
            "| {} | {} | {tm:+.1} [{tl:+.1}, {th:+.1}] | {pm:+.1} [{pl:+.1}, {ph:+.1}] |",
            workload.label(),
            way.label()
        );
    }
}

/// `RUN_COST_ONLY=0,1,4`: only these variants (by index in `VARIANTS`),
/// each with its workload's bare one; unset or empty, all.
fn only_variants() -> Option<Vec<usize>> {
    let list = std::env::var("RUN_COST_ONLY").ok()?;
    let last = VARIANTS.len() - 1;
    let mut only = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.parse() {
            Ok(index) if index <= last => only.extend([index, bare_of(index)]),
            _ => panic!("RUN_COST_ONLY={list}: {item:?} is not a variant's index, 0 to {last}"),
        }
    }
    (!only.is_empty()).then_some(only)
}

/// The bare variant of variant `index`'s workload.
fn bare_of(index: usize) -> usize {
    let (workload, _) = VARIANTS[index];
    VARIANTS
        .iter()
        .position(|&v| v == (workload, Way::Bare))
        .expect("every workload has a bare variant")
}

/// Instructions of `calls` calls of variant `index`, counted by callgrind
/// in a child process.
fn instructions(index: usize, calls: u64) -> u64 {
    let out = std::env::temp_dir().join(format!(
        "perf-timer-run-cost-{}-{index}-{calls}.callgrind",
        std::process::id()
    ));
    let status = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=*run_cost::measured*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().unwrap())
        .args(["--measure", &index.to_string(), &calls.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("valgrind (Debian's package valgrind)");
    assert!(status.success(), "valgrind: {status}");
    let text = std::fs::read_to_string(&out).unwrap();
    if std::env::var_os("RUN_COST_KEEP").is_none() {
        let _ = std::fs::remove_file(&out);
    } else {
        eprintln!("kept {}", out.display());
    }
    callgrind::total_instructions(&text)
}

/// `--callgrind`: instructions per call of each variant, and over its
/// workload's bare variant.
fn callgrind(filter: Option<&str>) {
    const SHORT: u64 = 20_000;
    const LONG: u64 = 40_000;
    let per_call: Vec<Option<f64>> = (0..VARIANTS.len())
        .map(|index| {
            let (workload, way) = VARIANTS[index];
            let name = format!("{workload:?}/{way:?}");
            if way != Way::Bare && filter.is_some_and(|f| !name.contains(f)) {
                return None;
            }
            let short = instructions(index, SHORT);
            let long = instructions(index, LONG);
            // Signed: a one-time cost that differs between the two lengths
            // shows as the nonsense it is, not as a wrapped 10^14.
            Some((long as f64 - short as f64) / (LONG - SHORT) as f64)
        })
        .collect();
    let matched = (0..VARIANTS.len()).any(|i| VARIANTS[i].1 != Way::Bare && per_call[i].is_some());
    if !matched {
        eprintln!(
            "--callgrind {}: no variant's name (`Workload/Way`, case as written) matches; the bare ones only (`/` matches all)",
            filter.unwrap_or("")
        );
    }
    println!("| workload | way | instructions per call | over bare |");
    println!("|---|---|---|---|");
    for (index, &(workload, way)) in VARIANTS.iter().enumerate() {
        let Some(ir) = per_call[index] else { continue };
        let bare = VARIANTS
            .iter()
            .position(|&v| v == (workload, Way::Bare))
            .and_then(|b| per_call[b])
            .unwrap_or(0.0);
        println!(
            "| {} | {} | {ir:.1} | {:+.1} |",
            workload.label(),
            way.label(),
            ir - bare
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench --no-run` style probes
    }
    let measure = args.iter().position(|a| a == "--measure");
    let builder = Registry::builder();
    // Under callgrind, the mock clock (see `MOCK`); the TSC otherwise.
    let builder = match measure {
        Some(_) => {
            let (clock, mock) = Clock::mock();
            MOCK.set(mock).unwrap();
            builder.clock(clock)
        }
        None => builder,
    };
    builder.build_global().unwrap();
    #[cfg(feature = "hotpath")]
    // SAFETY: no other thread runs yet.
    unsafe {
        // No HTTP server for the metrics: nothing here reads them.
        std::env::set_var("HOTPATH_METRICS_SERVER_OFF", "1");
    }
    #[cfg(feature = "hotpath")]
    let _hotpath = hotpath::HotpathGuardBuilder::new("run_cost")
        .output_path(std::env::temp_dir().join("perf-timer-run-cost.hotpath.txt"))
        .build();
    // quanta's first clock calibrates: before anything is counted.
    let _ = (least::clock(), two_reads_clock());
    if let Some(i) = measure {
        let usage = "--measure INDEX CALLS: a variant's position in `VARIANTS` and a count";
        let number = |at: usize| args.get(at).and_then(|a| a.parse().ok()).expect(usage);
        let (index, calls): (usize, u64) = (number(i + 1), number(i + 2) as u64);
        assert!(
            index < VARIANTS.len(),
            "{usage}: {index} is not below {}",
            VARIANTS.len()
        );
        black_box(measured(index, calls));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--callgrind") {
        return callgrind(args.get(i + 1).map(String::as_str));
    }
    timing();
}
