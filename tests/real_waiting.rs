//! On the real clock, time spent waiting on a timer or a socket is excluded.
//! Tolerances are wide: the machine is shared, so only the 20 ms wait being
//! left out is the point.

mod common;

use std::time::Duration;

use common::spin;
use perf_timer::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SPIN: Duration = Duration::from_millis(2);
const WAIT: Duration = Duration::from_millis(20);

fn assert_busy_excludes_the_wait(registry: &Registry, name: &str) {
    let stats = registry.stats(name).unwrap();
    assert_eq!(stats.count(), 1);
    let busy = stats.total();
    assert!(busy >= Duration::from_millis(3), "{name}: {busy:?}");
    assert!(busy <= Duration::from_millis(8), "{name}: {busy:?}");
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
            stream.read_exact(&mut reply).await.unwrap(); // ~20 ms of waiting
            spin(SPIN);
            reply
        })
        .await;
    assert_eq!(&reply, b"pong");
    server.await.unwrap();
    assert_busy_excludes_the_wait(&registry, "socket");
}
