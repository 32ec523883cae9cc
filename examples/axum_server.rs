//! An HTTP server whose requests are timed per route by `TimedLayer`,
//! printing the report when it shuts down (Ctrl-C). `--load N` starts it,
//! sends N requests from a built-in client over loopback, and shuts down:
//! it runs by itself.
//!
//! Run: `cargo run --release -p perf-timer-examples --example axum_server -- --load 500`
//! (without `--load`, it serves on 127.0.0.1:3000 until Ctrl-C, with
//! Prometheus histograms at /metrics)

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use perf_timer::export::{metrics_route, Prometheus};
use perf_timer::tower::TimedLayer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// CPU work: counted. The simulated database wait: not.
async fn user(Path(id): Path<u64>) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await; // the "database"
    format!("user {id}: {}\n", score(id))
}

/// A sync function timed on its own, inside the route's timer: the route's
/// line shows its self time without it.
#[perf_timer::timed]
fn score(id: u64) -> u64 {
    (0..2_000 + id % 1_000).map(|i| i * i % 7).sum()
}

async fn health() -> &'static str {
    "ok\n"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _report = perf_timer::report_at_exit(); // printed when the program ends
    let load: Option<usize> = std::env::args()
        .skip_while(|a| a != "--load")
        .nth(1)
        .map(|n| n.parse().expect("--load takes a number of requests"));

    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/health", get(health))
        // One timer per route: "GET /users/{id}", "GET /health".
        .layer(TimedLayer::new(perf_timer::global()))
        // Added after the layer: scrapes are not timed.
        .route(
            "/metrics",
            metrics_route(
                perf_timer::global(),
                Prometheus::new("axum_server").histograms(),
            ),
        );
    let addr = if load.is_some() {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    eprintln!("serving on http://{local}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    match load {
        Some(requests) => run_load(local, requests).await?,
        None => tokio::signal::ctrl_c().await?,
    }
    let _ = stop.send(());
    server.await.expect("server task")?;
    Ok(())
}

/// Sends `requests` requests over 8 keep-alive connections.
async fn run_load(addr: SocketAddr, requests: usize) -> std::io::Result<()> {
    let clients: Vec<_> = (0..8)
        .map(|c| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                for i in (c..requests).step_by(8) {
                    let path = if i % 10 == 0 {
                        "/health".to_owned()
                    } else {
                        format!("/users/{i}")
                    };
                    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                    stream.write_all(request.as_bytes()).await?;
                    read_response(&mut stream).await?;
                }
                Ok::<_, std::io::Error>(())
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client task")?;
    }
    Ok(())
}

/// Reads one HTTP/1.1 response with a `content-length` body.
async fn read_response(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(());
            }
        }
    }
}
