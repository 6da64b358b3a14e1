//! WMS capabilities documents, 1.3.0 (`WMS_Capabilities`) and 1.1.1
//! (`WMT_MS_Capabilities`): every engine layer under one root layer named
//! after the `[ogc] prefix` (which renders them all, in style order), each
//! with title, abstract, geographic extent, a `BoundingBox` per offered
//! CRS in the version's axis order, the `default` style with its
//! `LegendURL`, `queryable="1"`, and the scale range its style shows it at.
//! Every URL is absolute, built from the service URL.

use super::{Env, Version, DEFAULT_STYLE, INFO_FORMATS, LAYER_LIMIT};
use crate::crs::{self, Crs, SUPPORTED_EPSG};
use crate::engine::Layer;
use crate::ogc::xml::escape;
use crate::render::Renderer;
use geo_types::{Coord, Rect};
use std::fmt::Write;

/// Scale denominator of one MapLibre zoom: Web Mercator metres per pixel
/// over the standard 0.28 mm pixel of WMS.
fn scale_of_zoom(z: f64) -> f64 {
    (2.0 * 20_037_508.342_789_244 / 512.0) / 2f64.powf(z) / 0.000_28
}

/// Every CRS offered, in the order listed.
pub fn offered_crs() -> Vec<Crs> {
    let mut v = vec![Crs::Epsg(3857), Crs::Epsg(4326), Crs::Crs84];
    v.extend(
        SUPPORTED_EPSG
            .iter()
            .filter(|c| !matches!(c, 3857 | 4326))
            .map(|c| Crs::Epsg(*c)),
    );
    v
}

/// `<BoundingBox>`/`<LatLonBoundingBox>` lines of an extent (Web
/// Mercator), each rounded outward in its CRS ([`crs::advertised_bbox`]):
/// a GetMap or a feature query over an advertised box misses nothing.
fn bboxes(out: &mut String, v: Version, ext: Rect<f64>, indent: &str) {
    let Ok((ll_min, ll_max)) = crs::advertised_bbox((ext.min(), ext.max()), Crs::Crs84) else {
        return;
    };
    match v {
        Version::V130 => {
            let _ = writeln!(
                out,
                "{indent}<EX_GeographicBoundingBox><westBoundLongitude>{}</westBoundLongitude><eastBoundLongitude>{}</eastBoundLongitude><southBoundLatitude>{}</southBoundLatitude><northBoundLatitude>{}</northBoundLatitude></EX_GeographicBoundingBox>",
                ll_min.x, ll_max.x, ll_min.y, ll_max.y
            );
        }
        Version::V111 => {
            let _ = writeln!(
                out,
                "{indent}<LatLonBoundingBox minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
                ll_min.x, ll_min.y, ll_max.x, ll_max.y
            );
        }
    }
    for c in offered_crs() {
        let Ok((lo, hi)) = crs::advertised_bbox((ext.min(), ext.max()), c) else {
            continue;
        };
        let (attr, a, b) = match v {
            // 1.3.0: EPSG axis order (4326, 4756 are lat,lon).
            Version::V130 if c.is_lat_lon() => ("CRS", (lo.y, lo.x), (hi.y, hi.x)),
            Version::V130 => ("CRS", (lo.x, lo.y), (hi.x, hi.y)),
            Version::V111 => ("SRS", (lo.x, lo.y), (hi.x, hi.y)),
        };
        let _ = writeln!(
            out,
            "{indent}<BoundingBox {attr}=\"{c}\" minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
            a.0, a.1, b.0, b.1
        );
    }
}

fn online(url: &str) -> String {
    format!(
        "<OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{}\"/>",
        escape(url)
    )
}

fn dcp(url: &str) -> String {
    format!(
        "<DCPType><HTTP><Get>{}</Get></HTTP></DCPType>",
        online(&format!("{url}?"))
    )
}

