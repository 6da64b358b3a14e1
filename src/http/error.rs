//! The one place errors become HTTP responses: RFC 9457 problem details
//! (`application/problem+json`). 5xx bodies never carry internals; those go
//! to the log.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Seconds a client is told to wait (`Retry-After`) when the database
/// cannot be reached.
pub const RETRY_AFTER_SECS: u64 = 5;
/// [`RETRY_AFTER_SECS`] as the header says it.
const RETRY_AFTER: &str = "5";

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
    /// Members beyond the standard ones (RFC 9457 extensions).
    extra: serde_json::Map<String, serde_json::Value>,
    /// Extra response headers (e.g. `WWW-Authenticate` on a 401).
    headers: Vec<(header::HeaderName, &'static str)>,
}

impl ApiError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            detail: detail.into(),
            extra: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    /// 400 Bad Request naming the problem.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    /// 401 Unauthorized with the authentication challenge to answer.
    pub fn unauthorized(detail: impl Into<String>, challenge: &'static str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail);
        e.headers.push((header::WWW_AUTHENTICATE, challenge));
        e
    }

    /// 403 Forbidden: known, but not allowed to do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    /// 409 Conflict: the request is understood but the resource's state
    /// does not allow it.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", detail)
    }

    /// 408 Request Timeout: the request did not arrive in time.
    pub fn request_timeout(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "Request Timeout", detail)
    }

    /// 413 Content Too Large: the body is over the route's limit.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large", detail)
    }

    /// 503 Service Unavailable (not ready yet, store unreachable).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            detail,
        )
    }

    /// 503 with `Retry-After` ([`RETRY_AFTER_SECS`]): the database cannot
    /// be reached just now (restarting, down). `what` says what was not
    /// done; the cause goes to the log, not to the client.
    pub fn store_unavailable(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!("{what}: {cause}");
        let mut e = Self::unavailable(format!(
            "{what}: the database cannot be reached just now; try again in {RETRY_AFTER_SECS} s"
        ));
        e.headers.push((header::RETRY_AFTER, RETRY_AFTER));
        e
    }

    /// A store failure that is not the client's: 503 with `Retry-After`
    /// when the database cannot be reached for now (see
    /// [`ApiError::store_unavailable`]), else a 500.
    pub fn store(what: &str, e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            Self::store_unavailable(what, e)
        } else {
            Self::internal(format!("{what}: {e}"))
        }
    }

    /// 500: the cause is logged, the client sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "the server failed to answer this request; the cause is in its log",
        )
    }

    /// Adds an extension member to the problem document.
    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> Self {
        let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.extra.insert(name.to_owned(), v);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        body.insert("type".into(), "about:blank".into());
        body.insert("title".into(), self.title.into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.into());
        body.extend(self.extra);
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::Value::Object(body).to_string(),
        )
            .into_response();
        for (name, value) in self.headers {
            r.headers_mut()
                .insert(name, header::HeaderValue::from_static(value));
        }
        r
    }
}

impl From<crate::crs::CrsError> for ApiError {
    fn from(e: crate::crs::CrsError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

impl From<crate::engine::filter::FilterError> for ApiError {
    fn from(e: crate::engine::filter::FilterError) -> Self {
        ApiError::bad_request(format!("filter: {e}"))
    }
}

impl From<crate::engine::cql2::Cql2Error> for ApiError {
    fn from(e: crate::engine::cql2::Cql2Error) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_store_is_503_with_retry_after_and_other_failures_500() {
        assert_eq!(RETRY_AFTER, RETRY_AFTER_SECS.to_string());
        let e = crate::store::StoreError::Unavailable("connection refused".into());
        let r = ApiError::store("the edit was not applied", e).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], RETRY_AFTER);
        let e = crate::store::StoreError::Postgis("syntax error".into());
        let r = ApiError::store("the edit was not applied", e).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
    }
}
