//! Take the numbers elsewhere: Prometheus text, JSON, an HdrHistogram
//! interval log (mergeable across processes), and the `.hgrm` distribution.
//!
//! Run: `cargo run --example export --features hdr-log,serde`
//! It writes `perf-timer-export.hlog` in the system's temp directory (or
//! the file given as its argument) and prints the rest.

use std::time::Duration;

use perf_timer::export::{write_hgrm, write_prometheus, IntervalLog};
use perf_timer::{Registry, TimedExt as _};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::new();
    let mut intervals = registry.intervals();
    let path = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("perf-timer-export.hlog"));
    let mut log = IntervalLog::new(std::fs::File::create(&path)?)?;

    for second in 0..3_u64 {
        for i in 0..200_u64 {
            registry
                .timer("checksum")
                .time(async move {
                    (0..(i + 1) * 500 * (second + 1)).fold(0_u64, |a, b| a ^ b.rotate_left(7))
                })
                .await;
        }
        async { tokio::time::sleep(Duration::from_millis(5)).await }
            .timed("global sleeper") // the global registry: not in this export
            .await;
        log.write_interval(&intervals.next().expect("interval"))?; // one line per timer per interval
    }
    drop(log);

    let snapshot = registry.snapshot();
    let mut prometheus = String::new();
    write_prometheus(&mut prometheus, &snapshot, "example")?;
    println!("--- Prometheus text ---\n{prometheus}");
    println!(
        "--- JSON ---\n{}\n",
        serde_json::to_string_pretty(&snapshot)?
    );
    println!("--- .hgrm of \"checksum\" (milliseconds) ---");
    let mut hgrm = Vec::new();
    write_hgrm(
        &mut hgrm,
        snapshot.get("checksum").expect("timer").histogram(),
    )?;
    println!("{}", String::from_utf8(hgrm)?);
    println!("--- interval log written to {} ---", path.display());
    Ok(())
}
