//! The tower layer on a real axum server on 127.0.0.1, called by a real
//! HTTP client: one timer per route, path parameters folded into their
//! pattern, 404s bounded, 500s counted as errors, waiting left out.

mod common;

use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::{client, serve, spin};
use http_body_util::{BodyExt as _, Empty};
use perf_timer::tower::TimedLayer;
use perf_timer::Registry;

async fn user(Path(id): Path<u64>) -> String {
    format!("user {id}\n")
}

async fn fail() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

/// 2 ms of work around a 30 ms wait: busy about 2 ms, never 30.
async fn slow() -> &'static str {
    spin(Duration::from_millis(1));
    tokio::time::sleep(Duration::from_millis(30)).await;
    spin(Duration::from_millis(1));
    "done\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_is_timed_by_poll_time_with_errors_and_unmatched_bounded() {
    let registry = Registry::new();
    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/fail", get(fail))
        .route("/slow", get(slow))
        .layer(TimedLayer::new(&registry));
    let (addr, server) = serve(app).await;

    let client = client();
    let get = |path: String| {
        let client = client.clone();
        async move {
            let uri = format!("http://{addr}{path}").parse().unwrap();
            let response = client.get(uri).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        }
    };
    for id in 0..20 {
        let (status, body) = get(format!("/users/{id}")).await;
        assert_eq!(
            (status, &body[..]),
            (StatusCode::OK, format!("user {id}\n").as_bytes())
        );
    }
    for _ in 0..3 {
        assert_eq!(
            get("/fail".into()).await.0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(get("/slow".into()).await.0, StatusCode::OK);
    // A scanner: every path a 404, all in one timer.
    for n in 0..50 {
        assert_eq!(
            get(format!("/wp-admin/{n}.php")).await.0,
            StatusCode::NOT_FOUND
        );
    }
    server.abort();

    let users = registry
        .stats("GET /users/{id}")
        .expect("one timer for the route");
    assert_eq!((users.count(), users.errors()), (20, 0));
    let failed = registry.stats("GET /fail").unwrap();
    assert_eq!((failed.count(), failed.errors()), (3, 3));
    let slow = registry.stats("GET /slow").unwrap();
    assert_eq!(slow.count(), 1);
    assert!(
        slow.total() >= Duration::from_millis(2),
        "{:?}",
        slow.total()
    );
    assert!(
        slow.total() < Duration::from_millis(25),
        "the wait is not busy: {:?}",
        slow.total()
    );
    assert!(slow.wall().total() >= Duration::from_millis(30));
    let unmatched = registry.stats("GET (unmatched)").unwrap();
    assert_eq!(unmatched.count(), 50);
    let names: Vec<String> = registry
        .snapshot()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "GET (unmatched)",
            "GET /fail",
            "GET /slow",
            "GET /users/{id}"
        ]
    );
}

/// Any tower service: ready at once, answers 200.
#[derive(Clone)]
struct Ok200;

impl tower_service::Service<http::Request<()>> for Ok200 {
    type Response = http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<http::Response<String>, std::convert::Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(String::new())))
    }
}

#[tokio::test]
async fn a_route_function_cannot_make_timers_without_bound() {
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    let registry = Registry::builder().max_timers(5_000).build().unwrap();
    // A careless route function: the raw path.
    let layer = TimedLayer::new(&registry).route_with(|parts| Some(parts.uri.path().to_owned()));
    let mut service = layer.layer(Ok200);
    for n in 0..1_200 {
        let request = http::Request::get(format!("/item/{n}")).body(()).unwrap();
        service.call(request).await.unwrap();
    }
    let weird = http::Request::builder()
        .method(http::Method::from_bytes(b"BREW").unwrap())
        .uri("/pot")
        .body(())
        .unwrap();
    service.call(weird).await.unwrap();
    let snapshot = registry.snapshot();
    assert_eq!(
        snapshot.len(),
        perf_timer::tower::MAX_ROUTES + 2,
        "the bound, and one overflow timer per method"
    );
    assert_eq!(registry.stats("GET (other routes)").unwrap().count(), 200);
    assert_eq!(registry.stats("OTHER (other routes)").unwrap().count(), 1);
    assert_eq!(snapshot.iter().map(|s| s.count()).sum::<u64>(), 1_201);
}

