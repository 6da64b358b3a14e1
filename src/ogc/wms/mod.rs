//! WMS 1.3.0 and 1.1.1: the vocabulary every part of the service shares —
//! versions and their negotiation, parameter names, exception codes,
//! limits and formats, the exception type and its reports, the escaping
//! of XML text, a request's environment and its reply. The parts build on
//! it in one direction:
//!
//! * [`request`]: the parameters GetMap and GetFeatureInfo share (layers,
//!   CRS, BBOX, image frame), parsed and validated;
//! * [`map`]: GetMap, drawn and encoded; [`legend`]: GetLegendGraphic;
//! * [`info`]: GetFeatureInfo and its formats; [`caps`]: capabilities;
//! * [`service`]: the [`service::Wms`] itself, which dispatches a request
//!   to its operation and caches capabilities documents.
//!
//! Everything here is synchronous CPU work over an engine snapshot: the
//! http layer runs [`service::Wms::handle`] on the blocking pool. Every bad
//! input becomes a `ServiceExceptionReport` (HTTP 400) naming the parameter
//! and, for limits, the limit; nothing a client sends can panic or hang it.

pub mod caps;
pub mod info;
pub mod legend;
pub mod map;
pub mod request;
pub mod service;

use crate::config::Config;
use crate::engine::Catalog;

/// Exception codes of WMS 1.3.0 (and 1.1.1, where `InvalidSRS` replaces
/// `InvalidCRS`).
pub mod code {
    /// The CRS/SRS is not offered.
    pub const INVALID_CRS: &str = "InvalidCRS";
    /// WMS 1.1.1 spelling of `InvalidCRS`.
    pub const INVALID_SRS: &str = "InvalidSRS";
    /// A layer name is not offered.
    pub const LAYER_NOT_DEFINED: &str = "LayerNotDefined";
    /// A style name is not offered for its layer.
    pub const STYLE_NOT_DEFINED: &str = "StyleNotDefined";
    /// An output format is not offered.
    pub const INVALID_FORMAT: &str = "InvalidFormat";
    /// GetFeatureInfo on a layer that is not queryable.
    pub const LAYER_NOT_QUERYABLE: &str = "LayerNotQueryable";
    /// I/J (X/Y) outside the map.
    pub const INVALID_POINT: &str = "InvalidPoint";
    /// A required parameter is missing.
    pub const MISSING_PARAMETER_VALUE: &str = "MissingParameterValue";
    /// A parameter value is malformed or over a limit.
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
    /// REQUEST names no WMS operation.
    pub const OPERATION_NOT_SUPPORTED: &str = "OperationNotSupported";
    /// GetCapabilities with UPDATESEQUENCE equal to the current one.
    pub const CURRENT_UPDATE_SEQUENCE: &str = "CurrentUpdateSequence";
    /// GetCapabilities with UPDATESEQUENCE above the current one.
    pub const INVALID_UPDATE_SEQUENCE: &str = "InvalidUpdateSequence";
}

/// WMS parameter names (case-insensitive on the wire).
pub mod param {
    /// SERVICE
    pub const SERVICE: &str = "SERVICE";
    /// VERSION
    pub const VERSION: &str = "VERSION";
    /// WMTVER (WMS 1.0 spelling of VERSION)
    pub const WMTVER: &str = "WMTVER";
    /// REQUEST
    pub const REQUEST: &str = "REQUEST";
    /// LAYERS
    pub const LAYERS: &str = "LAYERS";
    /// STYLES
    pub const STYLES: &str = "STYLES";
    /// CRS (1.3.0)
    pub const CRS: &str = "CRS";
    /// SRS (1.1.1)
    pub const SRS: &str = "SRS";
    /// BBOX
    pub const BBOX: &str = "BBOX";
    /// WIDTH
    pub const WIDTH: &str = "WIDTH";
    /// HEIGHT
    pub const HEIGHT: &str = "HEIGHT";
    /// FORMAT
    pub const FORMAT: &str = "FORMAT";
    /// TRANSPARENT
    pub const TRANSPARENT: &str = "TRANSPARENT";
    /// BGCOLOR
    pub const BGCOLOR: &str = "BGCOLOR";
    /// EXCEPTIONS
    pub const EXCEPTIONS: &str = "EXCEPTIONS";
    /// QUERY_LAYERS
    pub const QUERY_LAYERS: &str = "QUERY_LAYERS";
    /// INFO_FORMAT
    pub const INFO_FORMAT: &str = "INFO_FORMAT";
    /// FEATURE_COUNT
    pub const FEATURE_COUNT: &str = "FEATURE_COUNT";
    /// I (1.3.0)
    pub const I: &str = "I";
    /// J (1.3.0)
    pub const J: &str = "J";
    /// X (1.1.1)
    pub const X: &str = "X";
    /// Y (1.1.1)
    pub const Y: &str = "Y";
    /// LAYER (GetLegendGraphic)
    pub const LAYER: &str = "LAYER";
    /// STYLE (GetLegendGraphic)
    pub const STYLE: &str = "STYLE";
    /// UPDATESEQUENCE (GetCapabilities)
    pub const UPDATESEQUENCE: &str = "UPDATESEQUENCE";
}

