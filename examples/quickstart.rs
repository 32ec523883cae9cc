//! A small service: a loopback echo server, clients that hash what they
//! send, and a periodic job. Every piece is timed by its polls, so the
//! report at exit shows busy time (time inside `poll`, which includes any
//! time the OS took the thread away), not the time spent waiting on sockets
//! and timers.
//!
//! Run: `cargo run --release --example quickstart`

use std::time::Duration;

use perf_timer::{task_perf_counter, TimedExt as _, Timer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// CPU work proportional to `len`: a few rounds of FNV-1a over the payload.
fn checksum(payload: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for _ in 0..16 {
        for &byte in payload {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

async fn serve(listener: TcpListener) {
    let echo = Timer::new("server.echo"); // resolve the name once
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let echo = echo.clone();
        perf_timer::spawn("server.connection", async move {
            let mut buf = vec![0_u8; 4096];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                // One timed sync section per message.
                let sum = {
                    let _guard = echo.start();
                    checksum(&buf[..n])
                };
                if socket.write_all(&sum.to_le_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn client(addr: std::net::SocketAddr, id: u64) -> Duration {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = Timer::new("client.request");
    for round in 0..50_u64 {
        let payload: Vec<u8> = (0..512 + (id * 37 + round * 11) % 1024)
            .map(|i| (i as u8) ^ (id as u8))
            .collect();
        request
            .time(async {
                let expected = checksum(&payload); // CPU: counted
                stream.write_all(&payload).await.expect("write");
                let mut reply = [0_u8; 8];
                stream.read_exact(&mut reply).await.expect("read"); // waiting: not counted
                assert_eq!(u64::from_le_bytes(reply), expected);
            })
            .await;
        tokio::time::sleep(Duration::from_millis(2)).await; // think time
    }
    task_perf_counter().unwrap_or_default()
}

#[tokio::main(worker_threads = 2)]
async fn main() {
    let _report = perf_timer::report_at_exit(); // prints when the program ends

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(serve(listener));

    let job = perf_timer::spawn("job.compact", async {
        let mut total = 0_u64;
        for i in 0..20_u64 {
            total ^= async { checksum(&i.to_le_bytes().repeat(200)) }
                .timed("job.compact.step")
                .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        total
    });

    let clients: Vec<_> = (0..8)
        .map(|id| perf_timer::spawn("client", client(addr, id)))
        .collect();
    for (id, client) in clients.into_iter().enumerate() {
        let busy = client.await.expect("client task");
        println!("client {id}: {busy:.2?} busy");
    }
    job.await.expect("job");
    // Give the server a moment to see the clients hang up.
    tokio::time::sleep(Duration::from_millis(20)).await;
}
