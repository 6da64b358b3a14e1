//! WMS 1.3.0 and 1.1.1: request parsing and validation, version
//! negotiation, GetMap, GetFeatureInfo, GetLegendGraphic and service
//! exception reports. Capabilities documents are in [`super::wms_caps`],
//! feature info formats in [`super::wms_info`].
//!
//! Everything here is synchronous CPU work over an engine snapshot: the
//! http layer runs [`Wms::handle`] on the blocking pool. Every bad input
//! becomes a `ServiceExceptionReport` (HTTP 400) naming the parameter and,
//! for limits, the limit; nothing a client sends can panic or hang it.

use super::kvp::Kvp;
use crate::config::Config;
use crate::crs::Crs;
use crate::engine::{Catalog, Layer, Query, Spatial};
use crate::model::GeometryKind;
use crate::render::style::Rgba;
use crate::render::{map, DrawGroup, MapSpec, Renderer, View};
use std::sync::{Arc, Mutex};

/// Exception codes of WMS 1.3.0 (and 1.1.1, where `InvalidSRS` replaces
/// `InvalidCRS`).
pub mod code {
    /// The CRS/SRS is not offered.
    pub const INVALID_CRS: &str = "InvalidCRS";
    /// WMS 1.1.1 spelling of `InvalidCRS`.
    pub const INVALID_SRS: &str = "InvalidSRS";
    /// A layer name is not offered.
    pub const LAYER_NOT_DEFINED: &str = "LayerNotDefined";
    /// A style name is not offered for its layer.
    pub const STYLE_NOT_DEFINED: &str = "StyleNotDefined";
    /// An output format is not offered.
    pub const INVALID_FORMAT: &str = "InvalidFormat";
    /// GetFeatureInfo on a layer that is not queryable.
    pub const LAYER_NOT_QUERYABLE: &str = "LayerNotQueryable";
    /// I/J (X/Y) outside the map.
    pub const INVALID_POINT: &str = "InvalidPoint";
    /// A required parameter is missing.
    pub const MISSING_PARAMETER_VALUE: &str = "MissingParameterValue";
    /// A parameter value is malformed or over a limit.
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
    /// REQUEST names no WMS operation.
    pub const OPERATION_NOT_SUPPORTED: &str = "OperationNotSupported";
}

/// WMS parameter names (case-insensitive on the wire).
pub mod param {
    /// SERVICE
    pub const SERVICE: &str = "SERVICE";
    /// VERSION
    pub const VERSION: &str = "VERSION";
    /// WMTVER (WMS 1.0 spelling of VERSION)
    pub const WMTVER: &str = "WMTVER";
    /// REQUEST
    pub const REQUEST: &str = "REQUEST";
    /// LAYERS
    pub const LAYERS: &str = "LAYERS";
    /// STYLES
    pub const STYLES: &str = "STYLES";
    /// CRS (1.3.0)
    pub const CRS: &str = "CRS";
    /// SRS (1.1.1)
    pub const SRS: &str = "SRS";
    /// BBOX
    pub const BBOX: &str = "BBOX";
    /// WIDTH
    pub const WIDTH: &str = "WIDTH";
    /// HEIGHT
    pub const HEIGHT: &str = "HEIGHT";
    /// FORMAT
    pub const FORMAT: &str = "FORMAT";
    /// TRANSPARENT
    pub const TRANSPARENT: &str = "TRANSPARENT";
    /// BGCOLOR
    pub const BGCOLOR: &str = "BGCOLOR";
    /// EXCEPTIONS
    pub const EXCEPTIONS: &str = "EXCEPTIONS";
    /// QUERY_LAYERS
    pub const QUERY_LAYERS: &str = "QUERY_LAYERS";
    /// INFO_FORMAT
    pub const INFO_FORMAT: &str = "INFO_FORMAT";
    /// FEATURE_COUNT
    pub const FEATURE_COUNT: &str = "FEATURE_COUNT";
    /// I (1.3.0)
    pub const I: &str = "I";
    /// J (1.3.0)
    pub const J: &str = "J";
    /// X (1.1.1)
    pub const X: &str = "X";
    /// Y (1.1.1)
    pub const Y: &str = "Y";
    /// LAYER (GetLegendGraphic)
    pub const LAYER: &str = "LAYER";
    /// STYLE (GetLegendGraphic)
    pub const STYLE: &str = "STYLE";
}