fn layer_xml(out: &mut String, v: Version, env: &Env<'_>, r: &Renderer, l: &Layer) {
    let title = if l.meta.title.is_empty() {
        l.id.as_str()
    } else {
        l.meta.title.as_str()
    };
    let abstract_text = if l.meta.description.is_empty() {
        format!(
            "{} ({}, {} features)",
            title,
            l.geometry_type().name(),
            l.len()
        )
    } else {
        l.meta.description.clone()
    };
    let _ = writeln!(out, "      <Layer queryable=\"1\" opaque=\"0\">");
    let _ = writeln!(out, "        <Name>{}</Name>", escape(&l.id));
    let _ = writeln!(out, "        <Title>{}</Title>", escape(title));
    let _ = writeln!(
        out,
        "        <Abstract>{}</Abstract>",
        escape(&abstract_text)
    );
    let ext = l.extent().unwrap_or_else(default_extent);
    bboxes(out, v, ext, "        ");
    let (lw, lh) = r
        .legend(l, 20, 20)
        .map(|p| (p.width(), p.height()))
        .unwrap_or((200, 40));
    let legend_url = format!(
        "{}?SERVICE=WMS&VERSION={}&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={}&STYLE={DEFAULT_STYLE}",
        env.service_url,
        v.as_str(),
        url_component(&l.id)
    );
    let _ = writeln!(
        out,
        "        <Style><Name>{DEFAULT_STYLE}</Name><Title>{}</Title><LegendURL width=\"{lw}\" height=\"{lh}\"><Format>image/png</Format>{}</LegendURL></Style>",
        escape(&format!("{title} – planning style")),
        online(&legend_url)
    );
    // Scale range from the style: shown from its lowest minzoom on, up to
    // its highest maxzoom.
    if let (Version::V130, Some(z)) = (v, r.style.maxzoom_of(&l.id)) {
        let min_scale = (scale_of_zoom(z) * 0.98).round();
        let _ = writeln!(
            out,
            "        <MinScaleDenominator>{min_scale}</MinScaleDenominator>"
        );
    }
    if let Some(z) = r.style.minzoom_of(&l.id).filter(|z| *z > 0.0) {
        // A little slack so a client at exactly that scale asks for it.
        let max_scale = (scale_of_zoom(z) * 1.02).round();
        match v {
            Version::V130 => {
                let _ = writeln!(
                    out,
                    "        <MaxScaleDenominator>{max_scale}</MaxScaleDenominator>"
                );
            }
            Version::V111 => {
                // ScaleHint is the ground size of a pixel diagonal, metres.
                let hint = max_scale * 0.000_28 * std::f64::consts::SQRT_2;
                let _ = writeln!(out, "        <ScaleHint min=\"0\" max=\"{hint:.4}\"/>");
            }
        }
    }
    let _ = writeln!(out, "      </Layer>");
}

fn default_extent() -> Rect<f64> {
    // Đà Nẵng city (with the former Quảng Nam) when a layer is empty.
    let a = crs::lonlat_to_mercator(Coord { x: 107.2, y: 14.9 });
    let b = crs::lonlat_to_mercator(Coord { x: 108.8, y: 16.3 });
    Rect::new(a, b)
}

