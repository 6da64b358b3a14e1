//! GetLegendGraphic: the legend of one layer's style as PNG or JPEG.

use super::map::encode;
use super::request::{resolve, ExceptionMode, Frame, ImageFormat, Requested};
use super::{code, param, Env, Reply, Version, WmsException, DEFAULT_STYLE};
use crate::ogc::kvp::Kvp;
use crate::render::style::Rgba;
use crate::render::Renderer;

/// Answers GetLegendGraphic. Never fails: errors are exception reports.
pub(super) fn legend(renderer: &Renderer, v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
    let run = || -> Result<Reply, WmsException> {
        let name = kvp
            .get(param::LAYER)
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(|| WmsException::missing(param::LAYER))?;
        let layer = match resolve(name, param::LAYER, env)?.pop() {
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
                    format!(
                        "style '{s}' is not offered; every layer has the style '{DEFAULT_STYLE}'"
                    ),
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
        let pm = renderer
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
        let body = encode(pm, &frame).map_err(|m| WmsException {
            code: None,
            locator: None,
            message: m,
        })?;
        Ok(Reply::ok(format.mime(), body))
    };
    run().unwrap_or_else(|e| Reply::exception(v, &e))
}
