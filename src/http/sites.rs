//! `GET /sites`: investor site search (see `planning::sites`) as JSON,
//! GeoJSON, the results table as CSV or XLSX, or the sites with their
//! facts as a GeoPackage, zipped Shapefile or KML. The answer carries the canonical URL that reproduces the
//! search (every parameter explicit, the day included) and paging links.

use super::export::{export_error, file_response, format_from_accept};
use super::features::{base_url, parse_crs, query_pairs};
use super::geojson::Encoder;
use super::planning_info::today_vn;
use super::{ApiError, DataState};
use crate::crs::{self, Crs};
use crate::model::{FieldDef, FieldType, FileFormat, ValueRef};
use crate::planning::sites::{search, SiteHit, SiteQuery, SiteResults};
use crate::report::table::{Cell, DataTable};
use crate::store::export::{ExportFile, ExportLayer, Exporter};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Output format.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    GeoJson,
    /// CSV and XLSX are the results table ([`table`]); the GIS files carry
    /// the same facts as fields beside each site's geometry.
    File(FileFormat),
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::GeoJson => "geojson",
            Format::File(f) => f.short_name(),
        }
    }
}

/// The `f=` values `/sites` takes.
fn offered() -> String {
    let mut v = vec!["json", "geojson"];
    v.extend(FileFormat::ALL.iter().map(|f| f.short_name()));
    v.join(", ")
}

/// The URL of a search at `offset`.
fn url_of(base: &str, q: &SiteQuery, offset: usize, f: Option<&str>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in q.canonical() {
        if k == "offset" {
            ser.append_pair(k, &offset.to_string());
        } else {
            ser.append_pair(k, &v);
        }
    }
    if let Some(f) = f {
        ser.append_pair("f", f);
    }
    format!("{base}/sites?{}", ser.finish())
}

fn h(vi: &str, en: &str) -> (String, String) {
    (vi.to_owned(), en.to_owned())
}

/// A site's key (lot symbol, or cadastral key) and what it is for.
fn key_and_use(s: &SiteHit) -> (String, Option<String>) {
    let key = match s.kind {
        "lot" => format!(
            "{} {}",
            s.zone_code.clone().unwrap_or_default(),
            s.lot_symbol.clone().unwrap_or_default()
        ),
        _ => format!(
            "{} tờ {} thửa {}",
            s.commune_code.clone().unwrap_or_default(),
            s.sheet_number.unwrap_or_default(),
            s.parcel_number.unwrap_or_default()
        ),
    };
    let what = s.function.clone().or_else(|| {
        s.land_use_code
            .as_ref()
            .map(|c| format!("{c} {}", s.land_use_name.clone().unwrap_or_default()))
    });
    (key.trim().to_owned(), what)
}

/// The results as a table: one row per site, one column per `near=`.
fn table(r: &SiteResults, q: &SiteQuery) -> DataTable {
    let mut headers = vec![
        h("Hạng", "Rank"),
        h("Lớp", "Layer"),
        h("Mã", "Id"),
        h("Ký hiệu / số hiệu", "Symbol or key"),
        h("Chức năng / loại đất", "Function or land use"),
        h("Diện tích (m²)", "Area (m²)"),
        h("Diện tích (ha)", "Area (ha)"),
        h("Hệ số SDĐ tối đa", "Max FAR"),
        h("Tầng cao tối đa", "Max floors"),
        h("Khu", "Zone"),
        h("Xã/phường (trước 2025)", "Commune (before 2025)"),
        h("Đơn vị từ 01/07/2025", "Unit from 1 Jul 2025"),
    ];
    for n in &q.near {
        headers.push((
            format!("Khoảng cách đến {} (m)", n.what),
            format!("Distance to {} (m)", n.what),
        ));
        headers.push((
            format!("Nơi gần nhất ({})", n.what),
            format!("Nearest {}", n.what),
        ));
    }
    headers.push(h("Điểm", "Score"));
    headers.push(h("Kinh độ", "Longitude"));
    headers.push(h("Vĩ độ", "Latitude"));
    let opt = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
    let rows = r
        .results
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (key, what) = key_and_use(s);
            let mut row = vec![
                Cell::Int((r.offset + i + 1) as i64),
                Cell::Text(s.layer.to_owned()),
                Cell::Int(s.fid),
                Cell::Text(key),
                opt(&what),
                Cell::Num(s.area_m2),
                Cell::Num(s.area_m2 / 10_000.0),
                s.far.map_or(Cell::Text(String::new()), Cell::Num),
                s.floors_max.map_or(Cell::Text(String::new()), Cell::Int),
                opt(&s.zone.as_ref().map(|z| z.name.clone())),
                opt(&s.units.commune.as_ref().map(|u| u.name.clone())),
                opt(&s.units.unit_2025.as_ref().map(|u| u.name.clone())),
            ];
            for d in &s.distances {
                row.push(Cell::Num(d.m));
                row.push(Cell::Text(d.to.clone()));
            }
            row.push(Cell::Num(s.score));
            row.push(Cell::Num(s.point[0]));
            row.push(Cell::Num(s.point[1]));
            row
        })
        .collect();
    DataTable {
        name: format!("Tìm địa điểm {}", r.as_of),
        headers,
        rows,
    }
}

