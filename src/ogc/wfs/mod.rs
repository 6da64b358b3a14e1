//! WFS 2.0.0, 1.1.0 and 1.0.0: the vocabulary every part of the service
//! shares — versions, KVP parameter names, the output formats, the
//! exception type and its OWS reports, type names and the default CRS.
//! The parts build on it in one direction:
//!
//! * [`request`]: requests in KVP and XML (POST), version negotiation;
//! * [`query`]: a parsed GetFeature compiled into engine queries and run;
//! * [`out`]: feature collections written from a [`query::Plan`];
//! * [`doc`]: capabilities, DescribeFeatureType and stored queries;
//! * [`transaction`]: a parsed `Transaction` (WFS-T) compiled into store
//!   edits, and its response.
//!
//! Type names are prefixed (`geoplan:parcels`) identically in every
//! version; unprefixed names are accepted. Feature ids are `layer.fid`.
//! Nothing here does IO or awaits: `http::wfs` runs [`query::plan`] on the
//! blocking pool and streams what [`out`] writes.

pub mod doc;
pub mod out;
pub mod query;
pub mod request;
pub mod transaction;

use super::gml::GmlVersion;
use super::xml;
use crate::crs::Crs;
use crate::engine::{Catalog, Layer};
use crate::model::FileFormat;
use std::fmt::Write;
use std::sync::Arc;

/// The stored query every WFS 2.0 server offers.
pub const GET_FEATURE_BY_ID: &str = "urn:ogc:def:query:OGC-WFS::GetFeatureById";
/// Name of the geometry property of every feature type.
pub const GEOMETRY_NAME: &str = "geom";

/// KVP parameter names (upper case; lookups are case-insensitive).
pub mod param {
    /// SERVICE.
    pub const SERVICE: &str = "SERVICE";
    /// REQUEST.
    pub const REQUEST: &str = "REQUEST";
    /// VERSION.
    pub const VERSION: &str = "VERSION";
    /// ACCEPTVERSIONS.
    pub const ACCEPT_VERSIONS: &str = "ACCEPTVERSIONS";
    /// TYPENAMES (2.0).
    pub const TYPENAMES: &str = "TYPENAMES";
    /// TYPENAME (1.x).
    pub const TYPENAME: &str = "TYPENAME";
    /// COUNT (2.0).
    pub const COUNT: &str = "COUNT";
    /// MAXFEATURES (1.x).
    pub const MAXFEATURES: &str = "MAXFEATURES";
    /// STARTINDEX.
    pub const STARTINDEX: &str = "STARTINDEX";
    /// SRSNAME.
    pub const SRSNAME: &str = "SRSNAME";
    /// BBOX.
    pub const BBOX: &str = "BBOX";
    /// FILTER.
    pub const FILTER: &str = "FILTER";
    /// RESOURCEID (2.0).
    pub const RESOURCEID: &str = "RESOURCEID";
    /// FEATUREID (1.x).
    pub const FEATUREID: &str = "FEATUREID";
    /// SORTBY.
    pub const SORTBY: &str = "SORTBY";
    /// PROPERTYNAME.
    pub const PROPERTYNAME: &str = "PROPERTYNAME";
    /// RESULTTYPE.
    pub const RESULTTYPE: &str = "RESULTTYPE";
    /// OUTPUTFORMAT.
    pub const OUTPUTFORMAT: &str = "OUTPUTFORMAT";
    /// STOREDQUERY_ID.
    pub const STOREDQUERY_ID: &str = "STOREDQUERY_ID";
    /// ID (parameter of GetFeatureById).
    pub const ID: &str = "ID";
    /// VALUEREFERENCE (GetPropertyValue).
    pub const VALUEREFERENCE: &str = "VALUEREFERENCE";
}

/// A WFS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// 1.0.0: GML 2, lon/lat everywhere.
    V100,
    /// 1.1.0: GML 3.1.1, EPSG axis order for URN CRS names.
    V110,
    /// 2.0.0: GML 3.2, paging, stored queries.
    V200,
}

impl Version {
    /// Every supported version, highest first.
    pub const ALL: [Version; 3] = [Version::V200, Version::V110, Version::V100];

    /// `2.0.0`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V100 => "1.0.0",
            Version::V110 => "1.1.0",
            Version::V200 => "2.0.0",
        }
    }

    /// Parses `2.0.0` (also `2.0`), `1.1.0`, `1.0.0`.
    pub fn parse(s: &str) -> Option<Version> {
        match s.trim() {
            "2.0.0" | "2.0" | "2.0.2" => Some(Version::V200),
            "1.1.0" | "1.1" => Some(Version::V110),
            "1.0.0" | "1.0" => Some(Version::V100),
            _ => None,
        }
    }

    /// True when URN CRS names use the EPSG axis order (1.1, 2.0).
    pub fn epsg_order(self) -> bool {
        self != Version::V100
    }
}

