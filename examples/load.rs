//! What the web examples share around their app: `--load N`, serving on
//! 127.0.0.1 (port 3000, or any free one under load) until Ctrl-C or the
//! end of the load, and a built-in client (plain HTTP/1.1 over loopback),
//! so that an example runs by itself.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `--load N` from the command line, if given.
pub fn load_arg() -> Option<usize> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => None,
        [flag, n] if flag == "--load" => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => usage(&format!("--load takes a number of requests, not {n:?}")),
        },
        _ => usage(&format!("unexpected arguments {args:?}")),
    }
}

/// A wrong argument: one sentence and how to call, exit status 2.
fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}; usage: [--load N] (N requests sent to itself, then the report; \
         without it, serves on 127.0.0.1:3000 until Ctrl-C)"
    );
    std::process::exit(2)
}

/// Serves `app` on 127.0.0.1: with `load`, on a free port, sending itself
/// that many requests and then shutting down; without, on port 3000 until
/// Ctrl-C. `say` is told the address first.
pub async fn serve(
    app: axum::Router,
    load: Option<usize>,
    say: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let port = if load.is_some() { 0 } else { 3000 };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let local = listener.local_addr()?;
    say(local);
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
    server.await.expect("server task")
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
