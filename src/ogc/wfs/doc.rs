//! WFS documents other than feature collections: capabilities (2.0.0,
//! 1.1.0, 1.0.0), DescribeFeatureType schemas and the stored query
//! listings.
//!
//! Every layer is offered under the same prefixed name in every version;
//! its default CRS is its storage CRS (VN-2000 / TM-3 107°45′, EPSG:5899,
//! for the sample): easting/northing with no axis-order ambiguity, the
//! legal plane areas are measured in, and the CRS in which a WFS-T edit
//! round-trips without any reprojection. EPSG:4326, CRS:84, 3857 and the
//! other VN-2000 zones are offered besides.

use super::{advertised, default_crs, param, Version, WfsError, GEOMETRY_NAME, GET_FEATURE_BY_ID};
use crate::config::Config;
use crate::crs::{Crs, SUPPORTED_EPSG};
use crate::engine::{Catalog, Layer};
use crate::model::access::Role;
use crate::model::FieldType;
use crate::ogc::gml::GmlVersion;
use crate::ogc::ogcapi::extent_crs84;
use crate::ogc::xml::{escape, escape_into, leaf};
use std::fmt::Write;

/// What a capabilities document needs besides the catalog.
pub struct Service<'a> {
    /// Configuration (`[ogc]`, limits).
    pub config: &'a Config,
    /// Absolute URL of the WFS endpoint (`https://host/wfs`).
    pub endpoint: &'a str,
    /// Whether WFS-T may edit a layer (advertises Transaction for it).
    pub editable: &'a dyn Fn(&str) -> bool,
}

fn type_name(c: &Config, l: &Layer) -> String {
    format!("{}:{}", c.ogc.prefix, l.id)
}

