//! `GET /stats/landuse` and `GET /stats/projects`: statistics by
//! administrative unit as of a day (see `planning::stats`), as JSON, CSV or
//! XLSX with Vietnamese headers.

use super::features::query_pairs;
use super::planning_info::today_vn;
use super::{ApiError, DataState};
use crate::planning::stats::{
    landuse, projects, Grouping, LanduseQuery, LanduseStats, Level, ProjectStats, ProjectsBy,
};
use crate::report::table::{Cell, DataTable};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Output format.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

fn format_of(v: &str) -> Result<Format, ApiError> {
    match v {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "xlsx" => Ok(Format::Xlsx),
        other => Err(ApiError::bad_request(format!(
            "f='{other}' is not json, csv or xlsx"
        ))),
    }
}

fn h(vi: &str, en: &str) -> (String, String) {
    (vi.to_owned(), en.to_owned())
}

fn landuse_table(s: &LanduseStats) -> DataTable {
    let by_group = s.group == Grouping::Group;
    DataTable {
        name: format!("Thống kê đất {}", s.as_of),
        headers: vec![
            h("Mã đơn vị", "Unit code"),
            h("Đơn vị hành chính", "Unit"),
            if by_group {
                h("Nhóm đất", "Land-use group")
            } else {
                h("Mã loại đất", "Land-use code")
            },
            h("Tên loại đất", "Land use"),
            h("Số thửa", "Parcels"),
            h("Diện tích (m²)", "Area (m²)"),
            h("Diện tích (ha)", "Area (ha)"),
        ],
        rows: s
            .rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.unit_code.clone()),
                    Cell::Text(r.unit_name.clone()),
                    Cell::Text(r.land_use.clone()),
                    Cell::Text(r.land_use_name.clone()),
                    Cell::Int(r.parcels as i64),
                    Cell::Num(r.area_m2),
                    Cell::Num(r.area_ha),
                ]
            })
            .chain(std::iter::once(vec![
                Cell::Text(String::new()),
                Cell::Text(s.total.unit_name.clone()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Int(s.total.parcels as i64),
                Cell::Num(s.total.area_m2),
                Cell::Num(s.total.area_m2 / 10_000.0),
            ]))
            .collect(),
    }
}

fn projects_table(s: &ProjectStats) -> DataTable {
    DataTable {
        name: format!("Dự án {}", s.as_of),
        headers: vec![
            match s.by {
                ProjectsBy::Status => h("Trạng thái", "Status"),
                ProjectsBy::Unit => h("Mã đơn vị", "Unit code"),
                ProjectsBy::Function => h("Chức năng", "Function"),
            },
            h("Tên đơn vị", "Unit name"),
            h("Số dự án", "Projects"),
            h("Vốn đăng ký (VNĐ)", "Registered capital (VND)"),
            h("Diện tích (ha)", "Area (ha)"),
        ],
        rows: s
            .rows
            .iter()
            .chain(std::iter::once(&s.total))
            .map(|r| {
                vec![
                    Cell::Text(r.key.clone()),
                    Cell::Text(r.name.clone().unwrap_or_default()),
                    Cell::Int(r.projects as i64),
                    Cell::Int(r.capital_vnd),
                    Cell::Num(r.area_ha),
                ]
            })
            .collect(),
    }
}

fn respond<T: serde::Serialize>(
    v: &T,
    table: impl FnOnce() -> DataTable,
    f: Format,
    file: &str,
) -> Result<Response, ApiError> {
    let disposition = |ext: &str| format!("attachment; filename=\"{file}.{ext}\"");
    Ok(match f {
        Format::Json => Json(serde_json::to_value(v).map_err(ApiError::internal)?).into_response(),
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition("csv")),
            ],
            table().to_csv(),
        )
            .into_response(),
        Format::Xlsx => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, disposition("xlsx")),
            ],
            table().to_xlsx().map_err(ApiError::internal)?,
        )
            .into_response(),
    })
}

/// `GET /stats/landuse?level=commune|district|province&as_of=&unit=&group=code|group&f=json|csv|xlsx`.
pub async fn landuse_stats(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut q = LanduseQuery {
        level: Level::Commune,
        as_of: today_vn(),
        unit: None,
        group: Grouping::Code,
    };
    let mut f = Format::Json;
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "level" => q.level = Level::parse(&v)?,
            "as_of" => q.as_of = v,
            "unit" => q.unit = Some(v),
            "group" => {
                q.group = match v.as_str() {
                    "code" => Grouping::Code,
                    "group" => Grouping::Group,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "group='{other}' is not code or group"
                        )))
                    }
                }
            }
            "f" => f = format_of(&v)?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /stats/landuse takes level, as_of, unit, group, f"
                )))
            }
        }
    }
    let cat = s.engine.snapshot();
    let file = format!("thong-ke-dat-{}", q.as_of);
    // Counting and encoding (CSV, zipped XLSX) are CPU work: off the runtime.
    crate::blocking::spawn(move || {
        let stats = landuse(&cat, &q)?;
        respond(&stats, || landuse_table(&stats), f, &file)
    })
    .await?
}

/// `GET /stats/projects?by=status|unit|function&as_of=&f=json|csv|xlsx`.
pub async fn project_stats(
    State(s): State<DataState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (mut by, mut as_of, mut f) = (ProjectsBy::Status, today_vn(), Format::Json);
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "by" => by = ProjectsBy::parse(&v)?,
            "as_of" => as_of = v,
            "f" => f = format_of(&v)?,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'; /stats/projects takes by, as_of, f"
                )))
            }
        }
    }
    let cat = s.engine.snapshot();
    let file = format!("thong-ke-du-an-{as_of}");
    crate::blocking::spawn(move || {
        let stats = projects(&cat, by, &as_of)?;
        respond(&stats, || projects_table(&stats), f, &file)
    })
    .await?
}
