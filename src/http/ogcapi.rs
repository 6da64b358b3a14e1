//! OGC API – Features over HTTP, mounted at `/ogcapi` (the landing page
//! URL given to QGIS, GDAL and OWSLib). Documents come from
//! [`crate::ogc::ogcapi`]; items share the `/layers` query pipeline in
//! [`super::features`]. Every answer is JSON; errors are problem details
//! (400 for an unknown or invalid parameter, 404 for an unknown collection
//! or feature).

use super::error::ApiError;
use super::features::{self, base_url, find_in, query_pairs, Api};
use super::state::DataState;
use crate::engine::Layer;
use crate::model::access::Access;
use crate::ogc::ogcapi::{self as doc, ROOT};
use axum::extract::{FromRef, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The absolute URL of the API root.
fn root(s: &DataState, headers: &HeaderMap) -> String {
    format!("{}{ROOT}", base_url(s, headers))
}

/// Documents other than items take only `f=json`; anything else is 400.
fn check_query(raw: Option<&str>) -> Result<(), ApiError> {
    for (k, v) in query_pairs(raw) {
        match (k.as_str(), v.as_str()) {
            ("f", "json") => {}
            ("f", other) => {
                return Err(ApiError::bad_request(format!(
                    "f={other}: only f=json is offered"
                )))
            }
            (other, _) => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'"
                )))
            }
        }
    }
    Ok(())
}

/// A JSON document, its `links` also as an RFC 8288 `Link` header.
fn json_response(ty: &'static str, v: serde_json::Value) -> Response {
    let r = ([(header::CONTENT_TYPE, ty)], v.to_string()).into_response();
    match v.get("links") {
        Some(links) => features::with_link_header(r, links),
        None => r,
    }
}

/// A document request (anything but items): its query may hold `f=json`
/// only, and it knows the API root's absolute URL.
pub struct DocRequest {
    root: String,
}

impl<S> FromRequestParts<S> for DocRequest
where
    DataState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        check_query(parts.uri.query())?;
        Ok(DocRequest {
            root: root(&DataState::from_ref(state), &parts.headers),
        })
    }
}

/// The collection `id`, or 404 naming where the list is.
fn collection_of(s: &DataState, id: &str) -> Result<Arc<Layer>, ApiError> {
    find_in(&s.engine.snapshot(), id, "/ogcapi/collections")
}

/// `GET /ogcapi`: the landing page (self, service-desc, conformance, data).
pub async fn landing(State(s): State<DataState>, d: DocRequest) -> Response {
    json_response(doc::JSON, doc::landing(&d.root, &s.config))
}

/// `GET /ogcapi/conformance`.
pub async fn conformance(d: DocRequest) -> Response {
    json_response(doc::JSON, doc::conformance(&d.root))
}

/// `GET /ogcapi/api`: the OpenAPI 3.0 document of the live catalog.
pub async fn api(State(s): State<DataState>, d: DocRequest) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    let v = crate::blocking::spawn(move || doc::openapi(&d.root, &cat, &s.config)).await?;
    Ok(json_response(doc::OPENAPI_JSON, v))
}

/// `GET /ogcapi/collections`.
pub async fn collections(State(s): State<DataState>, d: DocRequest) -> Result<Response, ApiError> {
    let cat = s.engine.snapshot();
    // Temporal extents scan the temporal columns: off the async runtime.
    let v = crate::blocking::spawn(move || doc::collections(&d.root, &cat)).await?;
    Ok(json_response(doc::JSON, v))
}

/// `GET /ogcapi/collections/{id}`.
pub async fn collection(
    State(s): State<DataState>,
    Path(id): Path<String>,
    d: DocRequest,
) -> Result<Response, ApiError> {
    let l = collection_of(&s, &id)?;
    let v = crate::blocking::spawn(move || doc::collection(&d.root, &l)).await?;
    Ok(json_response(doc::JSON, v))
}

/// `GET /ogcapi/collections/{id}/queryables`: a JSON Schema.
pub async fn queryables(
    State(s): State<DataState>,
    Path(id): Path<String>,
    access: Access,
    d: DocRequest,
) -> Result<Response, ApiError> {
    let l = collection_of(&s, &id)?;
    Ok(json_response(
        doc::SCHEMA_JSON,
        doc::queryables(&d.root, &l, access.role()),
    ))
}

/// `GET /ogcapi/collections/{id}/items`: a GeoJSON FeatureCollection.
pub async fn items(
    State(s): State<DataState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    access: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let l = collection_of(&s, &id)?;
    let req = features::features_request(&s, &l, raw.as_deref(), Api::OgcApi, &headers, access)?;
    let base = format!("{}/collections/{}/items", root(&s, &headers), l.id);
    features::collection_response(l, req, base, true).await
}

/// `GET /ogcapi/collections/{id}/items/{fid}`: one GeoJSON feature with
/// `self` and `collection` links.
pub async fn item(
    State(s): State<DataState>,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    access: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let l = collection_of(&s, &id)?;
    let coll = format!("{}/collections/{}", root(&s, &headers), l.id);
    let links = json!([
        {"rel": "self", "type": doc::GEOJSON, "href": format!("{coll}/items/{fid}")},
        {"rel": "collection", "type": doc::JSON, "href": coll},
    ]);
    features::feature_response(&l, &fid, raw.as_deref(), Some(links), &access)
}
