//! A published layer in memory: a large immutable base (geometry in Web
//! Mercator, R-tree bulk loaded) plus a small delta of features changed
//! since, so an edit rebuilds only the delta, not the world.

use super::generalize::{Pyramid, Source};
use super::index::SpatialIndex;
use super::EngineError;
use crate::crs::{self, Crs, WEB_MERCATOR};
use crate::model::access::{Access, Role};
use crate::model::{FeatureRow, FieldDef, GeometryType, LayerData, LayerDataBuilder};
use geo_types::{Coord, Rect};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Heap bytes of a layer by what they hold ([`Layer::memory`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerMemory {
    /// Full-detail geometry: coordinates and ring, part and feature offsets.
    pub geometry: usize,
    /// The R-trees over the full geometry.
    pub index: usize,
    /// Fids and attribute columns, and the keyed lookups' row orders.
    pub attributes: usize,
    /// The generalised tile levels (their geometry and R-trees).
    pub pyramid: usize,
}

/// Descriptive metadata of a published layer (from configuration).
#[derive(Debug, Clone)]
pub struct LayerMeta {
    /// Human title (may be Vietnamese).
    pub title: String,
    /// Longer description.
    pub description: String,
    /// Published attributes; `None` publishes all.
    pub attributes: Option<Vec<String>>,
    /// Attributes in vector tiles; `None` uses `attributes`.
    pub tile_attributes: Option<Vec<String>>,
    /// Lowest zoom at which tiles show the layer.
    pub minzoom: u8,
    /// Highest zoom at which tiles show the layer.
    pub maxzoom: u8,
    /// Zooms below this one use generalised geometry prepared at load
    /// (see [`super::generalize`]); from it on, the full geometry.
    pub detail_zoom: u8,
    /// Below the detail zoom, polygons sharing these attributes are merged.
    pub merge_by: Option<Vec<String>>,
    /// Fields shown only to roles that see sensitive data, never in
    /// tiles (see [`crate::model::access`]).
    pub sensitive: Vec<String>,
}

impl LayerMeta {
    /// The metadata configuration gives layer `id` (title, attributes,
    /// zooms), with the cadastral defaults for `parcels`: tiles from
    /// `tiles.parcels_minzoom` and only the label attributes in tiles.
    pub fn from_config(id: &str, config: &crate::config::Config) -> LayerMeta {
        let c = config.layers.get(id);
        let t = &config.tiles;
        let sensitive = c
            .and_then(|c| c.sensitive.clone())
            .unwrap_or_else(|| default_sensitive(id));
        LayerMeta {
            title: c
                .and_then(|c| c.title.clone())
                .unwrap_or_else(|| id.to_owned()),
            description: c.and_then(|c| c.description.clone()).unwrap_or_default(),
            attributes: c.and_then(|c| c.attributes.clone()),
            tile_attributes: c
                .and_then(|c| c.tile_attributes.clone().or_else(|| c.attributes.clone()))
                .or_else(|| (id == "parcels").then(|| t.parcels_attributes.clone())),
            minzoom: c.and_then(|c| c.minzoom).unwrap_or(if id == "parcels" {
                t.parcels_minzoom
            } else {
                0
            }),
            maxzoom: c.and_then(|c| c.maxzoom).unwrap_or(t.max_zoom),
            detail_zoom: c.and_then(|c| c.detail_zoom).unwrap_or(if id == "parcels" {
                t.parcels_detail_zoom
            } else {
                t.detail_zoom
            }),
            // Merged tile features carry these attributes: never sensitive.
            merge_by: c
                .and_then(|c| c.merge_by.clone())
                .or_else(|| (id == "parcels").then(|| t.parcels_merge_by.clone()))
                .map(|m| m.into_iter().filter(|f| !sensitive.contains(f)).collect()),
            sensitive,
        }
    }
}

impl Default for LayerMeta {
    fn default() -> Self {
        LayerMeta {
            title: String::new(),
            description: String::new(),
            attributes: None,
            tile_attributes: None,
            minzoom: 0,
            maxzoom: 22,
            detail_zoom: 14,
            merge_by: None,
            sensitive: Vec::new(),
        }
    }
}

/// The sensitive fields of a layer the configuration says nothing about:
/// the land-use right certificate's number for parcels.
pub fn default_sensitive(id: &str) -> Vec<String> {
    if id == "parcels" {
        vec!["certificate_number".to_owned()]
    } else {
        Vec::new()
    }
}

/// Layer data in Web Mercator with its spatial index.
#[derive(Debug)]
pub struct Indexed {
    /// Features, geometry in EPSG:3857.
    pub data: LayerData,
    /// Spatial index over feature envelopes (data = row).
    pub index: SpatialIndex,
    /// Rows in key order, by field list (see [`super::keyed`]); shared by
    /// every snapshot holding this part.
    pub(crate) keys: super::keyed::KeyOrders,
}

impl Indexed {
    /// Reprojects `data` to Web Mercator and indexes it.
    pub fn build(mut data: LayerData) -> Result<Indexed, EngineError> {
        let from = Crs::Epsg(data.srid);
        if data.srid != 3857 {
            let coords = data.geometry.coords_mut();
            // Large layers reproject in parallel chunks; PROJ objects are
            // per thread (crs caches them).
            use rayon::prelude::*;
            coords
                .par_chunks_mut(64 * 1024)
                .try_for_each(|c| crs::transform(from, WEB_MERCATOR, c))
                .map_err(|e| EngineError::Crs(data.name.clone(), e.to_string()))?;
            data.srid = 3857;
        }
        Ok(Indexed {
            index: SpatialIndex::of(&data.geometry),
            data,
            keys: Default::default(),
        })
    }

    fn empty_like(d: &LayerData) -> Indexed {
        Indexed {
            data: LayerDataBuilder::new(&d.name, 3857, d.geometry_type, d.fields.clone())
                .finish()
                .expect("an empty layer is valid"),
            index: SpatialIndex::default(),
            keys: Default::default(),
        }
    }
}

/// Which part of a layer a feature lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The base.
    Base,
    /// The delta of recent changes.
    Delta,
}

/// A reference to one live feature of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeatureRef {
    /// Base or delta.
    pub part: Part,
    /// Row in that part.
    pub row: u32,
    /// Feature id.
    pub fid: i64,
}

