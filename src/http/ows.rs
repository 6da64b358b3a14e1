//! `/ows`: one endpoint for WMS and WFS, as GeoServer and MapServer offer
//! it. A KVP request goes to the service its `SERVICE` names, or, without
//! one, to the service that has its `REQUEST`; an XML body is a WFS
//! request (WMS takes no POST here). Capabilities documents name the
//! service's own endpoint (`/wms`, `/wfs`), which answers the same.

use super::{wfs, wms, AppState};
use crate::model::access::Access;
use crate::ogc::kvp::Kvp;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// Which service a KVP request is for.
#[derive(Debug, PartialEq, Eq)]
enum Service {
    Wms,
    Wfs,
}

const WMS_REQUESTS: &[&str] = &["GetMap", "GetFeatureInfo", "GetLegendGraphic"];
const WFS_REQUESTS: &[&str] = &[
    "GetFeature",
    "DescribeFeatureType",
    "GetPropertyValue",
    "ListStoredQueries",
    "DescribeStoredQueries",
    "Transaction",
];

fn service_of(k: &Kvp) -> Result<Service, String> {
    if let Some(s) = k.get("SERVICE") {
        return match s.to_ascii_uppercase().as_str() {
            "WMS" => Ok(Service::Wms),
            "WFS" => Ok(Service::Wfs),
            other => Err(format!(
                "SERVICE={other} is not offered here; use WMS or WFS"
            )),
        };
    }
    let req = k.get("REQUEST").unwrap_or("");
    let is = |list: &[&str]| list.iter().any(|r| r.eq_ignore_ascii_case(req));
    if is(WMS_REQUESTS) {
        Ok(Service::Wms)
    } else if is(WFS_REQUESTS) {
        Ok(Service::Wfs)
    } else {
        Err("SERVICE is missing: say SERVICE=WMS or SERVICE=WFS".into())
    }
}

/// An OWS exception report for a request no service could take.
fn unknown_service(msg: String) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ows:ExceptionReport xmlns:ows=\"http://www.opengis.net/ows/1.1\" version=\"2.0.0\"><ows:Exception exceptionCode=\"{}\" locator=\"service\"><ows:ExceptionText>{}</ows:ExceptionText></ows:Exception></ows:ExceptionReport>\n",
        if msg.starts_with("SERVICE is missing") {
            "MissingParameterValue"
        } else {
            "InvalidParameterValue"
        },
        msg.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    );
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// `GET /ows`.
pub async fn get(
    State(s): State<AppState>,
    recorder: Option<Extension<Access>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let kvp = Kvp::parse(q.as_deref().unwrap_or(""));
    let recorder = recorder.map(|e| e.0);
    match service_of(&kvp) {
        Ok(Service::Wms) => match s.auth.access(&headers, recorder.as_ref()).await {
            Ok(access) => wms::handle(s.data, s.web, headers, kvp, access).await,
            Err(e) => e.into_response(),
        },
        // `/wfs` wants SERVICE (the WFS ETS checks it); here the
        // dispatch already knows it.
        Ok(Service::Wfs) => {
            let kvp = kvp.with_default("SERVICE", "WFS");
            wfs::handle(s, headers, kvp, None, recorder).await
        }
        Err(m) => unknown_service(m),
    }
}

/// `POST /ows`: WFS XML (or form-encoded KVP) bodies.
pub async fn post(
    State(s): State<AppState>,
    recorder: Option<Extension<Access>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let kvp = Kvp::parse(q.as_deref().unwrap_or(""));
    if service_of(&kvp) == Ok(Service::Wms) {
        return unknown_service("WMS takes GET requests; POST is for WFS".into());
    }
    let kvp = kvp.with_default("SERVICE", "WFS");
    wfs::handle(s, headers, kvp, Some(body), recorder.map(|e| e.0)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_comes_from_service_or_else_from_the_request() {
        let s = |q: &str| service_of(&Kvp::parse(q));
        assert_eq!(s("service=wms&request=GetCapabilities"), Ok(Service::Wms));
        assert_eq!(s("SERVICE=WFS&REQUEST=GetCapabilities"), Ok(Service::Wfs));
        assert_eq!(s("request=GetMap"), Ok(Service::Wms));
        assert_eq!(s("REQUEST=getfeature"), Ok(Service::Wfs));
        assert!(s("request=GetCapabilities").is_err());
        assert!(s("service=WCS").unwrap_err().contains("WCS"));
    }
}