/// CRSs offered besides a layer's default, as URNs.
fn other_crs(def: Crs) -> Vec<Crs> {
    let mut v: Vec<Crs> = vec![Crs::Epsg(4326), Crs::Crs84, Crs::Epsg(3857)];
    v.extend(SUPPORTED_EPSG.iter().map(|&c| Crs::Epsg(c)));
    let mut out: Vec<Crs> = Vec::new();
    for c in v {
        if c != def && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn wgs84_bbox(l: &Layer) -> [f64; 4] {
    extent_crs84(l).unwrap_or([-180.0, -90.0, 180.0, 90.0])
}

const SPATIAL_OPS: &[&str] = &[
    "BBOX",
    "Equals",
    "Disjoint",
    "Intersects",
    "Touches",
    "Crosses",
    "Within",
    "Contains",
    "Overlaps",
    "DWithin",
    "Beyond",
];
const COMPARISONS: &[&str] = &[
    "PropertyIsEqualTo",
    "PropertyIsNotEqualTo",
    "PropertyIsLessThan",
    "PropertyIsGreaterThan",
    "PropertyIsLessThanOrEqualTo",
    "PropertyIsGreaterThanOrEqualTo",
    "PropertyIsLike",
    "PropertyIsNull",
    "PropertyIsNil",
    "PropertyIsBetween",
];
const OPERANDS_32: &[&str] = &[
    "gml:Envelope",
    "gml:Point",
    "gml:LineString",
    "gml:Polygon",
    "gml:MultiPoint",
    "gml:MultiCurve",
    "gml:MultiSurface",
];

/// The GetCapabilities document of a version.
pub fn capabilities(v: Version, cat: &Catalog, s: &Service<'_>) -> String {
    match v {
        Version::V200 => caps_200(cat, s),
        Version::V110 => caps_110(cat, s),
        Version::V100 => caps_100(cat, s),
    }
}

fn service_identification(out: &mut String, s: &Service<'_>, v: Version) {
    let o = &s.config.ogc;
    out.push_str("<ows:ServiceIdentification>");
    leaf(out, "ows:Title", &o.title);
    leaf(out, "ows:Abstract", &o.abstract_text);
    out.push_str("<ows:Keywords><ows:Keyword>WFS</ows:Keyword><ows:Keyword>Đà Nẵng</ows:Keyword><ows:Keyword>planning</ows:Keyword></ows:Keywords>");
    out.push_str("<ows:ServiceType>WFS</ows:ServiceType>");
    if v == Version::V200 {
        for x in Version::ALL {
            leaf(out, "ows:ServiceTypeVersion", x.as_str());
        }
    } else {
        leaf(out, "ows:ServiceTypeVersion", v.as_str());
    }
    out.push_str("<ows:Fees>NONE</ows:Fees><ows:AccessConstraints>NONE</ows:AccessConstraints></ows:ServiceIdentification>");
    out.push_str("<ows:ServiceProvider><ows:ProviderName>geoplan</ows:ProviderName><ows:ServiceContact/></ows:ServiceProvider>");
}

fn dcp(out: &mut String, s: &Service<'_>) {
    let e = escape(s.endpoint);
    let _ = write!(
        out,
        "<ows:DCP><ows:HTTP><ows:Get xlink:href=\"{e}?\"/><ows:Post xlink:href=\"{e}\"/></ows:HTTP></ows:DCP>"
    );
}

/// An OWS parameter with allowed values (OWS 1.1 wraps them in
/// AllowedValues, OWS 1.0 does not).
fn ows_param(out: &mut String, tag: &str, name: &str, values: &[&str], ows11: bool) {
    let _ = write!(out, "<ows:{tag} name=\"{name}\">");
    if ows11 {
        out.push_str("<ows:AllowedValues>");
    }
    for v in values {
        leaf(out, "ows:Value", v);
    }
    if ows11 {
        out.push_str("</ows:AllowedValues>");
    }
    let _ = write!(out, "</ows:{tag}>");
}

fn constraint(out: &mut String, name: &str, value: &str) {
    let _ = write!(
        out,
        "<ows:Constraint name=\"{name}\"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></ows:Constraint>"
    );
}

fn type_names_value(cat: &Catalog, c: &Config) -> Vec<String> {
    cat.layers().map(|l| type_name(c, l)).collect()
}

/// One `wfs:FeatureType` of the 2.0 or 1.1 capabilities: name, title,
/// abstract, CRSs (`DefaultCRS` in 2.0, `DefaultSRS` in 1.1), the edit
/// operations of an editable type (1.1 lists them per type), output formats
/// and the WGS 84 bounding box.
fn feature_type(
    out: &mut String,
    c: &Config,
    l: &Layer,
    v: Version,
    editable: bool,
    formats: &[&str],
) {
    let (default_tag, other_tag) = if v == Version::V200 {
        ("wfs:DefaultCRS", "wfs:OtherCRS")
    } else {
        ("wfs:DefaultSRS", "wfs:OtherSRS")
    };
    let def = default_crs(l);
    out.push_str("<wfs:FeatureType>");
    leaf(out, "wfs:Name", &type_name(c, l));
    let title = if l.meta.title.is_empty() {
        &l.id
    } else {
        &l.meta.title
    };
    leaf(out, "wfs:Title", title);
    leaf(out, "wfs:Abstract", &l.meta.description);
    leaf(out, default_tag, &def.urn());
    for o in other_crs(def) {
        leaf(out, other_tag, &o.urn());
    }
    if editable {
        out.push_str("<wfs:Operations><wfs:Operation>Query</wfs:Operation><wfs:Operation>Insert</wfs:Operation><wfs:Operation>Update</wfs:Operation><wfs:Operation>Delete</wfs:Operation></wfs:Operations>");
    }
    out.push_str("<wfs:OutputFormats>");
    for f in formats {
        leaf(out, "wfs:Format", f);
    }
    out.push_str("</wfs:OutputFormats>");
    let b = wgs84_bbox(l);
    let _ = write!(
        out,
        "<ows:WGS84BoundingBox><ows:LowerCorner>{} {}</ows:LowerCorner><ows:UpperCorner>{} {}</ows:UpperCorner></ows:WGS84BoundingBox>",
        b[0], b[1], b[2], b[3]
    );
    out.push_str("</wfs:FeatureType>");
}

/// The start of a WFS 1.1 or 2.0 capabilities document, up to and
/// including the opening `ows:OperationsMetadata`: the root element with
/// the version's namespaces and schema location, and the service
/// identification.
fn caps_start(s: &Service<'_>, v: Version) -> String {
    let (namespaces, schema_location) = match v {
        Version::V200 => (
            "xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:ows=\"http://www.opengis.net/ows/1.1\" xmlns:fes=\"http://www.opengis.net/fes/2.0\" xmlns:gml=\"http://www.opengis.net/gml/3.2\"",
            "http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd",
        ),
        _ => (
            "xmlns:wfs=\"http://www.opengis.net/wfs\" xmlns:ows=\"http://www.opengis.net/ows\" xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:gml=\"http://www.opengis.net/gml\"",
            "http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.1.0/wfs.xsd",
        ),
    };
    let c = s.config;
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<wfs:WFS_Capabilities version=\"{}\" {namespaces} xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:{}=\"{}\" xsi:schemaLocation=\"{schema_location}\">",
        v.as_str(),
        c.ogc.prefix,
        escape(&c.ogc.namespace_uri)
    );
    service_identification(&mut out, s, v);
    out.push_str("<ows:OperationsMetadata>");
    out
}

/// One `ows:Operation` per name in `ops`, each with its DCP and the
/// parameters `params` writes for it.
fn operations(
    out: &mut String,
    s: &Service<'_>,
    ops: &[&str],
    mut params: impl FnMut(&mut String, &str),
) {
    for op in ops {
        let _ = write!(out, "<ows:Operation name=\"{op}\">");
        dcp(out, s);
        params(out, op);
        out.push_str("</ows:Operation>");
    }
}

fn caps_200(cat: &Catalog, s: &Service<'_>) -> String {
    let c = s.config;
    let mut out = caps_start(s, Version::V200);
    let formats = advertised(Version::V200);
    let any_editable = cat.layers().any(|l| (s.editable)(&l.id));
    let mut ops = vec![
        "GetCapabilities",
        "DescribeFeatureType",
        "GetFeature",
        "GetPropertyValue",
        "ListStoredQueries",
        "DescribeStoredQueries",
    ];
    if any_editable {
        ops.push("Transaction");
    }
    operations(&mut out, s, &ops, |out, op| match op {
        "GetCapabilities" => {
            ows_param(
                out,
                "Parameter",
                "AcceptVersions",
                &["2.0.0", "1.1.0", "1.0.0"],
                true,
            );
            ows_param(out, "Parameter", "AcceptFormats", &["text/xml"], true);
        }
        "DescribeFeatureType" => {
            ows_param(
                out,
                "Parameter",
                "outputFormat",
                &[
                    "application/gml+xml; version=3.2",
                    "text/xml; subtype=gml/3.1.1",
                    "text/xml; subtype=gml/2.1.2",
                ],
                true,
            );
        }
        "GetFeature" | "GetPropertyValue" => {
            let formats = if op == "GetFeature" {
                formats
            } else {
                &formats[..1]
            };
            ows_param(out, "Parameter", "outputFormat", formats, true);
            ows_param(out, "Parameter", "resultType", &["results", "hits"], true);
        }
        _ => {}
    });
    ows_param(
        &mut out,
        "Parameter",
        "version",
        &["2.0.0", "1.1.0", "1.0.0"],
        true,
    );
    for (k, v) in [
        ("ImplementsBasicWFS", "TRUE"),
        (
            "ImplementsTransactionalWFS",
            if any_editable { "TRUE" } else { "FALSE" },
        ),
        ("ImplementsLockingWFS", "FALSE"),
        ("KVPEncoding", "TRUE"),
        ("XMLEncoding", "TRUE"),
        ("SOAPEncoding", "FALSE"),
        ("ImplementsInheritance", "FALSE"),
        ("ImplementsRemoteResolve", "FALSE"),
        ("ImplementsResultPaging", "TRUE"),
        ("ImplementsStandardJoins", "FALSE"),
        ("ImplementsSpatialJoins", "FALSE"),
        ("ImplementsTemporalJoins", "FALSE"),
        ("ImplementsFeatureVersioning", "FALSE"),
        ("ManageStoredQueries", "FALSE"),
        ("PagingIsTransactionSafe", "FALSE"),
    ] {
        constraint(&mut out, k, v);
    }
    constraint(
        &mut out,
        "CountDefault",
        &c.ogc
            .wfs_count_default
            .min(c.limits.max_wfs_count)
            .to_string(),
    );
    ows_param(
        &mut out,
        "Constraint",
        "QueryExpressions",
        &["wfs:Query", "wfs:StoredQuery"],
        true,
    );
    out.push_str("</ows:OperationsMetadata><wfs:FeatureTypeList>");
    for l in cat.layers() {
        feature_type(&mut out, c, l, Version::V200, false, formats);
    }
    out.push_str("</wfs:FeatureTypeList>");
    // Filter capabilities (FES 2.0).
    out.push_str("<fes:Filter_Capabilities><fes:Conformance>");
    for (k, v) in [
        ("ImplementsQuery", "TRUE"),
        ("ImplementsAdHocQuery", "TRUE"),
        ("ImplementsFunctions", "FALSE"),
        ("ImplementsResourceId", "TRUE"),
        ("ImplementsMinStandardFilter", "TRUE"),
        ("ImplementsStandardFilter", "TRUE"),
        ("ImplementsMinSpatialFilter", "TRUE"),
        ("ImplementsSpatialFilter", "TRUE"),
        ("ImplementsMinTemporalFilter", "FALSE"),
        ("ImplementsTemporalFilter", "FALSE"),
        ("ImplementsVersionNav", "FALSE"),
        ("ImplementsSorting", "TRUE"),
        ("ImplementsExtendedOperators", "FALSE"),
        ("ImplementsMinimumXPath", "FALSE"),
        ("ImplementsSchemaElementFunc", "FALSE"),
    ] {
        let _ = write!(
            out,
            "<fes:Constraint name=\"{k}\"><ows:NoValues/><ows:DefaultValue>{v}</ows:DefaultValue></fes:Constraint>"
        );
    }
    out.push_str("</fes:Conformance><fes:Id_Capabilities><fes:ResourceIdentifier name=\"fes:ResourceId\"/></fes:Id_Capabilities>");
    out.push_str("<fes:Scalar_Capabilities><fes:LogicalOperators/><fes:ComparisonOperators>");
    for op in COMPARISONS {
        let _ = write!(out, "<fes:ComparisonOperator name=\"{op}\"/>");
    }
    out.push_str("</fes:ComparisonOperators></fes:Scalar_Capabilities><fes:Spatial_Capabilities><fes:GeometryOperands>");
    for g in OPERANDS_32 {
        let _ = write!(out, "<fes:GeometryOperand name=\"{g}\"/>");
    }
    out.push_str("</fes:GeometryOperands><fes:SpatialOperators>");
    for op in SPATIAL_OPS {
        let _ = write!(out, "<fes:SpatialOperator name=\"{op}\"/>");
    }
    out.push_str("</fes:SpatialOperators></fes:Spatial_Capabilities></fes:Filter_Capabilities></wfs:WFS_Capabilities>");
    out
}

fn caps_110(cat: &Catalog, s: &Service<'_>) -> String {
    let c = s.config;
    let mut out = caps_start(s, Version::V110);
    let formats = advertised(Version::V110);
    let any_editable = cat.layers().any(|l| (s.editable)(&l.id));
    let mut ops = vec!["GetCapabilities", "DescribeFeatureType", "GetFeature"];
    if any_editable {
        ops.push("Transaction");
    }
    let names = type_names_value(cat, c);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    operations(&mut out, s, &ops, |out, op| match op {
        "GetCapabilities" => {
            ows_param(
                out,
                "Parameter",
                "AcceptVersions",
                &["1.1.0", "1.0.0", "2.0.0"],
                false,
            );
        }
        "DescribeFeatureType" => {
            ows_param(
                out,
                "Parameter",
                "outputFormat",
                &["text/xml; subtype=gml/3.1.1"],
                false,
            );
        }
        "GetFeature" => {
            ows_param(out, "Parameter", "resultType", &["results", "hits"], false);
            ows_param(out, "Parameter", "outputFormat", formats, false);
            ows_param(out, "Parameter", "typeName", &names, false);
        }
        _ => {}
    });
    out.push_str("</ows:OperationsMetadata><wfs:FeatureTypeList><wfs:Operations><wfs:Operation>Query</wfs:Operation></wfs:Operations>");
    for l in cat.layers() {
        feature_type(&mut out, c, l, Version::V110, (s.editable)(&l.id), formats);
    }
    out.push_str("</wfs:FeatureTypeList>");
    out.push_str("<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>");
    for g in ["gml:Envelope", "gml:Point", "gml:LineString", "gml:Polygon"] {
        leaf(&mut out, "ogc:GeometryOperand", g);
    }
    out.push_str("</ogc:GeometryOperands><ogc:SpatialOperators>");
    for op in SPATIAL_OPS {
        let _ = write!(out, "<ogc:SpatialOperator name=\"{op}\"/>");
    }
    out.push_str("</ogc:SpatialOperators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:LogicalOperators/><ogc:ComparisonOperators>");
    for op in [
        "LessThan",
        "GreaterThan",
        "LessThanEqualTo",
        "GreaterThanEqualTo",
        "EqualTo",
        "NotEqualTo",
        "Like",
        "Between",
        "NullCheck",
    ] {
        leaf(&mut out, "ogc:ComparisonOperator", op);
    }
    out.push_str("</ogc:ComparisonOperators></ogc:Scalar_Capabilities><ogc:Id_Capabilities><ogc:EID/><ogc:FID/></ogc:Id_Capabilities></ogc:Filter_Capabilities></wfs:WFS_Capabilities>");
    out
}

fn caps_100(cat: &Catalog, s: &Service<'_>) -> String {
    let c = s.config;
    let e = escape(s.endpoint);
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<WFS_Capabilities version=\"1.0.0\" xmlns=\"http://www.opengis.net/wfs\" xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:{}=\"{}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.0.0/WFS-capabilities.xsd\">",
        c.ogc.prefix,
        escape(&c.ogc.namespace_uri)
    );
    out.push_str("<Service><Name>WFS</Name>");
    leaf(&mut out, "Title", &c.ogc.title);
    leaf(&mut out, "Abstract", &c.ogc.abstract_text);
    let _ = write!(out, "<OnlineResource>{e}</OnlineResource><Fees>NONE</Fees><AccessConstraints>NONE</AccessConstraints></Service>");
    let dcp = format!(
        "<DCPType><HTTP><Get onlineResource=\"{e}?\"/></HTTP></DCPType><DCPType><HTTP><Post onlineResource=\"{e}\"/></HTTP></DCPType>"
    );
    // WFS 1.0's ResultFormatType admits only <GML2/> (other formats would
    // be elements of a schema of our own); GML3 and GeoJSON are still
    // served by OUTPUTFORMAT, and WFS 1.1/2.0 advertise them.
    let _ = write!(
        out,
        "<Capability><Request><GetCapabilities>{dcp}</GetCapabilities><DescribeFeatureType><SchemaDescriptionLanguage><XMLSCHEMA/></SchemaDescriptionLanguage>{dcp}</DescribeFeatureType><GetFeature><ResultFormat><GML2/></ResultFormat>{dcp}</GetFeature>"
    );
    let any_editable = cat.layers().any(|l| (s.editable)(&l.id));
    if any_editable {
        let _ = write!(out, "<Transaction>{dcp}</Transaction>");
    }
    out.push_str("</Request></Capability><FeatureTypeList><Operations><Query/></Operations>");
    for l in cat.layers() {
        out.push_str("<FeatureType>");
        leaf(&mut out, "Name", &type_name(c, l));
        leaf(
            &mut out,
            "Title",
            if l.meta.title.is_empty() {
                &l.id
            } else {
                &l.meta.title
            },
        );
        leaf(&mut out, "Abstract", &l.meta.description);
        leaf(&mut out, "SRS", &format!("EPSG:{}", default_crs(l).epsg()));
        if (s.editable)(&l.id) {
            out.push_str("<Operations><Query/><Insert/><Update/><Delete/></Operations>");
        }
        let b = wgs84_bbox(l);
        let _ = write!(
            out,
            "<LatLongBoundingBox minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
            b[0], b[1], b[2], b[3]
        );
        out.push_str("</FeatureType>");
    }
    out.push_str("</FeatureTypeList><ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:Spatial_Operators><ogc:BBOX/><ogc:Equals/><ogc:Disjoint/><ogc:Intersect/><ogc:Touches/><ogc:Crosses/><ogc:Within/><ogc:Contains/><ogc:Overlaps/><ogc:DWithin/><ogc:Beyond/></ogc:Spatial_Operators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:Logical_Operators/><ogc:Comparison_Operators><ogc:Simple_Comparisons/><ogc:Like/><ogc:Between/><ogc:NullCheck/></ogc:Comparison_Operators></ogc:Scalar_Capabilities></ogc:Filter_Capabilities></WFS_Capabilities>");
    out
}

