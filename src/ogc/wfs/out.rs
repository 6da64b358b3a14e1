//! GetFeature responses: feature collections in GML 3.2, GML 3.1.1, GML 2
//! and GeoJSON (download files are `http::export`'s), written feature by feature so that `http` can stream them
//! in chunks (the head, one feature at a time, the tail): memory stays flat
//! however many features a page holds.

use super::query::{LayerQuery, Plan, ValueOf};
use super::{param, OutputFormat, Version, GEOMETRY_NAME};
use crate::crs::CrsError;
use crate::engine::FeatureRef;
use crate::model::push_json_str;
use crate::model::ValueRef;
use crate::ogc::gml::{GeomWriter, GmlVersion};
use crate::ogc::xml::{escape_into, leaf};
use geo_types::Coord;
use std::fmt::Write;

/// Writes one response of a [`Plan`].
pub struct Writer<'a> {
    plan: &'a Plan,
    prefix: &'a str,
    ns: &'a str,
    base: &'a str,
    timestamp: &'a str,
    geom: Vec<GeomWriter>,
    /// Per query: the qualified element name of each written field.
    tags: Vec<Vec<String>>,
    scratch: Vec<Coord<f64>>,
    id: String,
    written: usize,
}

/// The request again from `start`; always `RESULTTYPE=results` (the
/// default, so left out): the `next` of a hits answer is the first page
/// of results (OGC 09-025 §7.7.4.2).
fn link(base: &str, kvp: &[(String, String)], start: usize) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in kvp
        .iter()
        .filter(|(k, _)| k != param::STARTINDEX && k != param::RESULTTYPE)
    {
        ser.append_pair(k, v);
    }
    ser.append_pair(param::STARTINDEX, &start.to_string());
    format!("{base}?{}", ser.finish())
}

