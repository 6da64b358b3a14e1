//! The planning information sheet ("phiếu thông tin quy hoạch"): a
//! planning answer composed into a document, as the Quảng Nam template has
//! it (A. the parcel or site, B. the plans, C. the zoning lots with their
//! indicators, a map extract) and with what the template lacks: the
//! cadastral key and legal area, the share of the parcel in each lot, every
//! plan level, the as-of date, the source of each fact, a verification
//! code and the disclaimer that the sheet is information, not a planning
//! certificate. Also the kit printed documents are drawn with, and the
//! subject's map extract.

use super::doc::*;
use super::fonts::DocFonts;
use super::map::{frame_around, lift_zoom_limits, render_extract, MapExtract, MapRequest};
use super::ReportError;
use crate::engine::Catalog;
use crate::model::grow_rect;
use crate::planning::info::{PlanningInfo, PARCELS};
use crate::planning::overlay::{polygons, to_plane};
use crate::render::style::Style;
use crate::render::text::Fonts;
use crate::render::Renderer;
use geo::BoundingRect;
use geo_types::{Coord, Geometry, MultiPolygon, Rect};
use std::path::Path;

/// Layers a sheet's map shows: the plan under the subject, water, roads,
/// places.
pub const MAP_LAYERS: [&str; 5] = ["admin_units", "zoning_lots", "water", "roads", "pois"];
/// Layers drawn as outlines over them, so the lots' colours show.
pub const MAP_OUTLINES: [&str; 1] = ["parcels"];

/// Printed size of a sheet's map, millimetres.
const MAP_MM: (f32, f32) = (170.0, 105.0);
/// Print resolution of the map.
const MAP_DPI: f32 = 200.0;

/// What printed documents are drawn with: the map style with the zoning
/// lots shown at cadastral scales, label fonts and document fonts.
pub struct PrintKit {
    /// The map renderer.
    pub renderer: Renderer,
    /// Document fonts (DejaVu).
    pub fonts: DocFonts,
}

impl PrintKit {
    /// Compiles `style` (a MapLibre style; default symbols when none) and
    /// loads the fonts of `fonts_dir`.
    pub fn new(
        style: Option<&serde_json::Value>,
        fonts_dir: &Path,
    ) -> Result<PrintKit, ReportError> {
        let mut style = style
            .and_then(|s| Style::compile(s).ok())
            .unwrap_or_default();
        lift_zoom_limits(&mut style, &["zoning_lots"]);
        Ok(PrintKit {
            renderer: Renderer::new(style, Fonts::load(fonts_dir)),
            fonts: DocFonts::load(fonts_dir)?,
        })
    }
}

/// The subject of an answer in EPSG:5899: the parcel's polygon, or the
/// site's; `None` for a bare point.
pub fn subject_plane(
    cat: &Catalog,
    info: &PlanningInfo,
    site: Option<&MultiPolygon<f64>>,
) -> Option<MultiPolygon<f64>> {
    let merc = match (&info.subject.parcel, site) {
        (Some(p), _) => {
            let l = cat.layer(PARCELS)?;
            let f = l.get(p.fid)?;
            polygons(&l.data(f.part).geometry_of(f.row as usize)?)
        }
        (None, Some(s)) => s.clone(),
        (None, None) => return None,
    };
    to_plane(&merc).ok()
}

/// The map extract of a sheet: the subject outlined in red over the plan,
/// at the smallest usual scale (at least 1:1 000) that shows it with a
/// margin; around `point` (EPSG:5899) when there is no polygon.
pub fn sheet_map(
    kit: &PrintKit,
    cat: &Catalog,
    subject: Option<&MultiPolygon<f64>>,
    point: Option<Coord<f64>>,
) -> Result<MapExtract, ReportError> {
    let rect = match (subject.and_then(|s| s.bounding_rect()), point) {
        (Some(r), _) => r,
        (None, Some(p)) => grow_rect(Rect::new(p, p), 20.0),
        (None, None) => return Err(ReportError::Size("nothing to draw".into())),
    };
    let (bbox, _) = frame_around(rect, MAP_MM, 1000);
    let layers: Vec<&str> = MAP_LAYERS
        .iter()
        .copied()
        .filter(|l| cat.layer(l).is_some())
        .collect();
    let outlines: Vec<&str> = MAP_OUTLINES
        .iter()
        .copied()
        .filter(|l| cat.layer(l).is_some())
        .collect();
    let highlight = subject.map(|s| Geometry::MultiPolygon(s.clone()));
    render_extract(
        &kit.renderer,
        cat,
        &MapRequest {
            bbox,
            layers: &layers,
            outlines: &outlines,
            highlight: highlight.as_ref(),
            size_mm: MAP_MM,
            dpi: MAP_DPI,
        },
    )
}

