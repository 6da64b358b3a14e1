//! WFS 2.0.0, 1.1.0 and 1.0.0: requests in KVP and XML (POST), version
//! negotiation, compiled into engine queries; the documents are written by
//! [`super::wfs_doc`] and feature collections by [`super::wfs_out`]. OWS
//! exception reports are here too. `Transaction` (WFS-T, XML only) is
//! parsed here and compiled into store edits by [`super::wfs_t`].
//!
//! Type names are prefixed (`geoplan:parcels`) identically in every
//! version; unprefixed names are accepted. Feature ids are `layer.fid`.
//! Nothing here does IO or awaits: `http::wfs` runs [`plan`] on the
//! blocking pool and streams what [`super::wfs_out`] writes.

use super::fes::{self, FesContext};
use super::gml::{srs_axis, GmlReader};
use super::kvp::Kvp;
use super::wfs_out::OutputFormat;
use super::xml::{self, Element, XmlLimits};
use crate::config::Config;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::filter::{Expr, Filter, FilterLimits};
use crate::engine::{Catalog, FeatureRef, Layer, Query, Spatial};
use crate::model::{FieldDef, ValueRef};
use geo_types::{Coord, Rect};
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

/// A parsed WFS request.
#[derive(Debug)]
pub enum Request {
    /// GetCapabilities.
    GetCapabilities(Version),
    /// DescribeFeatureType for these layers (all when empty).
    DescribeFeatureType {
        /// Version.
        version: Version,
        /// Layer ids.
        layers: Vec<String>,
        /// Requested schema dialect (OUTPUTFORMAT), if any.
        format: Option<String>,
    },
    /// GetFeature (also GetFeatureById through the stored query).
    GetFeature(GetFeature),
    /// ListStoredQueries.
    ListStoredQueries(Version),
    /// DescribeStoredQueries.
    DescribeStoredQueries {
        /// Version.
        version: Version,
        /// Requested ids (all when empty).
        ids: Vec<String>,
    },
    /// Transaction (WFS-T), compiled by [`super::wfs_t::compile`].
    Transaction(super::wfs_t::Transaction),
}

impl Request {
    /// The version the request speaks (for its exception reports).
    pub fn version(&self) -> Version {
        match self {
            Request::GetCapabilities(v) | Request::ListStoredQueries(v) => *v,
            Request::DescribeFeatureType { version, .. }
            | Request::DescribeStoredQueries { version, .. } => *version,
            Request::GetFeature(g) => g.version,
            Request::Transaction(t) => t.version,
        }
    }
}

/// One query of a GetFeature, before it is compiled against a layer.
#[derive(Debug, Clone, Default)]
pub struct QuerySpec {
    /// Type names as given.
    pub type_names: Vec<String>,
    /// Filter XML (FES 2.0 or Filter 1.x).
    pub filter: Option<Element>,
    /// BBOX parameter text.
    pub bbox: Option<String>,
    /// Resource ids (`layer.fid`).
    pub resource_ids: Vec<String>,
    /// Sort keys: property reference, descending.
    pub sort: Vec<(String, bool)>,
    /// Property names to return (all when empty).
    pub properties: Vec<String>,
    /// Output CRS name as given.
    pub srs_name: Option<String>,
}

/// A GetFeature request, parsed but not yet run.
#[derive(Debug, Clone)]
pub struct GetFeature {
    /// Version.
    pub version: Version,
    /// Queries (one per `wfs:Query`, or one for KVP).
    pub queries: Vec<QuerySpec>,
    /// STARTINDEX.
    pub start: usize,
    /// COUNT / MAXFEATURES (None: CountDefault).
    pub count: Option<usize>,
    /// RESULTTYPE=hits.
    pub hits: bool,
    /// OUTPUTFORMAT as given.
    pub format: Option<String>,
    /// GetFeatureById: answer the bare feature, 404 when absent.
    pub by_id: Option<String>,
    /// The KVP pairs, for next/previous links (None for POST).
    pub kvp: Option<Vec<(String, String)>>,
}