impl<'a> Writer<'a> {
    /// A writer for `plan`; `base` is the absolute URL of the WFS endpoint
    /// (for links and schema locations), `prefix`/`ns` the feature type
    /// namespace, `timestamp` the ISO 8601 time of the response.
    pub fn new(
        plan: &'a Plan,
        prefix: &'a str,
        ns: &'a str,
        base: &'a str,
        timestamp: &'a str,
    ) -> Writer<'a> {
        let version = match plan.format {
            OutputFormat::Gml(v) => v,
            OutputFormat::Json | OutputFormat::File(_) => GmlVersion::V32,
        };
        let geom = plan
            .pages
            .iter()
            .map(|(lq, _)| GeomWriter {
                version,
                crs: lq.out.0,
                srs_name: lq.out.1.clone(),
                lat_lon: lq.out.2,
            })
            .collect();
        let tags = plan
            .pages
            .iter()
            .map(|(lq, _)| {
                let fields = lq.layer.fields();
                lq.fields
                    .iter()
                    .map(|&c| format!("{prefix}:{}", fields[c].name))
                    .collect()
            })
            .collect();
        Writer {
            plan,
            prefix,
            ns,
            base,
            timestamp,
            geom,
            tags,
            scratch: Vec::new(),
            id: String::new(),
            written: 0,
        }
    }

    fn next_prev(&self) -> (Option<String>, Option<String>) {
        let p = self.plan;
        let Some(kvp) = &p.kvp else {
            return (None, None);
        };
        if p.by_id.is_some() {
            return (None, None);
        }
        if p.hits {
            // The results the hits counted start where it asked.
            return (
                (p.start < p.matched).then(|| link(self.base, kvp, p.start)),
                None,
            );
        }
        let returned = p.returned();
        let next = (returned > 0 && p.start + returned < p.matched)
            .then(|| link(self.base, kvp, p.start + returned));
        let prev = (p.start > 0).then(|| link(self.base, kvp, p.start.saturating_sub(p.count)));
        (next, prev)
    }

    fn schema_location(&self) -> String {
        let p = self.plan;
        let types: Vec<String> = p
            .pages
            .iter()
            .map(|(lq, _)| format!("{}:{}", self.prefix, lq.layer.id))
            .collect();
        let (v, wfs_ns, wfs_xsd) = match p.version {
            Version::V200 => (
                "2.0.0",
                "http://www.opengis.net/wfs/2.0",
                "http://schemas.opengis.net/wfs/2.0/wfs.xsd",
            ),
            Version::V110 => (
                "1.1.0",
                "http://www.opengis.net/wfs",
                "http://schemas.opengis.net/wfs/1.1.0/wfs.xsd",
            ),
            Version::V100 => (
                "1.0.0",
                "http://www.opengis.net/wfs",
                "http://schemas.opengis.net/wfs/1.0.0/WFS-basic.xsd",
            ),
        };
        let OutputFormat::Gml(g) = p.format else {
            return String::new();
        };
        let mut dft = url::form_urlencoded::Serializer::new(String::new());
        dft.append_pair("SERVICE", "WFS")
            .append_pair("VERSION", v)
            .append_pair("REQUEST", "DescribeFeatureType")
            .append_pair(
                if p.version == Version::V200 {
                    "TYPENAMES"
                } else {
                    "TYPENAME"
                },
                &types.join(","),
            );
        if p.format != OutputFormat::parse(None, p.version).unwrap_or(p.format) {
            dft.append_pair("OUTPUTFORMAT", p.format.mime());
        }
        let mut s = format!(
            "{} {}?{} {wfs_ns} {wfs_xsd}",
            self.ns,
            self.base,
            dft.finish()
        );
        if g == GmlVersion::V32 {
            let _ = write!(s, " {} {}", g.namespace(), g.schema_location());
        }
        s
    }

    /// The start of the document.
    pub fn head(&mut self, out: &mut String) {
        let p = self.plan;
        if let (Some(_), OutputFormat::Gml(g)) = (p.value, p.format) {
            self.value_head(out, g);
            return;
        }
        let returned = if p.hits { 0 } else { p.returned() };
        let g = match p.format {
            OutputFormat::Json => {
                if p.by_id.is_some() {
                    return;
                }
                let _ = write!(
                    out,
                    "{{\"type\":\"FeatureCollection\",\"numberMatched\":{},\"numberReturned\":{},\"timeStamp\":\"{}\"",
                    p.matched, returned, self.timestamp
                );
                // The CRS as GeoServer and GDAL write and read it (GeoJSON
                // 2008 `crs` member): coordinates may be in 5899, not CRS84.
                if let Some(w) = self.geom.first() {
                    out.push_str(",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":");
                    push_json_str(out, &w.crs.urn());
                    out.push_str("}}");
                }
                let (next, prev) = self.next_prev();
                out.push_str(",\"links\":[");
                let mut first = true;
                for (rel, href) in [("next", next), ("previous", prev)] {
                    if let Some(h) = href {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        let _ = write!(
                            out,
                            "{{\"rel\":\"{rel}\",\"type\":\"application/json\",\"href\":"
                        );
                        push_json_str(out, &h);
                        out.push('}');
                    }
                }
                out.push_str("],\"features\":[");
                return;
            }
            // Files are written by `http::export`, not as a document.
            OutputFormat::File(_) => return,
            OutputFormat::Gml(g) => g,
        };
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if p.by_id.is_some() {
            // GetFeatureById answers the bare feature; its namespaces are
            // declared on it by `feature`.
            return;
        }
        let wfs_ns = if p.version == Version::V200 {
            "http://www.opengis.net/wfs/2.0"
        } else {
            "http://www.opengis.net/wfs"
        };
        let _ = write!(
            out,
            "<wfs:FeatureCollection xmlns:wfs=\"{wfs_ns}\" xmlns:gml=\"{}\" xmlns:{}=\"",
            g.namespace(),
            self.prefix
        );
        escape_into(out, self.ns);
        out.push_str(
            "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"",
        );
        escape_into(out, &self.schema_location());
        out.push('"');
        match p.version {
            Version::V200 => {
                let _ = write!(
                    out,
                    " timeStamp=\"{}\" numberMatched=\"{}\" numberReturned=\"{}\"",
                    self.timestamp, p.matched, returned
                );
                let (next, prev) = self.next_prev();
                for (k, v) in [("next", next), ("previous", prev)] {
                    if let Some(v) = v {
                        let _ = write!(out, " {k}=\"");
                        escape_into(out, &v);
                        out.push('"');
                    }
                }
            }
            // WFS 1.0's FeatureCollectionType has neither attribute.
            Version::V100 => {}
            Version::V110 => {
                let n = if p.hits { p.matched } else { returned };
                let _ = write!(
                    out,
                    " numberOfFeatures=\"{n}\" timeStamp=\"{}\"",
                    self.timestamp
                );
            }
        }
        out.push('>');
        // A GML 2 collection needs boundedBy; wfs:FeatureCollection of 2.0
        // has its own (optional) one and holds GML 2 only in wfs:member.
        if g == GmlVersion::V2 && p.version != Version::V200 {
            out.push_str("<gml:boundedBy><gml:null>unknown</gml:null></gml:boundedBy>");
        }
    }

    /// Writes feature `r` of query `q` (index into the plan's pages).
    pub fn feature(&mut self, out: &mut String, q: usize, r: FeatureRef) -> Result<(), CrsError> {
        let plan: &'a Plan = self.plan;
        let (lq, _) = &plan.pages[q];
        let first = self.written == 0;
        self.written += 1;
        if let Some(v) = plan.value {
            return self.value_member(out, q, lq, r, v);
        }
        match self.plan.format {
            OutputFormat::Json => self.json_feature(out, q, lq, r, first),
            OutputFormat::Gml(g) => self.gml_feature(out, q, lq, r, g),
            OutputFormat::File(_) => Ok(()),
        }
    }

    fn gml_feature(
        &mut self,
        out: &mut String,
        q: usize,
        lq: &LayerQuery,
        r: FeatureRef,
        g: GmlVersion,
    ) -> Result<(), CrsError> {
        let p = self.plan;
        let l = &lq.layer;
        let data = l.data(r.part);
        let row = r.row as usize;
        let pre = self.prefix;
        let bare = p.by_id.is_some();
        let member = match (bare, p.version, g) {
            (true, ..) => None,
            (_, Version::V200, _) => Some("wfs:member"),
            _ => Some("gml:featureMember"),
        };
        if let Some(m) = member {
            let _ = write!(out, "<{m}>");
        }
        self.id.clear();
        let _ = write!(self.id, "{}.{}", l.id, r.fid);
        let id = self.id.as_str();
        let _ = write!(out, "<{pre}:{}", l.id);
        if bare {
            let _ = write!(out, " xmlns:{pre}=\"");
            escape_into(out, self.ns);
            let _ = write!(out, "\" xmlns:gml=\"{}\"", g.namespace());
        }
        if g == GmlVersion::V2 {
            let _ = write!(out, " fid=\"{id}\">");
        } else {
            let _ = write!(out, " gml:id=\"{id}\">");
        }
        if lq.geometry && data.geometry.part_count(row) > 0 {
            let _ = write!(out, "<{pre}:{GEOMETRY_NAME}>");
            self.id.push_str(".geom");
            self.geom[q].write(out, data, row, &self.id, &mut self.scratch)?;
            self.id.truncate(self.id.len() - ".geom".len());
            let _ = write!(out, "</{pre}:{GEOMETRY_NAME}>");
        }
        let mut text = String::new();
        for (&c, tag) in lq.fields.iter().zip(&self.tags[q]) {
            if value_text(data.value(row, c), &mut text) {
                leaf(out, tag, &text);
            }
        }
        let _ = write!(out, "</{pre}:{}>", l.id);
        if let Some(m) = member {
            let _ = write!(out, "</{m}>");
        }
        Ok(())
    }

    fn json_feature(
        &mut self,
        out: &mut String,
        q: usize,
        lq: &LayerQuery,
        r: FeatureRef,
        first: bool,
    ) -> Result<(), CrsError> {
        let l = &lq.layer;
        let data = l.data(r.part);
        let row = r.row as usize;
        if !first {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"type\":\"Feature\",\"id\":\"{}.{}\",\"geometry\":",
            l.id, r.fid
        );
        if lq.geometry && data.geometry.part_count(row) > 0 {
            // GeoJSON is longitude first whatever the CRS name.
            crate::ogc::geojson::push_geometry(
                out,
                data,
                row,
                self.geom[q].crs,
                false,
                &mut self.scratch,
            )?;
        } else {
            out.push_str("null");
        }
        out.push_str(",\"properties\":");
        crate::ogc::geojson::push_properties(out, data, row, &lq.fields);
        out.push('}');
        Ok(())
    }

    /// GetPropertyValue: the start of the `wfs:ValueCollection`.
    fn value_head(&mut self, out: &mut String, g: GmlVersion) {
        let p = self.plan;
        let returned = if p.hits { 0 } else { p.returned() };
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = write!(
            out,
            "<wfs:ValueCollection xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:gml=\"{}\" xmlns:{}=\"",
            g.namespace(),
            self.prefix
        );
        escape_into(out, self.ns);
        let _ = write!(
            out,
            "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd\" timeStamp=\"{}\" numberMatched=\"{}\" numberReturned=\"{returned}\"",
            self.timestamp, p.matched
        );
        let (next, prev) = self.next_prev();
        for (k, v) in [("next", next), ("previous", prev)] {
            if let Some(v) = v {
                let _ = write!(out, " {k}=\"");
                escape_into(out, &v);
                out.push('"');
            }
        }
        out.push('>');
    }

    /// GetPropertyValue: one `wfs:member` with the feature's value (empty
    /// for a null value).
    fn value_member(
        &mut self,
        out: &mut String,
        q: usize,
        lq: &LayerQuery,
        r: FeatureRef,
        v: ValueOf,
    ) -> Result<(), CrsError> {
        let l = &lq.layer;
        let data = l.data(r.part);
        let row = r.row as usize;
        self.id.clear();
        let _ = write!(self.id, "{}.{}", l.id, r.fid);
        out.push_str("<wfs:member>");
        match v {
            ValueOf::Id => escape_into(out, &self.id),
            ValueOf::Geometry => {
                if data.geometry.part_count(row) > 0 {
                    self.id.push_str(".geom");
                    self.geom[q].write(out, data, row, &self.id, &mut self.scratch)?;
                }
            }
            ValueOf::Field => {
                let mut text = String::new();
                if let Some(&c) = lq.fields.first() {
                    if value_text(data.value(row, c), &mut text) {
                        escape_into(out, &text);
                    }
                }
            }
        }
        out.push_str("</wfs:member>");
        Ok(())
    }

    /// The end of the document.
    pub fn tail(&mut self, out: &mut String) {
        if self.plan.value.is_some() {
            out.push_str("</wfs:ValueCollection>");
            return;
        }
        match self.plan.format {
            OutputFormat::Json if self.plan.by_id.is_none() => out.push_str("]}"),
            OutputFormat::Json | OutputFormat::File(_) => {}
            OutputFormat::Gml(_) if self.plan.by_id.is_some() => {}
            OutputFormat::Gml(_) => out.push_str("</wfs:FeatureCollection>"),
        }
    }
}