/// The one style every layer offers.
pub const DEFAULT_STYLE: &str = "default";
/// Most layers in one GetMap (`LayerLimit` in the capabilities).
pub const LAYER_LIMIT: usize = 64;
/// Most features one GetFeatureInfo returns per layer.
pub const MAX_FEATURE_COUNT: usize = 1000;
/// Search radius of GetFeatureInfo around the pixel for points and lines.
pub const INFO_TOLERANCE_PX: f64 = 5.0;
/// Longest query string accepted, bytes.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Map formats offered by GetMap.
pub const MAP_FORMATS: &[&str] = &["image/png", "image/jpeg"];
/// Formats offered by GetFeatureInfo.
pub const INFO_FORMATS: &[&str] = &[
    "text/plain",
    "text/html",
    "application/json",
    "application/vnd.ogc.gml",
];

/// A WMS version this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 1.1.1: `SRS`, `X`/`Y`, lon/lat for EPSG:4326.
    V111,
    /// 1.3.0: `CRS`, `I`/`J`, EPSG axis order.
    V130,
}

impl Version {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V111 => "1.1.1",
            Version::V130 => "1.3.0",
        }
    }

    /// Negotiation (WMS 1.3.0 §6.2.4): no version → the highest; a known
    /// one → itself; otherwise the nearest lower one we speak, or the
    /// lowest when it is below everything.
    pub fn negotiate(requested: Option<&str>) -> Version {
        let Some(v) = requested.map(str::trim).filter(|v| !v.is_empty()) else {
            return Version::V130;
        };
        let parts: Vec<u32> = v
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .chain(std::iter::repeat(0))
            .take(3)
            .collect();
        if (parts[0], parts[1], parts[2]) >= (1, 3, 0) {
            Version::V130
        } else {
            Version::V111
        }
    }
}

/// A service exception: code, locator (the parameter) and message.
#[derive(Debug, Clone)]
pub struct WmsException {
    /// One of [`code`], or none for a generic error.
    pub code: Option<&'static str>,
    /// The offending parameter.
    pub locator: Option<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl WmsException {
    /// An exception with a code and locator.
    pub fn new(code: &'static str, locator: &str, message: impl Into<String>) -> Self {
        WmsException {
            code: Some(code),
            locator: Some(locator.to_owned()),
            message: message.into(),
        }
    }

    fn missing(p: &str) -> Self {
        WmsException::new(
            code::MISSING_PARAMETER_VALUE,
            p,
            format!("parameter {p} is required"),
        )
    }

    fn invalid(p: &str, message: impl Into<String>) -> Self {
        WmsException::new(code::INVALID_PARAMETER_VALUE, p, message)
    }
}

/// Escapes text for XML (and HTML) content and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// A service exception report in the version's dialect; the content type
/// is `text/xml` for 1.3.0 and `application/vnd.ogc.se_xml` for 1.1.1.
pub fn exception_report(v: Version, e: &WmsException) -> (&'static str, String) {
    let mut attrs = String::new();
    if let Some(c) = e.code {
        let c = if v == Version::V111 && c == code::INVALID_CRS {
            code::INVALID_SRS
        } else {
            c
        };
        attrs.push_str(&format!(" code=\"{c}\""));
    }
    if let Some(l) = &e.locator {
        attrs.push_str(&format!(" locator=\"{}\"", xml_escape(l)));
    }
    let msg = xml_escape(&e.message);
    match v {
        Version::V130 => (
            "text/xml; charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceExceptionReport version=\"1.3.0\" xmlns=\"http://www.opengis.net/ogc\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">\n  <ServiceException{attrs}>{msg}</ServiceException>\n</ServiceExceptionReport>\n"
            ),
        ),
        Version::V111 => (
            "application/vnd.ogc.se_xml; charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceExceptionReport version=\"1.1.1\">\n  <ServiceException{attrs}>{msg}</ServiceException>\n</ServiceExceptionReport>\n"
            ),
        ),
    }
}

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status (200, or 400 for an exception report).
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn ok(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.to_owned(),
            body,
        }
    }

    fn exception(v: Version, e: &WmsException) -> Reply {
        let (ct, body) = exception_report(v, e);
        Reply {
            status: 400,
            content_type: ct.to_owned(),
            body: body.into_bytes(),
        }
    }
}

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
    fn parse(v: &str) -> Option<ImageFormat> {
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
enum Requested {
    One(Arc<Layer>),
    All(Vec<Arc<Layer>>),
}

/// A validated GetMap (also the map part of GetFeatureInfo).
struct MapParams {
    layers: Vec<Requested>,
    crs: Crs,
    bbox: [f64; 4],
    width: u32,
    height: u32,
}

/// The image frame of a GetMap: what an `INIMAGE`/`BLANK` exception
/// needs, parsed before anything else.
struct Frame {
    format: ImageFormat,
    width: u32,
    height: u32,
    transparent: bool,
    bgcolor: Rgba,
    exceptions: ExceptionMode,
}

/// Everything a request needs besides its parameters.
pub struct Env<'a> {
    /// The engine snapshot of this request.
    pub catalog: &'a Catalog,
    /// Configuration (limits, `[ogc]` metadata).
    pub config: &'a Config,
    /// The absolute URL of the WMS endpoint (e.g.
    /// `https://gis.danang.gov.vn/geoplan/wms`).
    pub service_url: &'a str,
}

