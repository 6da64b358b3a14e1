//! The parameters of a map request, shared by GetMap and GetFeatureInfo
//! (and GetLegendGraphic's layer and format): layer names resolved against
//! the catalog, STYLES, CRS/SRS in the version's axis order, BBOX, the
//! image frame (size, format, transparency, background, EXCEPTIONS) and the
//! print resolution vendor parameters. Each bad value is a
//! [`WmsException`] naming its parameter.

use super::{code, param, Env, Version, WmsException, DEFAULT_STYLE, LAYER_LIMIT, MAP_FORMATS};
use crate::crs::Crs;
use crate::engine::Layer;
use crate::ogc::kvp::Kvp;
use crate::render::style::Rgba;
use crate::render::DrawGroup;
use std::sync::Arc;

/// How a GetMap reports errors (`EXCEPTIONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionMode {
    /// A service exception report.
    Xml,
    /// The message drawn into an image of the requested size.
    InImage,
    /// An empty image of the requested size.
    Blank,
}

impl ExceptionMode {
    fn parse(v: Option<&str>) -> Result<ExceptionMode, WmsException> {
        let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(ExceptionMode::Xml);
        };
        match v.to_ascii_lowercase().as_str() {
            "xml" | "application/vnd.ogc.se_xml" | "text/xml" => Ok(ExceptionMode::Xml),
            "inimage" | "application/vnd.ogc.se_inimage" => Ok(ExceptionMode::InImage),
            "blank" | "application/vnd.ogc.se_blank" => Ok(ExceptionMode::Blank),
            _ => Err(WmsException::invalid(
                param::EXCEPTIONS,
                format!("EXCEPTIONS={v}: offered are XML, INIMAGE and BLANK (or their application/vnd.ogc.se_* names)"),
            )),
        }
    }
}

/// An image format of GetMap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG (RGBA when transparent).
    Png,
    /// JPEG (always opaque).
    Jpeg,
}

impl ImageFormat {
    pub(super) fn parse(v: &str) -> Option<ImageFormat> {
        // QGIS may send "image/png; mode=8bit"; any PNG flavour is PNG.
        let base = v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "image/png" | "png" | "image/png8" | "image/png24" | "image/png32" => {
                Some(ImageFormat::Png)
            }
            "image/jpeg" | "image/jpg" | "jpeg" | "jpg" => Some(ImageFormat::Jpeg),
            _ => None,
        }
    }

    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// One requested layer: an engine layer or the root layer (every layer).
pub(super) enum Requested {
    One(Arc<Layer>),
    All(Vec<Arc<Layer>>),
}

/// A validated GetMap (also the map part of GetFeatureInfo).
pub(super) struct MapParams {
    pub(super) layers: Vec<Requested>,
    pub(super) crs: Crs,
    pub(super) bbox: [f64; 4],
    pub(super) width: u32,
    pub(super) height: u32,
}

/// The image frame of a GetMap: what an `INIMAGE`/`BLANK` exception
/// needs, parsed before anything else.
pub(super) struct Frame {
    pub(super) format: ImageFormat,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) transparent: bool,
    pub(super) bgcolor: Rgba,
    pub(super) exceptions: ExceptionMode,
}

/// Resolves `LAYERS`-style names (plain ids, `prefix:id`, or the root
/// layer's name).
pub(super) fn resolve(names: &str, p: &str, env: &Env<'_>) -> Result<Vec<Requested>, WmsException> {
    let names: Vec<&str> = names.split(',').map(str::trim).collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(WmsException::missing(p));
    }
    if names.len() > LAYER_LIMIT {
        return Err(WmsException::invalid(
            p,
            format!(
                "{} layers exceed the limit of {LAYER_LIMIT} per request",
                names.len()
            ),
        ));
    }
    let root = &env.config.ogc.prefix;
    names
        .into_iter()
        .map(|n| {
            if n == root {
                return Ok(Requested::All(env.catalog.layers().cloned().collect()));
            }
            let id = n
                .strip_prefix(root.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or(n);
            env.catalog
                .layer(id)
                .cloned()
                .map(Requested::One)
                .ok_or_else(|| {
                    WmsException::new(
                        code::LAYER_NOT_DEFINED,
                        p,
                        format!("layer '{n}' is not offered; see GetCapabilities"),
                    )
                })
        })
        .collect()
}

