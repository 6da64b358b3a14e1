//! WFS-T: the `Transaction` request of WFS 2.0.0, 1.1.0 and 1.0.0
//! compiled into store edits, and its response documents.
//!
//! * `wfs:Insert`: features as `prefix:layer` elements; properties by
//!   child element name, looked up in the layer's published schema (never
//!   evaluated), text converted to the field type; the `geom` property is
//!   read from its GML straight into the layer's storage CRS, so a feature
//!   sent back in that CRS is stored exactly as given.
//! * `wfs:Update`: `wfs:Property` with `wfs:ValueReference` (2.0) or
//!   `wfs:Name` (1.x) and `wfs:Value` (absent: null); the filter is
//!   compiled like a GetFeature filter and run on the engine snapshot to
//!   find the fids.
//! * `wfs:Delete`: type name and filter.
//!
//! Every action becomes one [`LayerEdit`], in document order; the caller
//! commits the list in one store transaction. An Update or Delete without
//! a filter is refused (it would change every feature of the layer).
//! Nothing here does IO.

use super::request::Transaction;
use super::{default_crs, layer_of, Version, WfsError, GEOMETRY_NAME};
use crate::config::Config;
use crate::crs::Crs;
use crate::engine::filter::{Filter, FilterLimits};
use crate::engine::{Catalog, Layer, Spatial};
use crate::model::{
    Edit, FeatureUpdate, FieldDef, FieldType, LayerEdit, NewFeature, Value, WriteResult,
};
use crate::ogc::fes::{self, FesContext};
use crate::ogc::gml::{srs_axis, GmlReader};
use crate::ogc::xml::{self, Element};
use geo_types::Geometry;
use std::fmt::Write;
use std::sync::Arc;

/// A transaction ready to be committed.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// One edit per action (an Insert of several layers gives one per run
    /// of features of one layer), in document order.
    pub edits: Vec<LayerEdit>,
    /// For each edit, the `handle` of the Insert it came from (for
    /// `InsertResults`); `None` for other actions.
    pub handles: Vec<Option<String>>,
}

/// Exception locator for type names in this version.
fn type_locator(v: Version) -> &'static str {
    if v == Version::V200 {
        "typeNames"
    } else {
        "typeName"
    }
}

/// An action the request names but geoplan cannot apply.
fn processing(locator: &str, message: impl Into<String>, status: u16) -> WfsError {
    WfsError {
        code: "OperationProcessingFailed",
        locator: Some(locator.to_owned()),
        message: message.into(),
        status,
    }
}

/// The layer an action edits, refused when it is not editable (403).
fn editable_layer<'c>(
    cat: &'c Catalog,
    name: &str,
    v: Version,
    editable: &dyn Fn(&str) -> bool,
) -> Result<&'c Arc<Layer>, WfsError> {
    let l = layer_of(cat, name, type_locator(v))?;
    if !editable(&l.id) {
        return Err(processing(
            type_locator(v),
            format!(
                "feature type '{}' is not editable (the server's ogc.editable does not list it)",
                name.trim()
            ),
            403,
        ));
    }
    Ok(l)
}

/// Reads request geometries into a layer's storage CRS.
struct Geoms {
    reader: GmlReader,
    target: Crs,
}

impl Geoms {
    fn new(l: &Layer, v: Version, srs: Option<&str>, config: &Config) -> Result<Geoms, WfsError> {
        let default = match srs.filter(|s| !s.trim().is_empty()) {
            Some(s) => srs_axis(s, v.epsg_order())
                .map_err(|e| WfsError::invalid("srsName", format!("srsName: {e}")))?,
            // Geometry without srsName is in the default CRS, named by its
            // URN in 1.1/2.0: lat,lon when that CRS is geographic.
            None => (
                default_crs(l),
                v.epsg_order() && default_crs(l).is_lat_lon(),
            ),
        };
        let lim = &config.limits;
        Ok(Geoms {
            reader: GmlReader {
                default,
                epsg_order: v.epsg_order(),
                // Inserted geometries may be larger than filter operands;
                // the body size bounds them (a vertex takes ≥ 4 bytes).
                max_vertices: lim.max_filter_vertices.max(lim.max_body_bytes / 8),
            },
            target: default_crs(l),
        })
    }