/// The WMS: the renderer and a cache of capabilities documents.
pub struct Wms {
    /// The map renderer (style and fonts).
    pub renderer: Renderer,
    caps: Mutex<Vec<CapsKey>>,
}

/// A cached capabilities document: catalog version, service URL, version.
type CapsKey = (u64, String, Version, Arc<String>);

impl Wms {
    /// A WMS over a renderer.
    pub fn new(renderer: Renderer) -> Wms {
        Wms {
            renderer,
            caps: Mutex::new(Vec::new()),
        }
    }

    /// Answers one KVP request. Never fails: errors are exception reports.
    pub fn handle(&self, kvp: &Kvp, env: &Env<'_>) -> Reply {
        let raw_len: usize = kvp.pairs().iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let version = Version::negotiate(kvp.get_any(&[param::VERSION, param::WMTVER]));
        // GetMap/GetFeatureInfo without VERSION: SRS means a 1.1 client.
        let version = if kvp.get_any(&[param::VERSION, param::WMTVER]).is_none()
            && kvp.has(param::SRS)
            && !kvp.has(param::CRS)
        {
            Version::V111
        } else {
            version
        };
        if raw_len > MAX_QUERY_BYTES {
            return Reply::exception(
                version,
                &WmsException {
                    code: None,
                    locator: None,
                    message: format!(
                        "the request of {raw_len} bytes exceeds the limit of {MAX_QUERY_BYTES} bytes"
                    ),
                },
            );
        }
        if let Some(s) = kvp.get(param::SERVICE) {
            if !s.trim().is_empty() && !s.trim().eq_ignore_ascii_case("WMS") {
                return Reply::exception(
                    version,
                    &WmsException::invalid(
                        param::SERVICE,
                        format!("SERVICE={s}: this endpoint serves WMS"),
                    ),
                );
            }
        }
        let Some(request) = kvp.get(param::REQUEST).map(str::trim) else {
            return Reply::exception(version, &WmsException::missing(param::REQUEST));
        };
        let r = request.to_ascii_lowercase();
        match r.as_str() {
            "getcapabilities" | "capabilities" => self.capabilities(version, env),
            "getmap" | "map" => self.get_map(version, kvp, env),
            "getfeatureinfo" | "feature_info" => self.get_feature_info(version, kvp, env),
            "getlegendgraphic" => self.legend(version, kvp, env),
            _ => Reply::exception(
                version,
                &WmsException::new(
                    code::OPERATION_NOT_SUPPORTED,
                    param::REQUEST,
                    format!(
                        "REQUEST={request}: offered are GetCapabilities, GetMap, GetFeatureInfo and GetLegendGraphic"
                    ),
                ),
            ),
        }
    }

    fn capabilities(&self, v: Version, env: &Env<'_>) -> Reply {
        let key_v = env.catalog.version;
        let cached = {
            let c = self.caps.lock().unwrap_or_else(|e| e.into_inner());
            c.iter()
                .find(|(cv, url, ver, _)| *cv == key_v && url == env.service_url && *ver == v)
                .map(|x| x.3.clone())
        };
        let doc = match cached {
            Some(d) => d,
            None => {
                let d = Arc::new(super::wms_caps::document(v, env, &self.renderer));
                let mut c = self.caps.lock().unwrap_or_else(|e| e.into_inner());
                c.retain(|(cv, ..)| *cv == key_v);
                if c.len() > 16 {
                    c.clear();
                }
                c.push((key_v, env.service_url.to_owned(), v, d.clone()));
                d
            }
        };
        Reply::ok("text/xml; charset=UTF-8", doc.as_bytes().to_vec())
    }

