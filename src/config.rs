//! Configuration: `geoplan.toml` with `${ENV}` substitution, defaults for
//! every limit, and `DATABASE_URL` honoured. Parsing only: no IO beyond
//! reading the file it is given.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors reading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The TOML is invalid.
    #[error("invalid configuration {0}: {1}")]
    Parse(PathBuf, String),
    /// `${NAME}` names an unset variable.
    #[error("configuration uses ${{{0}}}, which is not set")]
    MissingEnv(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Public base URL used in links (no trailing slash); defaults to
    /// `http://{listen}`.
    pub public_url: Option<String>,
    /// Where the data comes from.
    pub store: StoreConfig,
    /// Per-layer publication settings, keyed by layer id.
    pub layers: BTreeMap<String, LayerConfig>,
    /// Request limits.
    pub limits: Limits,
    /// Vector tiles.
    pub tiles: TilesConfig,
    /// The map page, styles and fonts.
    pub web: WebConfig,
    /// OGC services (WMS, WFS, OGC API – Features).
    pub ogc: OgcConfig,
    /// Planning answers.
    pub planning: PlanningConfig,
}

/// Planning answers: what counts as an overlap, and how large a site may be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanningConfig {
    /// Overlap pieces thinner than this (metres, mean width) are slivers of
    /// digitising, not overlaps.
    pub sliver_tolerance_m: f64,
    /// Most vertices in a proposed site.
    pub max_site_vertices: usize,
    /// Largest proposed site, hectares (answers and checks over larger
    /// areas are statistics, not site questions).
    pub max_site_area_ha: f64,
    /// A compliance check fails a site closer than this to a heritage
    /// place (metres).
    pub heritage_buffer_m: f64,
}

impl Default for PlanningConfig {
    fn default() -> Self {
        PlanningConfig {
            sliver_tolerance_m: 0.5,
            max_site_vertices: 10_000,
            max_site_area_ha: 5_000.0,
            heritage_buffer_m: 100.0,
        }
    }
}

/// OGC service metadata and editing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OgcConfig {
    /// Service title in capabilities documents and the landing page.
    pub title: String,
    /// Service abstract.
    pub abstract_text: String,
    /// Namespace prefix of WFS feature type names (`geoplan:parcels`).
    pub prefix: String,
    /// Namespace URI of WFS feature types.
    pub namespace_uri: String,
    /// WFS `CountDefault` and the page size when a GetFeature names none.
    pub wfs_count_default: usize,
    /// Layers that WFS-T may edit (empty: none). Reading stays open to
    /// all; writing needs a user or an API key below.
    pub editable: Vec<String>,
    /// Users allowed to edit (HTTP Basic): name → Argon2id hash of the
    /// password as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), never
    /// the password itself. `geoplan hash-password` makes one.
    pub users: BTreeMap<String, String>,
    /// API keys allowed to edit (`Authorization: Bearer <key>`): a name
    /// for logs → `sha256:<64 hex digits>` of the key, never the key.
    /// `geoplan hash-password --new-api-key` makes a key and its hash.
    pub api_keys: BTreeMap<String, String>,
    /// The role of each user or API key name above: `officer` (sees
    /// sensitive fields), `editor` (also writes) or `admin` (writes every
    /// editable layer, reads the audit log). A name not listed is an
    /// editor, as every configured user was before roles.
    pub roles: BTreeMap<String, String>,
    /// The layers an editor may write, by user or key name; an editor not
    /// listed writes every layer in `editable`.
    pub grants: BTreeMap<String, Vec<String>>,
}

impl Default for OgcConfig {
    fn default() -> Self {
        OgcConfig {
            title: "geoplan – Đà Nẵng planning data".into(),
            abstract_text: "Cadastral parcels, zoning plans, investment projects and base layers of Đà Nẵng city (incl. the former Quảng Nam province).".into(),
            prefix: "geoplan".into(),
            namespace_uri: "https://geoplan.danang.gov.vn/ns".into(),
            wfs_count_default: 1000,
            editable: Vec::new(),
            users: BTreeMap::new(),
            api_keys: BTreeMap::new(),
            roles: BTreeMap::new(),
            grants: BTreeMap::new(),
        }
    }
}