/// The text of a value as GML writes it into `buf`; false for a null or
/// a non-finite number (the element is left out).
fn value_text(v: ValueRef<'_>, buf: &mut String) -> bool {
    buf.clear();
    match v {
        ValueRef::Null => return false,
        ValueRef::Bool(b) => buf.push_str(if b { "true" } else { "false" }),
        ValueRef::Int(i) => {
            let _ = write!(buf, "{i}");
        }
        ValueRef::Real(v) if v.is_finite() => {
            let _ = write!(buf, "{v}");
        }
        ValueRef::Real(_) => return false,
        ValueRef::Text(s) => buf.push_str(s),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_formats_parse_mime_types_and_short_names() {
        assert_eq!(
            OutputFormat::parse(Some("application/gml+xml; version=3.2"), Version::V200).unwrap(),
            OutputFormat::Gml(GmlVersion::V32)
        );
        assert_eq!(
            OutputFormat::parse(Some("GML2"), Version::V110).unwrap(),
            OutputFormat::Gml(GmlVersion::V2)
        );
        assert_eq!(
            OutputFormat::parse(None, Version::V110).unwrap(),
            OutputFormat::Gml(GmlVersion::V311)
        );
        assert_eq!(
            OutputFormat::parse(Some("application/json"), Version::V100).unwrap(),
            OutputFormat::Json
        );
        assert_eq!(
            OutputFormat::parse(Some("SHAPE-ZIP"), Version::V100).unwrap(),
            OutputFormat::File(crate::model::FileFormat::ShpZip)
        );
        let e = OutputFormat::parse(Some("shape"), Version::V200).unwrap_err();
        assert_eq!(e.locator.as_deref(), Some("OUTPUTFORMAT"));
    }
}