/// The image frame of a GetMap, parsed before anything else: what an
/// `INIMAGE`/`BLANK` exception needs.
pub(super) fn frame(kvp: &Kvp, env: &Env<'_>, need_format: bool) -> Result<Frame, WmsException> {
    let exceptions = ExceptionMode::parse(kvp.get(param::EXCEPTIONS))?;
    let format = match kvp.get(param::FORMAT).map(str::trim) {
        None | Some("") if !need_format => ImageFormat::Png,
        None | Some("") => return Err(WmsException::missing(param::FORMAT)),
        Some(f) => ImageFormat::parse(f).ok_or_else(|| {
            WmsException::new(
                code::INVALID_FORMAT,
                param::FORMAT,
                format!("FORMAT={f}: offered are {}", MAP_FORMATS.join(", ")),
            )
        })?,
    };
    let lim = &env.config.limits;
    let size = |p: &str, max: u32, what: &str| -> Result<u32, WmsException> {
        let v = kvp
            .get(p)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| WmsException::missing(p))?;
        let n: i64 = v.parse().map_err(|_| {
            WmsException::invalid(p, format!("{p}={v} is not a whole number of pixels"))
        })?;
        if n <= 0 {
            return Err(WmsException::invalid(
                p,
                format!("{p}={v} must be at least 1"),
            ));
        }
        if n > i64::from(max) {
            return Err(WmsException::invalid(
                p,
                format!("{p}={n} exceeds the limit of {max} pixels ({what})"),
            ));
        }
        Ok(n as u32)
    };
    let width = size(param::WIDTH, lim.max_image_width, "MaxWidth")?;
    let height = size(param::HEIGHT, lim.max_image_height, "MaxHeight")?;
    let transparent = match kvp.get(param::TRANSPARENT).map(str::trim) {
        None | Some("") => false,
        Some(t) if t.eq_ignore_ascii_case("true") => true,
        Some(t) if t.eq_ignore_ascii_case("false") => false,
        Some(t) => {
            return Err(WmsException::invalid(
                param::TRANSPARENT,
                format!("TRANSPARENT={t}: TRUE or FALSE"),
            ))
        }
    };
    let bgcolor = match kvp.get(param::BGCOLOR).map(str::trim) {
        None | Some("") => Rgba {
            r: 255,
            g: 255,
            b: 255,
            a: 255,
        },
        Some(c) => {
            let hex = c
                .strip_prefix("0x")
                .or_else(|| c.strip_prefix("0X"))
                .or_else(|| c.strip_prefix('#'))
                .unwrap_or("");
            (hex.len() == 6)
                .then(|| Rgba::parse(&format!("#{hex}")))
                .flatten()
                .ok_or_else(|| {
                    WmsException::invalid(param::BGCOLOR, format!("BGCOLOR={c}: expected 0xRRGGBB"))
                })?
        }
    };
    Ok(Frame {
        format,
        width,
        height,
        transparent,
        bgcolor,
        exceptions,
    })
}

