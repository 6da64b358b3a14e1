//! Printed documents read back by an independent reader: a sample planning
//! information sheet with a real map extract of the committed sample
//! (Phường Minh An, Hội An) is written as a PDF and checked with Debian's
//! poppler-utils — `pdftotext` gives the Vietnamese back with its
//! diacritics, `pdffonts` shows every font embedded, `pdftoppm` renders a
//! page whose map is not blank.
//!
//! The PDF and its page images stay in `$CARGO_TARGET_TMPDIR/report/` for
//! a person to look at.

use geo::BoundingRect;
use geo_types::Geometry;
use geoplan::engine::{Engine, Layer, LayerMeta};
use geoplan::render::style::Style;
use geoplan::render::text::Fonts;
use geoplan::render::Renderer;
use geoplan::report::doc::*;
use geoplan::report::fonts::DocFonts;
use geoplan::report::map::{
    frame_around, lift_zoom_limits, render_extract, MapExtract, MapRequest,
};
use geoplan::report::pdf::{figure_boxes, render_pdf};
use geoplan::report::{html::render_html, ReportError};
use geoplan::store::gpkg::GpkgStore;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

const FONTS: &str = "/usr/share/fonts/truetype/dejavu";
const TITLE: &str = "Phiếu thông tin quy hoạch — Thửa đất số 345, tờ bản đồ số 12, Phường Minh An";
/// The plan under the parcel: zoning lots, water, roads, places; the
/// parcels only as outlines, so the lots' colours show.
const LAYERS: [&str; 5] = ["admin_units", "zoning_lots", "water", "roads", "pois"];
const OUTLINES: [&str; 1] = ["parcels"];

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Sample {
    engine: Engine,
    renderer: Renderer,
    parcel: Geometry<f64>,
    parcel_fields: Vec<(String, String)>,
}

fn sample() -> Sample {
    let root = env!("CARGO_MANIFEST_DIR");
    let store = GpkgStore::open(format!("{root}/data/sample.gpkg")).unwrap();
    let config = geoplan::config::Config::default();
    let engine = Engine::new();
    let mut layers = Vec::new();
    for name in store.layer_names().unwrap() {
        let data = store.read_layer(&name).unwrap();
        layers.push(Layer::new(data, LayerMeta::from_config(&name, &config)).unwrap());
    }
    engine.publish_all(layers);
    let style: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{root}/styles/planning.json")).unwrap())
            .unwrap();
    let mut style = Style::compile(&style).unwrap();
    lift_zoom_limits(&mut style, &["zoning_lots"]);
    let renderer = Renderer::new(style, Fonts::load(Path::new(FONTS)));
    // A Minh An parcel: number 345 when the sample has it, else the first.
    let parcels = store.read_layer("parcels").unwrap();
    let col = |n: &str| parcels.fields.iter().position(|f| f.name == n).unwrap();
    let (cn, pn) = (col("commune_name"), col("parcel_number"));
    let minh_an: Vec<usize> = (0..parcels.len())
        .filter(|&r| parcels.value(r, cn).to_value().to_string() == "Phường Minh An")
        .collect();
    assert!(
        !minh_an.is_empty(),
        "the sample has parcels in Phường Minh An"
    );
    let row = minh_an
        .iter()
        .copied()
        .find(|&r| parcels.value(r, pn).to_value().to_string() == "345")
        .unwrap_or(minh_an[0]);
    let parcel = parcels.geometry_of(row).unwrap();
    let parcel_fields = parcels
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.clone(), parcels.value(row, i).to_value().to_string()))
        .collect();
    Sample {
        engine,
        renderer,
        parcel,
        parcel_fields,
    }
}

fn extract(s: &Sample) -> MapExtract {
    let rect = s.parcel.bounding_rect().unwrap();
    let size = (170.0, 105.0);
    let (bbox, _) = frame_around(rect, size, 1000);
    render_extract(
        &s.renderer,
        &s.engine.snapshot(),
        &MapRequest {
            bbox,
            layers: &LAYERS,
            outlines: &OUTLINES,
            highlight: Some(&s.parcel),
            size_mm: size,
            dpi: 200.0,
        },
    )
    .unwrap()
}

fn field<'a>(s: &'a Sample, name: &str) -> &'a str {
    &s.parcel_fields.iter().find(|(n, _)| n == name).unwrap().1
}