fn limits_xml(c: &Config) -> XmlLimits {
    let l = &c.limits;
    XmlLimits {
        // Filter operators nest inside Filter, and GML operands add a few
        // levels (Polygon/exterior/LinearRing/posList).
        max_depth: l.max_filter_depth + 12,
        max_elements: l.max_filter_nodes * 8 + l.max_filter_vertices,
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

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| {
            x.trim()
                .trim_matches(|c| c == '(' || c == ')')
                .trim()
                .to_owned()
        })
        .filter(|x| !x.is_empty())
        .collect()
}

fn parse_usize(name: &str, v: &str) -> Result<usize, WfsError> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| WfsError::invalid(name, format!("{name}='{v}' is not a non-negative integer")))
}

/// Negotiates the version of a GetCapabilities request.
fn negotiate(kvp_accept: Option<&str>, kvp_version: Option<&str>) -> Result<Version, WfsError> {
    if let Some(a) = kvp_accept.filter(|a| !a.trim().is_empty()) {
        return a
            .split(',')
            .find_map(Version::parse)
            .ok_or_else(|| WfsError::version_failed(a));
    }
    // A VERSION we speak is honoured; anything else gets the highest.
    Ok(kvp_version
        .and_then(Version::parse)
        .unwrap_or(Version::V200))
}

fn request_version(v: Option<&str>) -> Result<Version, WfsError> {
    match v {
        None => Ok(Version::V200),
        Some(s) => Version::parse(s).ok_or_else(|| {
            WfsError::invalid(
                param::VERSION,
                format!("VERSION={s} is not supported; supported: 2.0.0, 1.1.0, 1.0.0"),
            )
        }),
    }
}

fn parse_sortby(s: &str) -> Result<Vec<(String, bool)>, WfsError> {
    split_list(s)
        .into_iter()
        .map(|k| {
            let mut it = k.split_whitespace();
            let name = it.next().unwrap_or("").to_owned();
            let desc = match it.next().map(|d| d.to_ascii_uppercase()) {
                None => false,
                Some(d) if d == "ASC" || d == "A" => false,
                Some(d) if d == "DESC" || d == "D" => true,
                Some(d) => {
                    return Err(WfsError::invalid(
                        param::SORTBY,
                        format!("SORTBY order '{d}' must be ASC, DESC, A or D"),
                    ))
                }
            };
            if it.next().is_some() {
                return Err(WfsError::invalid(
                    param::SORTBY,
                    format!("SORTBY key '{k}' is malformed"),
                ));
            }
            Ok((name, desc))
        })
        .collect()
}