/// A WFS failure, answered as an OWS exception report.
#[derive(Debug, Clone, PartialEq)]
pub struct WfsError {
    /// OWS exception code (`InvalidParameterValue`, ...).
    pub code: &'static str,
    /// The parameter at fault, if any.
    pub locator: Option<String>,
    /// What went wrong, for the client.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

impl WfsError {
    fn new(
        code: &'static str,
        locator: Option<&str>,
        message: impl Into<String>,
        status: u16,
    ) -> Self {
        WfsError {
            code,
            locator: locator.map(str::to_owned),
            message: message.into(),
            status,
        }
    }

    /// A required parameter is absent.
    pub fn missing(param: &str) -> Self {
        Self::new(
            "MissingParameterValue",
            Some(param),
            format!("parameter {param} is required"),
            400,
        )
    }

    /// A parameter has a bad value.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", Some(param), message, 400)
    }

    /// An operation the service does not offer.
    pub fn not_supported(op: &str) -> Self {
        Self::new(
            "OperationNotSupported",
            Some(op),
            format!("operation '{op}' is not supported; see GetCapabilities"),
            400,
        )
    }

    /// No version both sides speak.
    pub fn version_failed(asked: &str) -> Self {
        Self::new(
            "VersionNegotiationFailed",
            Some("AcceptVersions"),
            format!("none of the versions '{asked}' is supported; supported: 2.0.0, 1.1.0, 1.0.0"),
            400,
        )
    }

    /// The XML request could not be parsed.
    pub fn parsing(message: impl Into<String>) -> Self {
        Self::new("OperationParsingFailed", None, message, 400)
    }

    /// A feature id that does not exist (GetFeatureById).
    pub fn not_found(id: &str) -> Self {
        Self::new(
            "NotFound",
            Some(param::ID),
            format!("no feature '{id}'"),
            404,
        )
    }

    /// A failure of the server; the cause goes to the log, not the client.
    pub fn internal() -> Self {
        Self::new(
            "NoApplicableCode",
            None,
            "the server failed to answer this request; the cause is in its log",
            500,
        )
    }

    /// The exception report document for a version.
    pub fn report(&self, v: Version) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let loc = self.locator.as_deref();
        match v {
            Version::V100 => {
                out.push_str("<ServiceExceptionReport version=\"1.2.0\" xmlns=\"http://www.opengis.net/ogc\"><ServiceException code=\"");
                out.push_str(self.code);
                out.push('"');
                if let Some(l) = loc {
                    out.push_str(" locator=\"");
                    xml::escape_into(&mut out, l);
                    out.push('"');
                }
                out.push('>');
                xml::escape_into(&mut out, &self.message);
                out.push_str("</ServiceException></ServiceExceptionReport>");
            }
            _ => {
                let (ns, ver) = if v == Version::V200 {
                    ("http://www.opengis.net/ows/1.1", "2.0.0")
                } else {
                    ("http://www.opengis.net/ows", "1.1.0")
                };
                let _ = write!(
                    out,
                    "<ows:ExceptionReport xmlns:ows=\"{ns}\" version=\"{ver}\" xml:lang=\"en\"><ows:Exception exceptionCode=\"{}\"",
                    self.code
                );
                if let Some(l) = loc {
                    out.push_str(" locator=\"");
                    xml::escape_into(&mut out, l);
                    out.push('"');
                }
                out.push_str("><ows:ExceptionText>");
                xml::escape_into(&mut out, &self.message);
                out.push_str("</ows:ExceptionText></ows:Exception></ows:ExceptionReport>");
            }
        }
        out
    }
}

/// Layer id of a type name (`geoplan:parcels`, `parcels`, `{uri}parcels`).
pub fn layer_of<'c>(
    cat: &'c Catalog,
    name: &str,
    locator: &str,
) -> Result<&'c Arc<Layer>, WfsError> {
    let n = name.trim();
    let id = n
        .rsplit_once('}')
        .map(|(_, l)| l)
        .unwrap_or_else(|| xml::local(n));
    cat.layer(id).ok_or_else(|| {
        WfsError::invalid(
            locator,
            format!("unknown feature type '{n}'; see GetCapabilities for the list"),
        )
    })
}

/// Most type names (or `wfs:Query` elements) in one request: each costs a
/// schema or a whole-layer query, and the catalog has a handful of layers.
pub const MAX_TYPE_NAMES: usize = 64;

/// The CRS a layer offers by default: its storage CRS.
pub fn default_crs(l: &Layer) -> Crs {
    Crs::Epsg(l.source_srid)
}

/// An output format of GetFeature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// GML (of a version).
    Gml(GmlVersion),
    /// GeoJSON.
    Json,
    /// A downloaded file: GeoPackage, zipped Shapefile, KML, CSV, XLSX.
    File(FileFormat),
}