/// A sheet as the planning composer will fill it, with the real parcel's
/// cadastral fields and its real map extract.
fn sheet(s: &Sample, map: &MapExtract) -> Document {
    let area = field(s, "legal_area").parse::<f64>().unwrap_or(0.0);
    Document {
        header_left: vec!["UBND THÀNH PHỐ ĐÀ NẴNG".into(), "SỞ XÂY DỰNG".into()],
        header_right: vec![
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            "Độc lập – Tự do – Hạnh phúc".into(),
        ],
        title: Text::bi(TITLE, "Planning information sheet"),
        subtitle: Some("Theo quy hoạch có hiệu lực ngày 01/07/2025 · As of 1 July 2025".into()),
        sections: vec![
            Section {
                heading: Text::bi("A. Thửa đất", "A. Parcel"),
                blocks: vec![Block::Fields(vec![
                    Field::new(
                        Text::bi("Khóa địa chính", "Cadastral key"),
                        format!(
                            "{} · tờ {} · thửa {}",
                            field(s, "commune_code"),
                            field(s, "sheet_number"),
                            field(s, "parcel_number")
                        ),
                    ),
                    Field::new(
                        Text::bi("Đơn vị hành chính (trước 01/07/2025)", "Commune (before 1 July 2025)"),
                        format!("{}, {}", field(s, "commune_name"), field(s, "district_name")),
                    ),
                    Field::new(
                        Text::bi("Đơn vị hành chính (từ 01/07/2025)", "Commune (from 1 July 2025)"),
                        "Phường Hội An, Thành phố Đà Nẵng",
                    ),
                    Field::new(Text::bi("Địa chỉ", "Address"), field(s, "address")),
                    Field::new(
                        Text::bi("Diện tích pháp lý", "Legal area"),
                        format!("{area:.1} m²"),
                    ),
                    Field::new(
                        Text::bi("Loại đất hiện trạng", "Current land use"),
                        format!("{} — Đất thương mại, dịch vụ", field(s, "land_use_code")),
                    ),
                ])],
            },
            Section {
                heading: Text::bi("B. Quy hoạch", "B. Plans"),
                blocks: vec![Block::Table(Table {
                    columns: vec![
                        Column::new(Text::bi("Cấp", "Level"), 1.1, Align::Left),
                        Column::new(Text::bi("Tên quy hoạch", "Plan"), 3.2, Align::Left),
                        Column::new(Text::bi("Quyết định", "Decision"), 1.9, Align::Left),
                        Column::new(Text::bi("Ngày", "Date"), 1.1, Align::Left),
                        Column::new(Text::bi("Trạng thái", "Status"), 1.2, Align::Left),
                    ],
                    rows: vec![
                        vec![
                            "Chung".into(),
                            "Quy hoạch chung thành phố Hội An đến năm 2035".into(),
                            "1234/QĐ-UBND".into(),
                            "12/03/2021".into(),
                            "phê duyệt".into(),
                        ],
                        vec![
                            "Phân khu ★".into(),
                            "Quy hoạch phân khu khu phố cổ Hội An, tỷ lệ 1/2000".into(),
                            "567/QĐ-UBND".into(),
                            "05/08/2022".into(),
                            "phê duyệt".into(),
                        ],
                    ],
                })],
            },
            Section {
                heading: Text::bi("C. Lô quy hoạch", "C. Zoning lots"),
                blocks: vec![
                    Block::Table(Table {
                        columns: vec![
                            Column::new(Text::bi("Ký hiệu lô", "Lot"), 1.0, Align::Left),
                            Column::new(Text::bi("Chức năng", "Function"), 2.2, Align::Left),
                            Column::new(Text::bi("Mật độ XD", "Density"), 1.0, Align::Right),
                            Column::new(Text::bi("Tầng cao", "Floors"), 0.9, Align::Right),
                            Column::new(Text::bi("Hệ số SDĐ", "FAR"), 0.9, Align::Right),
                            Column::new(Text::bi("Phần thửa (m²)", "Share (m²)"), 1.2, Align::Right),
                            Column::new(Text::bi("Tỷ lệ", "Share"), 0.8, Align::Right),
                        ],
                        rows: vec![
                            vec![
                                "TM-03".into(),
                                "Đất thương mại, dịch vụ".into(),
                                "60 %".into(),
                                "2–4".into(),
                                "2,4".into(),
                                format!("{:.1}", area * 0.625),
                                "62,5 %".into(),
                            ],
                            vec![
                                "ODT-11".into(),
                                "Đất ở đô thị".into(),
                                "70 %".into(),
                                "1–3".into(),
                                "2,1".into(),
                                format!("{:.1}", area * 0.375),
                                "37,5 %".into(),
                            ],
                        ],
                    }),
                    Block::Paragraph(
                        "Diện tích sàn xây dựng tối đa được tính bằng hệ số sử dụng đất nhân \
                         với diện tích phần thửa trong từng lô; diện tích và tỷ lệ tính trên \
                         mặt phẳng VN-2000 (EPSG:5899)."
                            .into(),
                    ),
                ],
            },
            Section {
                heading: Text::bi("D. Trích lục bản đồ", "D. Map extract"),
                blocks: vec![Block::Figure(map.figure(Text::bi(
                    format!(
                        "Thửa đất (viền đỏ) trên nền lô quy hoạch · {} · lưới VN-2000 \
                         (EPSG:5899) {} m: Y (Đông) trên/dưới, X (Bắc) trái/phải",
                        map.scale_text(),
                        map.grid_m
                    ),
                    "Parcel (red outline) over the plan · VN-2000 grid: eastings above and below, northings left and right",
                )))],
            },
        ],
        disclaimer: Some(Text::bi(
            "Lưu ý: Phiếu này cung cấp thông tin quy hoạch để tham khảo, không phải là \
             chứng chỉ quy hoạch và không thay thế văn bản của cơ quan có thẩm quyền.",
            "This sheet is planning information for reference; it is not a planning \
             certificate and does not replace the competent authority's documents.",
        )),
        verification: Some(Verification {
            code: "7K3QZ-M9X2D".into(),
            url: "http://localhost:8080/planning/sheet/verify/7K3QZM9X2D".into(),
        }),
        footer: "geoplan · Sở Xây dựng thành phố Đà Nẵng · lập lúc 2025-07-01 08:00 UTC · \
                 dữ liệu: data/sample.gpkg (tổng hợp, synthetic)"
            .into(),
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install poppler-utils: scripts/deps.sh test)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_sample_sheet_reads_back_with_its_diacritics_embedded_fonts_and_a_drawn_map() {
    let s = sample();
    let map = extract(&s);
    let doc = sheet(&s, &map);
    let fonts = DocFonts::load(Path::new(FONTS)).unwrap();
    let pdf = render_pdf(&doc, &fonts).unwrap();
    let dir = out_dir();
    let path = dir.join("sheet.pdf");
    std::fs::write(&path, &pdf).unwrap();
    std::fs::write(dir.join("map.png"), &map.png).unwrap();

    // The text, as an independent reader extracts it.
    let text = squash(&run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")));
    for want in [
        TITLE,
        "Planning information sheet",
        "Khóa địa chính",
        field(&s, "address"),
        "Quy hoạch phân khu khu phố cổ Hội An",
        "không phải là chứng chỉ quy hoạch",
        "7K3QZ-M9X2D",
        "Trang 1/",
    ] {
        assert!(
            text.contains(&squash(want)),
            "'{want}' not in the PDF's text:\n{text}"
        );
    }

    // Every font embedded (and subset).
    let fonts_out = run(Command::new("pdffonts").arg(&path));
    let rows: Vec<&str> = fonts_out.lines().skip(2).collect();
    assert!(rows.iter().any(|l| l.contains("DejaVuSans")), "{fonts_out}");
    for l in &rows {
        let cols: Vec<&str> = l.split_whitespace().collect();
        // name type encoding emb sub uni object ID: emb is 5th from the end.
        assert_eq!(cols[cols.len() - 5], "yes", "not embedded: {l}");
    }

    // Page 1 at 50 dpi: where the map is printed, it is not blank.
    let boxes = figure_boxes(&doc, &fonts);
    assert_eq!(boxes.len(), 1);
    let b = boxes[0];
    let prefix = dir.join("page");
    let page_no = (b.page + 1).to_string();
    run(Command::new("pdftoppm")
        .args(["-r", "50", "-png", "-f", &page_no, "-l", &page_no])
        .arg(&path)
        .arg(&prefix));
    let png = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("page-") && n.ends_with(&format!("{page_no}.png"))
        })
        .expect("pdftoppm wrote the page");
    let (w, h, rgb) = decode_rgb(&png);
    let k = 50.0 / 72.0;
    let [x, y, bw, bh] = b.rect.map(|v| v * k);
    let (x0, y0) = ((x + 3.0) as u32, (y + 3.0) as u32);
    let (x1, y1) = (
        ((x + bw - 3.0) as u32).min(w),
        ((y + bh - 3.0) as u32).min(h),
    );
    let (mut ink, mut all) = (0usize, 0usize);
    for yy in y0..y1 {
        for xx in x0..x1 {
            let i = ((yy * w + xx) * 3) as usize;
            all += 1;
            if rgb[i..i + 3].iter().any(|&c| c < 235) {
                ink += 1;
            }
        }
    }
    assert!(all > 10_000, "the map box is {all} pixels");
    assert!(
        ink * 5 > all,
        "the map is blank: {ink} of {all} pixels have ink"
    );
}