    /// The geometry inside a property element (its first child), or
    /// `None` for an empty or nil property.
    fn read(&self, prop: &Element, what: &str) -> Result<Option<Geometry<f64>>, WfsError> {
        match prop.children.first() {
            None => Ok(None),
            Some(g) => self
                .reader
                .read_to(g, self.target)
                .map(Some)
                .map_err(|e| WfsError::invalid(what, format!("{what}: {e}"))),
        }
    }
}

fn is_nil(e: &Element) -> bool {
    e.attr("nil")
        .is_some_and(|v| v.trim() == "true" || v.trim() == "1")
}

/// Converts the text of a property element to a value of the field's type.
fn typed(e: &Element, f: &FieldDef, what: &str) -> Result<Value, WfsError> {
    let bad = |msg: String| WfsError::invalid(what, format!("{what}: {msg}"));
    if is_nil(e) {
        return Ok(Value::Null);
    }
    if !e.children.is_empty() {
        return Err(bad(format!(
            "property {} takes a value, not the element <{}>",
            f.name, e.children[0].name
        )));
    }
    let t = e.text();
    if f.ty != FieldType::Text && t.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match f.ty {
        // Text as sent, whitespace and all: it is the client's value.
        FieldType::Text => Value::Text(e.text.clone()),
        FieldType::Date | FieldType::DateTime => Value::Text(t.to_owned()),
        FieldType::Integer => Value::Int(
            t.parse()
                .map_err(|_| bad(format!("property {} takes an integer, got '{t}'", f.name)))?,
        ),
        FieldType::Real => Value::Real(
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    bad(format!(
                        "property {} takes a finite real number, got '{t}'",
                        f.name
                    ))
                })?,
        ),
        FieldType::Boolean => match t {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => {
                return Err(bad(format!(
                    "property {} takes true or false, got '{t}'",
                    f.name
                )))
            }
        },
    })
}

/// Published field definitions of a layer, as editors see them (every
/// published field, sensitive ones too: writing shows nothing).
fn published(l: &Layer) -> Vec<FieldDef> {
    l.fields_for(crate::model::access::Role::Editor)
        .into_iter()
        .map(|i| l.fields()[i].clone())
        .collect()
}

/// A property name as a client writes it (`geoplan:address`,
/// `parcels/address`, `address`): the field, or `None` for the geometry.
fn field_of<'f>(
    fields: &'f [FieldDef],
    raw: &str,
    type_name: &str,
    what: &str,
) -> Result<Option<&'f FieldDef>, WfsError> {
    let last = raw.trim().rsplit('/').next().unwrap_or("");
    let name = xml::local(last.trim_start_matches('@'));
    if name == GEOMETRY_NAME {
        return Ok(None);
    }
    fields
        .iter()
        .find(|f| f.name == name)
        .map(Some)
        .ok_or_else(|| {
            WfsError::invalid(
                what,
                format!("{what}: unknown property '{}' of {type_name}", raw.trim()),
            )
        })
}

/// GML standard properties a client may send with a feature; ignored.
fn is_gml_property(e: &Element) -> bool {
    e.name.starts_with("gml:")
        || matches!(
            e.local(),
            "boundedBy" | "name" | "description" | "descriptionReference" | "identifier"
        )
}

fn insert_feature(
    f: &Element,
    fields: &[FieldDef],
    geoms: &Geoms,
    type_name: &str,
    n: usize,
) -> Result<NewFeature, WfsError> {
    let what = format!("Insert {type_name} #{n}");
    let mut nf = NewFeature::default();
    let mut seen_geom = false;
    for c in &f.children {
        let field = match field_of(fields, c.local(), type_name, &what) {
            Ok(x) => x,
            Err(_) if is_gml_property(c) => continue,
            Err(e) => return Err(e),
        };
        match field {
            None => {
                if seen_geom {
                    return Err(WfsError::invalid(
                        &what,
                        format!("{what}: the geometry is given twice"),
                    ));
                }
                seen_geom = true;
                nf.geometry = geoms.read(c, &what)?;
            }
            Some(fd) => {
                if nf.values.iter().any(|(k, _)| k == &fd.name) {
                    return Err(WfsError::invalid(
                        &what,
                        format!("{what}: property {} is given twice", fd.name),
                    ));
                }
                nf.values.push((fd.name.clone(), typed(c, fd, &what)?));
            }
        }
    }
    Ok(nf)
}

