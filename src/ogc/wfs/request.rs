//! WFS requests as they arrive: KVP (GET, or a form-encoded POST) and
//! XML bodies (POST), parsed into a [`Request`] with the version
//! negotiated. Nothing is looked up in the catalog here: [`super::query`]
//! compiles a GetFeature, [`super::transaction`] a Transaction.

use super::{param, Version, WfsError, GET_FEATURE_BY_ID, MAX_TYPE_NAMES};
use crate::config::Config;
use crate::ogc::kvp::Kvp;
use crate::ogc::xml::{self, Element, XmlLimits};

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
    /// Transaction (WFS-T), compiled by [`super::transaction::compile`].
    Transaction(Transaction),
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
    /// GetPropertyValue (WFS 2.0): the `valueReference` whose values are
    /// answered instead of whole features.
    pub value_reference: Option<String>,
}

/// VALUEREFERENCE of a GetPropertyValue: required, never empty
/// (ISO 19142 §10.2.4.3, §10.4).
fn value_reference(v: Option<&str>, version: Version, op: &str) -> Result<String, WfsError> {
    if version != Version::V200 {
        return Err(WfsError::not_supported(op));
    }
    match v.map(str::trim) {
        None => Err(WfsError::missing(param::VALUEREFERENCE)),
        Some("") => Err(WfsError::invalid(
            param::VALUEREFERENCE,
            "VALUEREFERENCE is empty: name a property, geom or @gml:id",
        )),
        Some(v) => Ok(v.to_owned()),
    }
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

/// A parsed `Transaction` request: its version and the XML, compiled
/// against the catalog by [`super::transaction::compile`].
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Version.
    pub version: Version,
    /// The `Transaction` element.
    pub root: Element,
}

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
/// SERVICE is mandatory in every KVP request (OWS Common 1.1 §7.2.1,
/// ISO 19142 §7.5; the ETS checks GetCapabilities without it).
pub fn parse_kvp(k: &Kvp, config: &Config) -> Result<Request, WfsError> {
    match k.get(param::SERVICE).map(str::trim) {
        None | Some("") => return Err(WfsError::missing(param::SERVICE)),
        Some(s) if !s.eq_ignore_ascii_case("WFS") => {
            return Err(WfsError::invalid(
                param::SERVICE,
                format!("SERVICE={s}: this endpoint serves WFS"),
            ));
        }
        Some(_) => {}
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
        "getfeature" | "getpropertyvalue" => {
            let value_reference = if req.eq_ignore_ascii_case("GetPropertyValue") {
                Some(value_reference(k.get(param::VALUEREFERENCE), version, req)?)
            } else {
                None
            };
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
                value_reference,
            }))
        }
        // Transaction is XML only (POST); LockFeature,
        // GetFeatureWithLock and stored query management are not offered
        // (capabilities do not list them).
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
        "GetFeature" | "GetPropertyValue" => {
            let value_reference = if op == "GetPropertyValue" {
                Some(value_reference(root.attr("valueReference"), version, &op)?)
            } else {
                None
            };
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
                value_reference,
            }))
        }
        "Transaction" => Ok(Request::Transaction(Transaction { version, root })),
        other => Err(WfsError::not_supported(other)),
    }
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
    fn the_root_is_seen_past_declarations_and_comments_but_not_a_doctype() {
        assert!(is_transaction(
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- QGIS --><wfs:Transaction service=\"WFS\"/>"
        ));
        assert!(is_transaction(
            "<Transaction xmlns=\"http://www.opengis.net/wfs\">"
        ));
        assert_eq!(root_name("<wfs:GetFeature>"), Some("GetFeature"));
        assert_eq!(root_name("<!DOCTYPE x><wfs:Transaction/>"), None);
    }
}
