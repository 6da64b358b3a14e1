//! `GET /parcels`: parcel lookup by cadastral key or free text (see
//! `planning::parcels`), answered on the blocking pool from one snapshot.

use super::features::query_pairs;
use super::{base_url, ApiError, DataState};
use crate::planning::parcels::{find, ParcelQuery};
use crate::planning::PlanningError;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Results of one lookup unless `limit=` says otherwise, and the most.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 1000;

impl From<PlanningError> for ApiError {
    fn from(e: PlanningError) -> Self {
        match e {
            PlanningError::BadRequest(m) => ApiError::bad_request(m),
            PlanningError::NotFound {
                message,
                suggestions,
            } if !suggestions.is_empty() => ApiError::not_found(format!(
                "{message}; did you mean: {}?",
                suggestions.join(", ")
            )),
            PlanningError::NotFound { message, .. } => ApiError::not_found(message),
            e @ PlanningError::MissingLayer(_) => ApiError::unavailable(e.to_string()),
        }
    }
}

fn positive(name: &str, v: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::bad_request(format!("{name}='{v}' is not a positive integer")))
}

/// Reads the parameters of `/parcels`.
pub fn parse(raw: Option<&str>) -> Result<ParcelQuery, ApiError> {
    let mut q = ParcelQuery {
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "commune" => q.commune = Some(v),
            "sheet" => q.sheet = Some(positive("sheet", &v)?),
            "parcel" => q.parcel = Some(positive("parcel", &v)?),
            "q" => q.q = Some(v),
            "limit" => {
                let n = positive("limit", &v)?;
                if n as usize > MAX_LIMIT {
                    return Err(ApiError::bad_request(format!(
                        "limit={n} is above the maximum {MAX_LIMIT}"
                    )));
                }
                q.limit = n as usize;
            }
            "f" if v == "json" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /parcels takes commune, sheet, parcel, q, limit"
                )))
            }
        }
    }
    Ok(q)
}

/// `GET /parcels`.
pub async fn get(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q = parse(raw.as_deref())?;
    let cat = s.engine.snapshot();
    let base = base_url(&s, &headers);
    let answer = crate::blocking::spawn(move || find(&cat, &q)).await??;
    let mut v = serde_json::to_value(&answer).map_err(ApiError::internal)?;
    if let Some(list) = v.get_mut("parcels").and_then(|p| p.as_array_mut()) {
        for p in list {
            let fid = p["fid"].as_i64().unwrap_or_default();
            p["links"] = serde_json::json!([
                {"rel": "item", "href": format!("{base}/layers/parcels/features/{fid}")},
                {"rel": "planning", "href": format!("{base}/planning?parcel={fid}")},
            ]);
        }
    }
    Ok(Json(v).into_response())
}