/// Parses a KVP request (GET, or the query of a POST without an XML body).
pub fn parse_kvp(k: &Kvp, config: &Config) -> Result<Request, WfsError> {
    if let Some(s) = k.get(param::SERVICE) {
        if !s.eq_ignore_ascii_case("WFS") {
            return Err(WfsError::invalid(
                param::SERVICE,
                format!("SERVICE={s}: this endpoint serves WFS"),
            ));
        }
    }
    let req = k
        .get(param::REQUEST)
        .ok_or_else(|| WfsError::missing(param::REQUEST))?;
    if req.eq_ignore_ascii_case("GetCapabilities") {
        return Ok(Request::GetCapabilities(negotiate(
            k.get(param::ACCEPT_VERSIONS),
            k.get(param::VERSION),
        )?));
    }
    let version = request_version(k.get(param::VERSION))?;
    let mut types = k
        .get_any(&[param::TYPENAMES, param::TYPENAME])
        .map(split_list)
        .unwrap_or_default();
    // Each type name costs a schema or a whole-layer query: repeats go,
    // and the list is capped.
    let mut seen = std::collections::HashSet::new();
    types.retain(|t| seen.insert(t.clone()));
    if types.len() > MAX_TYPE_NAMES {
        return Err(WfsError::invalid(
            param::TYPENAMES,
            format!(
                "{} type names exceed the limit of {MAX_TYPE_NAMES} per request",
                types.len()
            ),
        ));
    }
    match req.to_ascii_lowercase().as_str() {
        "describefeaturetype" => Ok(Request::DescribeFeatureType {
            version,
            layers: types,
            format: k.get(param::OUTPUTFORMAT).map(str::to_owned),
        }),
        "liststoredqueries" => Ok(Request::ListStoredQueries(version)),
        "describestoredqueries" => Ok(Request::DescribeStoredQueries {
            version,
            ids: k
                .get(param::STOREDQUERY_ID)
                .map(split_list)
                .unwrap_or_default(),
        }),
        "getfeature" => {
            let lim = &config.limits;
            let filter =
                match k.get(param::FILTER).filter(|f| !f.trim().is_empty()) {
                    None => None,
                    Some(f) => {
                        if f.len() > lim.max_filter_bytes {
                            return Err(WfsError::invalid(
                                param::FILTER,
                                format!(
                                    "FILTER of {} bytes exceeds the limit of {} bytes",
                                    f.len(),
                                    lim.max_filter_bytes
                                ),
                            ));
                        }
                        // One filter per type may be given in parentheses.
                        let f = f.trim();
                        let f = f
                            .strip_prefix('(')
                            .and_then(|x| x.strip_suffix(')'))
                            .filter(|x| !x.contains(")("))
                            .unwrap_or(f);
                        Some(xml::parse(f, limits_xml(config)).map_err(|e| {
                            WfsError::invalid(param::FILTER, format!("FILTER: {e}"))
                        })?)
                    }
                };
            let mut q = QuerySpec {
                type_names: types,
                filter,
                bbox: k.get(param::BBOX).map(str::to_owned),
                resource_ids: k
                    .get_any(&[param::RESOURCEID, param::FEATUREID])
                    .map(split_list)
                    .unwrap_or_default(),
                sort: k
                    .get(param::SORTBY)
                    .map(parse_sortby)
                    .transpose()?
                    .unwrap_or_default(),
                properties: k
                    .get(param::PROPERTYNAME)
                    .map(split_list)
                    .unwrap_or_default(),
                srs_name: k
                    .get(param::SRSNAME)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            };
            let mut by_id = None;
            if let Some(sq) = k.get(param::STOREDQUERY_ID) {
                if sq != GET_FEATURE_BY_ID {
                    return Err(WfsError::invalid(
                        param::STOREDQUERY_ID,
                        format!("unknown stored query '{sq}'; see ListStoredQueries"),
                    ));
                }
                let id = k
                    .get(param::ID)
                    .ok_or_else(|| WfsError::missing(param::ID))?;
                q.resource_ids = vec![id.to_owned()];
                by_id = Some(id.to_owned());
            }
            Ok(Request::GetFeature(GetFeature {
                version,
                queries: vec![q],
                start: k
                    .get(param::STARTINDEX)
                    .map(|v| parse_usize(param::STARTINDEX, v))
                    .transpose()?
                    .unwrap_or(0),
                count: k
                    .get_any(&[param::COUNT, param::MAXFEATURES])
                    .map(|v| parse_usize(param::COUNT, v))
                    .transpose()?,
                hits: result_type(k.get(param::RESULTTYPE))?,
                format: k.get(param::OUTPUTFORMAT).map(str::to_owned),
                by_id,
                kvp: Some(k.pairs().to_vec()),
            }))
        }
        // Transaction is XML only (POST); LockFeature,
        // GetFeatureWithLock, GetPropertyValue and stored query management
        // are not offered (capabilities do not list them).
        _ => Err(WfsError::not_supported(req)),
    }
}

fn result_type(v: Option<&str>) -> Result<bool, WfsError> {
    match v.map(|s| s.to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s == "results" => Ok(false),
        Some(s) if s == "hits" => Ok(true),
        Some(s) => Err(WfsError::invalid(
            param::RESULTTYPE,
            format!("RESULTTYPE={s}: use results or hits"),
        )),
    }
}

/// The local name of a document's root element, found without parsing
/// the document (`None` when it cannot be seen at once, e.g. after a
/// DOCTYPE, which the parser refuses anyway).
pub fn root_name(body: &str) -> Option<&str> {
    let mut rest = body.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>")?.1.trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->")?.1.trim_start();
        } else {
            break;
        }
    }
    let r = rest.strip_prefix('<')?;
    let end = r
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(r.len());
    Some(xml::local(&r[..end])).filter(|n| !n.is_empty() && !n.starts_with('!'))
}

/// True when an XML body is a WFS `Transaction` (its root element), so
/// the caller can ask for credentials before reading it.
pub fn is_transaction(body: &str) -> bool {
    root_name(body) == Some("Transaction")
}

