//! Request ids and the access log. Every request gets an id (the client's
//! `X-Request-Id` when it sends one, else a new one), answered in the
//! response's `X-Request-Id` and carried by a tracing span, so that every
//! log line written while answering it names it. The access log is one
//! event per response (target `geoplan::access`: method, URI, status,
//! milliseconds), off unless `geoplan serve --access-log` turns it on;
//! the span, and so the id on other log lines, comes with it.

use axum::http::{HeaderValue, Request, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};
use tower_http::trace::{DefaultOnRequest, MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

/// New request ids: this process's start (seconds, hex) and a counter, so
/// that ids stay unique across restarts and short in logs.
#[derive(Clone, Copy, Default)]
pub struct Ids;

impl MakeRequestId for Ids {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        static START: LazyLock<u64> = LazyLock::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        let id = format!("{:x}-{}", *START, NEXT.fetch_add(1, Ordering::Relaxed));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The span of a request: its id, method and URI.
#[derive(Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // Target geoplan::access, like the access log: off with it, so that
        // a server without --access-log makes no span per request (a tile
        // takes tens of microseconds; formatting a span is a good share).
        tracing::info_span!(target: "geoplan::access", "request", request_id = %id, method = %req.method(), uri = %req.uri())
    }
}

/// The access log's event for a response.
#[derive(Clone, Copy, Default)]
pub struct AccessLog;

impl<B> OnResponse<B> for AccessLog {
    fn on_response(self, res: &Response<B>, latency: Duration, _: &Span) {
        tracing::info!(
            target: "geoplan::access",
            status = res.status().as_u16(),
            ms = latency.as_secs_f64() * 1000.0,
            "answered"
        );
    }
}

/// The tracing layer of the router: a span per request, the access log
/// per response, failures (5xx) as tower-http logs them.
pub fn trace_layer(
) -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, DefaultOnRequest, AccessLog>
{
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(AccessLog)
}
