//! Request bodies against slow clients: a body must arrive whole within
//! `[limits] body_read_timeout_secs` of its request's headers, else the
//! request is answered 408 and its connection closed. Without it a client
//! that announces a large body and then sends a byte every few seconds
//! (a slowloris body) holds its connection, and on `/wfs` one of the
//! capped permits, for as long as the route's whole timeout.
//!
//! The body is gathered here, inside the route's body limit (so never
//! more than `max_body_bytes`), and handed on whole: the handlers that
//! take a body read it whole anyway. A request without a body (every GET,
//! so every tile) passes straight through.

use super::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use http_body_util::BodyExt;
use std::time::Duration;

/// Middleware (`axum::middleware::from_fn_with_state`, with the time a
/// body may take): lets the request through once its body is in, or
/// answers 408 naming the limit when it is not in time.
pub async fn read_within(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(limit, body.collect()).await {
        Ok(Ok(whole)) => {
            next.run(Request::from_parts(parts, Body::from(whole.to_bytes())))
                .await
        }
        Ok(Err(e)) => {
            // The route's body limit, or the client gone mid-body.
            let mut cause = std::error::Error::source(&e);
            let mut too_large = false;
            while let Some(c) = cause {
                too_large |= c.is::<http_body_util::LengthLimitError>();
                cause = c.source();
            }
            if too_large {
                ApiError::too_large("the request body is larger than [limits] max_body_bytes")
                    .into_response()
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
                    .into_response()
            }
        }
        Err(_) => {
            let mut r = ApiError::request_timeout(format!(
                "the request body did not arrive within {} s ([limits] body_read_timeout_secs)",
                limit.as_secs()
            ))
            .into_response();
            // What is left of the body is never read: the connection
            // cannot carry another request.
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}
