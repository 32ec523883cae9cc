//! On the real clock, time spent waiting on a timer or a socket is excluded.
//! The bounds come from the quantity tested, not from a quiet machine: the
//! futures spin 4 ms and wait 200 ms, so busy time of 100 ms or more would
//! mean the wait counted. A loaded machine that takes the spinning thread
//! away for a while (busy time includes that) stays far below it.

mod common;

use std::time::Duration;

use common::spin;
use perf_timer::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SPIN: Duration = Duration::from_millis(2);
const WAIT: Duration = Duration::from_millis(200);

fn assert_busy_excludes_the_wait(registry: &Registry, name: &str) {
    let stats = registry.stats(name).unwrap();
    assert_eq!(stats.count(), 1);
    let busy = stats.total();
    // Two spins of 2 ms of wall time each: at least that.
    assert!(busy >= 2 * SPIN, "{name}: {busy:?}");
    // Half the wait: had the wait counted, busy time would pass 204 ms.
    assert!(busy < WAIT / 2, "{name}: {busy:?}");
}

#[tokio::test]
async fn a_sleep_between_two_spins_is_not_counted() {
    for registry in [
        Registry::new(),
        Registry::builder()
            .clock(perf_timer::Clock::std())
            .build()
            .unwrap(),
    ] {
        registry
            .timer("sleepy")
            .time(async {
                spin(SPIN);
                tokio::time::sleep(WAIT).await;
                spin(SPIN);
            })
            .await;
        assert_busy_excludes_the_wait(&registry, "sleepy");
    }
}

#[tokio::test]
async fn a_wait_on_a_loopback_socket_is_not_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(WAIT).await;
        socket.write_all(b"pong").await.unwrap();
    });

    let registry = Registry::new();
    let reply = registry
        .timer("socket")
        .time(async {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            spin(SPIN);
            let mut reply = [0_u8; 4];
            stream.read_exact(&mut reply).await.unwrap(); // ~200 ms of waiting
            spin(SPIN);
            reply
        })
        .await;
    assert_eq!(&reply, b"pong");
    server.await.unwrap();
    assert_busy_excludes_the_wait(&registry, "socket");
}