fn xsd_type(t: FieldType) -> &'static str {
    match t {
        FieldType::Boolean => "xsd:boolean",
        FieldType::Integer => "xsd:long",
        FieldType::Real => "xsd:double",
        FieldType::Text => "xsd:string",
        FieldType::Date => "xsd:date",
        FieldType::DateTime => "xsd:dateTime",
    }
}

/// The GML dialect of a DescribeFeatureType answer: OUTPUTFORMAT, else
/// the version's own.
pub fn schema_dialect(format: Option<&str>, v: Version) -> Result<GmlVersion, WfsError> {
    let f = format.map(|f| f.trim().to_ascii_lowercase().replace(' ', ""));
    Ok(match f.as_deref() {
        None | Some("") | Some("xmlschema") | Some("text/xml") => match v {
            Version::V200 => GmlVersion::V32,
            Version::V110 => GmlVersion::V311,
            Version::V100 => GmlVersion::V2,
        },
        Some("application/gml+xml;version=3.2") | Some("text/xml;subtype=gml/3.2") | Some("gml32") => GmlVersion::V32,
        Some("text/xml;subtype=gml/3.1.1") | Some("gml3") => GmlVersion::V311,
        Some("text/xml;subtype=gml/2.1.2") | Some("gml2") => GmlVersion::V2,
        Some(_) => {
            return Err(WfsError::invalid(
                param::OUTPUTFORMAT,
                format!(
                    "OUTPUTFORMAT '{}' is not a schema format; use application/gml+xml; version=3.2, text/xml; subtype=gml/3.1.1 or XMLSCHEMA",
                    format.unwrap_or_default()
                ),
            ))
        }
    })
}