/// The page as a GeoJSON FeatureCollection (WGS 84), each site's facts as
/// its properties.
fn geojson(cat: &crate::engine::Catalog, r: &SiteResults, meta: Value) -> Result<String, ApiError> {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    let layer = r.results.first().and_then(|s| cat.layer(s.layer));
    for (i, s) in r.results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":\"Feature\",\"id\":");
        out.push_str(&s.fid.to_string());
        out.push_str(",\"geometry\":");
        match layer.and_then(|l| l.get(s.fid).map(|f| (l, f))) {
            Some((l, f)) => {
                let enc = Encoder {
                    layer: l,
                    crs: crs::WGS84,
                    lat_lon: false,
                    fields: vec![],
                };
                enc.geometry(&mut out, f.row as usize, f)?;
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"properties\":");
        out.push_str(&serde_json::to_string(&properties(s)).map_err(ApiError::internal)?);
        out.push('}');
    }
    out.push_str("],");
    let meta = serde_json::to_string(&meta).map_err(ApiError::internal)?;
    // The metadata object's members after the features.
    out.push_str(meta.trim_start_matches('{'));
    Ok(out)
}

/// The page as a GIS file: each site's geometry from its layer in `c`
/// (KML: WGS 84) with the table's facts as fields, one table named
/// `sites_{layer}`.
fn site_file(
    cat: &crate::engine::Catalog,
    r: &SiteResults,
    q: &SiteQuery,
    f: FileFormat,
    c: Option<Crs>,
) -> Result<(ExportFile, Crs), ApiError> {
    let layer = r.results.first().and_then(|s| cat.layer(s.layer));
    let layer_id = layer.map_or("sites", |l| l.id.as_str());
    let c = match f {
        FileFormat::Kml => Crs::Crs84,
        _ => c.unwrap_or(layer.map_or(crs::VN2000_TM3_10745, |l| Crs::Epsg(l.source_srid))),
    };
    let fd = |n: &str, ty| FieldDef::new(n, ty);
    let mut fields = vec![
        fd("rank", FieldType::Integer),
        fd("layer", FieldType::Text),
        fd("key", FieldType::Text),
        fd("use", FieldType::Text),
        fd("area_m2", FieldType::Real),
        fd("area_ha", FieldType::Real),
        fd("far_max", FieldType::Real),
        fd("floors_max", FieldType::Integer),
        fd("zone", FieldType::Text),
        fd("commune", FieldType::Text),
        fd("unit_2025", FieldType::Text),
    ];
    for n in &q.near {
        let what: String = n
            .what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        fields.push(fd(&format!("d_{what}_m"), FieldType::Real));
        fields.push(fd(&format!("near_{what}"), FieldType::Text));
    }
    fields.push(fd("score", FieldType::Real));
    let stem = format!("tim-dia-diem-{}", r.as_of);
    let mut e = Exporter::new(f, &stem).map_err(export_error)?;
    let name = format!("sites_{layer_id}");
    e.layer(&ExportLayer {
        name: &name,
        geometry_type: layer.map(|l| l.geometry_type()),
        fields: &fields,
        crs: c,
    })
    .map_err(export_error)?;
    for (i, s) in r.results.iter().enumerate() {
        let (key, what) = key_and_use(s);
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let zone = s.zone.as_ref().map(|z| z.name.clone());
        let commune = s.units.commune.as_ref().map(|u| u.name.clone());
        let unit = s.units.unit_2025.as_ref().map(|u| u.name.clone());
        let (what, zone, commune, unit) = (text(&what), text(&zone), text(&commune), text(&unit));
        fn opt_text(t: &str) -> ValueRef<'_> {
            if t.is_empty() {
                ValueRef::Null
            } else {
                ValueRef::Text(t)
            }
        }
        let mut values = vec![
            ValueRef::Int((r.offset + i + 1) as i64),
            ValueRef::Text(s.layer),
            ValueRef::Text(&key),
            opt_text(&what),
            ValueRef::Real(s.area_m2),
            ValueRef::Real(s.area_m2 / 10_000.0),
            s.far.map_or(ValueRef::Null, ValueRef::Real),
            s.floors_max.map_or(ValueRef::Null, ValueRef::Int),
            opt_text(&zone),
            opt_text(&commune),
            opt_text(&unit),
        ];
        for d in &s.distances {
            values.push(ValueRef::Real(d.m));
            values.push(ValueRef::Text(&d.to));
        }
        values.push(ValueRef::Real(s.score));
        let geometry = match layer.and_then(|l| l.get(s.fid).map(|f| (l, f))) {
            Some((l, fr)) => {
                let data = l.data(fr.part);
                match data.geometry.to_geo(fr.row as usize, data.geometry_type) {
                    Some(mut g) => {
                        crs::transform_geometry(crs::WEB_MERCATOR, c, &mut g)?;
                        Some(g)
                    }
                    None => None,
                }
            }
            None => None,
        };
        e.feature(s.fid, geometry.as_ref(), &values)
            .map_err(export_error)?;
    }
    Ok((e.finish().map_err(export_error)?, c))
}