/// The fids a filter selects in the engine snapshot.
fn select(
    filter: &Element,
    l: &Layer,
    fields: &[FieldDef],
    geoms: &Geoms,
    type_name: &str,
    what: &str,
    config: &Config,
) -> Result<Vec<i64>, WfsError> {
    let lim = &config.limits;
    let ctx = FesContext {
        layer: &l.id,
        type_name,
        fields,
        geometry_name: GEOMETRY_NAME,
        gml: GmlReader {
            max_vertices: lim.max_filter_vertices,
            ..geoms.reader
        },
        max_ids: lim.max_in_list,
    };
    let expr =
        fes::compile(filter, &ctx).map_err(|e| WfsError::invalid(what, format!("{what}: {e}")))?;
    let spatial = expr.envelope_hint().map(Spatial::Bbox);
    let flimits = FilterLimits {
        max_depth: lim.max_filter_depth,
        max_nodes: lim.max_filter_nodes,
        max_in_list: lim.max_in_list,
    };
    let compiled = Filter::compile(&expr, l.fields(), &flimits)
        .map_err(|e| WfsError::invalid(what, format!("{what}: {e}")))?;
    let mut fids = Vec::new();
    l.for_each_match(spatial.as_ref(), Some(&compiled), |r| fids.push(r.fid));
    fids.sort_unstable();
    fids.dedup();
    Ok(fids)
}

fn type_name_of<'a>(e: &'a Element, what: &str) -> Result<&'a str, WfsError> {
    e.attr("typeName")
        .or_else(|| e.attr("typeNames"))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| WfsError::missing(&format!("{what}@typeName")))
}

fn the_filter<'a>(e: &'a Element, what: &str) -> Result<&'a Element, WfsError> {
    e.child("Filter").ok_or_else(|| {
        WfsError::invalid(
            what,
            format!("{what}: a Filter is required (geoplan does not change every feature of a layer at once)"),
        )
    })
}

