//! A built-in client for the web examples' `--load N`: plain HTTP/1.1 over
//! loopback, so that an example runs by itself.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `requests` requests over 8 keep-alive connections.
pub async fn run_load(addr: SocketAddr, requests: usize) -> std::io::Result<()> {
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