/// How a sheet was issued.
#[derive(Debug, Clone)]
pub struct Issue {
    /// The verification code, grouped as printed ("7K3QZ-M9X2D").
    pub code: String,
    /// Where to check it (absolute URL).
    pub verify_url: String,
    /// When it was issued ("2026-12-03 08:00 UTC").
    pub issued_at: String,
}

/// A number as Vietnamese documents print it: dot between thousands,
/// comma before decimals ("1.234,5").
pub fn vn_number(v: f64, places: usize) -> String {
    let s = format!("{:.*}", places, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    if v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// "2025-07-01" as "01/07/2025".
pub fn vn_date(d: &str) -> String {
    match (d.get(0..4), d.get(5..7), d.get(8..10)) {
        (Some(y), Some(m), Some(dd)) if d.len() >= 10 => format!("{dd}/{m}/{y}"),
        _ => d.to_owned(),
    }
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn m2(v: Option<f64>) -> String {
    dash(v.map(|v| format!("{} m²", vn_number(v, 1))))
}

/// A percentage: one decimal, none when it is whole ("100 %", "37,5 %").
fn pct(v: Option<f64>) -> String {
    dash(v.map(|v| {
        let places = if (v * 10.0).round() % 10.0 == 0.0 {
            0
        } else {
            1
        };
        format!("{} %", vn_number(v, places))
    }))
}

/// Composes the sheet of `info`, with its map when there is one.
pub fn information_sheet(info: &PlanningInfo, map: Option<&MapExtract>, issue: &Issue) -> Document {
    let mut sections = Vec::new();
    let title_subject = match &info.subject.parcel {
        Some(p) => format!(
            "Thửa đất số {}, tờ bản đồ số {}, {}",
            dash(p.parcel_number.map(|n| n.to_string())),
            dash(p.sheet_number.map(|n| n.to_string())),
            p.commune.name
        ),
        None if info.subject.kind == "site" => "Khu đất đề xuất".into(),
        None => match info.subject.point {
            Some([x, y]) => format!("Vị trí {y:.6}° N, {x:.6}° E"),
            None => "Vị trí".into(),
        },
    };

    // A. The parcel or site.
    let mut a = Vec::new();
    if let Some(p) = &info.subject.parcel {
        a.push(Field::new(
            Text::bi("Khóa địa chính", "Cadastral key"),
            format!(
                "{} (xã/phường {} · tờ {} · thửa {})",
                p.cadastral_key,
                p.commune.code,
                dash(p.sheet_number.map(|n| n.to_string())),
                dash(p.parcel_number.map(|n| n.to_string()))
            ),
        ));
        let district = p.district.as_ref().map(|d| format!(", {}", d.name));
        a.push(Field::new(
            Text::bi(
                "Đơn vị hành chính (trước 01/07/2025)",
                "Commune (before 1 July 2025)",
            ),
            format!("{}{}", p.commune.name, district.unwrap_or_default()),
        ));
        if let Some(u) = &p.unit_2025 {
            a.push(Field::new(
                Text::bi(
                    "Đơn vị hành chính (từ 01/07/2025)",
                    "Commune (from 1 July 2025)",
                ),
                format!("{}, Thành phố Đà Nẵng", u.name),
            ));
        }
        a.push(Field::new(
            Text::bi("Địa chỉ", "Address"),
            dash(p.address.clone()),
        ));
        a.push(Field::new(
            Text::bi("Diện tích pháp lý", "Legal area"),
            m2(p.legal_area),
        ));
    }
    a.push(Field::new(
        Text::bi("Diện tích đo trên VN-2000", "Area measured in VN-2000"),
        m2(info.subject.area_m2),
    ));
    if !info.land_use.is_empty() {
        let lu: Vec<String> = info
            .land_use
            .iter()
            .map(|l| {
                if l.name.is_empty() {
                    l.code.clone()
                } else {
                    format!("{} — {}", l.code, l.name)
                }
            })
            .collect();
        a.push(Field::new(
            Text::bi("Loại đất hiện trạng", "Current land use"),
            lu.join("; "),
        ));
    }
    let units: Vec<String> = info
        .admin_units
        .iter()
        .map(|u| match u.share_pct {
            Some(s) if s < 99.95 => format!("{} ({} %)", u.name, vn_number(s, 1)),
            _ => u.name.clone(),
        })
        .collect();
    a.push(Field::new(
        Text::bi(
            format!("Đơn vị hành chính ngày {}", vn_date(&info.as_of)),
            "Administrative units on that day",
        ),
        dash(Some(units.join(" · "))),
    ));
    sections.push(Section {
        heading: if info.subject.parcel.is_some() {
            Text::bi("A. Thửa đất", "A. Parcel")
        } else {
            Text::bi("A. Vị trí", "A. Location")
        },
        blocks: vec![Block::Fields(a)],
    });

    // B. Plans.
    let mut b = Vec::new();
    if info.plans.is_empty() {
        b.push(Block::Paragraph(
            "Không có quy hoạch nào trong dữ liệu bao phủ vị trí này. · No plan in the data covers this place."
                .into(),
        ));
    } else {
        b.push(Block::Table(Table {
            columns: vec![
                Column::new(Text::bi("Cấp", "Level"), 1.1, Align::Left),
                Column::new(Text::bi("Tên quy hoạch", "Plan"), 2.8, Align::Left),
                Column::new(Text::bi("Quyết định", "Decision"), 1.7, Align::Left),
                Column::new(Text::bi("Ngày", "Date"), 1.3, Align::Left),
                Column::new(Text::bi("Cơ quan phê duyệt", "Authority"), 1.4, Align::Left),
                Column::new(Text::bi("Trạng thái", "Status"), 1.1, Align::Left),
                Column::new(Text::bi("Bao phủ", "Covers"), 1.0, Align::Right),
            ],
            rows: info
                .plans
                .iter()
                .map(|p| {
                    vec![
                        if p.governs {
                            format!("{} ★", p.level)
                        } else {
                            p.level.clone()
                        },
                        format!("{} ({})", p.name, p.code),
                        dash(p.approval_decision.clone()),
                        dash(p.approval_date.as_deref().map(vn_date)),
                        dash(p.approving_authority.clone()),
                        p.status.clone(),
                        pct(p.overlap.share_pct),
                    ]
                })
                .collect(),
        }));
        let not_in_data = || "không có trong dữ liệu quy hoạch / not in the plan data".to_owned();
        if let Some(g) = info.plans.iter().find(|p| p.governs) {
            b.push(Block::Fields(vec![Field::new(
                Text::bi(
                    "Chủ đầu tư (quy hoạch áp dụng)",
                    "Client of the governing plan",
                ),
                g.client.clone().unwrap_or_else(not_in_data),
            )]));
        }
        b.push(Block::Paragraph(match &info.governing_plan {
            Some(code) => format!(
                "★ Quy hoạch áp dụng (chi tiết nhất, đang có hiệu lực ngày {}): {code}. · ★ The governing plan: the most detailed in force on that day.",
                vn_date(&info.as_of)
            ),
            None => format!(
                "Không có quy hoạch nào đang có hiệu lực ngày {} tại vị trí này. · No plan covering it is in force on that day.",
                vn_date(&info.as_of)
            ),
        }));
    }
    sections.push(Section {
        heading: Text::bi("B. Quy hoạch", "B. Plans"),
        blocks: b,
    });

    // C. Zoning lots.
    let mut c = Vec::new();
    if info.zoning_lots.is_empty() {
        c.push(Block::Paragraph(
            "Vị trí không nằm trong lô quy hoạch phân khu hay chi tiết nào. · The place lies in no zoning lot."
                .into(),
        ));
    } else {
        c.push(Block::Table(Table {
            columns: vec![
                Column::new(Text::bi("Lô", "Lot"), 1.3, Align::Left),
                Column::new(Text::bi("Chức năng", "Function"), 1.8, Align::Left),
                Column::new(Text::bi("Mật độ XD", "Density"), 0.9, Align::Right),
                Column::new(Text::bi("Tầng cao", "Floors"), 0.7, Align::Right),
                Column::new(Text::bi("Hệ số SDĐ", "FAR"), 0.8, Align::Right),
                Column::new(Text::bi("DT lô", "Lot area"), 1.2, Align::Right),
                Column::new(Text::bi("Sàn tối đa", "Max GFA"), 1.3, Align::Right),
                Column::new(Text::bi("Phần thửa", "Share"), 1.1, Align::Right),
                Column::new(Text::bi("Tỷ lệ", "%"), 0.9, Align::Right),
            ],
            rows: info
                .zoning_lots
                .iter()
                .map(|l| {
                    vec![
                        format!(
                            "{}{}{}",
                            dash(l.lot_symbol.clone()),
                            l.zone_code
                                .as_deref()
                                .map(|z| format!(" ({z})"))
                                .unwrap_or_default(),
                            if l.in_governing_plan { " ★" } else { "" }
                        ),
                        dash(l.function.clone()),
                        pct(l.density_pct),
                        match (l.floors_min, l.floors_max) {
                            (Some(a), Some(b)) => format!("{a}–{b}"),
                            (None, Some(b)) => format!("≤ {b}"),
                            _ => "—".into(),
                        },
                        dash(l.far.map(|f| vn_number(f, 2))),
                        m2(Some(l.lot_area_m2)),
                        m2(l.max_gfa_m2),
                        m2(l.overlap.overlap_m2),
                        pct(l.overlap.share_pct),
                    ]
                })
                .collect(),
        }));
        let not_in_data = || "không có trong dữ liệu quy hoạch / not in the plan data".to_owned();
        if let Some(main) = info.zoning_lots.iter().find(|l| l.in_governing_plan) {
            let setbacks = match (main.setback_front_m, main.setback_side_m) {
                (None, None) => not_in_data(),
                (f, s) => format!(
                    "trước {} · bên {}",
                    f.map_or("—".into(), |v| format!("{} m", vn_number(v, 1))),
                    s.map_or("—".into(), |v| format!("{} m", vn_number(v, 1)))
                ),
            };
            c.push(Block::Fields(vec![
                Field::new(
                    Text::bi(
                        format!("Khoảng lùi, lô {}", dash(main.lot_symbol.clone())),
                        "Setbacks (front, side)",
                    ),
                    setbacks,
                ),
                Field::new(
                    Text::bi("Giai đoạn quy hoạch", "Plan phase"),
                    main.phase.clone().unwrap_or_else(not_in_data),
                ),
            ]));
        }
        let mut note = String::from(
            "Sàn tối đa = hệ số sử dụng đất × diện tích lô; diện tích và tỷ lệ tính trên mặt phẳng VN-2000 (EPSG:5899) trên hình học gốc",
        );
        if let Some(cov) = &info.lot_coverage {
            note.push_str(&format!(
                "; các lô của {} chứa {} % thửa/khu đất",
                cov.plan_code,
                vn_number(cov.in_lots_pct, 1)
            ));
        }
        note.push_str(&format!(
            "; phần chồng lấn mảnh hơn {} m được bỏ qua. · Max GFA = FAR × lot area; areas in EPSG:5899.",
            vn_number(info.sliver_tolerance_m, 1)
        ));
        c.push(Block::Paragraph(note));
    }
    sections.push(Section {
        heading: Text::bi("C. Lô quy hoạch", "C. Zoning lots"),
        blocks: c,
    });

    // D. Zones and projects.
    if !info.zones.is_empty() || !info.projects.is_empty() {
        let mut rows = Vec::new();
        for z in &info.zones {
            rows.push(vec![
                format!("Khu CN/KT · {}", dash(z.kind.clone())),
                z.name.clone(),
                pct(z.overlap.share_pct),
            ]);
        }
        for p in &info.projects {
            let investor = p
                .details
                .get("investor")
                .and_then(|v| v.as_str())
                .map(|i| format!(" — {i}"))
                .unwrap_or_default();
            rows.push(vec![
                format!("Dự án · {}", dash(p.kind.clone())),
                format!("{}{investor}", p.name),
                pct(p.overlap.share_pct),
            ]);
        }
        sections.push(Section {
            heading: Text::bi(
                "D. Khu công nghiệp, khu kinh tế và dự án đầu tư",
                "D. Zones and investment projects",
            ),
            blocks: vec![Block::Table(Table {
                columns: vec![
                    Column::new(Text::bi("Loại", "Kind"), 1.6, Align::Left),
                    Column::new(Text::bi("Tên", "Name"), 4.0, Align::Left),
                    Column::new(Text::bi("Tỷ lệ", "Share"), 0.8, Align::Right),
                ],
                rows,
            })],
        });
    }

    // The map.
    if let Some(m) = map {
        sections.push(m.section(
            Text::bi("Trích lục bản đồ", "Map extract"),
            ("Vị trí", "Subject"),
        ));
    }

    // Sources and notes.
    let mut src: Vec<Field> = info
        .sources
        .iter()
        .map(|s| {
            Field::new(
                Text::vi(s.layer.clone()),
                format!(
                    "cập nhật {} · lưu trữ EPSG:{}",
                    s.published_at.replace('T', " ").replace('Z', " UTC"),
                    s.store_srid
                ),
            )
        })
        .collect();
    for n in &info.notes {
        src.push(Field::new(Text::bi("Ghi chú", "Note"), n.clone()));
    }
    sections.push(Section {
        heading: Text::bi("Nguồn dữ liệu", "Sources"),
        blocks: vec![Block::Fields(src)],
    });

    issued_document(
        Text::bi(
            format!("Phiếu thông tin quy hoạch — {title_subject}"),
            "Planning information sheet",
        ),
        &info.as_of,
        sections,
        Text::bi(
            "Lưu ý: Phiếu này cung cấp thông tin quy hoạch để tham khảo, không phải là chứng chỉ quy hoạch và không thay thế văn bản của cơ quan có thẩm quyền.",
            "This sheet is planning information for reference; it is not a planning certificate and does not replace the competent authority's documents.",
        ),
        issue,
        "lập",
    )
}

/// A document the city's Department of Construction issues: its heading
/// and the national motto, `title`, the day the planning data is read as
/// of (`as_of`, YYYY-MM-DD), `sections`, `disclaimer`, the verification
/// of `issue` and a footer saying when it was `made` ("lập", "kiểm tra").
pub fn issued_document(
    title: Text,
    as_of: &str,
    sections: Vec<Section>,
    disclaimer: Text,
    issue: &Issue,
    made: &str,
) -> Document {
    Document {
        header_left: vec!["UBND THÀNH PHỐ ĐÀ NẴNG".into(), "SỞ XÂY DỰNG".into()],
        header_right: vec![
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            "Độc lập – Tự do – Hạnh phúc".into(),
        ],
        title,
        subtitle: Some(format!(
            "Theo dữ liệu quy hoạch ngày {} · As of {as_of}",
            vn_date(as_of)
        )),
        sections,
        disclaimer: Some(disclaimer),
        verification: Some(Verification {
            code: issue.code.clone(),
            url: issue.verify_url.clone(),
        }),
        footer: format!("geoplan · {made} lúc {}", issue.issued_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_print_the_vietnamese_way() {
        assert_eq!(vn_number(1234.5, 1), "1.234,5");
        assert_eq!(vn_number(52546.2, 1), "52.546,2");
        assert_eq!(vn_number(100.0, 0), "100");
        assert_eq!(vn_number(-0.01, 1), "0,0");
        assert_eq!(vn_number(-1234567.0, 0), "-1.234.567");
        assert_eq!(vn_date("2025-07-01"), "01/07/2025");
    }
}
