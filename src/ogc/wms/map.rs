//! GetMap: the map drawn by the renderer over the validated parameters
//! and encoded as PNG or JPEG; errors reported the way `EXCEPTIONS` asks
//! (a report, the message in the image, or a blank image).

use super::request::{frame, groups, map_params, pixel_ratio, ExceptionMode, Frame, ImageFormat};
use super::{param, Env, Reply, Version, WmsException};
use crate::ogc::kvp::Kvp;
use crate::render::{map, MapSpec, Renderer};

/// Encodes a drawn map in the frame's format (JPEG composited over
/// BGCOLOR, as it cannot be transparent).
pub(super) fn encode(mut pm: tiny_skia::Pixmap, frame: &Frame) -> Result<Vec<u8>, String> {
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

/// An empty image of the frame's size: transparent, or BGCOLOR.
fn blank(frame: &Frame) -> tiny_skia::Pixmap {
    let mut pm = map::new_pixmap(frame.width, frame.height)
        .unwrap_or_else(|| tiny_skia::Pixmap::new(1, 1).expect("1×1"));
    if !frame.transparent {
        let c = frame.bgcolor;
        pm.fill(tiny_skia::Color::from_rgba8(c.r, c.g, c.b, 255));
    }
    pm
}

/// Answers GetMap. Never fails: errors are exception reports (or images).
pub(super) fn get_map(renderer: &Renderer, v: Version, kvp: &Kvp, env: &Env<'_>) -> Reply {
    let frame = match frame(kvp, env, true) {
        Ok(f) => f,
        Err(e) => return Reply::exception(v, &e),
    };
    let result = map_params(v, kvp, env, &frame).and_then(|p| {
        let spec = MapSpec {
            crs: p.crs,
            bbox: p.bbox,
            width: p.width,
            height: p.height,
            background: (!frame.transparent).then_some(frame.bgcolor),
            pixel_ratio: pixel_ratio(kvp),
        };
        renderer
            .render(&groups(&p.layers), &spec)
            .map_err(|e| WmsException::invalid(param::BBOX, e.to_string()))
    });
    let pm = match result {
        Ok(pm) => pm,
        Err(e) => match frame.exceptions {
            ExceptionMode::Xml => return Reply::exception(v, &e),
            // The client asked for errors as images: it shows them
            // where the map would be (OGC WMS 1.3.0 §7.3.3.11).
            ExceptionMode::Blank => blank(&frame),
            ExceptionMode::InImage => {
                let mut pm = blank(&frame);
                let text = match e.code {
                    Some(c) => format!("{c}: {}", e.message),
                    None => e.message.clone(),
                };
                map::draw_message(&mut pm, &renderer.fonts, &text);
                pm
            }
        },
    };
    match encode(pm, &frame) {
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