/// One published layer: immutable; changes produce a new `Layer`.
#[derive(Debug)]
pub struct Layer {
    /// Layer id (the store's table/layer name).
    pub id: String,
    /// Metadata.
    pub meta: LayerMeta,
    /// EPSG code of the store's geometry (e.g. 5899).
    pub source_srid: u32,
    /// When this version of the layer was built: its load, or the change
    /// that made it (what answers cite as the data's time).
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub(crate) base: Arc<Indexed>,
    pub(crate) delta: Arc<Indexed>,
    /// Base fids hidden by the delta (updated or deleted).
    pub(crate) hidden: Arc<HashSet<i64>>,
    pub(crate) pyramid: Arc<Pyramid>,
    extent: Option<Rect<f64>>,
    count: usize,
}

/// Delta size beyond which a change rebuilds the base instead.
fn compaction_threshold(base_len: usize) -> usize {
    (base_len / 16).max(4096)
}

impl Layer {
    /// A layer from data read from a store (any CRS; reprojected here).
    pub fn new(data: LayerData, meta: LayerMeta) -> Result<Layer, EngineError> {
        let source_srid = data.srid;
        let id = data.name.clone();
        let base = Indexed::build(data)?;
        let delta = Indexed::empty_like(&base.data);
        Ok(Layer::assemble(
            id,
            meta,
            source_srid,
            Arc::new(base),
            Arc::new(delta),
            Arc::new(HashSet::new()),
            None,
        ))
    }