/// The download formats as GetFeature OUTPUTFORMAT values: each MIME
/// type, and the names GeoServer's clients send (`SHAPE-ZIP`, `KML`,
/// `csv`, `excel2007`).
const FILE_FORMATS: [&str; 9] = [
    "application/geopackage+sqlite3",
    "SHAPE-ZIP",
    "application/zip",
    "application/vnd.google-earth.kml+xml",
    "KML",
    "text/csv",
    "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "excel2007",
];

/// MIME types advertised, in order, per WFS version (the first is the
/// version's default). WFS 1.0's capabilities can name only GML2 (its
/// ResultFormat schema); the list still says what OUTPUTFORMAT takes.
pub fn advertised(v: Version) -> &'static [&'static str] {
    const V200: [&str; 14] = then_files([
        "application/gml+xml; version=3.2",
        "text/xml; subtype=gml/3.2",
        "text/xml; subtype=gml/3.1.1",
        "text/xml; subtype=gml/2.1.2",
        "application/json",
    ]);
    const V110: [&str; 13] = then_files([
        "text/xml; subtype=gml/3.1.1",
        "application/gml+xml; version=3.2",
        "text/xml; subtype=gml/2.1.2",
        "application/json",
    ]);
    const V100: [&str; 12] = then_files(["GML2", "GML3", "application/json"]);
    match v {
        Version::V200 => &V200,
        Version::V110 => &V110,
        Version::V100 => &V100,
    }
}

/// `head` followed by [`FILE_FORMATS`], at compile time (`M` must be `N`
/// plus their count, or the constant does not compile).
const fn then_files<const N: usize, const M: usize>(head: [&'static str; N]) -> [&'static str; M] {
    assert!(M == N + FILE_FORMATS.len());
    let mut out = [""; M];
    let mut i = 0;
    while i < M {
        out[i] = if i < N { head[i] } else { FILE_FORMATS[i - N] };
        i += 1;
    }
    out
}

impl OutputFormat {
    /// Parses OUTPUTFORMAT (MIME types and the usual short names); none
    /// gives the version's default.
    pub fn parse(s: Option<&str>, v: Version) -> Result<OutputFormat, WfsError> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(match v {
                Version::V200 => OutputFormat::Gml(GmlVersion::V32),
                Version::V110 => OutputFormat::Gml(GmlVersion::V311),
                Version::V100 => OutputFormat::Gml(GmlVersion::V2),
            });
        };
        let t: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        Ok(match t.as_str() {
            "application/gml+xml;version=3.2"
            | "text/xml;subtype=gml/3.2"
            | "text/xml;subtype=gml/3.2.1"
            | "application/gml+xml"
            | "gml32"
            | "gml3.2" => OutputFormat::Gml(GmlVersion::V32),
            "text/xml;subtype=gml/3.1.1"
            | "gml3"
            | "gml311"
            | "application/gml+xml;version=3.1" => OutputFormat::Gml(GmlVersion::V311),
            "text/xml;subtype=gml/2.1.2" | "gml2" | "text/xml;subtype=gml/2" => {
                OutputFormat::Gml(GmlVersion::V2)
            }
            // A bare text/xml is the version's own GML.
            "text/xml" | "application/xml" => return OutputFormat::parse(None, v),
            "application/json" | "json" | "geojson" | "application/geo+json" => OutputFormat::Json,
            _ if FileFormat::parse(s).is_some() => {
                OutputFormat::File(FileFormat::parse(s).expect("checked"))
            }
            _ => {
                return Err(WfsError::invalid(
                    param::OUTPUTFORMAT,
                    format!(
                        "OUTPUTFORMAT '{s}' is not offered; use one of: {}",
                        advertised(v).join(", ")
                    ),
                ))
            }
        })
    }

    /// Content-Type of the response.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Gml(GmlVersion::V32) => "application/gml+xml; version=3.2",
            OutputFormat::Gml(GmlVersion::V311) => "text/xml; subtype=gml/3.1.1",
            OutputFormat::Gml(GmlVersion::V2) => "text/xml; subtype=gml/2.1.2",
            OutputFormat::Json => "application/json",
            OutputFormat::File(f) => f.mime(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_reports_carry_code_and_locator_per_version() {
        let e = WfsError::invalid("COUNT", "COUNT=5 exceeds <x>");
        let r = e.report(Version::V200);
        assert!(
            r.contains("<ows:Exception exceptionCode=\"InvalidParameterValue\" locator=\"COUNT\">")
        );
        assert!(r.contains("exceeds &lt;x&gt;"));
        assert!(e
            .report(Version::V100)
            .contains("<ServiceException code=\"InvalidParameterValue\" locator=\"COUNT\">"));
    }
}