    /// Resolves `LAYERS`-style names (plain ids, `prefix:id`, or the root
    /// layer's name).
    fn resolve(&self, names: &str, p: &str, env: &Env<'_>) -> Result<Vec<Requested>, WmsException> {
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

    fn frame(&self, kvp: &Kvp, env: &Env<'_>, need_format: bool) -> Result<Frame, WmsException> {
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
                        WmsException::invalid(
                            param::BGCOLOR,
                            format!("BGCOLOR={c}: expected 0xRRGGBB"),
                        )
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

    fn map_params(
        &self,
        v: Version,
        kvp: &Kvp,
        env: &Env<'_>,
        frame: &Frame,
    ) -> Result<MapParams, WmsException> {
        let layers_raw = kvp
            .get(param::LAYERS)
            .ok_or_else(|| WmsException::missing(param::LAYERS))?;
        let layers = self.resolve(layers_raw, param::LAYERS, env)?;
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
                        format!("style '{s}' is not offered; every layer has the style '{DEFAULT_STYLE}'"),
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

    fn groups<'a>(layers: &'a [Requested]) -> Vec<DrawGroup<'a>> {
        layers
            .iter()
            .map(|r| match r {
                Requested::One(l) => DrawGroup::Layer(l),
                Requested::All(ls) => DrawGroup::Group(ls.iter().map(|l| l.as_ref()).collect()),
            })
            .collect()
    }

    fn encode(&self, mut pm: tiny_skia::Pixmap, frame: &Frame) -> Result<Vec<u8>, String> {
        let opaque = !frame.transparent || frame.format == ImageFormat::Jpeg;
        if opaque && frame.transparent {
            // JPEG cannot be transparent: composite over BGCOLOR.
            let mut bg = tiny_skia::Pixmap::new(pm.width(), pm.height()).ok_or("size")?;
            let c = frame.bgcolor;
            bg.fill(tiny_skia::Color::from_rgba8(c.r, c.g, c.b, 255));
            bg.draw_pixmap(
                0,
                0,
                pm.as_ref(),
                &tiny_skia::PixmapPaint::default(),
                tiny_skia::Transform::identity(),
                None,
            );
            pm = bg;
        }
        match frame.format {
            ImageFormat::Png => map::encode_png(pm, !opaque),
            ImageFormat::Jpeg => map::encode_jpeg(pm),
        }
        .map_err(|e| e.to_string())
    }

    fn blank(&self, frame: &Frame) -> tiny_skia::Pixmap {
        let mut pm = map::new_pixmap(frame.width, frame.height)
            .unwrap_or_else(|| tiny_skia::Pixmap::new(1, 1).expect("1×1"));
        if !frame.transparent {
            let c = frame.bgcolor;
            pm.fill(tiny_skia::Color::from_rgba8(c.r, c.g, c.b, 255));
        }
        pm
    }

    fn get_map(&self, v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
        let frame = match self.frame(kvp, env, true) {
            Ok(f) => f,
            Err(e) => return Reply::exception(v, &e),
        };
        let result = self.map_params(v, kvp, env, &frame).and_then(|p| {
            let spec = MapSpec {
                crs: p.crs,
                bbox: p.bbox,
                width: p.width,
                height: p.height,
                background: (!frame.transparent).then_some(frame.bgcolor),
                pixel_ratio: pixel_ratio(kvp),
            };
            self.renderer
                .render(&Self::groups(&p.layers), &spec)
                .map_err(|e| WmsException::invalid(param::BBOX, e.to_string()))
        });
        let pm = match result {
            Ok(pm) => pm,
            Err(e) => match frame.exceptions {
                ExceptionMode::Xml => return Reply::exception(v, &e),
                // The client asked for errors as images: it shows them
                // where the map would be (OGC WMS 1.3.0 §7.3.3.11).
                ExceptionMode::Blank => self.blank(&frame),
                ExceptionMode::InImage => {
                    let mut pm = self.blank(&frame);
                    let text = match e.code {
                        Some(c) => format!("{c}: {}", e.message),
                        None => e.message.clone(),
                    };
                    map::draw_message(&mut pm, &self.renderer.fonts, &text);
                    pm
                }
            },
        };
        match self.encode(pm, &frame) {
            Ok(b) => Reply::ok(frame.format.mime(), b),
            Err(m) => Reply::exception(
                v,
                &WmsException {
                    code: None,
                    locator: None,
                    message: format!("the image could not be encoded: {m}"),
                },
            ),
        }
    }

    fn get_feature_info(&self, v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
        match self.feature_info(v, kvp, env) {
            Ok(r) => r,
            Err(e) => Reply::exception(v, &e),
        }
    }

    fn feature_info(&self, v: Version, kvp: &Kvp, env: &Env<'_>) -> Result<Reply, WmsException> {
        let frame = self.frame(kvp, env, false)?;
        let p = self.map_params(v, kvp, env, &frame)?;
        let ql = kvp
            .get(param::QUERY_LAYERS)
            .ok_or_else(|| WmsException::missing(param::QUERY_LAYERS))?;
        let mut query_layers = Vec::new();
        for r in self.resolve(ql, param::QUERY_LAYERS, env)? {
            match r {
                Requested::One(l) => query_layers.push(l),
                Requested::All(_) => {
                    return Err(WmsException::new(
                        code::LAYER_NOT_QUERYABLE,
                        param::QUERY_LAYERS,
                        format!(
                            "layer '{}' is the group of all layers and is not queryable; query its layers",
                            env.config.ogc.prefix
                        ),
                    ))
                }
            }
        }
        let info_format = match kvp.get(param::INFO_FORMAT).map(str::trim) {
            None | Some("") => "text/plain".to_owned(),
            Some(f) => {
                let base = f
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                let known = match base.as_str() {
                    "text/plain" => "text/plain",
                    "text/html" => "text/html",
                    "application/json" | "application/geo+json" | "application/geojson" => {
                        "application/json"
                    }
                    "application/vnd.ogc.gml" | "text/xml" | "application/xml" | "gml" => {
                        "application/vnd.ogc.gml"
                    }
                    _ => {
                        return Err(WmsException::new(
                            code::INVALID_FORMAT,
                            param::INFO_FORMAT,
                            format!("INFO_FORMAT={f}: offered are {}", INFO_FORMATS.join(", ")),
                        ))
                    }
                };
                known.to_owned()
            }
        };
        let count = match kvp.get(param::FEATURE_COUNT).map(str::trim) {
            None | Some("") => 1,
            Some(c) => {
                let n: usize = c.parse().map_err(|_| {
                    WmsException::invalid(
                        param::FEATURE_COUNT,
                        format!("FEATURE_COUNT={c} is not a positive whole number"),
                    )
                })?;
                if n == 0 {
                    return Err(WmsException::invalid(
                        param::FEATURE_COUNT,
                        "FEATURE_COUNT must be at least 1",
                    ));
                }
                if n > MAX_FEATURE_COUNT {
                    return Err(WmsException::invalid(
                        param::FEATURE_COUNT,
                        format!("FEATURE_COUNT={n} exceeds the limit of {MAX_FEATURE_COUNT}"),
                    ));
                }
                n
            }
        };
        let (pi, pj) = match v {
            Version::V130 => ((param::I, param::X), (param::J, param::Y)),
            Version::V111 => ((param::X, param::I), (param::Y, param::J)),
        };
        let coord = |(own, other): (&str, &str), max: u32| -> Result<f64, WmsException> {
            let (name, raw) = match (kvp.get(own), kvp.get(other)) {
                (Some(x), _) => (own, x),
                (None, Some(x)) => (other, x),
                (None, None) => return Err(WmsException::missing(own)),
            };
            let n: f64 = raw
                .trim()
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| {
                    WmsException::new(
                        code::INVALID_POINT,
                        name,
                        format!("{name}={raw} is not a pixel number"),
                    )
                })?;
            if n < 0.0 || n >= f64::from(max) {
                return Err(WmsException::new(
                    code::INVALID_POINT,
                    name,
                    format!("{name}={raw} lies outside the map (0..{})", max - 1),
                ));
            }
            Ok(n.floor() + 0.5)
        };
        let i = coord(pi, p.width)?;
        let j = coord(pj, p.height)?;
        let view = View::new(&MapSpec {
            crs: p.crs,
            bbox: p.bbox,
            width: p.width,
            height: p.height,
            background: None,
            pixel_ratio: pixel_ratio(kvp),
        })
        .map_err(|e| WmsException::invalid(param::BBOX, e.to_string()))?;
        let at = view
            .pixel_to_mercator(i, j)
            .map_err(|e| WmsException::new(code::INVALID_POINT, pi.0, e.to_string()))?;
        let tol = INFO_TOLERANCE_PX * view.merc_per_px;
        let mut hits = Vec::new();
        for l in &query_layers {
            let found: Vec<_> = match l.geometry_type().kind() {
                GeometryKind::Polygon => {
                    l.query(&Query {
                        spatial: Some(Spatial::Point(at)),
                        filter: None,
                        offset: 0,
                        limit: count,
                    })
                    .features
                }
                _ => l
                    .nearest(at, count, None)
                    .into_iter()
                    .filter(|(_, d)| *d <= tol)
                    .map(|(r, _)| r)
                    .collect(),
            };
            hits.push((l.clone(), found));
        }
        let body = super::wms_info::write(&info_format, &hits, p.crs, env);
        let ct = match info_format.as_str() {
            "text/plain" => "text/plain; charset=UTF-8",
            "text/html" => "text/html; charset=UTF-8",
            "application/json" => "application/json",
            _ => "application/vnd.ogc.gml; charset=UTF-8",
        };
        Ok(Reply::ok(ct, body.into_bytes()))
    }

