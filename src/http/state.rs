//! Shared server state, start-up loading of the engine from the store, and
//! the task that keeps the engine in step with PostGIS change events.

use crate::config::Config;
use crate::engine::{Engine, Layer, LayerMeta};
use crate::model::{LayerEdit, WriteResult};
use crate::render::glyphs::Glyphs;
use crate::store::archive::PmTilesSource;
use crate::store::tiledisk::DiskTiles;
use crate::store::{ChangeEvent, Store, StoreError};
use crate::tiles::cache::TileCache;
use crate::tiles::TileCoord;
use geo_types::Rect;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The engine (current snapshot inside).
    pub engine: Arc<Engine>,
    /// The store.
    pub store: Arc<Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Set once the first load finished.
    pub loaded: Arc<AtomicBool>,
    /// The vector tile cache.
    pub tiles: Arc<TileCache>,
    /// MapLibre styles by name, as read at start-up.
    pub styles: Arc<HashMap<String, serde_json::Value>>,
    /// Label glyphs.
    pub glyphs: Arc<Glyphs>,
    /// PMTiles archives served as tile sources, by name (opened by
    /// [`AppState::load_all`]).
    pub archives: Arc<arc_swap::ArcSwap<HashMap<String, Arc<PmTilesSource>>>>,
    /// The optional disk tile cache (opened, and emptied, by
    /// [`AppState::load_all`]).
    pub disk: Arc<arc_swap::ArcSwapOption<DiskTiles>>,
    /// Who may edit: the users and API keys of `[ogc]`, hashes parsed.
    pub auth: Arc<super::auth::Auth>,
    /// What printed documents are drawn with (built on first use).
    pub print_kit: Arc<tokio::sync::OnceCell<Arc<crate::report::sheet::PrintKit>>>,
    /// Held while a change reaches the engine (a commit, from its store
    /// write to its engine update, or a PostGIS change event), so that two
    /// never interleave their re-reads and engine updates.
    edits: Arc<tokio::sync::Mutex<()>>,
}

/// Why [`AppState::commit`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The layer is not listed in `ogc.editable` (or not published).
    #[error("layer {0} is not editable")]
    NotEditable(String),
    /// The store refused the write; see [`StoreError::is_client_error`].
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommitError {
    /// True when the request caused the error (answer 4xx and show the
    /// message); false for a store failure (answer 5xx, log the message).
    pub fn is_client_error(&self) -> bool {
        match self {
            CommitError::NotEditable(_) => true,
            CommitError::Store(e) => e.is_client_error(),
        }
    }
}

impl AppState {
    /// State over a store, with an empty engine.
    pub fn new(store: Store, config: Config) -> AppState {
        let tiles = Arc::new(TileCache::new(
            config.tiles.cache_bytes,
            f64::from(config.tiles.buffer) / 4096.0,
        ));
        let styles = Arc::new(super::web::load_styles(&config.web.styles_dir));
        let glyphs = Arc::new(Glyphs::load(&config.web.fonts_dir));
        let auth = super::auth::Auth::from_config(&config.ogc).unwrap_or_else(|e| {
            // `serve` checks this before it gets here; elsewhere, refuse
            // every editor rather than start with a half-read list.
            tracing::error!("editing is disabled: {e}");
            super::auth::Auth::default()
        });
        AppState {
            auth: Arc::new(auth),
            print_kit: Arc::default(),
            edits: Arc::default(),
            styles,
            glyphs,
            archives: Arc::default(),
            disk: Arc::default(),
            engine: Arc::new(Engine::new()),
            store: Arc::new(store),
            config: Arc::new(config),
            loaded: Arc::new(AtomicBool::new(false)),
            tiles,
        }
    }

