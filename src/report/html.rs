//! A document as one self-contained HTML page (`text/html`): the same
//! model as the PDF, figures inlined as `data:` URLs, a print style sheet,
//! every text escaped by maud's templates.

use super::doc::{Align, Block, Document, Field, Figure, Section, Table, Text};
use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = "
body{font-family:'DejaVu Sans',Arial,sans-serif;color:#1a1a1a;max-width:50rem;margin:1.5rem auto;padding:0 1rem;line-height:1.35}
header.issuer{display:flex;justify-content:space-between;text-align:center;font-size:.8rem}
header.issuer div{flex:1}
header.issuer p{margin:0}
header.issuer p:last-child{font-weight:bold;text-decoration:underline}
header.issuer .motto p{font-weight:bold}
h1{color:#0b3d6e;text-align:center;font-size:1.4rem;margin:1.2rem 0 .1rem}
.en{color:#5a636e;font-style:italic;font-size:.85em}
h1 .en,h2 .en{display:block;font-weight:normal}
h1+p.en{text-align:center;margin:0}
p.subtitle{text-align:center;margin:.3rem 0 .6rem}
hr{border:0;border-top:2px solid #0b3d6e}
h2{color:#0b3d6e;font-size:1.05rem;border-bottom:1px solid #0b3d6e;margin:1.2rem 0 .4rem;padding-bottom:.1rem}
h2 .en{display:inline;margin-left:.6rem}
dl.fields{display:grid;grid-template-columns:36% 1fr;gap:0 .8rem;margin:0}
dl.fields dt,dl.fields dd{margin:0;padding:.25rem 0;border-bottom:1px solid #c4cbd3}
dl.fields dt{color:#5a636e;font-size:.85rem}
dl.fields dt .en{display:block}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th{background:#e6edf4;text-align:left;vertical-align:bottom}
th .en{display:block;font-weight:normal}
th,td{padding:.2rem .3rem;border-bottom:1px solid #c4cbd3}
tr:nth-child(even) td{background:#f5f7fa}
.num{text-align:right}
figure{margin:.6rem 0;text-align:center}
figure img{max-width:100%;border:1px solid #5a636e}
figcaption{font-size:.8rem}
figcaption .en{display:block}
aside.disclaimer{background:#fff6dc;border:1px solid #c98b00;border-left:4px solid #c98b00;padding:.5rem .7rem;margin:1rem 0;font-size:.9rem}
aside.disclaimer .en{display:block;margin-top:.3rem}
p.verification code{font-size:1.1rem;font-weight:bold}
footer{margin-top:1.5rem;border-top:1px solid #c4cbd3;color:#5a636e;font-size:.75rem}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}}
";

/// Vietnamese, then English in a span of class `en`.
fn bi(t: &Text) -> Markup {
    html! {
        (crate::model::nfc(&t.vi))
        @if let Some(en) = &t.en {
            " " span.en lang="en" { (crate::model::nfc(en)) }
        }
    }
}

fn fields(fs: &[Field]) -> Markup {
    html! {
        dl.fields {
            @for f in fs {
                dt { (bi(&f.label)) }
                dd { (crate::model::nfc(&f.value)) }
            }
        }
    }
}

fn table(t: &Table) -> Markup {
    let class = |i: usize| match t.columns.get(i).map(|c| c.align) {
        Some(Align::Right) => "num",
        _ => "",
    };
    html! {
        table {
            thead { tr { @for (i, c) in t.columns.iter().enumerate() { th class=(class(i)) { (bi(&c.label)) } } } }
            tbody {
                @for r in &t.rows {
                    tr {
                        @for i in 0..t.columns.len() {
                            td class=(class(i)) { (crate::model::nfc(r.get(i).map(String::as_str).unwrap_or(""))) }
                        }
                    }
                }
            }
        }
    }
}

fn figure(f: &Figure) -> Markup {
    let src = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&f.png)
    );
    html! {
        figure {
            img src=(src) width=(f.pixels.0) height=(f.pixels.1)
                style=(format!("width:{:.0}mm;height:auto", f.width_mm))
                alt=(crate::model::nfc(&f.caption.vi));
            figcaption { (bi(&f.caption)) }
        }
    }
}

fn section(s: &Section) -> Markup {
    html! {
        section {
            h2 { (bi(&s.heading)) }
            @for b in &s.blocks {
                @match b {
                    Block::Fields(f) => (fields(f)),
                    Block::Table(t) => (table(t)),
                    Block::Paragraph(p) => p { (crate::model::nfc(p)) },
                    Block::Figure(f) => (figure(f)),
                }
            }
        }
    }
}

/// Renders the document as an HTML page (UTF-8, `lang="vi"`).
pub fn render_html(doc: &Document) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (crate::model::nfc(&doc.title.vi)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if !doc.header_left.is_empty() || !doc.header_right.is_empty() {
                    header.issuer {
                        div { @for l in &doc.header_left { p { (crate::model::nfc(l)) } } }
                        div.motto { @for l in &doc.header_right { p { (crate::model::nfc(l)) } } }
                    }
                }
                h1 { (crate::model::nfc(&doc.title.vi)) }
                @if let Some(en) = &doc.title.en { p.en lang="en" { (crate::model::nfc(en)) } }
                @if let Some(s) = &doc.subtitle { p.subtitle { (crate::model::nfc(s)) } }
                hr;
                @for s in &doc.sections { (section(s)) }
                @if let Some(d) = &doc.disclaimer { aside.disclaimer { (bi(d)) } }
                @if let Some(v) = &doc.verification {
                    p.verification {
                        "Mã xác minh " span.en lang="en" { "Verification code" } ": "
                        code { (v.code) } br;
                        "Đối chiếu tại " span.en lang="en" { "Check at" } ": "
                        a href=(v.url) { (v.url) }
                    }
                }
                footer { p { (crate::model::nfc(&doc.footer)) } }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::super::doc::*;
    use super::*;

    #[test]
    fn html_escapes_what_it_is_given_and_keeps_vietnamese() {
        let doc = Document {
            title: Text::bi("Phiếu thông tin quy hoạch", "Planning information sheet"),
            sections: vec![Section {
                heading: Text::bi("A. Thửa đất", "A. Parcel"),
                blocks: vec![
                    Block::Fields(vec![Field::new(
                        Text::bi("Địa chỉ", "Address"),
                        "<script>alert(1)</script> & Phường Minh An",
                    )]),
                    Block::Paragraph("Tờ 12 & thửa 345".into()),
                ],
            }],
            verification: Some(Verification {
                code: "7K3QZ-M9X2D".into(),
                url: "https://example.test/planning/sheet/verify/7K3QZM9X2D?a=1&b=2".into(),
            }),
            ..Default::default()
        };
        let h = render_html(&doc);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("lang=\"vi\""));
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Phường Minh An"));
        assert!(h.contains("Phiếu thông tin quy hoạch"));
        assert!(h.contains("verify/7K3QZM9X2D?a=1&amp;b=2"));
    }
}
