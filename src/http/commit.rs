//! Changes reaching the engine: the edit commit path (store first, then
//! engine and tiles, before the caller hears back) and the task that keeps
//! the engine in step with PostGIS change events. Both re-read what the
//! store holds and drop the tiles the change touches (memory and disk), one
//! change at a time.

use super::state::{AppState, TileState};
use crate::model::{LayerEdit, WriteResult};
use crate::store::history::Transition;
use crate::store::{ChangeEvent, Store, StoreError};
use crate::tiles::invalidate;
use geo_types::Rect;

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

    /// True when the database cannot be reached for now: answer 503 with
    /// `Retry-After` (see [`StoreError::is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CommitError::Store(e) if e.is_unavailable())
    }
}

impl AppState {
    /// Writes edits to the store as one transaction, then shows them in
    /// the engine and drops the tiles they touch (memory and disk) before
    /// returning: the caller reads its own writes. The engine gets what the
    /// store holds, re-read by fid as for a PostGIS change event; the
    /// `NOTIFY` PostGIS sends afterwards re-reads the same rows, finds them
    /// shown already ([`crate::engine::Layer::holds`]) and stops there.
    /// Commits and change events are applied one at a time.
    ///
    /// Every layer must be [`super::DataState::editable`], else nothing is
    /// written. A store error means nothing was written. Once the store has
    /// committed, the result is `Ok` even if the engine update fails (it
    /// is logged, and the layer reloaded whole). The work runs to its end
    /// even when the returned future is dropped.
    pub async fn commit(&self, edits: &[LayerEdit]) -> Result<WriteResult, CommitError> {
        self.commit_with_history(edits, &[])
            .await
            .map(|(written, _)| written)
    }

    /// [`AppState::commit`] that also appends project history rows in the
    /// same store transaction as the edits (see
    /// [`Store::write_with_history`]): the edits and every row are written,
    /// or nothing is. Returns the write result and the seqs the store gave
    /// the rows, in order. Everything else is as for `commit`: the
    /// editable check, its own task, one commit at a time, the engine and
    /// tiles brought up to date before it returns.
    pub async fn commit_with_history(
        &self,
        edits: &[LayerEdit],
        history: &[Transition],
    ) -> Result<(WriteResult, Vec<i64>), CommitError> {
        if let Some(e) = edits.iter().find(|e| !self.data.editable(&e.layer)) {
            return Err(CommitError::NotEditable(e.layer.clone()));
        }
        // On a task of its own: a request dropped halfway (client gone,
        // timeout) must not leave a committed edit out of the engine.
        let (state, edits, history) = (self.clone(), edits.to_vec(), history.to_vec());
        tokio::spawn(async move { state.commit_now(&edits, &history).await })
            .await
            // A failed task is the server's fault, not the client's (and
            // its text stays in the log).
            .map_err(|e| {
                tracing::error!("the commit task failed: {e}");
                StoreError::Internal("the commit task failed; see the server log".into())
            })?
    }

