//! `GET /search?q=&limit=&as_of=`: the map page's one search box (see
//! `planning::search`), answered on the blocking pool from one snapshot.

use super::features::query_pairs;
use super::planning_info::today_vn;
use super::{ApiError, DataState};
use crate::engine::temporal::is_day;
use crate::planning::search::search;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Suggestions unless `limit=` says otherwise, and the most.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;
/// Longest query read: a cadastral key with an address fits many times.
const MAX_QUERY_CHARS: usize = 200;

/// `GET /search`.
pub async fn get(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut q: Option<String> = None;
    let mut limit = DEFAULT_LIMIT;
    let mut as_of = today_vn();
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "q" if q.is_none() => q = Some(v),
            "q" => return Err(ApiError::bad_request("q= is given twice")),
            "limit" => {
                limit = v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit='{v}' is not a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?
            }
            "as_of" if is_day(&v) => as_of = v,
            "as_of" => {
                return Err(ApiError::bad_request(format!(
                    "as_of='{v}' is not a date (YYYY-MM-DD)"
                )))
            }
            "f" if v == "json" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /search takes q, limit, as_of"
                )))
            }
        }
    }
    let q = q.ok_or_else(|| ApiError::bad_request("q= is required: what to search for"))?;
    if q.trim().is_empty() {
        return Err(ApiError::bad_request("q= is empty: what to search for"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q= is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let cat = s.engine.snapshot();
    let answer = crate::blocking::spawn(move || search(&cat, &q, limit, &as_of)).await?;
    Ok(Json(answer).into_response())
}