/// Parses an XML (POST) request body.
pub fn parse_xml(body: &str, config: &Config) -> Result<Request, WfsError> {
    let lim = &config.limits;
    let limits = if is_transaction(body) {
        // Inserts carry whole features: the element cap follows the body
        // cap (an element takes well over 32 bytes with its content).
        XmlLimits {
            max_depth: lim.max_filter_depth + 24,
            max_elements: (lim.max_body_bytes / 32)
                .max(lim.max_filter_nodes * 16 + lim.max_filter_vertices),
        }
    } else {
        XmlLimits {
            max_depth: lim.max_filter_depth + 16,
            max_elements: lim.max_filter_nodes * 16 + lim.max_filter_vertices,
        }
    };
    let root =
        xml::parse(body, limits).map_err(|e| WfsError::parsing(format!("request body: {e}")))?;
    if let Some(s) = root.attr("service") {
        if !s.eq_ignore_ascii_case("WFS") {
            return Err(WfsError::invalid(
                param::SERVICE,
                format!("service={s}: this endpoint serves WFS"),
            ));
        }
    }
    let op = root.local().to_owned();
    if op == "GetCapabilities" {
        let accept = root.child("AcceptVersions").map(|a| {
            a.children_named("Version")
                .map(|v| v.text().to_owned())
                .collect::<Vec<_>>()
                .join(",")
        });
        return Ok(Request::GetCapabilities(negotiate(
            accept.as_deref(),
            root.attr("version"),
        )?));
    }
    let version = request_version(root.attr("version"))?;
    match op.as_str() {
        "DescribeFeatureType" => Ok(Request::DescribeFeatureType {
            version,
            layers: root
                .children_named("TypeName")
                .map(|t| t.text().to_owned())
                .collect(),
            format: root.attr("outputFormat").map(str::to_owned),
        }),
        "ListStoredQueries" => Ok(Request::ListStoredQueries(version)),
        "DescribeStoredQueries" => Ok(Request::DescribeStoredQueries {
            version,
            ids: root
                .children_named("StoredQueryId")
                .map(|t| t.text().to_owned())
                .collect(),
        }),
        "GetFeature" => {
            let mut queries = Vec::new();
            let mut by_id = None;
            for q in &root.children {
                if q.is("Query") {
                    let mut spec = QuerySpec {
                        type_names: q
                            .attr("typeNames")
                            .or_else(|| q.attr("typeName"))
                            .map(|t| t.split_whitespace().flat_map(split_list).collect())
                            .unwrap_or_default(),
                        srs_name: q.attr("srsName").map(str::to_owned),
                        ..Default::default()
                    };
                    for c in &q.children {
                        if c.is("Filter") {
                            spec.filter = Some(c.clone());
                        } else if c.is("PropertyName") {
                            spec.properties.push(c.text().to_owned());
                        } else if c.is("SortBy") {
                            for sp in c.children_named("SortProperty") {
                                let name = sp
                                    .children
                                    .iter()
                                    .find(|x| x.is("ValueReference") || x.is("PropertyName"))
                                    .map(|x| x.text().to_owned())
                                    .unwrap_or_default();
                                let desc = sp.child("SortOrder").is_some_and(|o| {
                                    o.text().eq_ignore_ascii_case("DESC") || o.text() == "D"
                                });
                                spec.sort.push((name, desc));
                            }
                        }
                    }
                    queries.push(spec);
                } else if q.is("StoredQuery") {
                    let id = q.attr("id").unwrap_or("");
                    if id != GET_FEATURE_BY_ID {
                        return Err(WfsError::invalid(
                            param::STOREDQUERY_ID,
                            format!("unknown stored query '{id}'; see ListStoredQueries"),
                        ));
                    }
                    let fid = q
                        .children_named("Parameter")
                        .find(|p| p.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("ID")))
                        .map(|p| p.text().to_owned())
                        .ok_or_else(|| WfsError::missing(param::ID))?;
                    by_id = Some(fid.clone());
                    queries.push(QuerySpec {
                        resource_ids: vec![fid],
                        ..Default::default()
                    });
                }
            }
            if queries.is_empty() {
                return Err(WfsError::missing("Query"));
            }
            if queries.len() > MAX_TYPE_NAMES {
                return Err(WfsError::invalid(
                    "Query",
                    format!(
                        "{} queries exceed the limit of {MAX_TYPE_NAMES} per request",
                        queries.len()
                    ),
                ));
            }
            let count = root
                .attr("count")
                .or_else(|| root.attr("maxFeatures"))
                .map(|v| parse_usize(param::COUNT, v))
                .transpose()?;
            Ok(Request::GetFeature(GetFeature {
                version,
                queries,
                start: root
                    .attr("startIndex")
                    .map(|v| parse_usize(param::STARTINDEX, v))
                    .transpose()?
                    .unwrap_or(0),
                count,
                hits: result_type(root.attr("resultType"))?,
                format: root.attr("outputFormat").map(str::to_owned),
                by_id,
                kvp: None,
            }))
        }
        "Transaction" => Ok(Request::Transaction(super::wfs_t::Transaction {
            version,
            root,
        })),
        other => Err(WfsError::not_supported(other)),
    }
}

