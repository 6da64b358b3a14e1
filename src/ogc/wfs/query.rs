//! GetFeature compiled and run: each query of a parsed [`GetFeature`]
//! becomes an engine query over one layer (filter, BBOX, resource ids,
//! sort keys, properties, output CRS), and [`plan`] runs them for the exact
//! number matched and the page asked for. [`super::out`] writes the
//! [`Plan`].

use super::request::{GetFeature, QuerySpec};
use super::{default_crs, layer_of, param, OutputFormat, Version, WfsError, GEOMETRY_NAME};
use crate::config::Config;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::engine::filter::{Expr, Filter, FilterLimits};
use crate::engine::{Catalog, FeatureRef, Layer, Query, Spatial};
use crate::model::access::Access;
use crate::model::{FieldDef, ValueRef};
use crate::ogc::fes::{self, FesContext};
use crate::ogc::gml::{srs_axis, GmlReader};
use crate::ogc::xml;
use geo_types::{Coord, Rect};
use std::sync::Arc;

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
    /// GetPropertyValue: what each member of the value collection holds.
    pub value: Option<ValueOf>,
}

/// What a GetPropertyValue answers per feature: its valueReference
/// resolved to a simple property name (no XPath beyond that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOf {
    /// `@gml:id`: the feature id (`layer.fid`).
    Id,
    /// The geometry property (`geom`), as a GML geometry.
    Geometry,
    /// A published attribute: each query's only field.
    Field,
}

/// Resolves a valueReference (`@gml:id`, `geom`, `geoplan:land_use_code`,
/// `land_use_code`) against every query and narrows each to that property.
fn resolve_value(vr: &str, queries: &mut [LayerQuery]) -> Result<ValueOf, WfsError> {
    let v = vr.trim();
    if matches!(v, "@gml:id" | "@id" | "@fid") {
        for q in queries.iter_mut() {
            q.fields.clear();
            q.geometry = false;
        }
        return Ok(ValueOf::Id);
    }
    let name = v
        .rsplit_once('}')
        .map(|(_, l)| l)
        .unwrap_or_else(|| xml::local(v));
    if name == GEOMETRY_NAME {
        for q in queries.iter_mut() {
            q.fields.clear();
            q.geometry = true;
        }
        return Ok(ValueOf::Geometry);
    }
    for q in queries.iter_mut() {
        let fields = q.layer.fields();
        let Some(&i) = q.fields.iter().find(|&&i| fields[i].name == name) else {
            return Err(WfsError::invalid(
                param::VALUEREFERENCE,
                format!(
                    "VALUEREFERENCE '{v}': {} has no published property '{name}' (simple property names, {GEOMETRY_NAME} and @gml:id are answered)",
                    q.layer.id
                ),
            ));
        };
        q.fields = vec![i];
        q.geometry = false;
    }
    Ok(ValueOf::Field)
}

impl Plan {
    /// Number of features in the page.
    pub fn returned(&self) -> usize {
        self.pages.iter().map(|(_, p)| p.len()).sum()
    }
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
/// `access` says which fields the caller is shown (and notes the
/// sensitive ones shown).
pub fn plan(
    g: GetFeature,
    cat: &Catalog,
    config: &Config,
    access: &Access,
) -> Result<Plan, WfsError> {
    let lim = &config.limits;
    let mut format = OutputFormat::parse(g.format.as_deref(), g.version)?;
    let file = matches!(format, OutputFormat::File(_));
    if file && g.hits {
        // A count is a document, not a file: the version's GML says it.
        format = OutputFormat::parse(None, g.version)?;
    }
    let file = file && !g.hits;
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
        // WFS 2.0 advertises CountDefault and tells a client that more
        // match (numberMatched, next); WFS 1.x can say neither, so a 1.x
        // request without MAXFEATURES gets every match (streamed), up to
        // the limit, beyond which it is refused below rather than cut.
        // A file cannot say that more exist: like 1.x, every match.
        None if g.version == Version::V200 && !file => {
            config.ogc.wfs_count_default.min(lim.max_wfs_count)
        }
        None => lim.max_wfs_count,
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
            compiled.push(compile_query(spec, l, &g, config, &flimits, access)?);
        }
    }
    let value = match &g.value_reference {
        Some(vr) => {
            if format == OutputFormat::Json || file {
                return Err(WfsError::invalid(
                    param::OUTPUTFORMAT,
                    "GetPropertyValue answers XML (wfs:ValueCollection); leave OUTPUTFORMAT out",
                ));
            }
            Some(resolve_value(vr, &mut compiled)?)
        }
        None => None,
    };
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
    let returned: usize = pages.iter().map(|(_, p)| p.len()).sum();
    if (g.version != Version::V200 || file)
        && g.count.is_none()
        && !g.hits
        && g.start + returned < matched
    {
        let paging = if g.version == Version::V200 {
            param::COUNT
        } else {
            param::MAXFEATURES
        };
        let (what, why) = if file {
            ("file", "a file".to_owned())
        } else {
            ("response", format!("WFS {}", g.version.as_str()))
        };
        return Err(WfsError::invalid(
            paging,
            format!(
                "{matched} features match, more than the {} one WFS {} {what} may carry, and {why} cannot tell a client that more exist; ask for pages with {paging} and STARTINDEX, narrow the query{}",
                lim.max_wfs_count,
                g.version.as_str(),
                if file { "" } else { ", or use WFS 2.0.0" }
            ),
        ));
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
        value,
    })
}

fn compile_query(
    spec: &QuerySpec,
    l: Arc<Layer>,
    g: &GetFeature,
    config: &Config,
    flimits: &FilterLimits,
    access: &Access,
) -> Result<LayerQuery, WfsError> {
    let lim = &config.limits;
    let type_name = format!("{}:{}", config.ogc.prefix, l.id);
    let published = l.fields_for(access.role());
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
    for &i in &fields {
        if l.is_sensitive(i) {
            access.disclose(&l.id, &l.fields()[i].name);
        }
    }
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
