//! Rendering for people: font glyphs for map labels (`glyphs`), and the
//! server-side map renderer behind WMS GetMap and GetLegendGraphic: the
//! MapLibre style subset (`style`), text outlines (`text`), maps drawn
//! with tiny-skia (`map`) and legends (`legend`). It reads the fonts and
//! styles it is given and the engine snapshot it is handed, keeps no store
//! state, and never awaits: callers run it on the blocking pool.

pub mod glyphs;
pub mod legend;
pub mod map;
pub mod style;
pub mod text;

pub use map::{DrawGroup, MapSpec, RenderError, Renderer, View};
