//! Rendering for people: font glyphs for map labels now; the server-side
//! map renderer (WMS GetMap, legends) will live here too. It reads fonts
//! and styles it is given, keeps no store state, and never awaits.

pub mod glyphs;