/// Compiles a Transaction into edits, checking every layer with
/// `editable`. The filters of Update and Delete run on `cat`.
pub fn compile(
    tx: &Transaction,
    cat: &Catalog,
    config: &Config,
    editable: &dyn Fn(&str) -> bool,
) -> Result<Compiled, WfsError> {
    let v = tx.version;
    let mut out = Compiled::default();
    let prefix = &config.ogc.prefix;
    for (i, action) in tx.root.children.iter().enumerate() {
        let n = i + 1;
        match action.local() {
            "Insert" => {
                let what = format!("Insert (action {n})");
                // 2.0 may wrap features in a FeatureCollection-like member.
                let mut feats: Vec<&Element> = Vec::new();
                for c in &action.children {
                    if c.is("FeatureCollection") {
                        for m in &c.children {
                            feats.extend(m.children.iter());
                        }
                    } else {
                        feats.push(c);
                    }
                }
                if feats.is_empty() {
                    return Err(WfsError::invalid(&what, format!("{what}: no feature")));
                }
                // Consecutive features of one type become one edit.
                let mut runs: Vec<(Arc<Layer>, Vec<NewFeature>)> = Vec::new();
                for (k, f) in feats.into_iter().enumerate() {
                    let l = editable_layer(cat, &f.name, v, editable)?.clone();
                    let type_name = format!("{prefix}:{}", l.id);
                    let geoms = Geoms::new(&l, v, action.attr("srsName"), config)?;
                    let nf = insert_feature(f, &published(&l), &geoms, &type_name, k + 1)?;
                    match runs.last_mut() {
                        Some((rl, fs)) if rl.id == l.id => fs.push(nf),
                        _ => runs.push((l, vec![nf])),
                    }
                }
                for (rl, fs) in runs {
                    out.edits.push(LayerEdit {
                        layer: rl.id.clone(),
                        edit: Edit {
                            inserts: fs,
                            ..Edit::default()
                        },
                    });
                    out.handles.push(action.attr("handle").map(str::to_owned));
                }
            }
            "Update" => {
                let what = format!("Update (action {n})");
                let t = type_name_of(action, &what)?;
                let l = editable_layer(cat, t, v, editable)?;
                let type_name = format!("{prefix}:{}", l.id);
                let fields = published(l);
                let geoms = Geoms::new(l, v, action.attr("srsName"), config)?;
                let mut geometry = None;
                let mut values: Vec<(String, Value)> = Vec::new();
                for p in action.children_named("Property") {
                    let name_el = p
                        .children
                        .iter()
                        .find(|c| c.is("ValueReference") || c.is("Name"))
                        .ok_or_else(|| {
                            WfsError::invalid(
                                &what,
                                format!("{what}: a Property without ValueReference/Name"),
                            )
                        })?;
                    if let Some(a) = name_el.attr("action") {
                        if a != "replace" {
                            return Err(WfsError::invalid(
                                &what,
                                format!("{what}: action=\"{a}\" is not supported (only replace)"),
                            ));
                        }
                    }
                    let value = p.child("Value");
                    match field_of(&fields, name_el.text(), &type_name, &what)? {
                        None => {
                            if geometry.is_some() {
                                return Err(WfsError::invalid(
                                    &what,
                                    format!("{what}: the geometry is given twice"),
                                ));
                            }
                            geometry = Some(match value {
                                None => None,
                                Some(val) => geoms.read(val, &what)?,
                            });
                        }
                        Some(fd) => {
                            if values.iter().any(|(k, _)| k == &fd.name) {
                                return Err(WfsError::invalid(
                                    &what,
                                    format!("{what}: property {} is given twice", fd.name),
                                ));
                            }
                            let val = match value {
                                None => Value::Null,
                                Some(val) => typed(val, fd, &what)?,
                            };
                            values.push((fd.name.clone(), val));
                        }
                    }
                }
                if geometry.is_none() && values.is_empty() {
                    return Err(WfsError::invalid(
                        &what,
                        format!("{what}: no Property to change"),
                    ));
                }
                let filter = the_filter(action, &what)?;
                let fids = select(filter, l, &fields, &geoms, &type_name, &what, config)?;
                out.edits.push(LayerEdit {
                    layer: l.id.clone(),
                    edit: Edit {
                        updates: fids
                            .into_iter()
                            .map(|fid| FeatureUpdate {
                                fid,
                                geometry: geometry.clone(),
                                values: values.clone(),
                            })
                            .collect(),
                        ..Edit::default()
                    },
                });
                out.handles.push(None);
            }
            "Delete" => {
                let what = format!("Delete (action {n})");
                let t = type_name_of(action, &what)?;
                let l = editable_layer(cat, t, v, editable)?;
                let type_name = format!("{prefix}:{}", l.id);
                let fields = published(l);
                let geoms = Geoms::new(l, v, None, config)?;
                let filter = the_filter(action, &what)?;
                let fids = select(filter, l, &fields, &geoms, &type_name, &what, config)?;
                out.edits.push(LayerEdit {
                    layer: l.id.clone(),
                    edit: Edit {
                        deletes: fids,
                        ..Edit::default()
                    },
                });
                out.handles.push(None);
            }
            other @ ("Replace" | "Native") => {
                return Err(WfsError::not_supported(&format!("Transaction/{other}")));
            }
            other => {
                return Err(WfsError::parsing(format!(
                    "Transaction action <{other}> is not Insert, Update or Delete"
                )))
            }
        }
    }
    Ok(out)
}