/// The XSD of some layers as `role` sees them (DescribeFeatureType).
pub fn describe_feature_type(layers: &[&Layer], g: GmlVersion, c: &Config, role: Role) -> String {
    let pre = &c.ogc.prefix;
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:gml=\"{}\" xmlns:{pre}=\"",
        g.namespace()
    );
    escape_into(&mut out, &c.ogc.namespace_uri);
    out.push_str("\" targetNamespace=\"");
    escape_into(&mut out, &c.ogc.namespace_uri);
    let _ = write!(
        out,
        "\" elementFormDefault=\"qualified\" version=\"1.0\"><xsd:import namespace=\"{}\" schemaLocation=\"{}\"/>",
        g.namespace(),
        g.schema_location()
    );
    let (base, group) = match g {
        GmlVersion::V32 => ("gml:AbstractFeatureType", "gml:AbstractFeature"),
        _ => ("gml:AbstractFeatureType", "gml:_Feature"),
    };
    for l in layers {
        let _ = write!(
            out,
            "<xsd:complexType name=\"{}Type\"><xsd:complexContent><xsd:extension base=\"{base}\"><xsd:sequence>",
            l.id
        );
        let _ = write!(
            out,
            "<xsd:element name=\"{GEOMETRY_NAME}\" type=\"{}\" minOccurs=\"0\" maxOccurs=\"1\" nillable=\"true\"/>",
            g.property_type(l.geometry_type())
        );
        for i in l.fields_for(role) {
            let f = &l.fields()[i];
            let _ = write!(
                out,
                "<xsd:element name=\"{}\" type=\"{}\" minOccurs=\"0\" maxOccurs=\"1\" nillable=\"true\"/>",
                escape(&f.name),
                xsd_type(f.ty)
            );
        }
        let _ = write!(
            out,
            "</xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType><xsd:element name=\"{0}\" type=\"{pre}:{0}Type\" substitutionGroup=\"{group}\"/>",
            l.id
        );
    }
    out.push_str("</xsd:schema>");
    out
}