/// The one style every layer offers.
pub const DEFAULT_STYLE: &str = "default";
/// Most layers in one GetMap (`LayerLimit` in the capabilities).
pub const LAYER_LIMIT: usize = 64;
/// Most features one GetFeatureInfo returns per layer.
pub const MAX_FEATURE_COUNT: usize = 1000;
/// Search radius of GetFeatureInfo around the pixel for points and lines.
pub const INFO_TOLERANCE_PX: f64 = 5.0;
/// Longest query string accepted, bytes.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Map formats offered by GetMap.
pub const MAP_FORMATS: &[&str] = &["image/png", "image/jpeg"];
/// Formats offered by GetFeatureInfo.
pub const INFO_FORMATS: &[&str] = &[
    "text/plain",
    "text/html",
    "application/json",
    "application/vnd.ogc.gml",
];

/// A WMS version this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 1.1.1: `SRS`, `X`/`Y`, lon/lat for EPSG:4326.
    V111,
    /// 1.3.0: `CRS`, `I`/`J`, EPSG axis order.
    V130,
}

impl Version {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V111 => "1.1.1",
            Version::V130 => "1.3.0",
        }
    }

    /// Negotiation (WMS 1.3.0 §6.2.4): no version → the highest; a known
    /// one → itself; otherwise the nearest lower one we speak, or the
    /// lowest when it is below everything.
    pub fn negotiate(requested: Option<&str>) -> Version {
        let Some(v) = requested.map(str::trim).filter(|v| !v.is_empty()) else {
            return Version::V130;
        };
        let parts: Vec<u32> = v
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .chain(std::iter::repeat(0))
            .take(3)
            .collect();
        if (parts[0], parts[1], parts[2]) >= (1, 3, 0) {
            Version::V130
        } else {
            Version::V111
        }
    }
}

/// A service exception: code, locator (the parameter) and message.
#[derive(Debug, Clone)]
pub struct WmsException {
    /// One of [`code`], or none for a generic error.
    pub code: Option<&'static str>,
    /// The offending parameter.
    pub locator: Option<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl WmsException {
    /// An exception with a code and locator.
    pub fn new(code: &'static str, locator: &str, message: impl Into<String>) -> Self {
        WmsException {
            code: Some(code),
            locator: Some(locator.to_owned()),
            message: message.into(),
        }
    }

    pub(crate) fn missing(p: &str) -> Self {
        WmsException::new(
            code::MISSING_PARAMETER_VALUE,
            p,
            format!("parameter {p} is required"),
        )
    }

    fn invalid(p: &str, message: impl Into<String>) -> Self {
        WmsException::new(code::INVALID_PARAMETER_VALUE, p, message)
    }
}

/// A service exception report in the version's dialect; the content type
/// is `text/xml` for 1.3.0 and `application/vnd.ogc.se_xml` for 1.1.1.
pub fn exception_report(v: Version, e: &WmsException) -> (&'static str, String) {
    let mut attrs = String::new();
    if let Some(c) = e.code {
        let c = if v == Version::V111 && c == code::INVALID_CRS {
            code::INVALID_SRS
        } else {
            c
        };
        attrs.push_str(&format!(" code=\"{c}\""));
    }
    if let Some(l) = &e.locator {
        attrs.push_str(&format!(" locator=\"{}\"", crate::ogc::xml::escape(l)));
    }
    let msg = crate::ogc::xml::escape(&e.message);
    match v {
        Version::V130 => (
            "text/xml; charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceExceptionReport version=\"1.3.0\" xmlns=\"http://www.opengis.net/ogc\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">\n  <ServiceException{attrs}>{msg}</ServiceException>\n</ServiceExceptionReport>\n"
            ),
        ),
        Version::V111 => (
            "application/vnd.ogc.se_xml; charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceExceptionReport version=\"1.1.1\">\n  <ServiceException{attrs}>{msg}</ServiceException>\n</ServiceExceptionReport>\n"
            ),
        ),
    }
}

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status (200, or 400 for an exception report).
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn ok(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.to_owned(),
            body,
        }
    }

    fn exception(v: Version, e: &WmsException) -> Reply {
        let (ct, body) = exception_report(v, e);
        Reply {
            status: 400,
            content_type: ct.to_owned(),
            body: body.into_bytes(),
        }
    }
}

/// Everything a request needs besides its parameters.
pub struct Env<'a> {
    /// The engine snapshot of this request.
    pub catalog: &'a Catalog,
    /// Configuration (limits, `[ogc]` metadata).
    pub config: &'a Config,
    /// The absolute URL of the WMS endpoint (e.g.
    /// `https://gis.danang.gov.vn/geoplan/wms`).
    pub service_url: &'a str,
    /// Who asks: which fields GetFeatureInfo shows them.
    pub access: &'a crate::model::access::Access,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_negotiate_to_the_nearest_one_spoken() {
        assert_eq!(Version::negotiate(None), Version::V130);
        assert_eq!(Version::negotiate(Some("1.3.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("2.0.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("1.1.1")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.1.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.0.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("garbage")), Version::V111);
    }

    #[test]
    fn exception_reports_escape_and_use_the_version_dialect() {
        let e = WmsException::new(code::INVALID_CRS, "CRS", "bad <crs> & co");
        let (ct, x) = exception_report(Version::V130, &e);
        assert!(ct.starts_with("text/xml"));
        assert!(x.contains("code=\"InvalidCRS\"") && x.contains("bad &lt;crs&gt; &amp; co"));
        let (ct, x) = exception_report(Version::V111, &e);
        assert!(ct.starts_with("application/vnd.ogc.se_xml"));
        assert!(x.contains("code=\"InvalidSRS\""));
    }
}