    async fn commit_now(
        &self,
        edits: &[LayerEdit],
        history: &[Transition],
    ) -> Result<(WriteResult, Vec<i64>), CommitError> {
        let _one_at_a_time = self.edits.lock().await;
        let store = &self.data.store;
        let t = std::time::Instant::now();
        let (written, seqs) = store.write_with_history(edits, history).await?;
        super::metrics::store_time("write", t);
        tracing::info!(
            inserted = written.total_inserted(),
            updated = written.total_updated(),
            deleted = written.total_deleted(),
            history = seqs.len(),
            "edit committed to {}",
            store.describe()
        );
        super::metrics::edits(
            written.total_inserted(),
            written.total_updated(),
            written.total_deleted(),
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
        Ok((written, seqs))
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
        let d = &self.data;
        match ev {
            ChangeEvent::Features { layer, fids } => {
                if d.engine.snapshot().layer(&layer).is_none() {
                    return Ok(());
                }
                let t = std::time::Instant::now();
                let rows = d.store.read_features(&layer, &fids).await?;
                super::metrics::store_time("read", t);
                let present: std::collections::HashSet<i64> = rows.iter().map(|r| r.fid).collect();
                let deleted: Vec<i64> = fids
                    .iter()
                    .copied()
                    .filter(|f| !present.contains(f))
                    .collect();
                let engine = d.engine.clone();
                let tiles = self.tiles.clone();
                let (max_zoom, buffer) = (
                    d.config.tiles.max_zoom,
                    f64::from(d.config.tiles.buffer) / 4096.0,
                );
                crate::blocking::spawn(move || -> Result<(), StoreError> {
                    // A notice of what the engine shows already (geoplan's
                    // own commit, applied by the commit) changes nothing.
                    let cat = engine.snapshot();
                    let shown = cat.layer(&layer).map(|l| l.holds(&rows, &deleted));
                    if let Some(Ok(true)) = shown {
                        tracing::debug!(layer, "change shown already");
                        return Ok(());
                    }
                    // Where the changed features were, and where they are
                    // now: the tiles over either place are stale.
                    let mut rects = invalidate::envelopes(&cat, &layer, &fids);
                    engine
                        .apply_changes(&layer, rows, &deleted)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    rects.extend(invalidate::envelopes(&engine.snapshot(), &layer, &fids));
                    drop_stale_tiles(&tiles, &layer, &rects, max_zoom, buffer);
                    Ok(())
                })
                .await?
            }
            ChangeEvent::Layer { layer } => {
                if !d.published(&layer) {
                    return Ok(());
                }
                let l = d.build_layer(&layer).await?;
                d.engine.replace_layer(l);
                self.tiles.cache.invalidate_layer(&layer);
                if let Some(disk) = self.tiles.disk.load_full() {
                    crate::blocking::spawn(move || disk.remove_layer(&layer)).await?;
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
        let Store::Postgis(pg) = &*self.data.store else {
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
            while !state.data.is_loaded() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            while let Some(ev) = rx.recv().await {
                // Everything that arrived meanwhile is applied with it:
                // under a burst of writes (other instances, QGIS) one
                // re-read and one snapshot per layer, not one per event.
                let mut batch = vec![ev];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                for ev in coalesce(batch) {
                    tracing::debug!(?ev, "change");
                    if let Err(e) = state.apply(ev).await {
                        tracing::error!("applying a change failed: {e}");
                    }
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

/// Merges change events into one per layer: the fids of a layer's
/// `Features` events together (sorted, once each), or a `Layer` reload
/// when any event asks for one (it re-reads every feature anyway). Each
/// event makes the engine re-read what the store holds now, so merging
/// changes nothing that is shown, only how often the work is done.
fn coalesce(events: Vec<ChangeEvent>) -> Vec<ChangeEvent> {
    let mut by_layer: std::collections::BTreeMap<String, Option<Vec<i64>>> = Default::default();
    for ev in events {
        match ev {
            ChangeEvent::Features { layer, fids } => {
                if let Some(all) = by_layer.entry(layer).or_insert_with(|| Some(Vec::new())) {
                    all.extend(fids);
                }
            }
            ChangeEvent::Layer { layer } => {
                by_layer.insert(layer, None);
            }
        }
    }
    by_layer
        .into_iter()
        .map(|(layer, fids)| match fids {
            Some(mut fids) => {
                fids.sort_unstable();
                fids.dedup();
                ChangeEvent::Features { layer, fids }
            }
            None => ChangeEvent::Layer { layer },
        })
        .collect()
}

/// Drops the tiles of `layer` over some changed places from the memory
/// cache and the disk cache (blocking IO: run it off the runtime).
fn drop_stale_tiles(
    tiles: &TileState,
    layer: &str,
    rects: &[Rect<f64>],
    max_zoom: u8,
    buffer_ratio: f64,
) {
    let n = tiles.cache.invalidate(layer, rects);
    tracing::debug!(layer, dropped = n, "tiles invalidated");
    if let Some(d) = tiles.disk.load_full() {
        for r in rects {
            d.remove_where(layer, |z| {
                (z <= max_zoom).then(|| invalidate::touched(z, r, buffer_ratio))
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(layer: &str, fids: &[i64]) -> ChangeEvent {
        ChangeEvent::Features {
            layer: layer.into(),
            fids: fids.to_vec(),
        }
    }

    #[test]
    fn a_burst_of_changes_is_one_event_per_layer() {
        let merged = coalesce(vec![
            features("parcels", &[7, 3]),
            features("pois", &[1]),
            features("parcels", &[3, 9]),
            features("roads", &[2]),
            ChangeEvent::Layer {
                layer: "roads".into(),
            },
            features("roads", &[4]),
        ]);
        let text = format!("{merged:?}");
        assert_eq!(merged.len(), 3, "{text}");
        assert!(
            matches!(&merged[0], ChangeEvent::Features { layer, fids } if layer == "parcels" && fids == &[3, 7, 9]),
            "{text}"
        );
        assert!(
            matches!(&merged[1], ChangeEvent::Features { layer, fids } if layer == "pois" && fids == &[1]),
            "{text}"
        );
        assert!(
            matches!(&merged[2], ChangeEvent::Layer { layer } if layer == "roads"),
            "{text}"
        );
    }
}