/// A scanner trying 10 methods on 5 `GET` routes: the methods a route does
/// not serve (405) all count under `METHOD (unmatched)`, and make no timer
/// of their own; the served ones (`GET`, and `HEAD`, which axum answers
/// with the `GET` handler) have theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_methods_make_no_timers() {
    let registry = Registry::new();
    let mut app = Router::new();
    for route in ["/a", "/b", "/c/{id}", "/d", "/e"] {
        app = app.route(route, get(|| async { "ok" }));
    }
    let (addr, server) = serve(app.layer(TimedLayer::new(&registry))).await;
    let client = client();
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW", "PURGE",
    ];
    let mut refused = 0;
    for path in ["/a", "/b", "/c/7", "/d", "/e"] {
        for method in methods {
            let request = http::Request::builder()
                .method(http::Method::from_bytes(method.as_bytes()).unwrap())
                .uri(format!("http://{addr}{path}"))
                .body(Empty::new())
                .unwrap();
            let response = client.request(request).await.unwrap();
            let status = response.status();
            response.into_body().collect().await.unwrap();
            if status == StatusCode::METHOD_NOT_ALLOWED {
                refused += 1;
            } else {
                assert!(status.is_success(), "{method} {path}: {status}");
            }
        }
    }
    assert_eq!(refused, 40, "all but GET and HEAD");
    let names: Vec<String> = registry
        .snapshot()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    let expected = [
        "DELETE (unmatched)",
        "GET /a",
        "GET /b",
        "GET /c/{id}",
        "GET /d",
        "GET /e",
        "HEAD /a",
        "HEAD /b",
        "HEAD /c/{id}",
        "HEAD /d",
        "HEAD /e",
        "OPTIONS (unmatched)",
        "OTHER (unmatched)",
        "PATCH (unmatched)",
        "POST (unmatched)",
        "PUT (unmatched)",
        "TRACE (unmatched)",
    ];
    assert_eq!(names, expected);
    // Every refused request is counted, none lost: 5 routes each.
    assert_eq!(registry.stats("POST (unmatched)").unwrap().count(), 5);
    assert_eq!(registry.stats("OTHER (unmatched)").unwrap().count(), 10);
    assert!(registry.stats("POST /a").is_none());
    let total: u64 = registry.snapshot().iter().map(|s| s.count()).sum();
    assert_eq!(total, 50);
    server.abort();
}

