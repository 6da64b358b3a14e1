//! Shared server state and start-up loading of the engine from the store.
//!
//! The router's state is [`AppState`], made of sub-states by what the
//! handlers use: [`DataState`] (engine, store, configuration — what every
//! query reads), [`TileState`] (the tile caches and archives), [`WebState`]
//! (styles, glyphs, the WMS and the print kit) and the editors
//! ([`Auth`]). A handler extracts only the parts it needs, e.g.
//! `State<DataState>` and `State<TileState>` (axum [`FromRef`]). Edits and
//! change events reaching the engine are in [`super::commit`].

use super::auth::Auth;
use crate::config::Config;
use crate::engine::{Engine, Layer, LayerMeta};
use crate::ogc::wms::service::Wms;
use crate::render::glyphs::Glyphs;
use crate::report::sheet::PrintKit;
use crate::store::archive::PmTilesSource;
use crate::store::tiledisk::DiskTiles;
use crate::store::{Store, StoreError};
use crate::tiles::cache::TileCache;
use axum::extract::FromRef;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// What every handler can reach: one of each sub-state.
#[derive(Clone)]
pub struct AppState {
    /// The engine, the store and the configuration.
    pub data: DataState,
    /// Tile caches and archives.
    pub tiles: TileState,
    /// Styles, glyphs, the WMS and the print kit.
    pub web: WebState,
    /// Who may edit: the users and API keys of `[ogc]`, hashes parsed.
    pub auth: Arc<Auth>,
    /// Held while a change reaches the engine (a commit, from its store
    /// write to its engine update, or a PostGIS change event), so that two
    /// never interleave their re-reads and engine updates.
    pub(super) edits: Arc<tokio::sync::Mutex<()>>,
    /// Held while a project transition is checked and written, so that two
    /// transitions of the registry never start from the same stage.
    pub(super) registry: Arc<tokio::sync::Mutex<()>>,
}

/// The data every query reads: the engine (current snapshot inside), the
/// store behind it and the configuration.
#[derive(Clone)]
pub struct DataState {
    /// The engine (current snapshot inside).
    pub engine: Arc<Engine>,
    /// The store.
    pub store: Arc<Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Set once the first load finished.
    pub loaded: Arc<AtomicBool>,
    /// The audit log's writer (entries of concurrent requests stored
    /// together).
    pub audit: Arc<super::audit::AuditLog>,
}

/// Published PMTiles archives by name.
pub type Archives = HashMap<String, Arc<PmTilesSource>>;

/// Vector tiles besides the engine: the memory cache, the archives served
/// as tile sources and the optional disk cache.
#[derive(Clone)]
pub struct TileState {
    /// The vector tile cache.
    pub cache: Arc<TileCache>,
    /// PMTiles archives served as tile sources, by name (opened by
    /// [`AppState::load_all`]).
    pub archives: Arc<arc_swap::ArcSwap<Archives>>,
    /// The optional disk tile cache (opened, and emptied, by
    /// [`AppState::load_all`]).
    pub disk: Arc<arc_swap::ArcSwapOption<DiskTiles>>,
}

/// What maps, the map page and printed documents are drawn with.
#[derive(Clone)]
pub struct WebState {
    /// MapLibre styles by name, as read at start-up.
    pub styles: Arc<HashMap<String, serde_json::Value>>,
    /// Label glyphs.
    pub glyphs: Arc<Glyphs>,
    /// The WMS (renderer and capabilities cache), built on first use by
    /// [`super::wms::service`].
    pub wms: Arc<OnceCell<Arc<Wms>>>,
    /// What printed documents are drawn with (built on first use).
    pub print_kit: Arc<OnceCell<Arc<PrintKit>>>,
}

impl FromRef<AppState> for DataState {
    fn from_ref(s: &AppState) -> DataState {
        s.data.clone()
    }
}

impl FromRef<AppState> for TileState {
    fn from_ref(s: &AppState) -> TileState {
        s.tiles.clone()
    }
}

impl FromRef<AppState> for WebState {
    fn from_ref(s: &AppState) -> WebState {
        s.web.clone()
    }
}

impl FromRef<AppState> for Arc<Auth> {
    fn from_ref(s: &AppState) -> Arc<Auth> {
        s.auth.clone()
    }
}