fn wfs20_root(out: &mut String, name: &str, c: &Config) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:{name} xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:{}=\"",
        c.ogc.prefix
    );
    escape_into(out, &c.ogc.namespace_uri);
    out.push_str("\">");
}

/// ListStoredQueries: the one stored query, over every feature type.
pub fn list_stored_queries(cat: &Catalog, c: &Config) -> String {
    let mut out = String::new();
    wfs20_root(&mut out, "ListStoredQueriesResponse", c);
    let _ = write!(out, "<wfs:StoredQuery id=\"{GET_FEATURE_BY_ID}\"><wfs:Title>Get feature by identifier</wfs:Title>");
    for n in type_names_value(cat, c) {
        leaf(&mut out, "wfs:ReturnFeatureType", &n);
    }
    out.push_str("</wfs:StoredQuery></wfs:ListStoredQueriesResponse>");
    out
}

/// DescribeStoredQueries for the ids asked (all when empty).
pub fn describe_stored_queries(
    ids: &[String],
    cat: &Catalog,
    c: &Config,
) -> Result<String, WfsError> {
    for id in ids {
        if id != GET_FEATURE_BY_ID {
            return Err(WfsError::invalid(
                param::STOREDQUERY_ID,
                format!("unknown stored query '{id}'; see ListStoredQueries"),
            ));
        }
    }
    let mut out = String::new();
    wfs20_root(&mut out, "DescribeStoredQueriesResponse", c);
    let _ = write!(
        out,
        "<wfs:StoredQueryDescription id=\"{GET_FEATURE_BY_ID}\"><wfs:Title>Get feature by identifier</wfs:Title><wfs:Abstract>Returns the single feature whose gml:id (layer.fid) is ID.</wfs:Abstract><wfs:Parameter name=\"ID\" type=\"xs:string\"/><wfs:QueryExpressionText isPrivate=\"true\" language=\"urn:ogc:def:queryLanguage:OGC-WFS::WFS_QueryExpression\" returnFeatureTypes=\""
    );
    escape_into(&mut out, &type_names_value(cat, c).join(" "));
    out.push_str("\"/></wfs:StoredQueryDescription></wfs:DescribeStoredQueriesResponse>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, LayerMeta};
    use crate::model::{FieldDef, GeometryType, LayerDataBuilder};

    fn catalog() -> std::sync::Arc<Catalog> {
        let e = Engine::new();
        let layers = ["parcels", "roads"]
            .iter()
            .map(|id| {
                let d = LayerDataBuilder::new(
                    *id,
                    5899,
                    GeometryType::Polygon,
                    vec![FieldDef::new("code", FieldType::Text)],
                )
                .finish()
                .unwrap();
                Layer::new(d, LayerMeta::default()).unwrap()
            })
            .collect();
        e.publish_all(layers);
        e.snapshot()
    }

    #[test]
    fn transaction_is_advertised_only_for_editable_layers() {
        let cat = catalog();
        let c = Config::default();
        let none = |_: &str| false;
        let parcels = |id: &str| id == "parcels";
        for v in Version::ALL {
            let s = Service {
                config: &c,
                endpoint: "http://x/wfs",
                editable: &none,
            };
            let doc = capabilities(v, &cat, &s);
            assert!(
                !doc.contains("Operation name=\"Transaction\"") && !doc.contains("<Transaction>"),
                "{v:?}"
            );
            let s = Service {
                config: &c,
                endpoint: "http://x/wfs",
                editable: &parcels,
            };
            let doc = capabilities(v, &cat, &s);
            match v {
                Version::V200 => assert!(
                    doc.contains("<ows:Operation name=\"Transaction\">")
                        && doc.contains(
                            "ImplementsTransactionalWFS\"><ows:NoValues/><ows:DefaultValue>TRUE"
                        )
                ),
                Version::V110 => {
                    assert_eq!(
                        doc.matches("<wfs:Operation>Insert</wfs:Operation>").count(),
                        1
                    );
                    assert!(doc.contains("<ows:Operation name=\"Transaction\">"));
                }
                Version::V100 => assert_eq!(doc.matches("<Insert/>").count(), 1),
            }
        }
    }
}