/// `metrics_route` renders on the blocking pool and lets concurrent scrapes
/// share one rendering, but never serves a snapshot older than the request:
/// a run recorded before a scrape is always in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_route_answers_each_scrape_with_a_snapshot_taken_after_it() {
    use perf_timer::export::{metrics_route, Prometheus};
    let registry = Registry::new();
    let app = Router::new().route("/metrics", metrics_route(&registry, Prometheus::new("app")));
    let (addr, server) = serve(app).await;
    let client = client();
    let scrape = || {
        let client = client.clone();
        async move {
            let uri = format!("http://{addr}/metrics").parse().unwrap();
            let response = client.get(uri).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    let timer = registry.timer("x");
    for n in 1..=20_u64 {
        timer.record(Duration::from_micros(n));
        // Four at once: each sees every run recorded before it was sent.
        let bodies = futures::future::join_all((0..4).map(|_| scrape())).await;
        for body in bodies {
            assert!(
                body.contains(&format!("app_busy_seconds_count{{timer=\"x\"}} {n}\n")),
                "after {n} runs: {body}"
            );
        }
    }
    server.abort();
}

/// `metrics_route` serves what the client weighs highest (`q`), never a
/// type it refuses with `q=0`, reads media types without regard to case,
/// answers `406` when it can serve nothing acceptable, and ends the run
/// JSON with a newline, so that answers appended to a file read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_route_honours_weights_and_case_and_ends_the_run_json_with_a_newline() {
    use perf_timer::export::{metrics_route, Prometheus, RUN_MEDIA_TYPE};
    let registry = Registry::new();
    registry.timer("x").record(Duration::from_micros(7));
    let app = Router::new().route(
        "/metrics",
        metrics_route(&registry, Prometheus::new("app").native()),
    );
    let (addr, server) = serve(app).await;
    let client = client();
    let scrape = |accept: &'static str| {
        let client = client.clone();
        async move {
            let mut request = http::Request::builder().uri(format!("http://{addr}/metrics"));
            if !accept.is_empty() {
                request = request.header(http::header::ACCEPT, accept);
            }
            let response = client
                .request(request.body(Empty::new()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let content_type = response.headers()[http::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, content_type, body.to_vec())
        }
    };

    // The run JSON, a whole line; two answers appended make a file of two runs.
    let (status, content_type, body) = scrape(RUN_MEDIA_TYPE).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, RUN_MEDIA_TYPE)
    );
    assert_eq!(body.last(), Some(&b'\n'));
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 1);
    let (_, _, second) = scrape(RUN_MEDIA_TYPE).await;
    let path = std::env::temp_dir().join(format!("perf-timer-route-{}.jsonl", std::process::id()));
    std::fs::write(&path, [body, second].concat()).unwrap();
    let file = perf_timer::saved::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((file.runs.len(), file.skipped.len()), (2, 0));

    let kind = |content_type: &str| content_type.split(';').next().unwrap().to_owned();
    for (accept, served) in [
        ("", "text/plain"),
        ("*/*", "text/plain"),
        // The highest weight wins, not the first named.
        ("application/openmetrics-text;q=0.2, text/plain;q=0.9", "text/plain"),
        (
            "text/plain;q=0.3, application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7",
            "application/vnd.google.protobuf",
        ),
        // q=0 refuses, even with a wildcard beside it.
        (
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0, text/plain;q=0.1",
            "text/plain",
        ),
        ("text/plain;q=0, */*, application/openmetrics-text;q=0.5", "application/openmetrics-text"),
        (
            "application/vnd.perf-timer.run+json;q=0, text/plain;version=0.0.4",
            "text/plain",
        ),
        // Case is no matter.
        ("Application/OpenMetrics-Text; Version=1.0.0", "application/openmetrics-text"),
        ("APPLICATION/VND.PERF-TIMER.RUN+JSON", RUN_MEDIA_TYPE),
    ] {
        let (status, content_type, _) = scrape(accept).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(kind(&content_type), served, "Accept: {accept}");
    }
    // Nothing it serves is acceptable.
    for accept in ["text/plain;q=0", "application/json", "*/*;q=0"] {
        let (status, _, body) = scrape(accept).await;
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        let body = String::from_utf8(body).unwrap();
        assert!(
            body.contains("text/plain") && body.contains(RUN_MEDIA_TYPE),
            "{body}"
        );
    }
    server.abort();
}

/// A streamed response is one run to the body's end: the CPU spent making
/// each chunk is busy time, and wall time runs to the last chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_timed_to_its_end() {
    async fn chunks() -> axum::body::Body {
        let stream = async_stream::stream! {
            for i in 0..3 {
                spin(Duration::from_millis(30)); // work to make the chunk
                tokio::time::sleep(Duration::from_millis(5)).await; // not busy
                yield Ok::<_, std::convert::Infallible>(format!("chunk {i}\n"));
            }
        };
        axum::body::Body::from_stream(stream)
    }
    let registry = Registry::new();
    let app = Router::new()
        .route("/stream", get(chunks))
        .layer(TimedLayer::new(&registry));
    let (addr, server) = serve(app).await;
    let client = client();
    let response = client
        .get(format!("http://{addr}/stream").parse().unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"chunk 0\nchunk 1\nchunk 2\n");
    // The server may finish the run a moment after the client has the body.
    let stats = wait_for(&registry, "GET /stream", |s| s.count() == 1).await;
    assert_eq!((stats.count(), stats.cancelled()), (1, 0));
    // Three spins of 30 ms of wall time each: at least that, however the
    // machine is loaded; the 15 ms of sleeping is not busy.
    assert!(
        stats.total() >= Duration::from_millis(90),
        "{:?}",
        stats.total()
    );
    assert!(
        stats.wall().max() >= Duration::from_millis(105),
        "{:?}",
        stats.wall().max()
    );
    server.abort();
}