/// Where the map page, the styles and the label fonts come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// The map page (`index.html`, `static/`, and MapLibre GL JS in
    /// `node_modules/` as `npm ci` installs it).
    pub dir: PathBuf,
    /// MapLibre styles served at `/styles/{name}.json`.
    pub styles_dir: PathBuf,
    /// TrueType fonts for label glyphs (`/fonts/{stack}/{range}.pbf`).
    pub fonts_dir: PathBuf,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            dir: PathBuf::from("web"),
            styles_dir: PathBuf::from("styles"),
            fonts_dir: PathBuf::from("/usr/share/fonts/truetype/dejavu"),
        }
    }
}

/// Vector tile settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TilesConfig {
    /// Buffer around each tile, in tile units of a 4096 extent.
    pub buffer: u32,
    /// Highest zoom served.
    pub max_zoom: u8,
    /// Zooms below this use geometry generalised at load; from it on, the
    /// full geometry.
    pub detail_zoom: u8,
    /// Lowest zoom of the `parcels` layer unless its own `minzoom` is set.
    /// From it up to `parcels_detail_zoom` the layer is the current
    /// land-use map (bản đồ hiện trạng sử dụng đất): parcels merged by
    /// `parcels_merge_by`, what a planner reads at ward and commune scale.
    pub parcels_minzoom: u8,
    /// Attributes of the `parcels` layer in tiles unless its own
    /// `tile_attributes` are set: what the map labels need ("number / area
    /// / code"); the rest is one click away in the feature API.
    pub parcels_attributes: Vec<String>,
    /// Detail zoom of the `parcels` layer unless its own is set: below it,
    /// parcels are merged by `parcels_merge_by`, which keeps the densest
    /// tile of a million parcels under 500 KB at every merged zoom.
    pub parcels_detail_zoom: u8,
    /// `merge_by` of the `parcels` layer unless its own is set.
    pub parcels_merge_by: Vec<String>,
    /// In-memory tile cache, bytes (0 turns it off).
    pub cache_bytes: u64,
    /// `Cache-Control: max-age` of tiles, seconds. 0 makes browsers
    /// revalidate with the ETag every time, so edits show at once.
    pub max_age: u32,
    /// Optional disk cache of gzipped tiles (e.g. `tiles/cache`), emptied
    /// at start and kept coherent like the memory cache.
    pub disk_cache: Option<PathBuf>,
    /// PMTiles archives served as tile sources, by name:
    /// `/tiles/{name}/{z}/{x}/{y}.mvt` and `/tiles/{name}.json`.
    pub archives: BTreeMap<String, PathBuf>,
}

impl Default for TilesConfig {
    fn default() -> Self {
        TilesConfig {
            buffer: 64,
            max_zoom: 22,
            detail_zoom: 14,
            parcels_minzoom: 11,
            parcels_attributes: [
                "commune_code",
                "sheet_number",
                "parcel_number",
                "legal_area",
                "land_use_code",
            ]
            .map(String::from)
            .to_vec(),
            parcels_detail_zoom: 15,
            parcels_merge_by: vec!["land_use_code".into()],
            cache_bytes: 256 * 1024 * 1024,
            max_age: 0,
            disk_cache: None,
            archives: BTreeMap::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            store: StoreConfig::default(),
            layers: BTreeMap::new(),
            limits: Limits::default(),
            tiles: TilesConfig::default(),
            web: WebConfig::default(),
            ogc: OgcConfig::default(),
            planning: PlanningConfig::default(),
        }
    }
}

/// The store: a PostGIS URL, or else a GeoPackage file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// PostGIS connection URL; when set, PostGIS is the store.
    pub database_url: Option<String>,
    /// GeoPackage used when no database URL is set.
    pub gpkg: PathBuf,
    /// How long to wait for PostgreSQL, seconds: at start (past it, or at
    /// once when the connection is refused, `serve` exits naming the
    /// database), and for a connection later (a write while the database
    /// is away is answered 503 with Retry-After after it).
    pub connect_timeout_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: None,
            gpkg: PathBuf::from("data/sample.gpkg"),
            connect_timeout_secs: 10,
        }
    }
}