impl AppState {
    /// State over a store, with an empty engine.
    pub fn new(store: Store, config: Config) -> AppState {
        let tiles = TileState {
            cache: Arc::new(TileCache::new(
                config.tiles.cache_bytes,
                f64::from(config.tiles.buffer) / 4096.0,
            )),
            archives: Arc::default(),
            disk: Arc::default(),
        };
        let web = WebState {
            styles: Arc::new(super::web::load_styles(&config.web.styles_dir)),
            glyphs: Arc::new(Glyphs::load(&config.web.fonts_dir)),
            wms: Arc::default(),
            print_kit: Arc::default(),
        };
        let auth = Auth::from_config(&config.ogc).unwrap_or_else(|e| {
            // `serve` checks this before it gets here; elsewhere, refuse
            // every editor rather than start with a half-read list.
            tracing::error!("editing is disabled: {e}");
            Auth::default()
        });
        AppState {
            data: {
                let store = Arc::new(store);
                DataState {
                    engine: Arc::new(Engine::new()),
                    audit: Arc::new(super::audit::AuditLog::new(store.clone())),
                    store,
                    config: Arc::new(config),
                    loaded: Arc::new(AtomicBool::new(false)),
                }
            },
            tiles,
            web,
            auth: Arc::new(auth),
            edits: Arc::default(),
            registry: Arc::default(),
        }
    }

    /// Loads every published layer of the store and swaps them in at once,
    /// then opens the tile archives and the disk tile cache.
    pub async fn load_all(&self) -> Result<(), StoreError> {
        let d = &self.data;
        let mut layers = Vec::new();
        for id in d.store.layer_names().await? {
            if !d.published(&id) {
                continue;
            }
            let t = std::time::Instant::now();
            let layer = d.build_layer(&id).await?;
            tracing::info!(
                layer = %id,
                features = layer.len(),
                ms = t.elapsed().as_millis() as u64,
                "loaded"
            );
            layers.push(layer);
        }
        d.engine.publish_all(layers);
        self.tiles.open(&d.config).await?;
        // The readers' buffers are gone: give their pages back to the OS.
        crate::model::release_free_memory();
        d.loaded.store(true, Ordering::Release);
        Ok(())
    }
}

impl DataState {
    /// True once layers are loaded.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    fn meta(&self, id: &str) -> LayerMeta {
        LayerMeta::from_config(id, &self.config)
    }

    /// True unless `[layers.{id}] publish = false`.
    pub fn published(&self, id: &str) -> bool {
        self.config
            .layers
            .get(id)
            .and_then(|c| c.publish)
            .unwrap_or(true)
    }

    /// True when WFS-T may edit layer `id`: it is listed in `ogc.editable`
    /// and published.
    pub fn editable(&self, id: &str) -> bool {
        self.config.ogc.editable.iter().any(|l| l == id) && self.published(id)
    }

    /// Reads and indexes one layer (CPU work on the blocking pool).
    pub async fn build_layer(&self, id: &str) -> Result<Layer, StoreError> {
        let data = self.store.read_layer(id).await?;
        let meta = self.meta(id);
        let parcels = id == crate::planning::parcels::LAYER;
        crate::blocking::spawn(move || {
            let layer = Layer::new(data, meta)?;
            if parcels {
                crate::planning::parcels::prepare(&layer);
            }
            Ok(layer)
        })
        .await?
        .map_err(|e: crate::engine::EngineError| StoreError::Invalid(e.to_string()))
    }
}

impl TileState {
    /// Opens the archives and the disk cache the configuration names.
    async fn open(&self, config: &Config) -> Result<(), StoreError> {
        let mut archives = HashMap::new();
        for (name, path) in &config.tiles.archives {
            let a = PmTilesSource::open(path).await?;
            tracing::info!(archive = %name, path = %path.display(), "serving archive");
            archives.insert(name.clone(), Arc::new(a));
        }
        self.archives.store(Arc::new(archives));
        if let Some(dir) = &config.tiles.disk_cache {
            let dir = dir.clone();
            let d = crate::blocking::spawn(move || DiskTiles::open(&dir)).await??;
            self.disk.store(Some(Arc::new(d)));
        }
        Ok(())
    }
}
