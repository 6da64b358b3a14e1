//! The printable report of a stored compliance check: the site and the
//! proposal, the verdict, every rule with its sentence in Vietnamese and
//! English, the zoning lots per plan level, and the map of the site. It is
//! composed from the stored answer (JSON), so a report printed years later
//! shows what was answered then.

use super::doc::*;
use super::map::MapExtract;
use super::sheet::{issued_document, vn_number, Issue};
use serde_json::Value;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn n(v: &Value, places: usize, unit: &str) -> String {
    v.as_f64()
        .map_or("—".into(), |x| format!("{}{unit}", vn_number(x, places)))
}

/// Composes the report of a check `result` (as `POST /planning/check`
/// stored it).
pub fn check_report(result: &Value, map: Option<&MapExtract>, issue: &Issue) -> Document {
    let info = &result["info"];
    let p = &result["proposal"];
    let pass = result["pass"].as_bool().unwrap_or(false);
    let failed = result["failed"].as_u64().unwrap_or(0);
    let mut sections = Vec::new();

    let units: Vec<String> = info["admin_units"]
        .as_array()
        .map(|a| a.iter().map(|u| s(&u["name"])).collect())
        .unwrap_or_default();
    sections.push(Section {
        heading: Text::bi("A. Khu đất và đề xuất", "A. Site and proposal"),
        blocks: vec![Block::Fields(vec![
            Field::new(
                Text::bi("Diện tích khu đất (VN-2000)", "Site area (VN-2000)"),
                n(&info["subject"]["area_m2"], 1, " m²"),
            ),
            Field::new(
                Text::bi("Đơn vị hành chính", "Administrative units"),
                units.join(" · "),
            ),
            Field::new(
                Text::bi("Mục đích sử dụng đề xuất", "Proposed use"),
                format!("{} — {}", s(&p["use"]), s(&result["proposal_use"]["name"])),
            ),
            Field::new(Text::bi("Số tầng", "Floors"), s(&p["floors"])),
            Field::new(
                Text::bi("Mật độ xây dựng", "Building density"),
                n(&p["density_pct"], 1, " %"),
            ),
            Field::new(Text::bi("Hệ số sử dụng đất", "FAR"), n(&p["far"], 2, "")),
            Field::new(
                Text::bi("Diện tích sàn", "Gross floor area"),
                n(&p["gfa_m2"], 0, " m²"),
            ),
            Field::new(
                Text::bi("Quy hoạch áp dụng", "Governing plan"),
                s(&info["governing_plan"]),
            ),
        ])],
    });

    sections.push(Section {
        heading: Text::bi("B. Kết luận", "B. Verdict"),
        blocks: vec![Block::Paragraph(if pass {
            "ĐẠT: khu đất và đề xuất phù hợp với mọi quy tắc dưới đây. · PASS: the site and proposal meet every rule below.".into()
        } else {
            format!(
                "KHÔNG ĐẠT: {failed} quy tắc không đạt (đánh dấu ✗). · FAIL: {failed} rule(s) not met (marked ✗)."
            )
        })],
    });

    let rows: Vec<Vec<String>> = result["rules"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let ok = r["pass"].as_bool().unwrap_or(false);
                    vec![
                        if ok {
                            "✓ Đạt"
                        } else {
                            "✗ Không đạt"
                        }
                        .to_owned(),
                        s(&r["vi"]),
                        s(&r["en"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    sections.push(Section {
        heading: Text::bi("C. Các quy tắc", "C. Rules"),
        blocks: vec![Block::Table(Table {
            columns: vec![
                Column::new(Text::bi("Kết quả", "Result"), 1.0, Align::Left),
                Column::new(Text::bi("Nội dung", "Finding"), 3.6, Align::Left),
                Column::new(Text::bi("Tiếng Anh", "English"), 3.0, Align::Left),
            ],
            rows,
        })],
    });

    let mut lot_blocks = Vec::new();
    for lv in result["levels"].as_array().into_iter().flatten() {
        lot_blocks.push(Block::Paragraph(format!(
            "{} — {}{}",
            s(&lv["level"]),
            s(&lv["plan_code"]),
            if lv["governs"].as_bool() == Some(true) {
                " ★ (quy hoạch áp dụng / governing)"
            } else {
                ""
            }
        )));
        lot_blocks.push(Block::Table(Table {
            columns: vec![
                Column::new(Text::bi("Lô", "Lot"), 1.2, Align::Left),
                Column::new(Text::bi("Chức năng", "Function"), 2.2, Align::Left),
                Column::new(Text::bi("Mật độ", "Density"), 0.9, Align::Right),
                Column::new(Text::bi("Tầng", "Floors"), 0.8, Align::Right),
                Column::new(Text::bi("HSSDĐ", "FAR"), 0.8, Align::Right),
                Column::new(Text::bi("Chồng lấn", "Overlap"), 1.2, Align::Right),
                Column::new(Text::bi("Tỷ lệ", "Share"), 0.8, Align::Right),
            ],
            rows: lv["lots"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    vec![
                        s(&l["lot_symbol"]),
                        s(&l["function"]),
                        n(&l["density_pct"], 1, " %"),
                        format!("{}–{}", s(&l["floors_min"]), s(&l["floors_max"])),
                        n(&l["far"], 2, ""),
                        n(&l["overlap_m2"], 1, " m²"),
                        n(&l["share_pct"], 1, " %"),
                    ]
                })
                .collect(),
        }));
    }
    if lot_blocks.is_empty() {
        lot_blocks.push(Block::Paragraph(
            "Khu đất không nằm trong lô quy hoạch nào đang có hiệu lực. · The site lies in no zoning lot in force.".into(),
        ));
    }
    sections.push(Section {
        heading: Text::bi("D. Lô quy hoạch theo cấp", "D. Zoning lots by plan level"),
        blocks: lot_blocks,
    });

    if let Some(m) = map {
        sections.push(m.section(
            Text::bi("Sơ đồ khu đất", "Site map"),
            ("Khu đất đề xuất", "Proposed site"),
        ));
    }

    issued_document(
        Text::bi(
            "Kết quả kiểm tra sự phù hợp quy hoạch của khu đất đề xuất",
            "Planning compliance check of a proposed site",
        ),
        &s(&info["as_of"]),
        sections,
        Text::bi(
            "Lưu ý: Kết quả kiểm tra tự động từ dữ liệu quy hoạch, để tham khảo; không thay thế thẩm định của cơ quan có thẩm quyền.",
            "This is an automatic check against the planning data, for reference; it does not replace the competent authority's appraisal.",
        ),
        issue,
        "kiểm tra",
    )
}
