//! Caps on heavy requests: WFS (streams of up to a million features), WMS
//! maps, PDF sheets and reports, imports. Each kind has a number of
//! requests it may answer at once (`[limits] max_concurrent_*`). One more
//! waits in line for a permit, first come first served, at most
//! `[limits] heavy_wait_ms` (a burst of map requests from QGIS passes);
//! past that it is answered 503 with `Retry-After` rather than queued
//! until the client gives up. A permit is held until the response body is
//! finished, so a stream counts for as long as it runs.

use super::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a client is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 5;

/// How a refusal is written: problem JSON, or the exception report of
/// the OGC service the clients (QGIS, OWSLib) expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    /// `application/problem+json`.
    Json,
    /// A WFS (OWS 1.1) `ExceptionReport`.
    Wfs,
    /// A WMS `ServiceExceptionReport`.
    Wms,
}

/// One kind of heavy request and how many may run at once.
#[derive(Clone)]
pub struct Gate {
    /// What the requests are, for the 503's message ("WFS requests").
    what: &'static str,
    /// How the 503 is written.
    speaks: Speaks,
    /// The config key that sets the cap, named in the 503.
    key: &'static str,
    permits: Arc<Semaphore>,
    max: usize,
    /// How long one more request waits for a permit before its 503.
    wait: Duration,
}

impl Gate {
    /// A gate letting `max` requests of a kind through at once (at least
    /// one); the next waits up to `wait` for one of them to end, then is
    /// refused in the form `speaks`.
    pub fn new(
        what: &'static str,
        key: &'static str,
        max: usize,
        wait: Duration,
        speaks: Speaks,
    ) -> Gate {
        let max = max.max(1);
        Gate {
            what,
            speaks,
            key,
            permits: Arc::new(Semaphore::new(max)),
            max,
            wait,
        }
    }

    /// A permit: at once if one is free, else the first to come free
    /// within the wait; `None` past it.
    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Some(p);
        }
        // The semaphore is never closed; a timeout is the only refusal.
        tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// Middleware (`axum::middleware::from_fn_with_state`): lets the request
/// through with a permit, which the response body keeps until it ends, or
/// answers 503 with `Retry-After` when every permit stayed taken for the
/// whole wait.
pub async fn admit(State(g): State<Gate>, req: Request, next: Next) -> Response {
    let Some(permit) = g.permit().await else {
        let message = format!(
            "{} {} are being answered, the most at once ([limits] {}), and none ended within {} ms; try again in {RETRY_AFTER_SECS} s",
            g.max,
            g.what,
            g.key,
            g.wait.as_millis()
        );
        let mut res = match g.speaks {
            Speaks::Json => ApiError::unavailable(message).into_response(),
            Speaks::Wfs => {
                let e = crate::ogc::wfs::WfsError {
                    code: "OperationProcessingFailed",
                    locator: None,
                    message,
                    status: 503,
                };
                let body = e.report(crate::ogc::wfs::Version::V200);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, "application/xml")],
                    body,
                )
                    .into_response()
            }
            Speaks::Wms => {
                use crate::ogc::wms::{exception_report, Version, WmsException};
                let e = WmsException {
                    code: None,
                    locator: None,
                    message,
                };
                let (mime, body) = exception_report(Version::V130, &e);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, mime)],
                    body,
                )
                    .into_response()
            }
        };
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        return res;
    };
    let res = next.run(req).await;
    // The permit goes with the body, dropped when it is (at its end, or
    // when the client goes away).
    res.map(|inner| {
        Body::new(Held {
            inner,
            _permit: permit,
        })
    })
}

/// A response body holding its request's permit; otherwise the body
/// itself (frames, end and size hint, so Content-Length stays).
struct Held {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