/// One compiled query over one layer.
pub struct LayerQuery {
    /// The layer.
    pub layer: Arc<Layer>,
    /// Engine query (spatial prefilter and compiled filter; paging unused).
    pub query: Query,
    /// Sort keys: field index, descending.
    pub sort: Vec<(usize, bool)>,
    /// Field indexes written (published, and selected by PROPERTYNAME).
    pub fields: Vec<usize>,
    /// Write the geometry property.
    pub geometry: bool,
    /// Output CRS, its name as written, latitude first.
    pub out: (Crs, String, bool),
}

/// A GetFeature ready to be written: the page of every query.
pub struct Plan {
    /// Version.
    pub version: Version,
    /// Output format.
    pub format: OutputFormat,
    /// hits only.
    pub hits: bool,
    /// Total matches over all queries (exact).
    pub matched: usize,
    /// STARTINDEX.
    pub start: usize,
    /// Effective COUNT.
    pub count: usize,
    /// The queries and their pages.
    pub pages: Vec<(LayerQuery, Vec<FeatureRef>)>,
    /// GetFeatureById.
    pub by_id: Option<String>,
    /// KVP pairs of the request, for links.
    pub kvp: Option<Vec<(String, String)>>,
}

impl Plan {
    /// Number of features in the page.
    pub fn returned(&self) -> usize {
        self.pages.iter().map(|(_, p)| p.len()).sum()
    }
}

/// The CRS a layer offers by default: its storage CRS.
pub fn default_crs(l: &Layer) -> Crs {
    Crs::Epsg(l.source_srid)
}

fn parse_bbox(v: &str, default: (Crs, bool), version: Version) -> Result<Rect<f64>, WfsError> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let (nums, frame) = match parts.len() {
        4 => (&parts[..4], default),
        5 => (
            &parts[..4],
            srs_axis(parts[4], version.epsg_order())
                .map_err(|e| WfsError::invalid(param::BBOX, format!("BBOX: {e}")))?,
        ),
        n => {
            return Err(WfsError::invalid(
                param::BBOX,
                format!("BBOX needs minx,miny,maxx,maxy[,crs]; got {n} values"),
            ))
        }
    };
    let n: Vec<f64> = nums
        .iter()
        .map(|x| {
            x.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    WfsError::invalid(param::BBOX, format!("BBOX: '{x}' is not a finite number"))
                })
        })
        .collect::<Result<_, _>>()?;
    if n.iter().any(|v| v.abs() > 1e10) {
        return Err(WfsError::invalid(
            param::BBOX,
            "BBOX: coordinates beyond ±1e10 lie outside every supported CRS",
        ));
    }
    let (c, lat_lon) = frame;
    let (min, max) = if lat_lon {
        (Coord { x: n[1], y: n[0] }, Coord { x: n[3], y: n[2] })
    } else {
        (Coord { x: n[0], y: n[1] }, Coord { x: n[2], y: n[3] })
    };
    if min.x > max.x || min.y > max.y {
        return Err(WfsError::invalid(
            param::BBOX,
            "BBOX: a lower corner lies above the upper corner (check the axis order of the CRS)",
        ));
    }
    let (min, max) = if c.is_geographic() {
        if min.y < -90.0 || max.y > 90.0 || min.x < -180.0 || max.x > 180.0 {
            return Err(WfsError::invalid(
                param::BBOX,
                "BBOX: latitude must lie within -90..90 and longitude within -180..180 (check the axis order of the CRS)",
            ));
        }
        // The Mercator frame ends short of the poles; QGIS probes -90..90.
        (
            Coord {
                x: min.x,
                y: min.y.max(-85.06),
            },
            Coord {
                x: max.x,
                y: max.y.min(85.06),
            },
        )
    } else {
        (min, max)
    };
    let (lo, hi) = crs::transform_bbox(c, WEB_MERCATOR, min, max)
        .map_err(|e| WfsError::invalid(param::BBOX, format!("BBOX: {e}")))?;
    Ok(Rect::new(lo, hi))
}

