//! `TimedLayer`: a tower layer that times each request's handling by poll
//! time, one timer per route. Feature `tower` (and `axum` for routes read
//! from axum's `MatchedPath`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};

use http::{Method, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::instrument::timed::TimedRun;
use crate::poll::run::Run;
use crate::registry::Registry;
use crate::state::timer::{RunTimer, Timer};

/// The timer name of requests that match no route (no `MatchedPath`, and
/// the route function returned `None`), or whose method the route refused
/// (405), after the method: `GET (unmatched)`.
pub const UNMATCHED: &str = "(unmatched)";

/// Most routes a layer names; requests of further routes record into
/// `METHOD (other routes)`, so that a scanner or a route function that
/// returns raw paths cannot make timers without bound.
pub const MAX_ROUTES: usize = 1_000;

/// How a request is named, after its method: its route.
type RouteOf = Arc<dyn Fn(&http::request::Parts) -> Option<String> + Send + Sync>;

/// A tower [`Layer`] that times each request's handling by poll time, from
/// the first poll of the inner service's future to the end of its response
/// body: one run per request, in the timer named `METHOD /route/{param}`.
/// Every poll of the body ([`TimedBody`]) is busy time of the run, so a
/// streamed response (`Body::from_stream`, server-sent events, a large
/// download) records the work of making its chunks, and a body dropped
/// before its end (the client went away) counts the run as cancelled. A
/// response with an empty body ends its run with its head. The inner
/// service's response body must be an `http_body::Body`, as any HTTP
/// service's is.
///
/// A handler that panics counts by where tower-http's `CatchPanicLayer`
/// sits: outside `TimedLayer` (`.layer(TimedLayer::new(..)).layer(CatchPanicLayer::new())`),
/// the panic unwinds through the timed poll and the run counts as
/// [panicked](crate::read::Stats::panicked); inside it, the panic has become a
/// 500 response by the time `TimedLayer` sees it, and the run counts as an
/// [error](crate::read::Stats::errors). Put `CatchPanicLayer` outside to tell
/// panics from other failures.
///
/// The route is axum's `MatchedPath` (with the feature `axum`, when the
/// layer runs inside a `Router`: `Router::layer` or `route_layer`), else
/// what [`route_with`](TimedLayer::route_with) says, else
/// `METHOD (unmatched)`. Methods outside the standard nine are named
/// `OTHER`. A request the route refuses with `405 Method Not Allowed`
/// counts under `METHOD (unmatched)` too: a route's timer shows in
/// snapshots from its first response of any other status (or its first
/// run that ends without one, panicked or cancelled), so that a scanner
/// trying methods on every route makes no timers. A response to `HEAD`
/// ends its run with its head (it has no body to send). A route's timer is resolved once and kept: after a route's
/// first request, naming a request inside an axum `Router` costs a string
/// comparison (elsewhere a read lock and a hash lookup of its route), with
/// no allocation. Responses with a status of 500 or more,
/// and errors of the inner service, count as
/// [errors](crate::read::Stats::errors) (see [`errors_when`](TimedLayer::errors_when)).
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use perf_timer::tower::TimedLayer;
/// use tower_service::Service as _;
/// use tower_layer::Layer as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::new();
/// let layer = TimedLayer::new(&registry)
///     .route_with(|parts| Some(parts.uri.path().trim_end_matches(char::is_numeric).to_owned() + "{id}"));
/// let mut service = layer.layer(tower_service_fn(|_req: Request<()>| async {
///     Ok::<_, Infallible>(Response::new(String::new()))
/// }));
/// let request = Request::get("/users/7").body(()).unwrap();
/// service.call(request).await.unwrap();
/// assert_eq!(registry.stats("GET /users/{id}").unwrap().count(), 1);
/// # }
/// # fn tower_service_fn<F, Fut>(f: F) -> impl tower_service::Service<Request<()>, Response = Response<String>, Error = Infallible, Future = Fut> + Clone
/// # where F: FnMut(Request<()>) -> Fut + Clone, Fut: std::future::Future<Output = Result<Response<String>, Infallible>> {
/// #     #[derive(Clone)] struct S<F>(F);
/// #     impl<F: FnMut(Request<()>) -> Fut, Fut: std::future::Future<Output = Result<Response<String>, Infallible>>> tower_service::Service<Request<()>> for S<F> {
/// #         type Response = Response<String>; type Error = Infallible; type Future = Fut;
/// #         fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
/// #         fn call(&mut self, r: Request<()>) -> Fut { (self.0)(r) }
/// #     }
/// #     S(f)
/// # }
/// ```
#[derive(Clone)]
pub struct TimedLayer {
    registry: Registry,
    route_of: Option<RouteOf>,
    is_error: fn(StatusCode) -> bool,
    routes: Arc<Routes>,
}

impl TimedLayer {
    /// Times requests into `registry`.
    ///
    /// ```
    /// let layer = perf_timer::tower::TimedLayer::new(perf_timer::global());
    /// # drop(layer);
    /// ```
    pub fn new(registry: &Registry) -> Self {
        TimedLayer {
            registry: registry.clone(),
            route_of: None,
            is_error: |status| status.is_server_error(),
            routes: Arc::default(),
        }
    }

    /// Names the route of requests that carry no `MatchedPath` (outside
    /// axum, or in front of its router): `None` for none. Return a route
    /// pattern, not the raw path: each distinct answer is a timer, up to
    /// [`MAX_ROUTES`].
    ///
    /// ```
    /// use perf_timer::tower::TimedLayer;
    ///
    /// let layer = TimedLayer::new(perf_timer::global()).route_with(|parts| {
    ///     parts.uri.path().starts_with("/static/").then(|| "/static/*".to_owned())
    /// });
    /// # drop(layer);
    /// ```
    pub fn route_with(
        mut self,
        route_of: impl Fn(&http::request::Parts) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.route_of = Some(Arc::new(route_of));
        self
    }

    /// Which response statuses count as errors (default: 500 and above).
    /// Errors of the inner service always do.
    ///
    /// ```
    /// use perf_timer::tower::TimedLayer;
    ///
    /// let layer = TimedLayer::new(perf_timer::global()).errors_when(|status| status.as_u16() >= 400);
    /// # drop(layer);
    /// ```
    pub fn errors_when(mut self, is_error: fn(StatusCode) -> bool) -> Self {
        self.is_error = is_error;
        self
    }

    /// The timer of a request with this method and route pattern, made on
    /// the route's first request.
    fn route_timer(&self, method: (usize, &'static str), route: &str) -> Timer {
        self.routes.timer(&self.registry, method, route)
    }

    /// The timer of a request that carries no `MatchedPath`: the route
    /// function's answer, or `METHOD (unmatched)`.
    fn unmatched_timer<B>(&self, request: Request<B>) -> (Timer, Request<B>) {
        let method = method_name(request.method());
        let Some(route_of) = &self.route_of else {
            return (self.route_timer(method, UNMATCHED), request);
        };
        let (parts, body) = request.into_parts();
        let route = route_of(&parts);
        let timer = self.route_timer(method, route.as_deref().unwrap_or(UNMATCHED));
        (timer, Request::from_parts(parts, body))
    }
}

impl std::fmt::Debug for TimedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedLayer")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// axum's route pattern of `request`, if an axum `Router` matched it.
#[cfg(feature = "axum")]
fn matched_path<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "axum"))]
fn matched_path<B>(_: &Request<B>) -> Option<&str> {
    None
}