    fn assemble(
        id: String,
        meta: LayerMeta,
        source_srid: u32,
        base: Arc<Indexed>,
        delta: Arc<Indexed>,
        hidden: Arc<HashSet<i64>>,
        prev: Option<(&Layer, &[i64])>,
    ) -> Layer {
        let mut layer = Layer {
            id,
            meta,
            source_srid,
            published_at: chrono::Utc::now(),
            base,
            delta,
            hidden,
            pyramid: Arc::default(),
            extent: None,
            count: 0,
        };
        layer.count = layer.base.data.len() - layer.hidden_in_base() + layer.delta.data.len();
        // Exact f64, from the geometry's boxes (never the index's f32
        // ones). The extent is a bound: hidden base features may still
        // widen it.
        layer.extent = [&layer.base.index, &layer.delta.index]
            .into_iter()
            .filter_map(SpatialIndex::bounds)
            .reduce(crate::model::union_rect);
        let merge_fields: Option<Vec<usize>> = layer.meta.merge_by.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|n| layer.base.data.fields.iter().position(|f| &f.name == n))
                .collect()
        });
        let parts = [
            (Part::Base, &layer.base.data),
            (Part::Delta, &layer.delta.data),
        ];
        let src = Source {
            parts: &parts,
            live: |part, row| part == Part::Delta || layer.base_live(row),
            candidates: |r: &Rect<f64>| {
                let mut out: Vec<(Part, u32)> = Vec::new();
                for part in [Part::Base, Part::Delta] {
                    out.extend(
                        layer
                            .spatial_index(part)
                            .intersecting(r)
                            .map(|row| (part, row)),
                    );
                }
                out
            },
            minzoom: layer.meta.minzoom,
            detail_zoom: layer.meta.detail_zoom,
            merge_by: merge_fields.as_deref(),
        };
        // After an edit, rebuild only the blocks the changed features were
        // and are in (the first vertex of each, before and after).
        let updated = prev.and_then(|(old, changed)| {
            let first = |l: &Layer, fid: i64| {
                let r = l.get(fid)?;
                l.data(r.part)
                    .geometry
                    .coords_of(r.row as usize)
                    .first()
                    .copied()
            };
            let touched: Vec<Coord<f64>> = changed
                .iter()
                .flat_map(|&fid| [first(old, fid), first(&layer, fid)])
                .flatten()
                .collect();
            old.pyramid.update(&src, &touched)
        });
        let pyramid = updated.unwrap_or_else(|| {
            Pyramid::build(
                src.parts,
                src.live,
                src.minzoom,
                src.detail_zoom,
                src.merge_by,
            )
        });
        layer.pyramid = Arc::new(pyramid);
        layer
    }

    fn hidden_in_base(&self) -> usize {
        self.hidden
            .iter()
            .filter(|f| self.base.data.row_of(**f).is_some())
            .count()
    }

    /// Applies inserted/updated features (`upserts`, in the store's CRS) and
    /// deleted fids, returning the new layer. Only the delta is rebuilt,
    /// unless it has grown large, when everything is compacted into a new
    /// base.
    pub fn with_changes(
        &self,
        upserts: Vec<FeatureRow>,
        deleted: &[i64],
    ) -> Result<Layer, EngineError> {
        let edited: Vec<i64> = deleted
            .iter()
            .copied()
            .chain(upserts.iter().map(|r| r.fid))
            .collect();
        // Changed rows in Web Mercator: the current delta rows as they are
        // (a round trip through the source CRS at every edit would let
        // their coordinates drift), the new ones reprojected once.
        let mut changed: BTreeMap<i64, Option<FeatureRow>> = BTreeMap::new();
        let d = &self.delta.data;
        for row in 0..d.len() {
            changed.insert(d.fids[row], Some(d.row(row)));
        }
        for fid in deleted {
            changed.insert(*fid, None);
        }
        for r in upserts {
            changed.insert(r.fid, Some(self.to_mercator(r)?));
        }
        let mut hidden: HashSet<i64> = (*self.hidden).clone();
        hidden.extend(changed.keys().copied());
        let fields = self.base.data.fields.clone();
        let gtype = self.base.data.geometry_type;
        let live = changed.values().flatten().count();
        if live + hidden.len() > compaction_threshold(self.base.data.len()) {
            return self.compacted(changed);
        }
        let mut b = LayerDataBuilder::new(&self.id, 3857, gtype, fields);
        for r in changed.into_values().flatten() {
            b.push_row(r)
                .map_err(|e| EngineError::Data(e.to_string()))?;
        }
        let delta = Indexed::build(b.finish().map_err(|e| EngineError::Data(e.to_string()))?)?;
        Ok(Layer::assemble(
            self.id.clone(),
            self.meta.clone(),
            self.source_srid,
            self.base.clone(),
            Arc::new(delta),
            Arc::new(hidden),
            Some((self, &edited)),
        ))
    }

    fn compacted(&self, changed: BTreeMap<i64, Option<FeatureRow>>) -> Result<Layer, EngineError> {
        let base = &self.base.data;
        let mut b = LayerDataBuilder::new(&self.id, 3857, base.geometry_type, base.fields.clone());
        for row in 0..base.len() {
            let fid = base.fids[row];
            if !self.hidden.contains(&fid) && !changed.contains_key(&fid) {
                b.push_row(base.row(row))
                    .map_err(|e| EngineError::Data(e.to_string()))?;
            }
        }
        // Changed rows are in Web Mercator already.
        for r in changed.into_values().flatten() {
            b.push_row(r)
                .map_err(|e| EngineError::Data(e.to_string()))?;
        }
        let data = b.finish().map_err(|e| EngineError::Data(e.to_string()))?;
        let mut l = Layer::new(data, self.meta.clone())?;
        l.source_srid = self.source_srid;
        // Keyed lookups the old base answered stay ready (same fields).
        for cols in self.base.keys.built() {
            l.base.keys.order(&l.base.data, &cols);
        }
        Ok(l)
    }

    /// The generalised geometry for zoom `z`, when `z` is below the
    /// layer's detail zoom (else use the full geometry).
    pub fn generalized(&self, z: u8) -> Option<&super::generalize::Level> {
        self.pyramid.level(z)
    }

    /// Heap bytes of the generalised levels.
    pub fn pyramid_bytes(&self) -> usize {
        self.pyramid.heap_bytes()
    }

    /// `r` (read from the store, in its CRS) with its geometry in Web
    /// Mercator, as the layer holds it.
    fn to_mercator(&self, mut r: FeatureRow) -> Result<FeatureRow, EngineError> {
        if let Some(g) = r.geometry.take() {
            use geo::MapCoords;
            let from = Crs::Epsg(self.source_srid);
            r.geometry = Some(
                g.try_map_coords(|c| crs::transform_one(from, WEB_MERCATOR, c))
                    .map_err(|e| EngineError::Crs(self.id.clone(), e.to_string()))?,
            );
        }
        Ok(r)
    }

    /// True when this snapshot already shows each of `upserts` (rows read
    /// from the store, in its CRS) exactly and holds none of `deleted`:
    /// applying them would change nothing. So a PostGIS notice of
    /// geoplan's own commit, which the commit has applied, costs a
    /// comparison instead of a new snapshot.
    pub fn holds(&self, upserts: &[FeatureRow], deleted: &[i64]) -> Result<bool, EngineError> {
        if deleted.iter().any(|&fid| self.get(fid).is_some()) {
            return Ok(false);
        }
        for r in upserts {
            let Some(now) = self.get(r.fid) else {
                return Ok(false);
            };
            if self.data(now.part).row(now.row as usize) != self.to_mercator(r.clone())? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The row a generalised feature's attributes are read from (`None`
    /// only for a delta fid this snapshot lacks, which a level it built
    /// never holds).
    pub fn resolve(&self, s: super::generalize::Src) -> Option<(Part, u32)> {
        use super::generalize::Src;
        match s {
            Src::Base(row) => Some((Part::Base, row)),
            Src::Delta(fid) => Some((Part::Delta, self.delta.data.row_of(fid)? as u32)),
        }
    }

    /// Spatial index of a part (full geometry, Web Mercator): candidates
    /// to check exactly on the geometry (see [`super::index`]).
    pub fn spatial_index(&self, part: Part) -> &SpatialIndex {
        match part {
            Part::Base => &self.base.index,
            Part::Delta => &self.delta.index,
        }
    }

    /// True when the row of a part is a live feature (not replaced or
    /// deleted by the delta).
    pub fn is_live(&self, part: Part, row: usize) -> bool {
        part == Part::Delta || self.base_live(row)
    }

    /// The data of a part.
    pub fn data(&self, part: Part) -> &LayerData {
        match part {
            Part::Base => &self.base.data,
            Part::Delta => &self.delta.data,
        }
    }

    /// The attribute schema.
    pub fn fields(&self) -> &[FieldDef] {
        &self.base.data.fields
    }

    /// The declared geometry type.
    pub fn geometry_type(&self) -> GeometryType {
        self.base.data.geometry_type
    }

    /// Number of live features.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the layer holds no feature.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bounding box in Web Mercator (None when empty).
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// Heap bytes held by the layer's data (not counting the R-trees).
    pub fn heap_bytes(&self) -> usize {
        self.base.data.heap_bytes() + self.delta.data.heap_bytes()
    }

    /// Where the layer's memory goes (heap bytes, base and delta).
    pub fn memory(&self) -> LayerMemory {
        let parts = [&self.base, &self.delta];
        LayerMemory {
            geometry: parts.iter().map(|p| p.data.geometry.heap_bytes()).sum(),
            index: parts.iter().map(|p| p.index.heap_bytes()).sum(),
            attributes: parts
                .iter()
                .map(|p| p.data.heap_bytes() - p.data.geometry.heap_bytes() + p.keys.heap_bytes())
                .sum(),
            pyramid: self.pyramid.heap_bytes(),
        }
    }

    /// Number of coordinates held (base and delta).
    pub fn coord_count(&self) -> usize {
        self.base.data.geometry.coord_count() + self.delta.data.geometry.coord_count()
    }

    /// Indexes of the fields the layer publishes to `access`: the
    /// configured `attributes`, in that order, else all; without the
    /// sensitive ones unless the caller's role sees them, in which case
    /// each one shown is noted in `access` (for the audit log).
    pub fn published_fields(&self, access: &Access) -> Vec<usize> {
        let fields = self.fields_for(access.role());
        for &i in &fields {
            if self.is_sensitive(i) {
                access.disclose(&self.id, &self.fields()[i].name);
            }
        }
        fields
    }

    /// The fields a role is published, as [`Layer::published_fields`],
    /// noting nothing: for schemas and checks that show no values.
    pub fn fields_for(&self, role: Role) -> Vec<usize> {
        let mut fields = self.fields_named(self.meta.attributes.as_deref());
        if !role.sees_sensitive() {
            fields.retain(|&i| !self.is_sensitive(i));
        }
        fields
    }

    /// True when field `i` is one of the layer's sensitive fields.
    pub fn is_sensitive(&self, i: usize) -> bool {
        self.fields()
            .get(i)
            .is_some_and(|f| self.meta.sensitive.contains(&f.name))
    }

    /// Indexes of the fields its vector tiles carry: `tile_attributes`,
    /// else `attributes`, else all; never a sensitive field (tiles are
    /// the same for everyone and cached as such).
    pub fn tile_fields(&self) -> Vec<usize> {
        let mut fields = self.fields_named(
            self.meta
                .tile_attributes
                .as_deref()
                .or(self.meta.attributes.as_deref()),
        );
        fields.retain(|&i| !self.is_sensitive(i));
        fields
    }

    fn fields_named(&self, names: Option<&[String]>) -> Vec<usize> {
        match names {
            None => (0..self.fields().len()).collect(),
            Some(names) => names
                .iter()
                .filter_map(|n| self.fields().iter().position(|f| &f.name == n))
                .collect(),
        }
    }

    /// Looks a feature up by fid.
    pub fn get(&self, fid: i64) -> Option<FeatureRef> {
        if let Some(row) = self.delta.data.row_of(fid) {
            return Some(FeatureRef {
                part: Part::Delta,
                row: row as u32,
                fid,
            });
        }
        if self.hidden.contains(&fid) {
            return None;
        }
        self.base.data.row_of(fid).map(|row| FeatureRef {
            part: Part::Base,
            row: row as u32,
            fid,
        })
    }

    /// True when a base row is live (not hidden by the delta).
    #[inline]
    pub(crate) fn base_live(&self, row: usize) -> bool {
        self.hidden.is_empty() || !self.hidden.contains(&self.base.data.fids[row])
    }
}

impl Layer {
    pub(crate) fn shallow_clone(&self) -> Layer {
        Layer {
            id: self.id.clone(),
            meta: self.meta.clone(),
            source_srid: self.source_srid,
            published_at: self.published_at,
            base: self.base.clone(),
            delta: self.delta.clone(),
            hidden: self.hidden.clone(),
            pyramid: self.pyramid.clone(),
            extent: self.extent,
            count: self.count,
        }
    }
}
