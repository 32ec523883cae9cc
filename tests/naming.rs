//! One naming rule across every way in (README, "Timer names"): a name you
//! give is used as it is; `#[timed]` names a function by its module path,
//! a method on a timed `impl` by its type (and trait);
//! `PerfTimerLayer` names a span by its span name; `TimedLayer` names a
//! request `METHOD /route/{param}`; the task hooks name a task by the
//! `file:line` that spawned it. All of them record into the global
//! registry here, and the test checks the whole set of names it holds, so a
//! way in that names differently, or makes a timer no rule explains, fails.
//!
//! One test in this binary: tracing caches per call site whether anyone
//! listens, and the global registry is shared.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::routing::get;
use perf_timer::tower::TimedLayer;
use perf_timer::{PerfTimerLayer, TimedExt as _, Timer};
use tower_layer::Layer as _;
use tower_service::Service as _;
use tracing_subscriber::prelude::*;

mod db {
    #[perf_timer::timed]
    pub async fn load(id: u64) -> u64 {
        id + 1
    }

    #[perf_timer::timed]
    pub fn parse(text: &str) -> usize {
        text.len()
    }

    #[perf_timer::timed("db.custom")]
    pub fn custom() {}

    /// Two types in one module, each method its own timer.
    pub struct Mem;
    pub struct Other;

    #[perf_timer::timed]
    impl Mem {
        pub fn get(&self) -> u32 {
            1
        }
    }

    #[perf_timer::timed]
    impl Other {
        pub fn get(&self) -> u32 {
            2
        }
    }

    /// Trait impls: the type and the trait, with the impl's concrete type
    /// arguments and without its generic parameters, so that `Mem`'s
    /// inherent `get` and its two `Gen` impls are three timers, and its
    /// `Greet` and `Wave` impls two.
    pub trait Gen<T> {
        fn get(&self) -> T;
    }
    pub trait Greet {
        fn hello(&self) -> &'static str;
    }
    pub trait Wave {
        fn hello(&self) -> &'static str;
    }
    pub trait Hello {
        fn hello(&self) -> String;
    }

    #[perf_timer::timed]
    impl Gen<u32> for Mem {
        fn get(&self) -> u32 {
            32
        }
    }

    #[perf_timer::timed]
    impl Gen<u64> for Mem {
        fn get(&self) -> u64 {
            64
        }
    }

    #[perf_timer::timed]
    impl Greet for Mem {
        fn hello(&self) -> &'static str {
            "greet"
        }
    }

    #[perf_timer::timed]
    impl Wave for Mem {
        fn hello(&self) -> &'static str {
            "wave"
        }
    }

    #[perf_timer::timed]
    impl<T: std::fmt::Display> Hello for Box<T> {
        fn hello(&self) -> String {
            format!("hello {self}")
        }
    }

    /// A plain `fn` returning a future: named like any function.
    #[perf_timer::timed]
    pub fn later() -> impl std::future::Future<Output = u32> {
        async { 3 }
    }

    /// A span named by `#[tracing::instrument]`: its name is the
    /// function's, without the module.
    #[tracing::instrument]
    pub async fn fetch(id: u64) -> u64 {
        id * 2
    }
}

/// Polls a future that never waits to its end, on this thread.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

/// A tower service answering 200 at once, for a route named by a function.
#[derive(Clone)]
struct Ok200;

impl tower_service::Service<http::Request<()>> for Ok200 {
    type Response = http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(String::new())))
    }
}

#[test]
fn every_way_in_names_timers_by_one_documented_rule() {
    let registry = perf_timer::global();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // Names given by hand are used as they are.
    ready(async {}.timed("given.timed"));
    Timer::new("given.timer").record(std::time::Duration::from_micros(3));
    runtime
        .block_on(async { perf_timer::spawn("given.spawn", async {}).await })
        .unwrap();

    // `#[timed]`: the module path and the function's name; or the name given.
    assert_eq!(ready(db::load(1)), 2);
    assert_eq!(db::parse("abc"), 3);
    db::custom();
    // On an `impl`: the module path, the type and the method; for a trait
    // impl, `<Type as Trait>`.
    assert_eq!((db::Mem.get(), db::Other.get()), (1, 2));
    {
        use db::{Gen, Greet, Hello, Wave};
        assert_eq!(Gen::<u32>::get(&db::Mem), 32);
        assert_eq!(Gen::<u64>::get(&db::Mem), 64);
        assert_eq!(
            (Greet::hello(&db::Mem), Wave::hello(&db::Mem)),
            ("greet", "wave")
        );
        assert_eq!(Box::new(7).hello(), "hello 7");
    }
    assert_eq!(ready(db::later()), 3);

    // `PerfTimerLayer`: the span's name, with no target or module.
    let subscriber = tracing_subscriber::registry().with(PerfTimerLayer::new(registry));
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(ready(db::fetch(4)), 8);
        tracing::info_span!(target: "some::target", "by_hand").in_scope(|| {});
    });

    // `TimedLayer` on an axum router: method and matched route pattern;
    // whatever matches no route shares one bounded timer.
    let app = axum::Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .layer(TimedLayer::new(registry));
    for path in ["/users/7", "/users/8", "/no/such/page"] {
        let request = http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = runtime.block_on(app.clone().call(request)).unwrap();
        // As a server does: the body to its end, which ends the run.
        let body = response.into_body();
        runtime
            .block_on(http_body_util::BodyExt::collect(body))
            .unwrap();
    }
    // Any tower service, with the route named by a function of the request.
    let mut service = TimedLayer::new(registry)
        .route_with(|parts| Some(parts.uri.path().replace("/42", "/{n}")))
        .layer(Ok200);
    let request = http::Request::post("/items/42").body(()).unwrap();
    ready(service.call(request)).unwrap();

    // The task hooks: the `file:line` of the spawn.
    #[cfg(tokio_unstable)]
    let spawned_at = {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        perf_timer::install_task_hooks(&mut builder, registry);
        let hooked = builder.build().unwrap();
        let line = line!() + 1;
        hooked.block_on(async { tokio::spawn(async {}).await.unwrap() });
        format!("{}:{line}", file!())
    };

    #[cfg_attr(not(tokio_unstable), allow(unused_mut))]
    let mut expected: BTreeSet<String> = [
        "given.timed",
        "given.timer",
        "given.spawn",
        "naming::db::load",
        "naming::db::parse",
        "db.custom",
        "naming::db::Mem::get",
        "naming::db::Other::get",
        "naming::db::<Mem as Gen<u32>>::get",
        "naming::db::<Mem as Gen<u64>>::get",
        "naming::db::<Mem as Greet>::hello",
        "naming::db::<Mem as Wave>::hello",
        "naming::db::<Box as Hello>::hello",
        "naming::db::later",
        "fetch",
        "by_hand",
        "GET /users/{id}",
        "GET (unmatched)",
        "POST /items/{n}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    #[cfg(tokio_unstable)]
    expected.insert(spawned_at);

    let names: BTreeSet<String> = registry
        .snapshot()
        .iter()
        .map(|stats| stats.name().to_owned())
        .collect();
    assert_eq!(names, expected);
    // Each request was one run of its route's timer.
    assert_eq!(registry.stats("GET /users/{id}").unwrap().count(), 2);
    assert_eq!(registry.stats("GET (unmatched)").unwrap().count(), 1);
}