/// The standard methods by name, and their place in [`Routes`]; any other
/// is `OTHER`, so that a client cannot make timers by inventing methods.
fn method_name(method: &Method) -> (usize, &'static str) {
    match *method {
        Method::GET => (0, "GET"),
        Method::POST => (1, "POST"),
        Method::PUT => (2, "PUT"),
        Method::DELETE => (3, "DELETE"),
        Method::PATCH => (4, "PATCH"),
        Method::HEAD => (5, "HEAD"),
        Method::OPTIONS => (6, "OPTIONS"),
        Method::CONNECT => (7, "CONNECT"),
        Method::TRACE => (8, "TRACE"),
        _ => (9, "OTHER"),
    }
}

/// FNV-1a: route patterns are short and chosen by the service, not by
/// clients (those fall into bounded names), so a fast non-keyed hash is
/// safe here.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type RouteMap = HashMap<Box<str>, Timer, std::hash::BuildHasherDefault<Fnv>>;

/// A layer's timers by method and route, made once each.
#[derive(Default)]
struct Routes {
    /// By method, in `method_name`'s order.
    timers: RwLock<[RouteMap; 10]>,
}

impl Routes {
    fn timer(&self, registry: &Registry, method: (usize, &'static str), route: &str) -> Timer {
        let (index, method) = method;
        {
            let timers = crate::poison::read(&self.timers);
            if let Some(timer) = timers[index].get(route) {
                return timer.clone();
            }
        }
        let mut timers = crate::poison::write(&self.timers);
        let known: usize = timers.iter().map(HashMap::len).sum();
        let routes = &mut timers[index];
        if let Some(timer) = routes.get(route) {
            return timer.clone();
        }
        if known >= MAX_ROUTES {
            let other = "(other routes)";
            return routes
                .entry(other.into())
                .or_insert_with(|| registry.timer(&format!("{method} {other}")))
                .clone();
        }
        // A route's timer shows once a response other than 405 says the
        // route serves the method (see `ResponseFuture`): a scanner's
        // methods make no timers.
        let name = format!("{method} {route}");
        let timer = if route == UNMATCHED {
            registry.timer(&name)
        } else {
            registry.timer_unlisted(&name)
        };
        routes.insert(route.into(), timer.clone());
        timer
    }
}

impl<S> Layer<S> for TimedLayer {
    type Service = TimedService<S>;