fn decode_rgb(p: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(p).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(ch)
        .flat_map(|p| [p[0], p[1.min(ch - 1)], p[2.min(ch - 1)]])
        .collect();
    (info.width, info.height, rgb)
}

#[test]
fn the_map_extract_outlines_the_parcel_in_red_at_a_stated_scale() {
    let s = sample();
    let map = extract(&s);
    let (w, h) = map.pixels;
    // Printed at its width, the map is at its scale: 170 mm of map area
    // at 1:scale is the window's width in metres.
    let ground = map.bbox[2] - map.bbox[0];
    assert!(
        (ground / (0.170 * map.scale) - 1.0).abs() < 0.01,
        "{ground} m at 1:{}",
        map.scale
    );
    // Exactly a usual scale, not one off by whole-pixel rounding.
    assert!([1000.0, 2000.0].contains(&map.scale), "{}", map.scale);
    let path = out_dir().join("extract.png");
    std::fs::write(&path, &map.png).unwrap();
    let (pw, ph, rgb) = decode_rgb(&path);
    assert_eq!((pw, ph), (w, h));
    let red = rgb
        .chunks(3)
        .filter(|p| p[0] > 190 && p[1] < 60 && p[2] < 60)
        .count();
    assert!(red > 200, "the parcel outline is drawn ({red} red pixels)");
}