    fn legend(&self, v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
        let run = || -> Result<Reply, WmsException> {
            let name = kvp
                .get(param::LAYER)
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| WmsException::missing(param::LAYER))?;
            let layer = match self.resolve(name, param::LAYER, env)?.pop() {
                Some(Requested::One(l)) => l,
                _ => {
                    return Err(WmsException::new(
                        code::LAYER_NOT_DEFINED,
                        param::LAYER,
                        format!("GetLegendGraphic needs one layer with a style; '{name}' is the group of all layers"),
                    ))
                }
            };
            if let Some(s) = kvp.get(param::STYLE).map(str::trim) {
                if !s.is_empty() && !s.eq_ignore_ascii_case(DEFAULT_STYLE) {
                    return Err(WmsException::new(
                        code::STYLE_NOT_DEFINED,
                        param::STYLE,
                        format!("style '{s}' is not offered; every layer has the style '{DEFAULT_STYLE}'"),
                    ));
                }
            }
            let format = match kvp.get(param::FORMAT).map(str::trim) {
                None | Some("") => ImageFormat::Png,
                Some(f) => ImageFormat::parse(f).ok_or_else(|| {
                    WmsException::new(
                        code::INVALID_FORMAT,
                        param::FORMAT,
                        format!("FORMAT={f}: legends are offered as image/png and image/jpeg"),
                    )
                })?,
            };
            let swatch = |p: &str| -> Result<u32, WmsException> {
                match kvp.get(p).map(str::trim) {
                    None | Some("") => Ok(20),
                    Some(x) => x
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or_else(|| {
                            WmsException::invalid(
                                p,
                                format!("{p}={x}: legend symbols are 1 to 64 pixels"),
                            )
                        }),
                }
            };
            let (w, h) = (swatch(param::WIDTH)?, swatch(param::HEIGHT)?);
            let pm = self
                .renderer
                .legend(&layer, w, h)
                .map_err(|e| WmsException::invalid(param::LAYER, e.to_string()))?;
            let frame = Frame {
                format,
                width: pm.width(),
                height: pm.height(),
                // PNG keeps the alpha; JPEG is composited over white.
                transparent: true,
                bgcolor: Rgba {
                    r: 255,
                    g: 255,
                    b: 255,
                    a: 255,
                },
                exceptions: ExceptionMode::Xml,
            };
            let body = self.encode(pm, &frame).map_err(|m| WmsException {
                code: None,
                locator: None,
                message: m,
            })?;
            Ok(Reply::ok(format.mime(), body))
        };
        run().unwrap_or_else(|e| Reply::exception(v, &e))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_negotiate_to_the_nearest_one_spoken() {
        assert_eq!(Version::negotiate(None), Version::V130);
        assert_eq!(Version::negotiate(Some("1.3.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("2.0.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("1.1.1")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.1.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.0.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("garbage")), Version::V111);
    }

    #[test]
    fn exception_reports_escape_and_use_the_version_dialect() {
        let e = WmsException::new(code::INVALID_CRS, "CRS", "bad <crs> & co");
        let (ct, x) = exception_report(Version::V130, &e);
        assert!(ct.starts_with("text/xml"));
        assert!(x.contains("code=\"InvalidCRS\"") && x.contains("bad &lt;crs&gt; &amp; co"));
        let (ct, x) = exception_report(Version::V111, &e);
        assert!(ct.starts_with("application/vnd.ogc.se_xml"));
        assert!(x.contains("code=\"InvalidSRS\""));
    }
}