fn collect_fields(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| collect_fields(x, out)),
        Expr::Not(x) => collect_fields(x, out),
        Expr::Cmp(f, ..) | Expr::In(f, _) | Expr::Between(f, ..) | Expr::IsNull(f) => {
            out.push(f.clone())
        }
        Expr::Like { field, .. } => out.push(field.clone()),
        Expr::Fids(_) | Expr::Spatial(..) => {}
    }
}

/// Compiles a parsed GetFeature against the catalog and runs it: the exact
/// number matched and the page asked for. CPU work: run it off the async
/// runtime.
pub fn plan(g: GetFeature, cat: &Catalog, config: &Config) -> Result<Plan, WfsError> {
    let lim = &config.limits;
    let format = OutputFormat::parse(g.format.as_deref(), g.version)?;
    let count = match g.count {
        Some(c) if c > lim.max_wfs_count => {
            return Err(WfsError::invalid(
                param::COUNT,
                format!(
                    "COUNT={c} exceeds the limit of {} features",
                    lim.max_wfs_count
                ),
            ))
        }
        Some(c) => c,
        None => config.ogc.wfs_count_default.min(lim.max_wfs_count),
    };
    let flimits = FilterLimits {
        max_depth: lim.max_filter_depth,
        max_nodes: lim.max_filter_nodes,
        max_in_list: lim.max_in_list,
    };
    let mut compiled: Vec<LayerQuery> = Vec::new();
    for spec in &g.queries {
        if spec.resource_ids.len() > lim.max_in_list {
            return Err(WfsError::invalid(
                param::RESOURCEID,
                format!(
                    "{} resource ids exceed the limit of {}",
                    spec.resource_ids.len(),
                    lim.max_in_list
                ),
            ));
        }
        let exclusive = [
            spec.filter.is_some(),
            spec.bbox.is_some(),
            !spec.resource_ids.is_empty(),
        ];
        if exclusive.iter().filter(|x| **x).count() > 1 && g.by_id.is_none() {
            return Err(WfsError::invalid(
                param::FILTER,
                "FILTER, BBOX and RESOURCEID are mutually exclusive",
            ));
        }
        // Type names; from the resource ids when none are given.
        let mut layers: Vec<Arc<Layer>> = Vec::new();
        if spec.type_names.is_empty() {
            if spec.resource_ids.is_empty() {
                return Err(WfsError::missing(if g.version == Version::V200 {
                    param::TYPENAMES
                } else {
                    param::TYPENAME
                }));
            }
            for rid in &spec.resource_ids {
                let lid = rid
                    .trim()
                    .rsplit_once('.')
                    .map(|(l, _)| xml::local(l))
                    .unwrap_or("");
                let l = match cat.layer(lid) {
                    Some(l) => l,
                    None if g.by_id.is_some() => return Err(WfsError::not_found(rid)),
                    None => {
                        return Err(WfsError::invalid(
                            param::RESOURCEID,
                            format!(
                                "resource id '{rid}' names no feature type (ids are layer.fid)"
                            ),
                        ))
                    }
                };
                if !layers.iter().any(|x| x.id == l.id) {
                    layers.push(l.clone());
                }
            }
        } else {
            let locator = if g.version == Version::V200 {
                param::TYPENAMES
            } else {
                param::TYPENAME
            };
            for t in &spec.type_names {
                layers.push(layer_of(cat, t, locator)?.clone());
            }
        }
        for l in layers {
            compiled.push(compile_query(spec, l, &g, config, &flimits)?);
        }
    }
    // Run: exact counts, then the window [start, start + count) over the
    // queries in order.
    let mut matched = 0usize;
    let mut pages = Vec::new();
    let mut skip = g.start;
    let mut room = if g.hits { 0 } else { count };
    for lq in compiled {
        let (m, page) = run(&lq, skip, room);
        matched += m;
        skip = skip.saturating_sub(m);
        room -= page.len();
        pages.push((lq, page));
    }
    if let Some(id) = &g.by_id {
        if pages.iter().all(|(_, p)| p.is_empty()) {
            return Err(WfsError::not_found(id));
        }
    }
    Ok(Plan {
        version: g.version,
        format,
        hits: g.hits,
        matched,
        start: g.start,
        count,
        pages,
        by_id: g.by_id,
        kvp: g.kvp,
    })
}

