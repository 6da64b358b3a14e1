//! The one place errors become HTTP responses: RFC 9457 problem details
//! (`application/problem+json`). 5xx bodies never carry internals; those go
//! to the log.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

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
