//! Runtime-wide timing without touching a single future: tokio's task
//! hooks time every task, one timer per spawn location.
//!
//! Run: `RUSTFLAGS="--cfg tokio_unstable" cargo run --example runtime_hooks --features tokio-unstable`

#[cfg(tokio_unstable)]
fn main() {
    use std::time::Duration;

    let registry = perf_timer::global();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    perf_timer::install_task_hooks(&mut builder, registry);
    let runtime = builder.build().expect("runtime");
    let _report = perf_timer::report_at_exit();

    runtime.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..100_u64 {
            // Each spawn site below is its own timer, named file:line.
            tasks.push(tokio::spawn(async move {
                let sum: u64 = (0..20_000 * (i % 5 + 1)).sum();
                tokio::time::sleep(Duration::from_millis(3)).await;
                sum
            }));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                i
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
    });
    drop(runtime); // every task terminated and recorded
}

#[cfg(not(tokio_unstable))]
fn main() {
    eprintln!(
        "tokio's task hooks are unstable: run with\n  \
         RUSTFLAGS=\"--cfg tokio_unstable\" cargo run --example runtime_hooks --features tokio-unstable"
    );
}