    /// True once layers are loaded.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    fn meta(&self, id: &str) -> LayerMeta {
        LayerMeta::from_config(id, &self.config)
    }

    fn published(&self, id: &str) -> bool {
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

    /// Writes edits to the store as one transaction, then shows them in
    /// the engine and drops the tiles they touch (memory and disk) before
    /// returning: the caller reads its own writes. The engine gets what the
    /// store holds, re-read by fid as for a PostGIS change event; the
    /// `NOTIFY` PostGIS sends afterwards re-reads the same rows, which
    /// changes nothing. Commits and change events are applied one at a
    /// time.
    ///
    /// Every layer must be [`AppState::editable`], else nothing is written.
    /// A store error means nothing was written. Once the store has
    /// committed, the result is `Ok` even if the engine update fails (it
    /// is logged, and the layer reloaded whole). The work runs to its end
    /// even when the returned future is dropped.
    pub async fn commit(&self, edits: &[LayerEdit]) -> Result<WriteResult, CommitError> {
        if let Some(e) = edits.iter().find(|e| !self.editable(&e.layer)) {
            return Err(CommitError::NotEditable(e.layer.clone()));
        }
        // On a task of its own: a request dropped halfway (client gone,
        // timeout) must not leave a committed edit out of the engine.
        let (state, edits) = (self.clone(), edits.to_vec());
        tokio::spawn(async move { state.commit_now(&edits).await })
            .await
            // A failed task is the server's fault, not the client's (and
            // its text stays in the log).
            .map_err(|e| {
                tracing::error!("the commit task failed: {e}");
                StoreError::Internal("the commit task failed; see the server log".into())
            })?
    }

    async fn commit_now(&self, edits: &[LayerEdit]) -> Result<WriteResult, CommitError> {
        let _one_at_a_time = self.edits.lock().await;
        let written = self.store.write(edits).await?;
        tracing::info!(
            inserted = written.total_inserted(),
            updated = written.total_updated(),
            deleted = written.total_deleted(),
            "edit committed to {}",
            self.store.describe()
        );
        let mut by_layer: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
        for l in &written.layers {
            by_layer.entry(&l.layer).or_default().extend(l.fids());
        }
        for (layer, mut fids) in by_layer {
            fids.sort_unstable();
            fids.dedup();
            let ev = ChangeEvent::Features {
                layer: layer.to_owned(),
                fids,
            };
            if let Err(e) = self.apply_now(ev).await {
                tracing::error!(
                    layer,
                    "a committed edit did not reach the engine: {e}; reloading the layer"
                );
                let ev = ChangeEvent::Layer {
                    layer: layer.to_owned(),
                };
                if let Err(e) = self.apply_now(ev).await {
                    tracing::error!(layer, "reloading after an edit failed: {e}");
                }
            }
        }
        Ok(written)
    }

    /// Reads and indexes one layer (CPU work on the blocking pool).
    pub async fn build_layer(&self, id: &str) -> Result<Layer, StoreError> {
        let data = self.store.read_layer(id).await?;
        let meta = self.meta(id);
        tokio::task::spawn_blocking(move || Layer::new(data, meta))
            .await
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// Loads every published layer of the store and swaps them in at once.
    pub async fn load_all(&self) -> Result<(), StoreError> {
        let mut layers = Vec::new();
        for id in self.store.layer_names().await? {
            if !self.published(&id) {
                continue;
            }
            let t = std::time::Instant::now();
            let layer = self.build_layer(&id).await?;
            tracing::info!(
                layer = %id,
                features = layer.len(),
                ms = t.elapsed().as_millis() as u64,
                "loaded"
            );
            layers.push(layer);
        }
        self.engine.publish_all(layers);
        let mut archives = HashMap::new();
        for (name, path) in &self.config.tiles.archives {
            let a = PmTilesSource::open(path).await?;
            tracing::info!(archive = %name, path = %path.display(), "serving archive");
            archives.insert(name.clone(), Arc::new(a));
        }
        self.archives.store(Arc::new(archives));
        if let Some(dir) = &self.config.tiles.disk_cache {
            let dir = dir.clone();
            let d = tokio::task::spawn_blocking(move || DiskTiles::open(&dir))
                .await
                .map_err(|e| StoreError::Invalid(e.to_string()))??;
            self.disk.store(Some(Arc::new(d)));
        }
        // The readers' buffers are gone: give their pages back to the OS.
        crate::model::release_free_memory();
        self.loaded.store(true, Ordering::Release);
        Ok(())
    }

    /// Applies one change event: re-reads only the changed features (or the
    /// whole layer when the store says so) and swaps in a new snapshot.
    ///
    /// Waits for a commit in progress (see [`AppState::commit`]).
    pub async fn apply(&self, ev: ChangeEvent) -> Result<(), StoreError> {
        let _one_at_a_time = self.edits.lock().await;
        self.apply_now(ev).await
    }

    /// [`AppState::apply`] for a caller that holds the edit lock.
    async fn apply_now(&self, ev: ChangeEvent) -> Result<(), StoreError> {
        match ev {
            ChangeEvent::Features { layer, fids } => {
                if self.engine.snapshot().layer(&layer).is_none() {
                    return Ok(());
                }
                let rows = self.store.read_features(&layer, &fids).await?;
                let present: std::collections::HashSet<i64> = rows.iter().map(|r| r.fid).collect();
                let deleted: Vec<i64> = fids
                    .iter()
                    .copied()
                    .filter(|f| !present.contains(f))
                    .collect();
                let engine = self.engine.clone();
                let tiles = self.tiles.clone();
                let disk = self.disk.load_full();
                let (max_zoom, buffer) = (
                    self.config.tiles.max_zoom,
                    f64::from(self.config.tiles.buffer) / 4096.0,
                );
                tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                    // Where the changed features were, and where they are
                    // now: the tiles over either place are stale.
                    let mut rects = envelopes(&engine, &layer, &fids);
                    engine
                        .apply_changes(&layer, rows, &deleted)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    rects.extend(envelopes(&engine, &layer, &fids));
                    let n = tiles.invalidate(&layer, &rects);
                    tracing::debug!(layer, dropped = n, "tiles invalidated");
                    if let Some(d) = disk {
                        for r in &rects {
                            d.remove_where(&layer, |z| {
                                (z <= max_zoom).then(|| {
                                    let pad = crate::engine::generalize::tile_span(z) * buffer;
                                    let grown = Rect::new(
                                        geo_types::Coord {
                                            x: r.min().x - pad,
                                            y: r.min().y - pad,
                                        },
                                        geo_types::Coord {
                                            x: r.max().x + pad,
                                            y: r.max().y + pad,
                                        },
                                    );
                                    TileCoord::range(z, &grown)
                                })
                            });
                        }
                    }
                    Ok(())
                })
                .await
                .map_err(|e| StoreError::Invalid(e.to_string()))?
            }
            ChangeEvent::Layer { layer } => {
                if !self.published(&layer) {
                    return Ok(());
                }
                let l = self.build_layer(&layer).await?;
                self.engine.replace_layer(l);
                self.tiles.invalidate_layer(&layer);
                if let Some(d) = self.disk.load_full() {
                    tokio::task::spawn_blocking(move || d.remove_layer(&layer))
                        .await
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                }
                Ok(())
            }
        }
    }

    /// Follows PostGIS change notifications until the process ends, and
    /// returns once PostgreSQL listens (a change committed after that is
    /// never missed). Call it before [`AppState::load_all`]: changes that
    /// arrive while the layers load wait for the load to finish. Does
    /// nothing for a GeoPackage store.
    pub async fn spawn_change_listener(&self) -> Result<(), StoreError> {
        let Store::Postgis(pg) = &*self.store else {
            return Ok(());
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let pg = pg.clone();
        tokio::spawn(async move {
            if let Err(e) = pg.listen_ready(tx, Some(ready_tx)).await {
                tracing::error!("change listener stopped: {e}");
            }
        });
        let state = self.clone();
        tokio::spawn(async move {
            while !state.is_loaded() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            while let Some(ev) = rx.recv().await {
                tracing::debug!(?ev, "change");
                if let Err(e) = state.apply(ev).await {
                    tracing::error!("applying a change failed: {e}");
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(30), ready)
            .await
            .map_err(|_| {
                StoreError::Postgis("the change listener did not start within 30 s".into())
            })?
            .map_err(|_| {
                StoreError::Postgis("the change listener stopped before it started".into())
            })
    }
}

/// Web Mercator envelopes of some features of a layer, as the engine holds
/// them now (deleted or unknown fids have none).
fn envelopes(engine: &Engine, layer: &str, fids: &[i64]) -> Vec<Rect<f64>> {
    let cat = engine.snapshot();
    let Some(l) = cat.layer(layer) else {
        return Vec::new();
    };
    fids.iter()
        .filter_map(|&f| {
            let r = l.get(f)?;
            l.data(r.part).geometry.bbox(r.row as usize)
        })
        .collect()
}