/// The map part of a GetMap or GetFeatureInfo: layers, styles, CRS and
/// BBOX (in the version's axis order), and the frame's size.
pub(super) fn map_params(
    v: Version,
    kvp: &Kvp,
    env: &Env<'_>,
    frame: &Frame,
) -> Result<MapParams, WmsException> {
    let layers_raw = kvp
        .get(param::LAYERS)
        .ok_or_else(|| WmsException::missing(param::LAYERS))?;
    let layers = resolve(layers_raw, param::LAYERS, env)?;
    // STYLES: missing, empty, or one (possibly empty) name per layer.
    if let Some(styles) = kvp.get(param::STYLES) {
        let list: Vec<&str> = styles.split(',').map(str::trim).collect();
        if list.iter().any(|s| !s.is_empty()) {
            if list.len() != layers.len() {
                return Err(WmsException::new(
                    code::STYLE_NOT_DEFINED,
                    param::STYLES,
                    format!(
                        "STYLES lists {} styles for {} layers",
                        list.len(),
                        layers.len()
                    ),
                ));
            }
            if let Some(s) = list
                .iter()
                .find(|s| !s.is_empty() && !s.eq_ignore_ascii_case(DEFAULT_STYLE))
            {
                return Err(WmsException::new(
                    code::STYLE_NOT_DEFINED,
                    param::STYLES,
                    format!(
                        "style '{s}' is not offered; every layer has the style '{DEFAULT_STYLE}'"
                    ),
                ));
            }
        }
    }
    // The version's CRS parameter first; the other spelling tolerated.
    let (own, other) = match v {
        Version::V130 => (param::CRS, param::SRS),
        Version::V111 => (param::SRS, param::CRS),
    };
    let (crs_p, crs_raw) = match (kvp.get(own), kvp.get(other)) {
        (Some(c), _) => (own, c),
        (None, Some(c)) => (other, c),
        (None, None) => return Err(WmsException::missing(own)),
    };
    if crs_raw.trim().is_empty() {
        return Err(WmsException::missing(crs_p));
    }
    let crs = Crs::parse(crs_raw)
        .map_err(|e| WmsException::new(code::INVALID_CRS, crs_p, e.to_string()))?;
    let bbox_raw = kvp
        .get(param::BBOX)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| WmsException::missing(param::BBOX))?;
    let n: Vec<f64> = bbox_raw
        .split(',')
        .map(|x| x.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            WmsException::invalid(
                param::BBOX,
                format!("BBOX={bbox_raw}: four finite numbers minx,miny,maxx,maxy"),
            )
        })?;
    if n.len() != 4 {
        return Err(WmsException::invalid(
            param::BBOX,
            format!("BBOX needs 4 numbers, got {}", n.len()),
        ));
    }
    if n[0] >= n[2] || n[1] >= n[3] {
        return Err(WmsException::invalid(
            param::BBOX,
            format!("BBOX={bbox_raw}: each minimum must be below its maximum"),
        ));
    }
    // WMS 1.3.0 follows the EPSG axis order: EPSG:4326 is lat,lon.
    let bbox = if v == Version::V130 && crs.is_lat_lon() {
        [n[1], n[0], n[3], n[2]]
    } else {
        [n[0], n[1], n[2], n[3]]
    };
    if crs.is_geographic()
        && (bbox[0] < -360.0 || bbox[2] > 360.0 || bbox[1] < -90.0 || bbox[3] > 90.0)
    {
        return Err(WmsException::invalid(
            param::BBOX,
            format!(
                "BBOX={bbox_raw}: latitudes must lie within -90..90 ({})",
                if v == Version::V130 && crs.is_lat_lon() {
                    "WMS 1.3.0 gives EPSG:4326 as lat,lon"
                } else {
                    "lon,lat order"
                }
            ),
        ));
    }
    Ok(MapParams {
        layers,
        crs,
        bbox,
        width: frame.width,
        height: frame.height,
    })
}

/// The requested layers as the renderer draws them.
pub(super) fn groups<'a>(layers: &'a [Requested]) -> Vec<DrawGroup<'a>> {
    layers
        .iter()
        .map(|r| match r {
            Requested::One(l) => DrawGroup::Layer(l),
            Requested::All(ls) => DrawGroup::Group(ls.iter().map(|l| l.as_ref()).collect()),
        })
        .collect()
}

/// Device pixels per CSS pixel from the vendor parameters clients send for
/// print resolution (QGIS sends all three: `DPI`, `MAP_RESOLUTION`,
/// `FORMAT_OPTIONS=dpi:N`): DPI / 96, clamped to 0.25–8. Unusable values
/// are ignored (vendor parameters never fail a request).
pub fn pixel_ratio(kvp: &Kvp) -> f64 {
    let from_options = kvp.get("FORMAT_OPTIONS").and_then(|o| {
        o.split(';').find_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("dpi")
                .then(|| v.trim().to_owned())
        })
    });
    [
        kvp.get("DPI").map(str::to_owned),
        kvp.get("MAP_RESOLUTION").map(str::to_owned),
        from_options,
    ]
    .into_iter()
    .flatten()
    .find_map(|v| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d > 0.0)
    })
    .map(|d| (d / 96.0).clamp(0.25, 8.0))
    .unwrap_or(1.0)
}
