//! Caps on heavy requests: WFS (streams of up to a million features), WMS
//! maps, PDF sheets and reports, imports. Each kind has a number of
//! requests it may answer at once (`[limits] max_concurrent_*`); one more
//! is answered at once with 503 and `Retry-After` rather than queued
//! behind the others until the client gives up. A permit is held until the
//! response body is finished, so a stream counts for as long as it runs.

use super::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a client is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 5;

/// One kind of heavy request and how many may run at once.
#[derive(Clone)]
pub struct Gate {
    /// What the requests are, for the 503's message ("WFS requests").
    what: &'static str,
    /// The config key that sets the cap, named in the 503.
    key: &'static str,
    permits: Arc<Semaphore>,
    max: usize,
}

impl Gate {
    /// A gate letting `max` requests of a kind through at once (at least
    /// one).
    pub fn new(what: &'static str, key: &'static str, max: usize) -> Gate {
        let max = max.max(1);
        Gate {
            what,
            key,
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Middleware (`axum::middleware::from_fn_with_state`): lets the request
/// through with a permit, which the response body keeps until it ends, or
/// answers 503 with `Retry-After` when every permit is taken.
pub async fn admit(State(g): State<Gate>, req: Request, next: Next) -> Response {
    let Ok(permit) = g.permits.clone().try_acquire_owned() else {
        let mut res = ApiError::unavailable(format!(
            "{} {} are being answered, the most at once ([limits] {}); try again in {RETRY_AFTER_SECS} s",
            g.max, g.what, g.key
        ))
        .into_response();
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
