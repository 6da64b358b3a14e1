//! `GET /sites`: investor site search (see `planning::sites`) as JSON,
//! GeoJSON or CSV. The answer carries the canonical URL that reproduces the
//! search (every parameter explicit, the day included) and paging links.

use super::features::{base_url, query_pairs};
use super::geojson::Encoder;
use super::planning_info::today_vn;
use super::{ApiError, DataState};
use crate::crs;
use crate::planning::sites::{search, SiteHit, SiteQuery, SiteResults};
use crate::report::table::{Cell, DataTable};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Output format.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    GeoJson,
    Csv,
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
            let mut row = vec![
                Cell::Int((r.offset + i + 1) as i64),
                Cell::Text(s.layer.to_owned()),
                Cell::Int(s.fid),
                Cell::Text(key.trim().to_owned()),
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

fn properties(s: &SiteHit) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// `GET /sites?function=&use=&candidates=lots|parcels&min_area=&max_area=&min_far=&min_floors=&in=&near=<class>:<m>&exclude=&unit=&as_of=&sort=&limit=&offset=&f=json|geojson|csv`.
pub async fn get(
    State(s): State<DataState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut f = Format::Json;
    let mut pairs = Vec::new();
    for (k, v) in query_pairs(raw.as_deref()) {
        if k == "f" {
            f = match v.as_str() {
                "json" => Format::Json,
                "geojson" => Format::GeoJson,
                "csv" => Format::Csv,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "f='{other}' is not json, geojson or csv"
                    )))
                }
            };
        } else {
            pairs.push((k, v));
        }
    }
    let q = SiteQuery::parse(&pairs, &today_vn())?;
    let base = base_url(&s, &headers);
    let tol = s.config.planning.sliver_tolerance_m;
    let cat = s.engine.snapshot();
    // Filtering and measuring are CPU work: off the runtime.
    tokio::task::spawn_blocking(move || {
        let r = search(&cat, &q, tol)?;
        let fmt = match f {
            Format::Json => None,
            Format::GeoJson => Some("geojson"),
            Format::Csv => Some("csv"),
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
        for (rel, alt) in [("alternate", "geojson"), ("alternate", "csv")] {
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
            Format::Csv => (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"tim-dia-diem-{}.csv\"", r.as_of),
                    ),
                    (header::LINK, format!("<{url}>; rel=\"canonical\"")),
                ],
                table(&r, &q).to_csv(),
            )
                .into_response(),
        })
    })
    .await?
}