fn compile_query(
    spec: &QuerySpec,
    l: Arc<Layer>,
    g: &GetFeature,
    config: &Config,
    flimits: &FilterLimits,
) -> Result<LayerQuery, WfsError> {
    let lim = &config.limits;
    let type_name = format!("{}:{}", config.ogc.prefix, l.id);
    let published = l.published_fields();
    let pub_defs: Vec<FieldDef> = published.iter().map(|&i| l.fields()[i].clone()).collect();
    let def_crs = default_crs(&l);
    let out = match &spec.srs_name {
        Some(s) => {
            let (c, ll) = srs_axis(s, g.version.epsg_order())
                .map_err(|e| WfsError::invalid(param::SRSNAME, format!("SRSNAME: {e}")))?;
            (c, s.clone(), ll)
        }
        None => (
            def_crs,
            match g.version {
                Version::V100 => format!("EPSG:{}", def_crs.epsg()),
                _ => def_crs.urn(),
            },
            // The URN of a geographic storage CRS (4326, 4756) is lat,lon
            // in WFS 1.1/2.0; projected ones (5899, 3857) are x,y.
            g.version.epsg_order() && def_crs.is_lat_lon(),
        ),
    };
    let ctx = FesContext {
        layer: &l.id,
        type_name: &type_name,
        fields: &pub_defs,
        geometry_name: GEOMETRY_NAME,
        gml: GmlReader {
            default: (out.0, out.2),
            epsg_order: g.version.epsg_order(),
            max_vertices: lim.max_filter_vertices,
        },
        max_ids: lim.max_in_list,
    };
    let mut exprs = Vec::new();
    if let Some(f) = &spec.filter {
        exprs.push(
            fes::compile(f, &ctx)
                .map_err(|e| WfsError::invalid(param::FILTER, format!("FILTER: {e}")))?,
        );
    }
    if !spec.resource_ids.is_empty() {
        let mut fids = Vec::new();
        for rid in &spec.resource_ids {
            match fes::resource_id(&l.id, rid) {
                Ok(Some(f)) => fids.push(f),
                Ok(None) => {}
                Err(_) if g.by_id.is_some() => return Err(WfsError::not_found(rid)),
                Err(e) => return Err(WfsError::invalid(param::RESOURCEID, e.to_string())),
            }
        }
        exprs.push(Expr::Fids(fids));
    }
    let mut spatial = None;
    if let Some(b) = &spec.bbox {
        spatial = Some(Spatial::Bbox(parse_bbox(b, (out.0, out.2), g.version)?));
    }
    let expr = match exprs.len() {
        0 => None,
        1 => exprs.pop(),
        _ => Some(Expr::And(exprs)),
    };
    if let Some(e) = &expr {
        if spatial.is_none() {
            spatial = e.envelope_hint().map(Spatial::Bbox);
        }
        let mut names = Vec::new();
        collect_fields(e, &mut names);
        debug_assert!(names.iter().all(|n| pub_defs.iter().any(|f| &f.name == n)));
    }
    let filter = expr
        .map(|e| Filter::compile(&e, l.fields(), flimits))
        .transpose()
        .map_err(|e| WfsError::invalid(param::FILTER, format!("FILTER: {e}")))?;
    let mut sort = Vec::new();
    for (name, desc) in &spec.sort {
        let f = fes::property(&ctx, name)
            .map_err(|e| WfsError::invalid(param::SORTBY, format!("SORTBY: {e}")))?
            .ok_or_else(|| {
                WfsError::invalid(param::SORTBY, "SORTBY: the geometry cannot be sorted on")
            })?;
        let idx = l
            .fields()
            .iter()
            .position(|x| x.name == f.name)
            .expect("published field");
        sort.push((idx, *desc));
    }
    // `*` (OWSLib's 1.1 default) names every property.
    let props: Vec<&String> = spec.properties.iter().filter(|p| p.trim() != "*").collect();
    let (fields, geometry) = if props.is_empty() {
        (published, true)
    } else {
        let mut fs = Vec::new();
        let mut geom = false;
        for p in props {
            match fes::property(&ctx, p)
                .map_err(|e| WfsError::invalid(param::PROPERTYNAME, format!("PROPERTYNAME: {e}")))?
            {
                None => geom = true,
                Some(f) => {
                    let idx = l
                        .fields()
                        .iter()
                        .position(|x| x.name == f.name)
                        .expect("published field");
                    if !fs.contains(&idx) {
                        fs.push(idx);
                    }
                }
            }
        }
        // Schema order, as DescribeFeatureType declares it.
        fs.sort_by_key(|i| published.iter().position(|p| p == i));
        (fs, geom)
    };
    Ok(LayerQuery {
        query: Query {
            spatial,
            filter,
            offset: 0,
            limit: 0,
        },
        layer: l,
        sort,
        fields,
        geometry,
        out,
    })
}

