//! The WMS service: the renderer every map is drawn with, a cache of
//! capabilities documents (per catalog version, service URL and WMS
//! version), and the dispatch of a request to its operation.

use super::{caps, info, legend, map};
use super::{code, param, Env, Reply, Version, WmsException, MAX_QUERY_BYTES};
use crate::ogc::kvp::Kvp;
use crate::render::Renderer;
use std::sync::{Arc, Mutex};

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
        // GetMap and GetFeatureInfo must name their version (WMS 1.3.0
        // §7.3.2, which the ETS checks); a 1.1 client that omits it is
        // still known by its SRS (WMS-C tile clients do that).
        let versionless = kvp
            .get_any(&[param::VERSION, param::WMTVER])
            .is_none_or(|v| v.trim().is_empty());
        if versionless
            && version == Version::V130
            && matches!(
                r.as_str(),
                "getmap" | "map" | "getfeatureinfo" | "feature_info"
            )
        {
            return Reply::exception(version, &WmsException::missing(param::VERSION));
        }
        match r.as_str() {
            "getcapabilities" | "capabilities" => match update_sequence(kvp, env) {
                Ok(()) => self.capabilities(version, env),
                Err(e) => Reply::exception(version, &e),
            },
            "getmap" | "map" => map::get_map(&self.renderer, version, kvp, env),
            "getfeatureinfo" | "feature_info" => info::get_feature_info(version, kvp, env),
            "getlegendgraphic" => legend::legend(&self.renderer, version, kvp, env),
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
                let d = Arc::new(caps::document(v, env, &self.renderer));
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
}

/// UPDATESEQUENCE of a GetCapabilities (WMS 1.3.0 §7.2.3.5, Table 4):
/// none or lower than the advertised `updateSequence` (the catalog
/// version) → the document; equal → `CurrentUpdateSequence`; higher, or
/// not a number this server could have issued → `InvalidUpdateSequence`.
fn update_sequence(kvp: &Kvp, env: &Env<'_>) -> Result<(), WmsException> {
    let Some(asked) = kvp
        .get(param::UPDATESEQUENCE)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(());
    };
    let current = env.catalog.version;
    match asked.parse::<i128>() {
        Ok(n) if n < i128::from(current) => Ok(()),
        Ok(n) if n == i128::from(current) => Err(WmsException::new(
            code::CURRENT_UPDATE_SEQUENCE,
            param::UPDATESEQUENCE,
            format!("UPDATESEQUENCE={asked} is the current update sequence: the capabilities have not changed"),
        )),
        _ => Err(WmsException::new(
            code::INVALID_UPDATE_SEQUENCE,
            param::UPDATESEQUENCE,
            format!("UPDATESEQUENCE={asked} is greater than the current update sequence {current}, or not one this server issued"),
        )),
    }
}