/// How one layer is published.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LayerConfig {
    /// Title shown to users (may be Vietnamese).
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Attributes to publish; all when absent.
    pub attributes: Option<Vec<String>>,
    /// Attributes carried in vector tiles; `attributes` when absent.
    pub tile_attributes: Option<Vec<String>>,
    /// Zooms below this use geometry generalised at load (default
    /// `tiles.detail_zoom`).
    pub detail_zoom: Option<u8>,
    /// Below the detail zoom, merge polygons sharing these attributes into
    /// multipolygons (per quarter tile); they then carry only these.
    pub merge_by: Option<Vec<String>>,
    /// Minimum zoom at which tiles show the layer.
    pub minzoom: Option<u8>,
    /// Maximum zoom at which tiles show the layer.
    pub maxzoom: Option<u8>,
    /// False hides the layer.
    pub publish: Option<bool>,
    /// Fields only officers and above see (personal or sensitive data);
    /// for `parcels` `["certificate_number"]` when absent. Never in tiles.
    pub sensitive: Option<Vec<String>>,
}

/// Limits on requests; each is named in the error that enforces it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Default page size of feature queries.
    pub default_limit: usize,
    /// Maximum page size of feature queries.
    pub max_limit: usize,
    /// Maximum filter nesting depth.
    pub max_filter_depth: usize,
    /// Maximum filter nodes.
    pub max_filter_nodes: usize,
    /// Maximum IN-list length.
    pub max_in_list: usize,
    /// Maximum length of a filter text, in bytes.
    pub max_filter_bytes: usize,
    /// Maximum request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest `POST /import` upload, in bytes (written to disk as it
    /// arrives, never held in memory).
    pub max_upload_bytes: usize,
    /// Request timeout, seconds.
    pub request_timeout_secs: u64,
    /// Time a client has to send a request's headers, seconds (from the
    /// connection, or the end of the previous response); past it the
    /// connection is closed. An idle or slowloris client holds nothing.
    pub header_read_timeout_secs: u64,
    /// Time a client has to send a request's body, seconds, from when its
    /// headers arrived (all routes but `/import`, whose upload has the
    /// download timeout); past it the request is answered 408 and the
    /// connection closed. A body that trickles in a byte at a time
    /// (slowloris) holds nothing for longer.
    pub body_read_timeout_secs: u64,
    /// WFS and OWS requests answered at once (GetFeature streams up to a
    /// million features); one more waits up to `heavy_wait_ms`, then is a
    /// 503 with Retry-After.
    pub max_concurrent_wfs: usize,
    /// WMS requests answered at once (each renders a map on the CPU).
    pub max_concurrent_wms: usize,
    /// Planning sheets and check reports (PDF) made at once.
    pub max_concurrent_pdf: usize,
    /// Imports read and written at once.
    pub max_concurrent_imports: usize,
    /// How long a heavy request past its `max_concurrent_*` cap waits for
    /// one of the running ones to end, milliseconds, before its 503.
    pub heavy_wait_ms: u64,
    /// Timeout of the routes that may answer a file (features and OGC API
    /// items with `f=gpkg…`, WFS, `/sites`, `/import`), seconds: writing a
    /// province's layer as a GeoPackage takes minutes, not seconds.
    pub download_timeout_secs: u64,
    /// Largest WMS image width, pixels.
    pub max_image_width: u32,
    /// Largest WMS image height, pixels.
    pub max_image_height: u32,
    /// Most features one WFS GetFeature may return (COUNT/MAXFEATURES);
    /// a request without COUNT gets `ogc.wfs_count_default`.
    pub max_wfs_count: usize,
    /// Most vertices in a geometry given inside a filter.
    pub max_filter_vertices: usize,
    /// Most features one `POST /import` reads from its files (a zip of a
    /// few MB can unpack into far more); `geoplan import` has no limit.
    pub max_import_features: usize,
    /// Most features one file download (`f=gpkg|shp|kml|csv|xlsx` of
    /// `/layers/{id}/features`, OGC API items, `/sites`) may hold; a file
    /// download without `limit` holds every match up to it.
    pub max_export_features: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_limit: 100,
            max_limit: 10_000,
            max_filter_depth: 16,
            max_filter_nodes: 256,
            max_in_list: 1000,
            max_filter_bytes: 16 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
            max_upload_bytes: 1024 * 1024 * 1024,
            request_timeout_secs: 60,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 60,
            max_concurrent_wfs: 32,
            max_concurrent_wms: 16,
            max_concurrent_pdf: 4,
            max_concurrent_imports: 2,
            heavy_wait_ms: 3000,
            download_timeout_secs: 900,
            max_image_width: 4096,
            max_image_height: 4096,
            max_wfs_count: 1_000_000,
            max_filter_vertices: 10_000,
            max_import_features: 500_000,
            max_export_features: 1_000_000,
        }
    }
}