/// The `TransactionResponse` (2.0, 1.1) or `WFS_TransactionResponse`
/// (1.0) for a committed transaction. Resource ids are `layer.fid`, as
/// GetFeature writes them.
pub fn response(v: Version, c: &Compiled, r: &WriteResult) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let inserted = || {
        c.handles
            .iter()
            .zip(&r.layers)
            .flat_map(|(h, lw)| lw.inserted.iter().map(move |fid| (h, &lw.layer, *fid)))
    };
    let handle = |out: &mut String, h: &Option<String>| {
        if let Some(h) = h {
            out.push_str(" handle=\"");
            xml::escape_into(out, h);
            out.push('"');
        }
    };
    match v {
        Version::V100 => {
            out.push_str("<wfs:WFS_TransactionResponse version=\"1.0.0\" xmlns:wfs=\"http://www.opengis.net/wfs\" xmlns:ogc=\"http://www.opengis.net/ogc\">");
            if r.total_inserted() > 0 {
                out.push_str("<wfs:InsertResult>");
                for (_, layer, fid) in inserted() {
                    out.push_str("<ogc:FeatureId fid=\"");
                    xml::escape_into(&mut out, &format!("{layer}.{fid}"));
                    out.push_str("\"/>");
                }
                out.push_str("</wfs:InsertResult>");
            }
            out.push_str("<wfs:TransactionResult><wfs:Status><wfs:SUCCESS/></wfs:Status></wfs:TransactionResult></wfs:WFS_TransactionResponse>");
        }
        Version::V110 | Version::V200 => {
            let v2 = v == Version::V200;
            let _ = write!(
                out,
                "<wfs:TransactionResponse version=\"{}\" xmlns:wfs=\"{}\" xmlns:{}>",
                v.as_str(),
                if v2 {
                    "http://www.opengis.net/wfs/2.0"
                } else {
                    "http://www.opengis.net/wfs"
                },
                if v2 {
                    "fes=\"http://www.opengis.net/fes/2.0\""
                } else {
                    "ogc=\"http://www.opengis.net/ogc\""
                }
            );
            let _ = write!(
                out,
                "<wfs:TransactionSummary><wfs:totalInserted>{}</wfs:totalInserted><wfs:totalUpdated>{}</wfs:totalUpdated>",
                r.total_inserted(),
                r.total_updated()
            );
            if v2 {
                out.push_str("<wfs:totalReplaced>0</wfs:totalReplaced>");
            }
            let _ = write!(
                out,
                "<wfs:totalDeleted>{}</wfs:totalDeleted></wfs:TransactionSummary>",
                r.total_deleted()
            );
            if r.total_inserted() > 0 {
                out.push_str("<wfs:InsertResults>");
                for (h, layer, fid) in inserted() {
                    out.push_str("<wfs:Feature");
                    handle(&mut out, h);
                    out.push('>');
                    let id = format!("{layer}.{fid}");
                    if v2 {
                        out.push_str("<fes:ResourceId rid=\"");
                    } else {
                        out.push_str("<ogc:FeatureId fid=\"");
                    }
                    xml::escape_into(&mut out, &id);
                    out.push_str("\"/></wfs:Feature>");
                }
                out.push_str("</wfs:InsertResults>");
            }
            out.push_str("</wfs:TransactionResponse>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerWritten;

    fn field(name: &str, ty: FieldType) -> FieldDef {
        FieldDef::new(name, ty)
    }

    fn el(text: &str) -> Element {
        Element {
            name: "geoplan:x".into(),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn property_text_becomes_a_value_of_the_field_type_or_a_named_error() {
        let t = |ty, s: &str| typed(&el(s), &field("f", ty), "Insert");
        assert_eq!(t(FieldType::Integer, " 42 ").unwrap(), Value::Int(42));
        assert_eq!(t(FieldType::Real, "16.5").unwrap(), Value::Real(16.5));
        assert_eq!(t(FieldType::Real, "").unwrap(), Value::Null);
        assert_eq!(t(FieldType::Boolean, "true").unwrap(), Value::Bool(true));
        assert_eq!(
            t(FieldType::Text, " Đà Nẵng ").unwrap(),
            Value::Text(" Đà Nẵng ".into())
        );
        let e = t(FieldType::Real, "NaN").unwrap_err();
        assert!(e.message.contains("property f") && e.message.contains("NaN"));
        assert!(t(FieldType::Integer, "1.5").is_err());
        let mut nil = el("7");
        nil.attrs.push(("xsi:nil".into(), "true".into()));
        assert_eq!(
            typed(&nil, &field("f", FieldType::Integer), "x").unwrap(),
            Value::Null
        );
    }

    #[test]
    fn responses_carry_totals_and_the_new_ids_per_version() {
        let c = Compiled {
            edits: vec![],
            handles: vec![Some("h<1>".into()), None],
        };
        let r = WriteResult {
            layers: vec![
                LayerWritten {
                    layer: "parcels".into(),
                    inserted: vec![7, 8],
                    ..Default::default()
                },
                LayerWritten {
                    layer: "parcels".into(),
                    deleted: vec![3],
                    ..Default::default()
                },
            ],
        };
        let d = response(Version::V200, &c, &r);
        assert!(d.contains("<wfs:totalInserted>2</wfs:totalInserted>"));
        assert!(d.contains("<wfs:totalDeleted>1</wfs:totalDeleted>"));
        assert!(d.contains(
            "<wfs:Feature handle=\"h&lt;1&gt;\"><fes:ResourceId rid=\"parcels.8\"/></wfs:Feature>"
        ));
        let d = response(Version::V110, &c, &r);
        assert!(d.contains("<ogc:FeatureId fid=\"parcels.7\"/>") && !d.contains("totalReplaced"));
        let d = response(Version::V100, &c, &r);
        assert!(d.contains("<wfs:InsertResult><ogc:FeatureId fid=\"parcels.7\"/>"));
        assert!(d.contains("<wfs:SUCCESS/>"));
    }
}