fn cmp_values(a: ValueRef<'_>, b: ValueRef<'_>) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (ValueRef::Null, ValueRef::Null) => Equal,
        // Nulls sort last in ascending order.
        (ValueRef::Null, _) => Greater,
        (_, ValueRef::Null) => Less,
        (ValueRef::Text(x), ValueRef::Text(y)) => x.cmp(y),
        (ValueRef::Bool(x), ValueRef::Bool(y)) => x.cmp(&y),
        (x, y) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Equal,
        },
    }
}

/// Matches of one query: the count, and the page `[skip, skip + room)` in
/// fid order or in the requested sort order (ties by fid, so pages are
/// stable).
fn run(lq: &LayerQuery, skip: usize, room: usize) -> (usize, Vec<FeatureRef>) {
    let l = &lq.layer;
    if lq.sort.is_empty() {
        let r = l.query(&Query {
            offset: skip,
            limit: room,
            ..lq.query.clone()
        });
        return (r.matched, r.features);
    }
    let mut all = Vec::new();
    l.for_each_match(lq.query.spatial.as_ref(), lq.query.filter.as_ref(), |r| {
        all.push(r)
    });
    let matched = all.len();
    let key = |a: &FeatureRef, b: &FeatureRef| {
        for &(c, desc) in &lq.sort {
            let va = l.data(a.part).value(a.row as usize, c);
            let vb = l.data(b.part).value(b.row as usize, c);
            let o = cmp_values(va, vb);
            let o = if desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        a.fid.cmp(&b.fid)
    };
    all.sort_unstable_by(key);
    let page = all.into_iter().skip(skip).take(room).collect();
    (matched, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_negotiate_by_acceptversions_then_version_then_highest() {
        assert_eq!(
            negotiate(Some("2.0.0,1.1.0,1.0.0"), None).unwrap(),
            Version::V200
        );
        assert_eq!(negotiate(Some("3.0.0,1.1.0"), None).unwrap(), Version::V110);
        assert_eq!(negotiate(None, Some("1.0.0")).unwrap(), Version::V100);
        assert_eq!(negotiate(None, None).unwrap(), Version::V200);
        let e = negotiate(Some("0.9"), None).unwrap_err();
        assert_eq!(e.code, "VersionNegotiationFailed");
    }

    #[test]
    fn sortby_accepts_both_spellings() {
        assert_eq!(
            parse_sortby("legal_area DESC,parcel_number A").unwrap(),
            vec![("legal_area".into(), true), ("parcel_number".into(), false)]
        );
        assert!(parse_sortby("legal_area UP").is_err());
    }

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
