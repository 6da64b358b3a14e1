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
}

impl ApiError {
    /// 400 Bad Request naming the problem.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            title: "Bad Request",
            detail: detail.into(),
        }
    }

    /// 403 Forbidden: known, but not allowed to do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            title: "Forbidden",
            detail: detail.into(),
        }
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            title: "Not Found",
            detail: detail.into(),
        }
    }

    /// 503 Service Unavailable (not ready yet, store unreachable).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Service Unavailable",
            detail: detail.into(),
        }
    }

    /// 500: the cause is logged, the client sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal Server Error",
            detail: "the server failed to answer this request; the cause is in its log".into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
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