fn properties(s: &SiteHit) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// `GET /sites?function=&use=&candidates=lots|parcels&min_area=&max_area=&min_far=&min_floors=&in=&near=<class>:<m>&exclude=&unit=&as_of=&sort=&limit=&offset=&f=json|geojson|csv|xlsx|gpkg|shp|kml&crs=`.
pub async fn get(
    State(s): State<DataState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut f = match format_from_accept(&headers) {
        Some(ff) => Format::File(ff),
        None => Format::Json,
    };
    let mut out_crs = None;
    let mut pairs = Vec::new();
    for (k, v) in query_pairs(raw.as_deref()) {
        if k == "f" {
            f = match v.as_str() {
                "json" => Format::Json,
                "geojson" => Format::GeoJson,
                other => Format::File(FileFormat::parse(other).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "f='{other}' is not offered; use one of: {}",
                        offered()
                    ))
                })?),
            };
        } else if k == "crs" {
            out_crs = Some(parse_crs("crs", &v)?);
        } else {
            pairs.push((k, v));
        }
    }
    match (f, out_crs) {
        (Format::File(FileFormat::Gpkg | FileFormat::ShpZip), _) | (_, None) => {}
        (Format::File(FileFormat::Kml), Some(c)) if c.epsg() == 4326 => {}
        (_, Some(_)) => {
            return Err(ApiError::bad_request(
                "crs is taken with f=gpkg or f=shp only: JSON, GeoJSON and KML are WGS 84, and the CSV/XLSX table gives longitude and latitude",
            ))
        }
    }
    let q = SiteQuery::parse(&pairs, &today_vn())?;
    let base = base_url(&s, &headers);
    let tol = s.config.planning.sliver_tolerance_m;
    let cat = s.engine.snapshot();
    // Filtering and measuring are CPU work: off the runtime.
    crate::blocking::spawn(move || {
        let r = search(&cat, &q, tol)?;
        let fmt = match f {
            Format::Json => None,
            other => Some(other.name()),
        };
        let mut links = vec![json!({"rel": "self", "href": url_of(&base, &q, q.offset, fmt)})];
        if q.offset + q.limit < r.total {
            links.push(json!({"rel": "next", "href": url_of(&base, &q, q.offset + q.limit, fmt)}));
        }
        if q.offset > 0 {
            links.push(
                json!({"rel": "prev", "href": url_of(&base, &q, q.offset.saturating_sub(q.limit), fmt)}),
            );
        }
        for (rel, alt) in [
            ("alternate", "geojson"),
            ("alternate", "csv"),
            ("alternate", "xlsx"),
            ("alternate", "gpkg"),
            ("alternate", "shp"),
            ("alternate", "kml"),
        ] {
            if fmt != Some(alt) {
                links.push(json!({"rel": rel, "type": alt, "href": url_of(&base, &q, q.offset, Some(alt))}));
            }
        }
        let url = url_of(&base, &q, q.offset, None);
        Ok(match f {
            Format::Json => {
                let mut v = serde_json::to_value(&r).map_err(ApiError::internal)?;
                v["url"] = Value::String(url);
                v["links"] = Value::Array(links);
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    serde_json::to_string(&v).map_err(ApiError::internal)?,
                )
                    .into_response()
            }
            Format::GeoJson => {
                let meta = json!({
                    "as_of": r.as_of,
                    "candidates": r.candidates,
                    "total": r.total,
                    "offset": r.offset,
                    "limit": r.limit,
                    "score": r.score,
                    "uses": r.uses,
                    "functions": r.functions,
                    "notes": r.notes,
                    "url": url,
                    "links": links,
                });
                (
                    [(header::CONTENT_TYPE, "application/geo+json")],
                    geojson(&cat, &r, meta)?,
                )
                    .into_response()
            }
            Format::File(ff @ (FileFormat::Csv | FileFormat::Xlsx)) => {
                let t = table(&r, &q);
                let body = match ff {
                    FileFormat::Csv => t.to_csv().into_bytes(),
                    _ => t.to_xlsx().map_err(ApiError::internal)?,
                };
                (
                    [
                        (header::CONTENT_TYPE, ff.mime().to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!(
                                "attachment; filename=\"tim-dia-diem-{}.{}\"",
                                r.as_of,
                                ff.extension()
                            ),
                        ),
                        (header::LINK, format!("<{url}>; rel=\"canonical\"")),
                    ],
                    body,
                )
                    .into_response()
            }
            Format::File(ff) => {
                let (file, c) = site_file(&cat, &r, &q, ff, out_crs)?;
                let mut res = file_response(file, Some(c));
                if let Ok(v) = format!("<{url}>; rel=\"canonical\"").parse() {
                    res.headers_mut().insert(header::LINK, v);
                }
                res
            }
        })
    })
    .await?
}