/// A client that goes away in the middle of a stream (server-sent events
/// it stops reading) leaves a cancelled run with the busy time spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_the_client_leaves_is_cancelled_with_its_busy_time() {
    use axum::response::sse::{Event, Sse};
    async fn events() -> Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>> {
        Sse::new(async_stream::stream! {
            spin(Duration::from_millis(10));
            yield Ok(Event::default().data("first"));
            std::future::pending::<()>().await; // the next event never comes
        })
    }
    let registry = Registry::new();
    let app = Router::new()
        .route("/events", get(events))
        .layer(TimedLayer::new(&registry));
    let (addr, server) = serve(app).await;
    {
        let client = client();
        let response = client
            .get(format!("http://{addr}/events").parse().unwrap())
            .await
            .unwrap();
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.data_ref().unwrap().as_ref(), b"data: first\n\n");
    } // the client, its connection and the body dropped here
    let stats = wait_for(&registry, "GET /events", |s| s.cancelled() == 1).await;
    assert_eq!((stats.count(), stats.cancelled()), (0, 1));
    assert!(
        stats.poll_total() >= Duration::from_millis(10),
        "{:?}",
        stats.poll_total()
    );
    server.abort();
}

/// `name`'s stats once `ready` says so, checked every 10 ms for 10 s.
async fn wait_for(
    registry: &Registry,
    name: &str,
    ready: impl Fn(&perf_timer::Stats) -> bool,
) -> perf_timer::Stats {
    for _ in 0..1_000 {
        if let Some(stats) = registry.stats(name).filter(|s| ready(s)) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name}: {:?}", registry.stats(name));
}

/// A handler's panic that unwinds through `TimedLayer` (a panic-catching
/// layer outside it) counts the run as panicked; one turned into a 500
/// before it (a panic-catching layer inside) counts as an error.
#[test]
fn a_panic_counts_as_panicked_outside_and_as_an_error_once_it_is_a_500() {
    use std::future::Future as _;
    use std::task::{Context, Waker};
    use tower_layer::Layer as _;

    #[derive(Clone)]
    struct Panics;
    impl tower_service::Service<http::Request<()>> for Panics {
        type Response = http::Response<String>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, request: http::Request<()>) -> Self::Future {
            if request.uri().path() == "/boom" {
                panic!("the handler panicked");
            }
            // What a panic-catching layer inside makes of a panic.
            let mut response = http::Response::new(String::new());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            std::future::ready(Ok(response))
        }
    }
    /// Polls the call's future in place, panics caught here (the layer
    /// outside).
    fn poll_caught<S: tower_service::Service<http::Request<()>>>(service: &mut S, path: &str)
    where
        S::Future: Unpin,
    {
        let request = http::Request::get(path).body(()).unwrap();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut future = service.call(request);
            let _ = std::pin::Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop()));
        }));
    }
    let registry = Registry::new();
    let mut service = TimedLayer::new(&registry)
        .route_with(|parts| Some(parts.uri.path().to_owned()))
        .layer(LazyCall(Panics));
    poll_caught(&mut service, "/boom");
    poll_caught(&mut service, "/caught");
    let boom = registry.stats("GET /boom").unwrap();
    assert_eq!((boom.count(), boom.panicked(), boom.errors()), (0, 1, 0));
    let caught = registry.stats("GET /caught").unwrap();
    assert_eq!(
        (caught.count(), caught.panicked(), caught.errors()),
        (1, 0, 1)
    );
}

/// A service whose `call` runs inside its future's first poll, as an async
/// handler's body does: a panic in it then unwinds through that poll.
#[derive(Clone)]
struct LazyCall<S>(S);

impl<S> tower_service::Service<http::Request<()>> for LazyCall<S>
where
    S: tower_service::Service<http::Request<()>> + Clone + Unpin,
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = LazyFuture<S>;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, request: http::Request<()>) -> Self::Future {
        LazyFuture::Start(self.0.clone(), Some(Box::new(request)))
    }
}

enum LazyFuture<S: tower_service::Service<http::Request<()>>> {
    Start(S, Option<Box<http::Request<()>>>),
    Called(S::Future),
}

impl<S> std::future::Future for LazyFuture<S>
where
    S: tower_service::Service<http::Request<()>> + Unpin,
    S::Future: Unpin,
{
    type Output = Result<S::Response, S::Error>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        if let LazyFuture::Start(service, request) = &mut *self {
            let future = service.call(*request.take().unwrap());
            *self = LazyFuture::Called(future);
        }
        match &mut *self {
            LazyFuture::Called(future) => std::pin::Pin::new(future).poll(cx),
            LazyFuture::Start(..) => unreachable!(),
        }
    }
}