    fn layer(&self, inner: S) -> TimedService<S> {
        TimedService {
            inner,
            shared: Arc::new(PerService {
                layer: self.clone(),
                route: OnceLock::new(),
            }),
        }
    }
}

/// What the clones of one [`TimedService`] share: one `Arc`, so that
/// cloning the service (axum clones a route's service for every request)
/// costs one reference count.
#[derive(Debug)]
struct PerService {
    layer: TimedLayer,
    /// The first (method, route) this service served, with its timer.
    /// Inside an axum `Router` each service serves one method of one route
    /// (`Router::layer` and `route_layer` wrap each separately), so after
    /// the first request naming one is a string comparison, with no lock.
    route: OnceLock<(usize, Box<str>, Timer)>,
}

impl PerService {
    /// The timer of a request with this method and axum route pattern.
    fn timer(&self, method: (usize, &'static str), route: &str) -> Timer {
        if let Some((index, known, timer)) = self.route.get() {
            if *index == method.0 && **known == *route {
                return timer.clone();
            }
            return self.layer.route_timer(method, route);
        }
        let timer = self.layer.route_timer(method, route);
        let _ = self.route.set((method.0, route.into(), timer.clone()));
        timer
    }
}

/// The service made by [`TimedLayer`]: times each call's response future.
///
/// ```
/// use perf_timer::tower::{TimedLayer, TimedService};
/// use tower_layer::Layer as _;
///
/// let service: TimedService<()> = TimedLayer::new(perf_timer::global()).layer(());
/// # drop(service);
/// ```
#[derive(Clone, Debug)]
pub struct TimedService<S> {
    inner: S,
    shared: Arc<PerService>,
}

impl<S, B, ResBody> Service<Request<B>> for TimedService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = Response<TimedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = &*self.shared;
        let method = method_name(request.method());
        let request_is_head = request.method() == Method::HEAD;
        // The request is moved only when a route function needs its parts.
        let (timer, inner) = match matched_path(&request) {
            Some(route) => {
                let timer = shared.timer(method, route);
                (timer, self.inner.call(request))
            }
            None => {
                let (timer, request) = shared.layer.unmatched_timer(request);
                (timer, self.inner.call(request))
            }
        };
        // Not yet shown: this response may be the first to say whether
        // the route serves the method.
        let unlisted = (!timer.core().is_listed()).then(|| Unlisted {
            shared: self.shared.clone(),
            method,
            timer: timer.clone(),
            polled: false,
        });
        ResponseFuture {
            inner,
            timed: Some(TimedRun {
                timer: RunTimer::from_owned(timer),
                run: Run::new(),
            }),
            is_error: shared.layer.is_error,
            head_only: request_is_head,
            unlisted,
        }
    }
}

pin_project! {
    /// The response future of [`TimedService`]: the inner service's, its
    /// polls timed as the start of the request's run, which the response's
    /// [`TimedBody`] carries on to the body's end.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        timed: Option<TimedRun>,
        is_error: fn(StatusCode) -> bool,
        // A response to `HEAD` has no body to send, whatever its body
        // holds (axum drops it): the run ends with the head.
        head_only: bool,
        // While the route's timer is unlisted.
        unlisted: Option<Unlisted>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before its response: what dropping the inner
            // future allocates counts for the cancelled run.
            if let Some(timed) = this.project().timed {
                timed.run.dropping();
            }
        }
    }
}