impl Config {
    /// Reads a file, substituting `${NAME}` from the environment, then
    /// applies `DATABASE_URL` when the file sets no database.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
        let mut c = Config::parse(&text, |k| std::env::var(k).ok()).map_err(|e| match e {
            ConfigError::Parse(_, m) => ConfigError::Parse(path.to_owned(), m),
            e => e,
        })?;
        c.apply_env();
        Ok(c)
    }

    /// Parses TOML text with `${NAME}` looked up through `env`.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let text = substitute(text, env)?;
        toml::from_str(&text)
            .map_err(|e| ConfigError::Parse(PathBuf::from("<text>"), e.to_string()))
    }

    /// `DATABASE_URL` from the environment when no database is configured.
    pub fn apply_env(&mut self) {
        if self.store.database_url.is_none() {
            if let Ok(u) = std::env::var("DATABASE_URL") {
                if !u.is_empty() {
                    self.store.database_url = Some(u);
                }
            }
        }
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = match &self.public_url {
            Some(u) => u.clone(),
            // A wildcard listen address is no address a browser can use.
            None => format!(
                "http://{}",
                self.listen
                    .replace("0.0.0.0:", "localhost:")
                    .replace("[::]:", "localhost:")
            ),
        };
        url.trim_end_matches('/').to_owned()
    }
}

/// Replaces `${NAME}` with the variable's value; `$${` escapes a literal.
fn substitute(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i]);
            out.push('{');
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(&env(name).ok_or_else(|| ConfigError::MissingEnv(name.to_owned()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planning_section_has_defaults_and_reads_its_keys() {
        let d = Config::parse("", |_| None).unwrap();
        assert_eq!(d.planning.sliver_tolerance_m, 0.5);
        let c = Config::parse(
            "[planning]\nsliver_tolerance_m = 0.2\nmax_site_vertices = 500\n",
            |_| None,
        )
        .unwrap();
        assert_eq!(
            (c.planning.sliver_tolerance_m, c.planning.max_site_vertices),
            (0.2, 500)
        );
        assert!(Config::parse("[planning]\nsliver = 1\n", |_| None).is_err());
    }

    #[test]
    fn env_variables_are_substituted_and_missing_ones_named() {
        let text = "listen = \"0.0.0.0:${PORT}\"\n[store]\ndatabase_url = \"${DB}\"\n";
        let c = Config::parse(text, |k| match k {
            "PORT" => Some("9000".into()),
            "DB" => Some("postgres://x/y".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.store.database_url.as_deref(), Some("postgres://x/y"));
        let e = Config::parse(text, |_| None).unwrap_err();
        assert!(e.to_string().contains("PORT"));
    }

    #[test]
    fn layers_and_limits_parse_and_typos_are_refused() {
        let c = Config::parse(
            "[layers.parcels]\ntitle = \"Thửa đất\"\nminzoom = 14\n[limits]\nmax_limit = 500\n",
            |_| None,
        )
        .unwrap();
        assert_eq!(c.layers["parcels"].title.as_deref(), Some("Thửa đất"));
        assert_eq!(c.limits.max_limit, 500);
        assert_eq!(c.limits.default_limit, 100);
        assert!(Config::parse("[limits]\nmax_limti = 5\n", |_| None).is_err());
    }
}