/// Percent-encodes a URL query component.
fn url_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The capabilities document of a version.
pub fn document(v: Version, env: &Env<'_>, r: &Renderer) -> String {
    let cfg = &env.config;
    let url = env.service_url;
    let lim = &cfg.limits;
    let mut o = String::with_capacity(64 * 1024);
    let update = env.catalog.version;
    match v {
        Version::V130 => {
            let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            let _ = writeln!(
                o,
                "<WMS_Capabilities version=\"1.3.0\" updateSequence=\"{update}\" xmlns=\"http://www.opengis.net/wms\" xmlns:sld=\"http://www.opengis.net/sld\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd\">"
            );
        }
        Version::V111 => {
            let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            let _ = writeln!(
                o,
                "<!DOCTYPE WMT_MS_Capabilities SYSTEM \"http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd\">"
            );
            let _ = writeln!(
                o,
                "<WMT_MS_Capabilities version=\"1.1.1\" updateSequence=\"{update}\">"
            );
        }
    }
    let _ = writeln!(o, "  <Service>");
    let _ = writeln!(
        o,
        "    <Name>{}</Name>",
        if v == Version::V130 { "WMS" } else { "OGC:WMS" }
    );
    let _ = writeln!(o, "    <Title>{}</Title>", escape(&cfg.ogc.title));
    let _ = writeln!(
        o,
        "    <Abstract>{}</Abstract>",
        escape(&cfg.ogc.abstract_text)
    );
    let _ = writeln!(
        o,
        "    <KeywordList><Keyword>quy hoạch</Keyword><Keyword>địa chính</Keyword><Keyword>Đà Nẵng</Keyword><Keyword>planning</Keyword></KeywordList>"
    );
    let _ = writeln!(o, "    {}", online(url));
    let _ = writeln!(o, "    <Fees>none</Fees>");
    let _ = writeln!(o, "    <AccessConstraints>none</AccessConstraints>");
    if v == Version::V130 {
        let _ = writeln!(o, "    <LayerLimit>{LAYER_LIMIT}</LayerLimit>");
        let _ = writeln!(o, "    <MaxWidth>{}</MaxWidth>", lim.max_image_width);
        let _ = writeln!(o, "    <MaxHeight>{}</MaxHeight>", lim.max_image_height);
    }
    let _ = writeln!(o, "  </Service>");
    let _ = writeln!(o, "  <Capability>");
    let _ = writeln!(o, "    <Request>");
    let caps_format = match v {
        Version::V130 => "text/xml",
        Version::V111 => "application/vnd.ogc.wms_xml",
    };
    let _ = writeln!(
        o,
        "      <GetCapabilities><Format>{caps_format}</Format>{}</GetCapabilities>",
        dcp(url)
    );
    let _ = writeln!(
        o,
        "      <GetMap><Format>image/png</Format><Format>image/jpeg</Format>{}</GetMap>",
        dcp(url)
    );
    let info: String = INFO_FORMATS
        .iter()
        .map(|f| format!("<Format>{f}</Format>"))
        .collect();
    let _ = writeln!(
        o,
        "      <GetFeatureInfo>{info}{}</GetFeatureInfo>",
        dcp(url)
    );
    let lg = if v == Version::V130 {
        "sld:GetLegendGraphic"
    } else {
        "GetLegendGraphic"
    };
    let _ = writeln!(
        o,
        "      <{lg}><Format>image/png</Format><Format>image/jpeg</Format>{}</{lg}>",
        dcp(url)
    );
    let _ = writeln!(o, "    </Request>");
    let ex: &[&str] = match v {
        Version::V130 => &["XML", "INIMAGE", "BLANK"],
        Version::V111 => &[
            "application/vnd.ogc.se_xml",
            "application/vnd.ogc.se_inimage",
            "application/vnd.ogc.se_blank",
        ],
    };
    let _ = writeln!(
        o,
        "    <Exception>{}</Exception>",
        ex.iter()
            .map(|f| format!("<Format>{f}</Format>"))
            .collect::<String>()
    );
    // The root layer: every layer together, the planning map.
    let _ = writeln!(o, "    <Layer queryable=\"0\">");
    let _ = writeln!(o, "      <Name>{}</Name>", escape(&cfg.ogc.prefix));
    let _ = writeln!(o, "      <Title>{}</Title>", escape(&cfg.ogc.title));
    let _ = writeln!(
        o,
        "      <Abstract>{}</Abstract>",
        escape(&cfg.ogc.abstract_text)
    );
    let tag = match v {
        Version::V130 => "CRS",
        Version::V111 => "SRS",
    };
    for c in offered_crs() {
        let _ = writeln!(o, "      <{tag}>{c}</{tag}>");
    }
    let mut all: Option<Rect<f64>> = None;
    for l in env.catalog.layers() {
        if let Some(e) = l.extent() {
            all = Some(match all {
                None => e,
                Some(a) => Rect::new(
                    Coord {
                        x: a.min().x.min(e.min().x),
                        y: a.min().y.min(e.min().y),
                    },
                    Coord {
                        x: a.max().x.max(e.max().x),
                        y: a.max().y.max(e.max().y),
                    },
                ),
            });
        }
    }
    bboxes(&mut o, v, all.unwrap_or_else(default_extent), "      ");
    // No Style here: the layers inherit the root's styles, and each of
    // them declares `default` with its own legend; a style of the same
    // name on the root too would be defined twice (WMS 1.3.0 §7.2.4.6.5).
    // The root draws in its default style without one named.
    for l in env.catalog.layers() {
        layer_xml(&mut o, v, env, r, l);
    }
    let _ = writeln!(o, "    </Layer>");
    let _ = writeln!(o, "  </Capability>");
    let _ = writeln!(
        o,
        "</{}>",
        match v {
            Version::V130 => "WMS_Capabilities",
            Version::V111 => "WMT_MS_Capabilities",
        }
    );
    o
}