#[test]
fn a_map_extract_naming_an_unknown_layer_says_which() {
    let s = sample();
    let e = render_extract(
        &s.renderer,
        &s.engine.snapshot(),
        &MapRequest {
            bbox: [561_000.0, 1_756_000.0, 561_100.0, 1_756_100.0],
            layers: &["parcels"],
            outlines: &["parcel"],
            highlight: None,
            size_mm: (100.0, 100.0),
            dpi: 150.0,
        },
    )
    .unwrap_err();
    assert!(
        matches!(&e, ReportError::UnknownLayer(l) if l == "parcel"),
        "{e}"
    );
}

#[test]
fn the_sample_sheet_as_html_carries_the_same_text_and_the_map() {
    let s = sample();
    let map = extract(&s);
    let html = render_html(&sheet(&s, &map));
    std::fs::write(out_dir().join("sheet.html"), &html).unwrap();
    assert!(html.contains("Phiếu thông tin quy hoạch — Thửa đất số 345"));
    assert!(html.contains("data:image/png;base64,"));
    assert!(html.contains("7K3QZ-M9X2D"));
}

async fn call(
    s: &geoplan::http::AppState,
    uri: &str,
    accept: &str,
) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = geoplan::http::app(s.clone())
        .oneshot(
            axum::http::Request::get(uri)
                .header("accept", accept)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let (st, h) = (res.status(), res.headers().clone());
    (
        st,
        h,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// Share of pixels with ink in a PNG.
fn ink(p: &Path) -> f64 {
    let (_, _, rgb) = decode_rgb(p);
    let px = rgb.len() / 3;
    let inked = rgb.chunks(3).filter(|c| c.iter().any(|&v| v < 235)).count();
    inked as f64 / px as f64
}

/// `GET /planning/sheet` as a user asks for it: the PDF of a Minh An
/// parcel reads back (pdftotext) with the parcel's key, the governing plan,
/// the lots and the disclaimer; its map (pdfimages) is not blank; the code
/// it prints resolves to what was issued; HTML carries the same; bad input
/// gets a 4xx.
#[tokio::test]
async fn an_issued_sheet_reads_back_and_its_code_resolves_to_what_was_issued() {
    let (_dir, s) = common::sample_copy(geoplan::config::Config::default()).await;
    let (st, _, body) = call(&s, "/parcels?commune=20398&sheet=1&limit=1000", "*/*").await;
    assert_eq!(st, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let p = &list["parcels"][list["parcels"].as_array().unwrap().len() / 2];
    let fid = p["fid"].as_i64().unwrap();
    let (_, _, body) = call(
        &s,
        &format!("/planning?parcel={fid}&as_of=2026-06-01"),
        "*/*",
    )
    .await;
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();

    let (st, h, pdf) = call(
        &s,
        &format!("/planning/sheet?parcel={fid}&as_of=2026-06-01"),
        "application/pdf",
    )
    .await;
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(h["content-type"], "application/pdf");
    let code = h["x-verification-code"].to_str().unwrap().to_owned();
    let dir = out_dir();
    let path = dir.join("issued-sheet.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = squash(&run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")));
    let grouped = format!("{}-{}", &code[..5], &code[5..]);
    let governing = info["governing_plan"].as_str().unwrap();
    let lot = info["zoning_lots"][0]["lot_symbol"].as_str().unwrap();
    for want in [
        "Phiếu thông tin quy hoạch",
        &format!(
            "Thửa đất số {}, tờ bản đồ số {}, Phường Minh An",
            p["parcel_number"], p["sheet_number"]
        ),
        p["cadastral_key"].as_str().unwrap(),
        p["address"].as_str().unwrap(),
        governing,
        lot,
        "01/06/2026",
        "không phải là chứng chỉ quy hoạch",
        grouped.as_str(),
        "EPSG:5899",
    ] {
        assert!(
            text.contains(&squash(want)),
            "'{want}' not in the PDF's text:\n{text}"
        );
    }
    // The map, as an independent reader extracts it: drawn, not blank.
    let prefix = dir.join("issued-img");
    run(Command::new("pdfimages")
        .args(["-png"])
        .arg(&path)
        .arg(&prefix));
    let img = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("issued-img")
        })
        .expect("the sheet carries the map image");
    assert!(ink(&img) > 0.2, "the map is blank: {}", ink(&img));
    run(Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&path)
        .arg(dir.join("issued-page")));

    // The code resolves, as printed or typed, to the answer issued.
    for typed in [code.clone(), grouped.to_lowercase()] {
        let (st, _, body) = call(&s, &format!("/planning/sheet/verify/{typed}"), "*/*").await;
        assert_eq!(st, 200, "{typed}: {}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["intact"], true);
        assert_eq!(v["code"], grouped.as_str());
        assert_eq!(v["request"]["parcel"], fid);
        assert_eq!(v["answer"]["governing_plan"], info["governing_plan"]);
        assert_eq!(v["answer"]["zoning_lots"], info["zoning_lots"]);
    }

    // HTML for the browser, recorded under its own code.
    let (st, h, html) = call(
        &s,
        &format!("/planning/sheet?parcel={fid}"),
        "text/html,application/xhtml+xml",
    )
    .await;
    assert_eq!(st, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("Phiếu thông tin quy hoạch")
            && html.contains(governing)
            && html.contains("<img")
    );
    assert_ne!(h["x-verification-code"].to_str().unwrap(), code);

    // A point's sheet names the parcel there.
    let (st, _, _) = call(&s, "/planning/sheet?point=108.3277,15.8801&f=pdf", "*/*").await;
    assert_eq!(st, 200);

    for (uri, status) in [
        ("/planning/sheet".to_owned(), 400),
        ("/planning/sheet?parcel=999999999".into(), 404),
        (format!("/planning/sheet?parcel={fid}&f=docx"), 400),
        (
            format!("/planning/sheet?parcel={fid}&as_of=2026-02-30"),
            400,
        ),
        ("/planning/sheet/verify/not-a-code".into(), 400),
        ("/planning/sheet/verify/0000000000".into(), 404),
    ] {
        let (st, _, body) = call(&s, &uri, "*/*").await;
        assert_eq!(
            st.as_u16(),
            status,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}