/// A request whose route's timer is not listed yet: its response decides.
struct Unlisted {
    shared: Arc<PerService>,
    method: (usize, &'static str),
    timer: Timer,
    /// Whether its run began: a run that ends without a response (it
    /// panicked, or was dropped mid-way) shows its timer, so that it is
    /// never lost from view.
    polled: bool,
}

impl Drop for Unlisted {
    fn drop(&mut self) {
        if self.polled {
            self.timer.core().set_listed(true);
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: http_body::Body,
{
    type Output = Result<Response<TimedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(timed) = this.timed.as_mut() else {
            // Polled again after its response: as the inner future is.
            return this.inner.poll(cx).map_ok(|r| r.map(TimedBody::untimed));
        };
        let mut inner = this.inner;
        if let Some(unlisted) = this.unlisted.as_mut() {
            unlisted.polled = true;
        }
        let (output, end) = timed.poll_timed::<true, _>(cx, |cx| inner.as_mut().poll(cx));
        let Poll::Ready(output) = output else {
            return Poll::Pending;
        };
        let mut timed = this.timed.take().expect("taken only here, once");
        if let Some(mut unlisted) = this.unlisted.take() {
            unlisted.polled = false;
            let refused = matches!(&output, Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED);
            if refused && timed.run.is_unrecorded() {
                // A method the route does not serve: the run is one of
                // `METHOD (unmatched)`, and the route's timer stays unlisted.
                timed.timer = RunTimer::from_owned(
                    unlisted
                        .shared
                        .layer
                        .route_timer(unlisted.method, UNMATCHED),
                );
            } else {
                timed.timer.core().set_listed(true);
            }
        }
        match output {
            Err(error) => {
                if let Some(end) = end {
                    timed.run.complete(timed.timer.core(), end, true);
                }
                Poll::Ready(Err(error))
            }
            Ok(response) => {
                let is_error = (this.is_error)(response.status());
                // A body with nothing to send (or a run no longer timed)
                // ends the run with the response's head.
                if end.is_none() || *this.head_only || response.body().is_end_stream() {
                    if let Some(end) = end {
                        timed.run.complete(timed.timer.core(), end, is_error);
                    }
                    return Poll::Ready(Ok(response.map(TimedBody::untimed)));
                }
                timed.run.unsample();
                Poll::Ready(Ok(response.map(|inner| TimedBody {
                    inner,
                    timed: Some(timed),
                    is_error,
                })))
            }
        }
    }
}

pin_project! {
    /// The body of a response under [`TimedLayer`]: each poll of it is a
    /// poll of the request's run, which ends when the body does (its last
    /// frame, or an error, which counts as one), so that a streamed
    /// response (`Body::from_stream`, server-sent events, a large download)
    /// records the work of producing it, and wall time runs to the body's
    /// end. Dropped before its end (the client went away), the run counts
    /// as cancelled, its busy time kept.
    ///
    /// ```
    /// use perf_timer::tower::{TimedBody, TimedLayer, TimedService};
    /// use tower_layer::Layer as _;
    ///
    /// // The response type of a timed service: the body, wrapped.
    /// fn body_of(_: &TimedService<()>) {}
    /// let service = TimedLayer::new(perf_timer::global()).layer(());
    /// body_of(&service);
    /// # let _: Option<TimedBody<String>> = None;
    /// ```
    pub struct TimedBody<B> {
        #[pin]
        inner: B,
        timed: Option<TimedRun>,
        is_error: bool,
    }

    impl<B> PinnedDrop for TimedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(timed) = this.project().timed {
                timed.run.dropping();
            }
        }
    }
}

impl<B> TimedBody<B> {
    /// A body whose run already ended (or was never timed).
    fn untimed(inner: B) -> Self {
        TimedBody {
            inner,
            timed: None,
            is_error: false,
        }
    }
}

impl<B: http_body::Body> http_body::Body for TimedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let Some(timed) = this.timed.as_mut() else {
            return this.inner.poll_frame(cx);
        };
        let mut inner = this.inner;
        let (frame, end) = timed.poll_timed::<false, _>(cx, |cx| inner.as_mut().poll_frame(cx));
        let Some(end) = end else {
            return frame; // timing switched off: the run ends untimed
        };
        // The last frame: no more, an error, or a frame after which the
        // body says it has ended (a server then polls no more).
        let is_error = match &frame {
            Poll::Ready(None) => Some(*this.is_error),
            Poll::Ready(Some(Err(_))) => Some(true),
            Poll::Ready(Some(Ok(_))) if inner.is_end_stream() => Some(*this.is_error),
            _ => None,
        };
        if let Some(is_error) = is_error {
            if let Some(mut timed) = this.timed.take() {
                timed.run.complete(timed.timer.core(), end, is_error);
            }
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B> std::fmt::Debug for TimedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedBody")
            .field("timer", &self.timed.as_ref().map(|t| t.timer.name()))
            .finish_non_exhaustive()
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("timer", &self.timed.as_ref().map(|t| t.timer.name()))
            .finish_non_exhaustive()
    }
}
