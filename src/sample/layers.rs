//! The small layers: administrative units (real province outlines,
//! Voronoi districts and communes, 2025 units as unions of their old
//! communes) and their lineage, plans and zoning lots, roads, water,
//! industrial zones, points of interest and investment projects.

use super::geom::{
    c, clip_closer, dist, mm_c, pick, pick_index, polygon, rect_ring, ring_centroid, stream, C,
};
use super::names::{CommuneKind, INVESTOR_A, INVESTOR_B};
use super::parcels::StreetLine;
use super::world::{is_mainland, ll, Dir, Terrain, World, DN, QN};
use super::SampleError;
use crate::model::stage::{Stage, MAIN};
use crate::model::{FieldDef, FieldType, GeometryType, LayerData, LayerDataBuilder, Value};
use geo::{Area, BooleanOps, BoundingRect, ConvexHull};
use geo_types::{Geometry, LineString, MultiPoint, MultiPolygon, Point, Polygon};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use unicode_normalization::UnicodeNormalization;

/// Start of validity of the pre-2025 units in this dataset.
const SINCE: &str = "1997-01-01";
/// Last day of the provinces, districts and communes before the 2025 reform.
const UNTIL: &str = "2025-06-30";
/// First day of the 2025 units.
const REFORM: &str = "2025-07-01";
/// Code of Đặc khu Hoàng Sa, the one 2025 unit without old communes.
const HOANG_SA_2025: &str = "20333";

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn opt_text(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.into()))
}

/// A layer builder that numbers features from 1.
struct Layer {
    b: LayerDataBuilder,
    next: i64,
}

impl Layer {
    fn new(name: &str, ty: GeometryType, fields: &[(&str, FieldType)]) -> Layer {
        let fields = fields.iter().map(|&(n, t)| FieldDef::new(n, t)).collect();
        Layer {
            b: LayerDataBuilder::new(name, 5899, ty, fields),
            next: 1,
        }
    }

    fn push(&mut self, g: Geometry<f64>, values: Vec<Value>) -> Result<(), SampleError> {
        let fid = self.next;
        self.next += 1;
        Ok(self.b.push(fid, Some(&g), values)?)
    }

    fn finish(self) -> Result<LayerData, SampleError> {
        Ok(self.b.finish()?)
    }
}

/// Rounds every coordinate of a multipolygon to the millimetre.
fn mm_multi(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |r: &LineString<f64>| LineString(r.0.iter().map(|&p| mm_c(p)).collect());
    MultiPolygon(
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

/// The largest polygon of a multipolygon.
fn largest(mp: MultiPolygon<f64>) -> Option<Polygon<f64>> {
    mp.0.into_iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
}

/// Voronoi cells of the mainland districts, clipped to their province:
/// one multipolygon per district (empty for Hoàng Sa).
pub(crate) fn district_cells(world: &World) -> Vec<MultiPolygon<f64>> {
    let mut out = vec![MultiPolygon(vec![]); world.districts.len()];
    for prov in [QN, DN] {
        let shape = &world.provinces[prov].shape;
        let Some(bb) = shape.bounding_rect() else {
            continue;
        };
        let frame = vec![
            c(bb.min().x - 5000.0, bb.min().y - 5000.0),
            c(bb.max().x + 5000.0, bb.min().y - 5000.0),
            c(bb.max().x + 5000.0, bb.max().y + 5000.0),
            c(bb.min().x - 5000.0, bb.max().y + 5000.0),
        ];
        let sites: Vec<usize> = (0..world.districts.len())
            .filter(|&i| world.districts[i].province == prov && is_mainland(&world.districts[i]))
            .collect();
        for &i in &sites {
            let mut ring = frame.clone();
            for &j in &sites {
                if i != j {
                    ring = clip_closer(&ring, world.districts[i].site, world.districts[j].site);
                }
            }
            if ring.len() >= 3 {
                out[i] = mm_multi(polygon(ring).intersection(shape));
            }
        }
    }
    out
}

/// Voronoi cells of the communes' seeds inside their district's cell: one
/// multipolygon per commune of [`World::communes`] (the rule of
/// [`World::locate`], so every parcel lies in its commune's cell).
pub(crate) fn commune_cells(
    world: &World,
    districts: &[MultiPolygon<f64>],
) -> Result<Vec<MultiPolygon<f64>>, SampleError> {
    use rayon::prelude::*;
    (0..world.communes.len())
        .into_par_iter()
        .map(|ci| {
            let cm = &world.communes[ci];
            let shape = &districts[cm.district];
            let none =
                || SampleError::Source(format!("commune {} {} has no land", cm.code, cm.name));
            let bb = shape.bounding_rect().ok_or_else(none)?;
            let mut ring = vec![
                c(bb.min().x - 5000.0, bb.min().y - 5000.0),
                c(bb.max().x + 5000.0, bb.min().y - 5000.0),
                c(bb.max().x + 5000.0, bb.max().y + 5000.0),
                c(bb.min().x - 5000.0, bb.max().y + 5000.0),
            ];
            for &j in &world.districts[cm.district].communes {
                if j != ci {
                    ring = clip_closer(&ring, cm.seed, world.communes[j].seed);
                }
            }
            if ring.len() < 3 {
                return Err(none());
            }
            let cell = mm_multi(polygon(ring).intersection(shape));
            if cell.0.is_empty() {
                return Err(none());
            }
            Ok(cell)
        })
        .collect()
}

/// Indexes of [`World::communes`] in code order.
fn communes_by_code(world: &World) -> Vec<usize> {
    let mut v: Vec<usize> = (0..world.communes.len()).collect();
    v.sort_by(|&a, &b| world.communes[a].code.cmp(&world.communes[b].code));
    v
}

/// Small synthetic islets standing for the Hoàng Sa archipelago.
fn hoang_sa_islets(world: &World, at: C) -> MultiPolygon<f64> {
    let mut rng = stream(world.seed, &[0x4A5A]);
    let mut polys = Vec::new();
    for k in 0..3 {
        // One islet on the centroid, two more 3–6 km away in different
        // directions, so that they never touch.
        let o = if k == 0 {
            at
        } else {
            let d: f64 = rng.gen_range(3000.0..6000.0);
            let a = k as f64 * std::f64::consts::TAU / 3.0 + rng.gen_range(-0.5..0.5);
            c(at.x + d * a.cos(), at.y + d * a.sin())
        };
        let r0: f64 = if k == 0 {
            900.0
        } else {
            rng.gen_range(250.0..500.0)
        };
        let ring: Vec<C> = (0..10)
            .map(|i| {
                let a = i as f64 / 10.0 * std::f64::consts::TAU;
                let r = r0 * rng.gen_range(0.75..1.2);
                mm_c(c(o.x + r * a.cos(), o.y + r * 0.7 * a.sin()))
            })
            .collect();
        polys.push(polygon(ring));
    }
    MultiPolygon(polys)
}

/// The `admin_units` layer and the `admin_lineage` layer.
pub(crate) fn admin_layers(world: &World) -> Result<(LayerData, LayerData), SampleError> {
    let cells = district_cells(world);
    let communes = commune_cells(world, &cells)?;
    Ok((
        admin_units(world, &cells, &communes)?,
        admin_lineage(world, &communes)?,
    ))
}

/// The `admin_units` layer: provinces, districts, communes before the
/// reform, and the 2025 units.
fn admin_units(
    world: &World,
    cells: &[MultiPolygon<f64>],
    communes: &[MultiPolygon<f64>],
) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "admin_units",
        GeometryType::MultiPolygon,
        &[
            ("code", FieldType::Text),
            ("name", FieldType::Text),
            ("level", FieldType::Text),
            ("unit_type", FieldType::Text),
            ("parent_code", FieldType::Text),
            ("valid_from", FieldType::Date),
            ("valid_to", FieldType::Date),
            ("synthetic", FieldType::Boolean),
        ],
    );
    let row = |code: &str,
               name: &str,
               level: &str,
               unit_type: &str,
               parent: Option<&str>,
               from: &str,
               to: Option<&str>,
               synthetic: bool| {
        vec![
            text(code),
            text(name),
            text(level),
            text(unit_type),
            opt_text(parent),
            text(from),
            opt_text(to),
            Value::Bool(synthetic),
        ]
    };
    for (prov, unit_type) in [(QN, "tỉnh"), (DN, "thành phố")] {
        let p = &world.provinces[prov];
        l.push(
            Geometry::MultiPolygon(mm_multi(p.shape.clone())),
            row(
                p.code,
                p.name,
                "province",
                unit_type,
                None,
                SINCE,
                Some(UNTIL),
                false,
            ),
        )?;
    }
    l.push(
        Geometry::MultiPolygon(mm_multi(world.land.clone())),
        row(
            "48",
            "Thành phố Đà Nẵng",
            "province",
            "thành phố",
            None,
            REFORM,
            None,
            false,
        ),
    )?;
    let idx = |code: &str| world.districts.iter().position(|d| d.code == code);
    for (i, d) in world.districts.iter().enumerate() {
        let parent = world.provinces[d.province].code;
        let geom = if is_mainland(d) {
            cells[i].clone()
        } else {
            hoang_sa_islets(world, d.site)
        };
        if geom.0.is_empty() {
            continue;
        }
        let until = if d.code == "519" || d.code == "509" {
            "2024-12-31"
        } else {
            UNTIL
        };
        l.push(
            Geometry::MultiPolygon(geom.clone()),
            row(
                &d.code,
                &d.name,
                "district",
                &d.unit_type,
                Some(parent),
                SINCE,
                Some(until),
                true,
            ),
        )?;
        if d.code == "509" {
            // Quế Sơn after absorbing Nông Sơn on 2025-01-01.
            if let Some(ns) = idx("519") {
                let merged = mm_multi(geom.union(&cells[ns]));
                l.push(
                    Geometry::MultiPolygon(merged),
                    row(
                        &d.code,
                        &d.name,
                        "district",
                        &d.unit_type,
                        Some(parent),
                        "2025-01-01",
                        Some(UNTIL),
                        true,
                    ),
                )?;
            }
        }
    }
    // Communes before the reform. Nông Sơn's keep their district as
    // parent for their whole life (see data/README.md).
    for ci in communes_by_code(world) {
        let cm = &world.communes[ci];
        l.push(
            Geometry::MultiPolygon(communes[ci].clone()),
            row(
                &cm.code,
                &cm.name,
                "commune",
                cm.kind.unit_type(),
                Some(&world.districts[cm.district].code),
                SINCE,
                Some(UNTIL),
                true,
            ),
        )?;
    }
    // The 2025 units: the union of their old communes.
    for u in &world.units_2025 {
        let geom = if !u.members.is_empty() {
            // Not rounded again: the union's few new vertices (where
            // neighbouring cells' borders cross) could fold onto others.
            geo::unary_union(u.members.iter().map(|&i| &communes[i]))
        } else if u.code == HOANG_SA_2025 {
            let hs = world
                .districts
                .iter()
                .find(|d| !is_mainland(d))
                .ok_or_else(|| SampleError::Source("no Hoàng Sa district".into()))?;
            hoang_sa_islets(world, hs.site)
        } else {
            return Err(SampleError::Source(format!(
                "2025 unit {} {} has no old commune",
                u.code, u.name
            )));
        };
        l.push(
            Geometry::MultiPolygon(geom),
            row(
                &u.code,
                &u.name,
                "commune",
                &u.unit_type,
                Some("48"),
                REFORM,
                None,
                true,
            ),
        )?;
    }
    l.finish()
}

/// The `admin_lineage` layer: each old commune once, in code order, with
/// the 2025 unit it went into (synthesised, see `World::make_units_2025`).
fn admin_lineage(world: &World, communes: &[MultiPolygon<f64>]) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "admin_lineage",
        GeometryType::MultiPolygon,
        &[
            ("old_code", FieldType::Text),
            ("old_name", FieldType::Text),
            ("new_code", FieldType::Text),
            ("new_name", FieldType::Text),
            ("valid_from", FieldType::Date),
            ("relation", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for ci in communes_by_code(world) {
        let cm = &world.communes[ci];
        let (u, relation) = world.lineage[ci];
        let unit = &world.units_2025[u];
        l.push(
            Geometry::MultiPolygon(communes[ci].clone()),
            vec![
                text(&cm.code),
                text(&cm.name),
                text(&unit.code),
                text(&unit.name),
                text(REFORM),
                text(relation.as_str()),
                Value::Bool(true),
            ],
        )?;
    }
    l.finish()
}

/// A plan record.
struct Plan {
    code: String,
    name: String,
    level: &'static str,
    decision: String,
    date: String,
    authority: String,
    status: &'static str,
    shape: Polygon<f64>,
}

fn decision(rng: &mut ChaCha8Rng, suffix: &str) -> String {
    format!("{}/QĐ-{suffix}", rng.gen_range(120..4800))
}

fn date_in(rng: &mut ChaCha8Rng, year: i32) -> String {
    format!(
        "{year}-{:02}-{:02}",
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

fn authority(world: &World, p: C) -> &'static str {
    match world.province_at(p) {
        Some(DN) => "UBND thành phố Đà Nẵng",
        _ => "UBND tỉnh Quảng Nam",
    }
}

/// The rectangle of an urban area's 1/2000 zoning plan, clipped to land.
fn zoning_extent(world: &World, a: usize) -> Option<Polygon<f64>> {
    let area = &world.urban[a];
    let r = rect_ring(
        area.center,
        2.0 * area.zoning.0,
        2.0 * area.zoning.1,
        area.angle,
    );
    largest(mm_multi(polygon(r).intersection(&world.land)))
}

fn plans(world: &World, cells: &[MultiPolygon<f64>]) -> Vec<Plan> {
    let mut rng = stream(world.seed, &[0x91A5]);
    let mut out = Vec::new();
    let district = |code: &str| world.districts.iter().position(|d| d.code == code);
    // General plans.
    if let Some(dn) = largest(mm_multi(world.provinces[DN].shape.clone())) {
        out.push(Plan {
            code: "QHC-DN-2021".into(),
            name: "Quy hoạch chung thành phố Đà Nẵng đến năm 2030, tầm nhìn đến năm 2045".into(),
            level: "chung",
            decision: "359/QĐ-TTg".into(),
            date: "2021-03-15".into(),
            authority: "Thủ tướng Chính phủ".into(),
            status: "đang hiệu lực",
            shape: dn,
        });
    }
    for (code, key, name, year, status) in [
        (
            "503",
            "HA",
            "thành phố Hội An đến năm 2035, tầm nhìn đến năm 2050",
            2022,
            "đang hiệu lực",
        ),
        (
            "503",
            "HA",
            "thị xã Hội An đến năm 2020",
            2005,
            "hết hiệu lực",
        ),
        (
            "502",
            "TK",
            "thành phố Tam Kỳ đến năm 2035",
            2019,
            "đang hiệu lực",
        ),
        (
            "507",
            "DB",
            "đô thị Điện Bàn đến năm 2035",
            2020,
            "đang hiệu lực",
        ),
    ] {
        let Some(shape) = district(code).and_then(|i| largest(cells[i].clone())) else {
            continue;
        };
        out.push(Plan {
            code: format!("QHC-{key}-{year}"),
            name: format!("Quy hoạch chung {name}"),
            level: "chung",
            decision: decision(&mut rng, "UBND"),
            date: date_in(&mut rng, year),
            authority: "UBND tỉnh Quảng Nam".into(),
            status,
            shape,
        });
    }
    // Zoning plans 1/2000, one per urban area, plus an expired and an
    // ongoing one.
    for (a, area) in world.urban.iter().enumerate() {
        let Some(shape) = zoning_extent(world, a) else {
            continue;
        };
        let year = rng.gen_range(2021..=2024);
        let p = Plan {
            code: format!("QHPK-{}-2023", area.key),
            name: format!("Quy hoạch phân khu đô thị {} tỷ lệ 1/2000", area.name),
            level: "phân khu 1/2000",
            decision: decision(&mut rng, "UBND"),
            date: date_in(&mut rng, year),
            authority: authority(world, area.center).into(),
            status: "đang hiệu lực",
            shape,
        };
        if area.key == "HA" {
            out.push(Plan {
                code: "QHPK-HA-2015".into(),
                name: format!("{} (phiên bản 2015)", p.name),
                level: p.level,
                decision: decision(&mut rng, "UBND"),
                date: date_in(&mut rng, 2015),
                authority: p.authority.clone(),
                status: "hết hiệu lực",
                shape: p.shape.clone(),
            });
        }
        if area.key == "TK" {
            let r = rect_ring(
                area.to_world(area.zoning.0 + 1200.0, 0.0),
                2000.0,
                2.0 * area.zoning.1,
                area.angle,
            );
            if let Some(shape) = largest(mm_multi(polygon(r).intersection(&world.land))) {
                out.push(Plan {
                    code: "QHPK-TK-2025".into(),
                    name: "Quy hoạch phân khu đô thị mở rộng phía Đông Tam Kỳ tỷ lệ 1/2000".into(),
                    level: "phân khu 1/2000",
                    decision: decision(&mut rng, "UBND"),
                    date: date_in(&mut rng, 2025),
                    authority: p.authority.clone(),
                    status: "đang lập",
                    shape,
                });
            }
        }
        out.push(p);
    }
    // Detailed plans 1/500.
    for (code, name, lon, lat, ha, status) in [
        (
            "QHCT-DN-NHS-01",
            "Khu đô thị ven sông Cổ Cò",
            108.262,
            15.995,
            40.0,
            "đang hiệu lực",
        ),
        (
            "QHCT-DN-HL-01",
            "Khu tái định cư Hòa Liên",
            108.090,
            16.085,
            30.0,
            "đang hiệu lực",
        ),
        (
            "QHCT-QN-DD-01",
            "Khu du lịch ven biển Điện Dương",
            108.318,
            15.935,
            60.0,
            "đang hiệu lực",
        ),
        (
            "QHCT-QN-TK-01",
            "Khu dân cư Trường Xuân",
            108.462,
            15.586,
            25.0,
            "đang hiệu lực",
        ),
        (
            "QHCT-QN-DB-01",
            "Khu phố chợ Vĩnh Điện",
            108.250,
            15.889,
            15.0,
            "hết hiệu lực",
        ),
        (
            "QHCT-QN-NT-01",
            "Khu đô thị mới Núi Thành",
            108.640,
            15.425,
            50.0,
            "đang lập",
        ),
    ] {
        let Ok(at) = ll(lon, lat) else { continue };
        let aspect: f64 = rng.gen_range(1.2..2.0);
        let r = ha_ring(at, ha, aspect, rng.gen_range(-0.5..0.5));
        let Some(shape) = largest(mm_multi(polygon(r).intersection(&world.land))) else {
            continue;
        };
        out.push(Plan {
            code: code.into(),
            name: format!("Quy hoạch chi tiết tỷ lệ 1/500 {name}"),
            level: "chi tiết 1/500",
            decision: decision(&mut rng, "UBND"),
            date: {
                let year = rng.gen_range(2019..=2025);
                date_in(&mut rng, year)
            },
            authority: authority(world, at).into(),
            status,
            shape,
        });
    }
    // Rural commune plans.
    let rural: Vec<usize> = (0..world.communes.len())
        .filter(|&i| {
            let cm = &world.communes[i];
            let d = &world.districts[cm.district];
            cm.kind == CommuneKind::Rural
                && ["507", "508", "513", "506", "509", "517", "518", "497"]
                    .contains(&d.code.as_str())
        })
        .collect();
    let mut picked = Vec::new();
    while picked.len() < 7 && picked.len() < rural.len() {
        let k = rural[rng.gen_range(0..rural.len())];
        if !picked.contains(&k) {
            picked.push(k);
        }
    }
    picked.sort_unstable();
    for k in picked {
        let cm = &world.communes[k];
        if cm.points.len() < 3 {
            continue;
        }
        let hull = MultiPoint(cm.points.iter().map(|&p| Point(p)).collect()).convex_hull();
        let Some(shape) = largest(mm_multi(hull.intersection(&world.land))) else {
            continue;
        };
        let d = &world.districts[cm.district];
        let short = &cm.short;
        let year = rng.gen_range(2020..=2024);
        out.push(Plan {
            code: format!("QHNT-{}-{}", cm.code, year),
            name: format!("Quy hoạch chung xây dựng xã {short} đến năm 2030"),
            level: "nông thôn",
            decision: decision(&mut rng, "UBND"),
            date: date_in(&mut rng, year),
            authority: format!("UBND {} {}", d.unit_type, d.name),
            status: if year >= 2024 {
                "đang lập"
            } else {
                "đang hiệu lực"
            },
            shape,
        });
    }
    // The 1/2000 zoning plan of each industrial zone, over the whole zone.
    let mut rng = stream(world.seed, &[0x91A6]);
    for (zi, key) in industrial_keys(world) {
        let z = &world.zones[zi];
        let Some(shape) = largest(mm_multi(MultiPolygon(vec![z.shape.clone()]))) else {
            continue;
        };
        let year = rng.gen_range(2016..=2023);
        out.push(Plan {
            code: format!("QHPK-KCN-{key}"),
            name: format!("Quy hoạch phân khu xây dựng tỷ lệ 1/2000 {}", z.name),
            level: "phân khu 1/2000",
            decision: decision(&mut rng, "UBND"),
            date: date_in(&mut rng, year),
            authority: authority(world, ring_centroid(&shape.exterior().0)).into(),
            status: "đang hiệu lực",
            shape,
        });
    }
    out
}

/// The industrial zones (not economic zones, not the hi-tech park) with a
/// short key from their names' initials: "KCN Bắc Chu Lai" → "BCL".
fn industrial_keys(world: &World) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, z) in world.zones.iter().enumerate() {
        if z.kind != "khu công nghiệp" {
            continue;
        }
        let mut key: String = z
            .name
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && *w != "KCN")
            .filter_map(|w| {
                // The base letter of the first one: "Đ" → D, "Ô" → O.
                let first = w.nfd().next()?;
                Some(match first {
                    'đ' | 'Đ' => 'D',
                    c => c.to_ascii_uppercase(),
                })
            })
            .filter(char::is_ascii_alphanumeric)
            .take(5)
            .collect();
        if out.iter().any(|(_, k)| *k == key) {
            key.push_str(&i.to_string());
        }
        out.push((i, key));
    }
    out
}

/// The `plans` layer and the `zoning_lots` layer.
pub(crate) fn plans_and_zoning(world: &World) -> Result<(LayerData, LayerData), SampleError> {
    let cells = district_cells(world);
    let plans = plans(world, &cells);
    let mut pl = Layer::new(
        "plans",
        GeometryType::Polygon,
        &[
            ("code", FieldType::Text),
            ("name", FieldType::Text),
            ("level", FieldType::Text),
            ("approval_decision", FieldType::Text),
            ("approval_date", FieldType::Date),
            ("approving_authority", FieldType::Text),
            ("status", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for p in &plans {
        pl.push(
            Geometry::Polygon(p.shape.clone()),
            vec![
                text(&p.code),
                text(&p.name),
                text(p.level),
                text(&p.decision),
                text(&p.date),
                text(&p.authority),
                text(p.status),
                Value::Bool(true),
            ],
        )?;
    }
    let zoning = zoning_lots(world)?;
    Ok((pl.finish()?, zoning))
}

/// Zoning functions: lot symbol prefix and function name.
const FUNCTIONS: &[(&str, &str)] = &[
    ("OM", "Đất ở mới"),
    ("OHT", "Đất ở hiện trạng cải tạo"),
    ("CX", "Đất cây xanh"),
    ("CXCV", "Đất cây xanh công viên"),
    ("TMDV", "Đất thương mại dịch vụ"),
    ("CC", "Đất công cộng"),
    ("GD", "Đất giáo dục"),
    ("YT", "Đất y tế"),
    ("HH", "Đất hỗn hợp"),
    ("CN", "Đất công nghiệp"),
    ("KB", "Đất kho bãi"),
    ("HTKT", "Đất hạ tầng kỹ thuật"),
];

/// Density %, floors min/max and FAR of a zoning lot of a function
/// (QCVN 01:2021/BXD ranges: density 40–90 %, FAR 0.5–10).
/// The function a lot symbol's `prefix` stands for; `fallback` for one
/// [`FUNCTIONS`] lacks.
fn function_of(prefix: &str, fallback: &'static str) -> &'static str {
    FUNCTIONS
        .iter()
        .find(|f| f.0 == prefix)
        .map_or(fallback, |f| f.1)
}

/// Pushes a zoning lot on `ring`: its zone code and lot symbol, function,
/// controls (density, floors min and max, FAR), area and plan.
fn push_lot(
    l: &mut Layer,
    ring: Vec<C>,
    [zone, symbol]: [String; 2],
    function: &str,
    (density, fmin, fmax, far): (f64, i64, i64, f64),
    plan_code: &str,
) -> Result<(), SampleError> {
    let poly = polygon(ring);
    let area_m2 = (poly.unsigned_area() * 10.0).round() / 10.0;
    l.push(
        Geometry::Polygon(poly),
        vec![
            text(zone),
            text(symbol),
            text(function),
            Value::Real(density),
            Value::Int(fmin),
            Value::Int(fmax),
            Value::Real(far),
            Value::Real(area_m2),
            text(plan_code),
            Value::Bool(true),
        ],
    )
}

fn controls(prefix: &str, rng: &mut ChaCha8Rng, max_floors: i64) -> (f64, i64, i64, f64) {
    let (d, fmin, fmax): (f64, i64, i64) = match prefix {
        "OM" => (rng.gen_range(60.0..80.0), 2, rng.gen_range(4..=7)),
        "OHT" => (rng.gen_range(70.0..90.0), 1, rng.gen_range(3..=5)),
        "TMDV" => (
            rng.gen_range(40.0..65.0),
            rng.gen_range(3..=5),
            rng.gen_range(9..=25),
        ),
        "HH" => (
            rng.gen_range(40.0..60.0),
            rng.gen_range(5..=9),
            rng.gen_range(15..=30),
        ),
        "CC" => (rng.gen_range(40.0..50.0), 1, rng.gen_range(3..=5)),
        "GD" => (rng.gen_range(40.0..45.0), 1, rng.gen_range(3..=4)),
        "YT" => (rng.gen_range(40.0..50.0), 2, rng.gen_range(5..=9)),
        // Factories: QCVN 01:2021 allows up to 70 % on industrial lots.
        "CN" => (rng.gen_range(50.0..70.0), 1, rng.gen_range(2..=5)),
        "KB" => (rng.gen_range(50.0..60.0), 1, 2),
        "HTKT" => (rng.gen_range(40.0..50.0), 1, 2),
        // Green space keeps the minimum of the range.
        _ => (40.0, 1, 1),
    };
    let fmax = fmax.min(max_floors.max(fmin + 1)).max(fmin);
    let far = (d / 100.0 * fmax as f64).clamp(0.5, 10.0);
    (
        (d * 10.0).round() / 10.0,
        fmin,
        fmax,
        (far * 100.0).round() / 100.0,
    )
}

fn zoning_lots(world: &World) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "zoning_lots",
        GeometryType::Polygon,
        &[
            ("zone_code", FieldType::Text),
            ("lot_symbol", FieldType::Text),
            ("function", FieldType::Text),
            ("density_pct", FieldType::Real),
            ("floors_min", FieldType::Integer),
            ("floors_max", FieldType::Integer),
            ("far", FieldType::Real),
            ("area_m2", FieldType::Real),
            ("plan_code", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for (a, area) in world.urban.iter().enumerate() {
        if zoning_extent(world, a).is_none() {
            continue;
        }
        let plan_code = format!("QHPK-{}-2023", area.key);
        let mut rng = stream(world.seed, &[0x2041, a as u64]);
        let g = &area.grid;
        let (hu, hv) = area.zoning;
        // Column groups end at avenues: {5k, 5k+1}, {5k+2..5k+4}; row
        // groups are pairs of block rows.
        let cols: Vec<i64> = g.cols_over(-hu, hu).collect();
        let rows: Vec<i64> = g.rows_over(-hv, hv).collect();
        let col_group = |i: i64| (i.div_euclid(5), i.rem_euclid(5) >= 2);
        let mut groups_u: Vec<(i64, i64)> = Vec::new();
        for &i in &cols {
            match groups_u.last_mut() {
                Some(gr) if col_group(gr.0) == col_group(i) => gr.1 = i,
                _ => groups_u.push((i, i)),
            }
        }
        let mut groups_v: Vec<(i64, i64)> = Vec::new();
        for &j in &rows {
            match groups_v.last_mut() {
                Some(gr) if gr.0.div_euclid(2) == j.div_euclid(2) => gr.1 = j,
                _ => groups_v.push((j, j)),
            }
        }
        // A lone block row at the edge of the plan is too small a lot.
        groups_v.retain(|g| g.1 > g.0);
        let mut counters: std::collections::BTreeMap<(u8, &str), u32> = Default::default();
        for &(ja, jb) in groups_v.iter().rev() {
            for &(ia, ib) in &groups_u {
                let (Some(ca), Some(cb), Some(ra), Some(rb)) =
                    (g.col(ia), g.col(ib), g.row(ja), g.row(jb))
                else {
                    continue;
                };
                let (u0, u1, v0, v1) = (ca.0, cb.0 + cb.1, ra.0, rb.0 + 2.0 * rb.1);
                let mut pieces = vec![(u0, u1)];
                if (u1 - u0) * (v1 - v0) > 50_000.0 {
                    // Too large for one lot: split at the street that gives
                    // the most even halves, or in the middle when a street
                    // split would leave a lot under 1 ha.
                    let h = v1 - v0;
                    let um = (u0 + u1) / 2.0;
                    pieces = (ia + 1..=ib)
                        .filter_map(|i| g.col(i))
                        .map(|(s, _, gap)| vec![(u0, s - gap), (s, u1)])
                        .filter(|p| p.iter().all(|&(a, b)| (b - a) * h >= 10_000.0))
                        .min_by(|a, b| {
                            let d =
                                |p: &Vec<(f64, f64)>| ((p[0].1 - p[0].0) - (p[1].1 - p[1].0)).abs();
                            d(a).total_cmp(&d(b))
                        })
                        .unwrap_or_else(|| vec![(u0, um - 5.0), (um + 5.0, u1)]);
                }
                for (pu0, pu1) in pieces {
                    let (um, vm) = ((pu0 + pu1) / 2.0, (v0 + v1) / 2.0);
                    if um.abs() > hu || vm.abs() > hv {
                        continue;
                    }
                    let m = area.to_world(um, vm);
                    if world.province_at(m).is_none()
                        || world.reserved(m)
                        || world.corridors.within(m, 15.0)
                    {
                        continue;
                    }
                    let ring = vec![
                        mm_c(area.to_world(pu0, v0)),
                        mm_c(area.to_world(pu1, v0)),
                        mm_c(area.to_world(pu1, v1)),
                        mm_c(area.to_world(pu0, v1)),
                    ];
                    let zone = 1 + (um >= 0.0) as u8 + 2 * (vm < 0.0) as u8;
                    let rel = (um.abs() / hu).max(vm.abs() / hv);
                    let riverside = world.near_water.within(m, 150.0);
                    let r: f64 = rng.gen();
                    let prefix = if riverside && r < 0.45 {
                        if r < 0.15 {
                            "CXCV"
                        } else {
                            "CX"
                        }
                    } else if rel < 0.35 {
                        pick(
                            rng.gen(),
                            &[
                                ("TMDV", 25.0),
                                ("HH", 20.0),
                                ("OHT", 30.0),
                                ("CC", 8.0),
                                ("GD", 5.0),
                                ("CX", 7.0),
                                ("YT", 5.0),
                            ],
                        )
                    } else {
                        pick(
                            rng.gen(),
                            &[
                                ("OM", 35.0),
                                ("OHT", 25.0),
                                ("CX", 10.0),
                                ("CXCV", 2.0),
                                ("GD", 8.0),
                                ("TMDV", 8.0),
                                ("HH", 5.0),
                                ("CC", 4.0),
                                ("YT", 3.0),
                            ],
                        )
                    };
                    let n = counters.entry((zone, prefix)).or_insert(0);
                    *n += 1;
                    push_lot(
                        &mut l,
                        ring,
                        [
                            format!("PK-{}-{zone:02}", area.key),
                            format!("{prefix}-{:02}", *n),
                        ],
                        function_of(prefix, "Đất hỗn hợp"),
                        controls(prefix, &mut rng, area.max_floors),
                        &plan_code,
                    )?;
                }
            }
        }
    }
    industrial_lots(world, &mut l)?;
    l.finish()
}

/// The lots of the industrial zones' plans: a grid of factory plots of
/// about 2 to 10 ha between internal roads, kept where wholly inside the
/// zone and clear of through roads.
fn industrial_lots(world: &World, l: &mut Layer) -> Result<(), SampleError> {
    const ROAD: f64 = 24.0;
    for (zi, key) in industrial_keys(world) {
        let z = &world.zones[zi];
        let mut rng = stream(world.seed, &[0x2042, zi as u64]);
        let Some(bb) = z.shape.bounding_rect() else {
            continue;
        };
        let mut counters: std::collections::BTreeMap<&str, u32> = Default::default();
        let mut y = bb.min().y + ROAD;
        while y + 120.0 < bb.max().y {
            let h: f64 = rng.gen_range(140.0..260.0);
            let mut x = bb.min().x + ROAD;
            while x + 120.0 < bb.max().x {
                let w: f64 = rng.gen_range(150.0..380.0);
                let r: f64 = rng.gen();
                let ring: Vec<C> = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                    .into_iter()
                    .map(|(a, b)| mm_c(c(a, b)))
                    .collect();
                let mid = c(x + w / 2.0, y + h / 2.0);
                x += w + ROAD;
                let inside = ring
                    .iter()
                    .all(|&p| z.index.contains(p) && world.province_at(p).is_some());
                // Clear of through roads: centre, corners and edge middles.
                let probes = ring
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        let q = ring[(i + 1) % ring.len()];
                        c((p.x + q.x) / 2.0, (p.y + q.y) / 2.0)
                    })
                    .chain(ring.iter().copied())
                    .chain(std::iter::once(mid))
                    .collect::<Vec<C>>();
                if !inside || probes.iter().any(|&p| world.corridors.within(p, 10.0)) {
                    continue;
                }
                let prefix = pick(
                    r,
                    &[("CN", 70.0), ("KB", 12.0), ("HTKT", 6.0), ("CX", 12.0)],
                );
                let n = counters.entry(prefix).or_insert(0);
                *n += 1;
                push_lot(
                    l,
                    ring,
                    [format!("KCN-{key}"), format!("{prefix}-{:02}", *n)],
                    function_of(prefix, "Đất công nghiệp"),
                    controls(prefix, &mut rng, 5),
                    &format!("QHPK-KCN-{key}"),
                )?;
            }
            y += h + ROAD;
        }
    }
    Ok(())
}

/// The `roads` layer: national and provincial roads, district roads and
/// the urban streets along the generated blocks.
pub(crate) fn roads(world: &World, streets: &[StreetLine]) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "roads",
        GeometryType::LineString,
        &[
            ("name", FieldType::Text),
            ("road_class", FieldType::Text),
            ("ref", FieldType::Text),
            ("width_m", FieldType::Real),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for r in &world.roads {
        l.push(
            Geometry::LineString(LineString(r.line.iter().map(|&p| mm_c(p)).collect())),
            vec![
                text(&r.name),
                text(r.class),
                opt_text(r.reference.as_deref()),
                Value::Real(r.width),
                Value::Bool(true),
            ],
        )?;
    }
    for s in streets {
        l.push(
            Geometry::LineString(LineString(s.line.clone())),
            vec![
                text(&s.name),
                text("đường đô thị"),
                Value::Null,
                Value::Real((s.width * 10.0).round() / 10.0),
                Value::Bool(true),
            ],
        )?;
    }
    l.finish()
}

/// The `water` layer.
pub(crate) fn water(world: &World) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "water",
        GeometryType::LineString,
        &[
            ("name", FieldType::Text),
            ("kind", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for wy in &world.water {
        l.push(
            Geometry::LineString(LineString(wy.line.iter().map(|&p| mm_c(p)).collect())),
            vec![text(wy.name), text(wy.kind), Value::Bool(true)],
        )?;
    }
    l.finish()
}

/// The `industrial_zones` layer.
pub(crate) fn industrial_zones(world: &World) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "industrial_zones",
        GeometryType::Polygon,
        &[
            ("name", FieldType::Text),
            ("kind", FieldType::Text),
            ("area_ha", FieldType::Real),
            ("note", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for z in &world.zones {
        let shape = largest(mm_multi(MultiPolygon(vec![z.shape.clone()])))
            .unwrap_or_else(|| z.shape.clone());
        let ha = (shape.unsigned_area() / 100.0).round() / 100.0;
        l.push(
            Geometry::Polygon(shape),
            vec![
                text(&z.name),
                text(z.kind),
                Value::Real(ha),
                text(&z.note),
                Value::Bool(true),
            ],
        )?;
    }
    l.finish()
}

/// The `pois` layer.
pub(crate) fn pois(world: &World) -> Result<LayerData, SampleError> {
    let mut l = Layer::new(
        "pois",
        GeometryType::Point,
        &[
            ("name", FieldType::Text),
            ("kind", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    for p in &world.pois {
        l.push(
            Geometry::Point(Point(mm_c(p.at))),
            vec![text(&p.name), text(p.kind), Value::Bool(true)],
        )?;
    }
    l.finish()
}

/// The stages the sample's projects are in, and their weights.
const STAGES: &[(Stage, f64)] = &[
    (Stage::Proposed, 28.0),
    (Stage::PolicyApproved, 14.0),
    (Stage::InvestorSelected, 12.0),
    (Stage::LandAllocated, 6.0),
    (Stage::BuildingPermit, 5.0),
    (Stage::UnderConstruction, 12.0),
    (Stage::Operating, 20.0),
    (Stage::Suspended, 3.0),
    (Stage::Terminated, 5.0),
];

/// One step of a sample project's procedure.
pub(crate) struct Step {
    /// The stage left.
    pub from: Option<Stage>,
    /// The stage entered.
    pub to: Stage,
    /// Its day.
    pub day: chrono::NaiveDate,
    /// Decision number.
    pub decision: Option<String>,
    /// Issuing authority.
    pub authority: String,
    /// What happened, in words.
    pub note: &'static str,
}

/// A plausible procedure ending in `stage` for project `i`: the main
/// stages up to it (a suspended or terminated project stopped somewhere
/// before operating), 4–14 months apart, the last between mid-2023 and
/// late 2026; a decision number for each formal step, by the zone's
/// management board or the province (Đà Nẵng from 1 July 2025).
fn procedure(seed: u64, i: usize, stage: Stage, zone: bool, in_dn: bool) -> Vec<Step> {
    use chrono::{Days, NaiveDate};
    let mut rng = stream(seed, &[0x1418, i as u64]);
    let reached = match stage {
        Stage::Suspended | Stage::Terminated => rng.gen_range(0..5),
        s => MAIN.iter().position(|m| *m == s).unwrap_or(0),
    };
    let mut path: Vec<Stage> = MAIN[..=reached].to_vec();
    if matches!(stage, Stage::Suspended | Stage::Terminated) {
        path.push(stage);
    }
    let first_last = NaiveDate::from_ymd_opt(2023, 6, 1).unwrap_or_default();
    let mut days = vec![first_last + Days::new(rng.gen_range(0..=1276))];
    for _ in 1..path.len() {
        let prev = *days.last().unwrap_or(&first_last) - Days::new(rng.gen_range(120..420));
        days.push(prev);
    }
    days.reverse();
    let merger = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default();
    path.iter()
        .enumerate()
        .map(|(k, &to)| {
            let day = days[k];
            let decision = to
                .needs_decision()
                .then(|| decision(&mut rng, if zone { "BQL" } else { "UBND" }));
            let authority = if zone {
                "Ban Quản lý các Khu kinh tế và Khu công nghiệp"
            } else if in_dn || day >= merger {
                "UBND thành phố Đà Nẵng"
            } else {
                "UBND tỉnh Quảng Nam"
            };
            Step {
                from: (k > 0).then(|| path[k - 1]),
                to,
                day,
                decision,
                authority: authority.into(),
                note: match to {
                    Stage::Proposed => "Đưa vào danh mục dự án kêu gọi đầu tư",
                    Stage::PolicyApproved => "Chấp thuận chủ trương đầu tư",
                    Stage::InvestorSelected => "Chấp thuận nhà đầu tư",
                    Stage::LandAllocated => "Giao đất, cho thuê đất để thực hiện dự án",
                    Stage::BuildingPermit => "Cấp giấy phép xây dựng",
                    Stage::UnderConstruction => "Khởi công xây dựng",
                    Stage::Operating => "Đưa công trình vào hoạt động",
                    Stage::Suspended => "Tạm ngừng thực hiện dự án",
                    Stage::Terminated => "Chấm dứt hoạt động dự án, thu hồi đất",
                },
            }
        })
        .collect()
}

/// VND per USD used for the indicative USD capital.
const VND_PER_USD: f64 = 25_400.0;

/// A project site before attributes.
struct Site {
    name: String,
    function: &'static str,
    shape: Polygon<f64>,
    /// Billion VND per hectare, indicative.
    rate: f64,
}

/// The polygon of `ring`, taken into `placed` unless its box meets one
/// already there.
fn claim(ring: Vec<C>, placed: &mut Vec<Polygon<f64>>) -> Option<Polygon<f64>> {
    let shape = polygon(ring);
    if overlaps_any(&shape, placed) {
        return None;
    }
    placed.push(shape.clone());
    Some(shape)
}

/// A rectangle of `ha` hectares, `aspect` times as long as deep, centred
/// on `at` and turned by `angle` (radians).
fn ha_ring(at: C, ha: f64, aspect: f64, angle: f64) -> Vec<C> {
    let wd = (ha * 10_000.0 * aspect).sqrt();
    rect_ring(at, wd, wd / aspect, angle)
}

/// [`ha_ring`] rounded to the millimetre.
fn site_ring(at: C, ha: f64, aspect: f64, angle: f64) -> Vec<C> {
    ha_ring(at, ha, aspect, angle)
        .into_iter()
        .map(mm_c)
        .collect()
}

fn overlaps_any(shape: &Polygon<f64>, placed: &[Polygon<f64>]) -> bool {
    let Some(b) = shape.bounding_rect() else {
        return true;
    };
    placed.iter().any(|p| {
        p.bounding_rect().is_some_and(|q| {
            b.min().x < q.max().x
                && q.min().x < b.max().x
                && b.min().y < q.max().y
                && q.min().y < b.max().y
        })
    })
}

/// Short name of the commune at a point ("Điện Dương").
fn place_name(world: &World, p: C) -> String {
    world
        .locate(p)
        .map(|i| world.communes[i].short.clone())
        .unwrap_or_else(|| "Quảng Nam".to_owned())
}

fn sites(world: &World) -> Vec<Site> {
    let mut rng = stream(world.seed, &[0x9201]);
    let mut placed: Vec<Polygon<f64>> = Vec::new();
    let mut out: Vec<Site> = Vec::new();
    let on_land = |p: C| world.province_at(p).is_some();
    // 1. Inside industrial zones and parks.
    let zones: Vec<usize> = (0..world.zones.len())
        .filter(|&i| world.zones[i].closed)
        .collect();
    let weights: Vec<f64> = zones
        .iter()
        .map(|&i| world.zones[i].shape.unsigned_area().sqrt())
        .collect();
    const PRODUCTS: &[(&str, &str, f64)] = &[
        ("Nhà máy sản xuất linh kiện điện tử", "Công nghiệp", 30.0),
        ("Nhà máy cơ khí chế tạo", "Công nghiệp", 22.0),
        ("Nhà máy chế biến thủy sản xuất khẩu", "Công nghiệp", 15.0),
        ("Nhà máy may mặc xuất khẩu", "Công nghiệp", 10.0),
        ("Nhà máy sản xuất phụ tùng ô tô", "Công nghiệp", 28.0),
        ("Nhà máy dược phẩm", "Công nghiệp", 35.0),
        ("Nhà máy sản xuất vật liệu xây dựng", "Công nghiệp", 12.0),
        ("Trung tâm kho vận", "Kho bãi – logistics", 12.0),
        (
            "Nhà xưởng xây sẵn cho thuê",
            "Hạ tầng khu công nghiệp",
            14.0,
        ),
        ("Nhà máy thiết bị bán dẫn", "Công nghiệp", 60.0),
    ];
    let mut tries = 0;
    while out.len() < 50 && tries < 5000 && !zones.is_empty() {
        tries += 1;
        let zi = zones[pick_index(rng.gen(), weights.iter().copied())];
        let z = &world.zones[zi];
        let Some(bb) = z.shape.bounding_rect() else {
            continue;
        };
        let zone_ha = z.shape.unsigned_area() / 10_000.0;
        let ha = rng.gen_range(1.5..25.0f64).min(zone_ha * 0.15).max(0.8);
        let aspect: f64 = rng.gen_range(1.0..2.0);
        let at = c(
            rng.gen_range(bb.min().x..bb.max().x),
            rng.gen_range(bb.min().y..bb.max().y),
        );
        let ring = site_ring(at, ha, aspect, rng.gen_range(-0.4..0.4));
        if !ring
            .iter()
            .all(|&p| z.index.contains(p) && world.province_at(p).is_some())
        {
            continue;
        }
        let Some(shape) = claim(ring, &mut placed) else {
            continue;
        };
        let (what, function, rate) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        out.push(Site {
            name: format!("{what} tại {}", z.name),
            function,
            shape,
            rate,
        });
    }
    // 2. In the open economic zone, outside its industrial zones.
    if let Some(kkt) = world.zones.iter().find(|z| z.kind == "khu kinh tế mở") {
        const KKT: &[(&str, &str, f64)] = &[
            (
                "Trung tâm logistics hàng không Chu Lai",
                "Kho bãi – logistics",
                20.0,
            ),
            (
                "Khu dịch vụ hậu cần cảng Chu Lai",
                "Kho bãi – logistics",
                18.0,
            ),
            ("Nhà máy điện mặt trời áp mái Chu Lai", "Năng lượng", 15.0),
            ("Khu đô thị dịch vụ Tam Hòa", "Nhà ở – khu đô thị", 45.0),
            (
                "Khu du lịch sinh thái Tam Tiến",
                "Du lịch – nghỉ dưỡng",
                30.0,
            ),
        ];
        let bb = kkt.shape.bounding_rect();
        let mut n = 0;
        let mut tries = 0;
        while n < 10 && tries < 3000 {
            tries += 1;
            let Some(bb) = bb else { break };
            let at = c(
                rng.gen_range(bb.min().x..bb.max().x),
                rng.gen_range(bb.min().y..bb.max().y),
            );
            if !kkt.index.contains(at) || !on_land(at) || world.reserved(at) {
                continue;
            }
            let ha: f64 = rng.gen_range(5.0..50.0);
            let aspect: f64 = rng.gen_range(1.0..2.0);
            let ring = site_ring(at, ha, aspect, rng.gen_range(-0.6..0.6));
            if !ring
                .iter()
                .all(|&p| kkt.index.contains(p) && !world.reserved(p))
            {
                continue;
            }
            let Some(shape) = claim(ring, &mut placed) else {
                continue;
            };
            let (what, function, rate) = KKT[n % KKT.len()];
            n += 1;
            out.push(Site {
                name: if n > KKT.len() {
                    format!("{what} (giai đoạn 2)")
                } else {
                    what.to_owned()
                },
                function,
                shape,
                rate,
            });
        }
    }
    // 3. Resorts along the coast of Điện Bàn, Hội An and Duy Xuyên.
    let south = ll(108.40, 15.80).map(|p| p.y).unwrap_or(f64::MIN);
    let north = ll(108.30, 15.99).map(|p| p.y).unwrap_or(f64::MAX);
    let segs: Vec<(C, C)> = world
        .coast
        .iter()
        .flat_map(|l| l.windows(2).map(|s| (s[0], s[1])))
        .filter(|(a, b)| {
            let y = (a.y + b.y) / 2.0;
            y > south && y < north && dist(*a, *b) > 300.0
        })
        .collect();
    let seg_w: Vec<f64> = segs.iter().map(|(a, b)| dist(*a, *b)).collect();
    let mut n = 0;
    let mut tries = 0;
    while n < 18 && tries < 3000 && !segs.is_empty() {
        tries += 1;
        let (a, b) = segs[pick_index(rng.gen(), seg_w.iter().copied())];
        let t: f64 = rng.gen();
        let p = c(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y));
        let len = dist(a, b);
        let dir = c((b.x - a.x) / len, (b.y - a.y) / len);
        let mut nrm = c(-dir.y, dir.x);
        if !on_land(c(p.x + nrm.x * 300.0, p.y + nrm.y * 300.0)) {
            nrm = c(-nrm.x, -nrm.y);
        }
        let long: f64 = rng.gen_range(250.0..800.0);
        let deep: f64 = rng.gen_range(150.0..400.0);
        let off = rng.gen_range(120.0..450.0) + deep / 2.0;
        let at = c(p.x + nrm.x * off, p.y + nrm.y * off);
        let ring: Vec<C> = rect_ring(at, long, deep, dir.y.atan2(dir.x))
            .into_iter()
            .map(mm_c)
            .collect();
        if !ring.iter().all(|&q| on_land(q)) {
            continue;
        }
        let Some(shape) = claim(ring, &mut placed) else {
            continue;
        };
        n += 1;
        let kind = [
            "Khu nghỉ dưỡng ven biển",
            "Khu du lịch sinh thái biển",
            "Tổ hợp khách sạn – biệt thự biển",
        ][rng.gen_range(0..3)];
        out.push(Site {
            name: format!("{kind} {}", place_name(world, at)),
            function: "Du lịch – nghỉ dưỡng",
            shape,
            rate: 40.0,
        });
    }
    // 4. Urban sites.
    const URBAN_USES: &[(&str, &str, f64)] = &[
        ("Trung tâm thương mại", "Thương mại – dịch vụ", 150.0),
        ("Khu nhà ở xã hội", "Nhà ở – khu đô thị", 60.0),
        ("Bệnh viện đa khoa quốc tế", "Y tế", 80.0),
        ("Trường liên cấp quốc tế", "Giáo dục – đào tạo", 50.0),
        (
            "Tòa văn phòng công nghệ thông tin",
            "Văn phòng – công nghệ thông tin",
            180.0,
        ),
        ("Khách sạn", "Thương mại – dịch vụ", 200.0),
        ("Khu đô thị mới", "Nhà ở – khu đô thị", 45.0),
    ];
    let aw: Vec<f64> = world.urban.iter().map(|a| a.weight).collect();
    let mut n = 0;
    let mut tries = 0;
    while n < 25 && tries < 3000 {
        tries += 1;
        let a = &world.urban[pick_index(rng.gen(), aw.iter().copied())];
        let (u, v) = (
            rng.gen_range(-a.zoning.0..a.zoning.0),
            rng.gen_range(-a.zoning.1..a.zoning.1),
        );
        let at = a.to_world(u, v);
        let (what, function, rate) = URBAN_USES[rng.gen_range(0..URBAN_USES.len())];
        let ha: f64 = if function == "Nhà ở – khu đô thị" {
            rng.gen_range(3.0..30.0)
        } else {
            rng.gen_range(0.5..6.0)
        };
        let aspect: f64 = rng.gen_range(1.0..1.8);
        let ring = site_ring(at, ha, aspect, a.angle);
        if !ring.iter().all(|&q| on_land(q) && !world.reserved(q))
            || world.corridors.within(at, 20.0)
        {
            continue;
        }
        let Some(shape) = claim(ring, &mut placed) else {
            continue;
        };
        n += 1;
        let street = a.street_name(Dir::H, a.grid.rows_over(v, v).start().to_owned());
        let name = if function == "Nhà ở – khu đô thị" || function == "Y tế" {
            format!("{what} {}", place_name(world, at))
        } else {
            format!("{what} {street}")
        };
        out.push(Site {
            name,
            function,
            shape,
            rate,
        });
    }
    // 5. Rural sites: agriculture, energy, logistics.
    const RURAL_USES: &[(&str, &str, f64)] = &[
        (
            "Khu nông nghiệp ứng dụng công nghệ cao",
            "Nông nghiệp công nghệ cao",
            3.0,
        ),
        ("Nhà máy điện mặt trời", "Năng lượng", 15.0),
        ("Trung tâm logistics", "Kho bãi – logistics", 12.0),
        ("Cụm công nghiệp", "Công nghiệp", 10.0),
    ];
    let lowland: Vec<(i64, i64)> = (0..world.cells.ny as i64)
        .flat_map(|y| (0..world.cells.nx as i64).map(move |x| (x, y)))
        .filter(|&(x, y)| world.cells.terrain_at(x, y) == Terrain::Lowland)
        .collect();
    let mut n = 0;
    let mut tries = 0;
    while n < 17 && tries < 3000 && !lowland.is_empty() {
        tries += 1;
        let (x, y) = lowland[rng.gen_range(0..lowland.len())];
        let o = world.cells.corner(x, y);
        let at = c(
            o.x + rng.gen_range(0.0..1000.0),
            o.y + rng.gen_range(0.0..1000.0),
        );
        let (what, function, rate) = RURAL_USES[rng.gen_range(0..RURAL_USES.len())];
        let ha: f64 = rng.gen_range(5.0..80.0);
        let aspect: f64 = rng.gen_range(1.0..2.0);
        let ring = site_ring(at, ha, aspect, rng.gen_range(-0.5..0.5));
        if !ring.iter().all(|&q| on_land(q) && !world.reserved(q))
            || world.corridors.within(at, 50.0)
        {
            continue;
        }
        let Some(shape) = claim(ring, &mut placed) else {
            continue;
        };
        n += 1;
        out.push(Site {
            name: format!("{what} {}", place_name(world, at)),
            function,
            shape,
            rate,
        });
    }
    out
}

/// The `investment_projects` layer, and each project's procedure (by
/// row).
pub(crate) fn investment_projects(
    world: &World,
) -> Result<(LayerData, Vec<Vec<Step>>), SampleError> {
    let mut l = Layer::new(
        "investment_projects",
        GeometryType::Polygon,
        &[
            ("name", FieldType::Text),
            ("status", FieldType::Text),
            ("stage", FieldType::Text),
            ("stage_date", FieldType::Date),
            ("capital_vnd", FieldType::Integer),
            ("capital_disbursed_vnd", FieldType::Integer),
            ("capital_usd", FieldType::Real),
            ("area_ha", FieldType::Real),
            ("function", FieldType::Text),
            ("zone_name", FieldType::Text),
            ("investor", FieldType::Text),
            ("approval_decision", FieldType::Text),
            ("next_deadline", FieldType::Date),
            ("next_deadline_what", FieldType::Text),
            ("plan_conflict", FieldType::Boolean),
            ("check_id", FieldType::Text),
            ("synthetic", FieldType::Boolean),
        ],
    );
    let mut rng = stream(world.seed, &[0x1417]);
    let sw: Vec<f64> = STAGES.iter().map(|s| s.1).collect();
    let mut procedures = Vec::new();
    for (i, s) in sites(world).into_iter().enumerate() {
        let stage = STAGES[pick_index(rng.gen(), sw.iter().copied())].0;
        let ha = (s.shape.unsigned_area() / 100.0).round() / 100.0;
        let capital = (ha * s.rate * rng.gen_range(0.6..1.6))
            .clamp(50.0, 20_000.0)
            .round() as i64
            * 1_000_000_000;
        let usd = (capital as f64 / VND_PER_USD / 1000.0).round() * 1000.0;
        let ext = &s.shape.exterior().0;
        let m = ring_centroid(&ext[..ext.len() - 1]);
        // The most specific zone holding the site's centre.
        let zone = world
            .zones
            .iter()
            .filter(|z| z.index.contains(m))
            .min_by(|a, b| a.shape.unsigned_area().total_cmp(&b.shape.unsigned_area()));
        let investor = (stage != Stage::Proposed).then(|| {
            format!(
                "{} {}",
                INVESTOR_A[rng.gen_range(0..INVESTOR_A.len())],
                INVESTOR_B[rng.gen_range(0..INVESTOR_B.len())]
            )
        });
        let steps = procedure(
            world.seed,
            i,
            stage,
            zone.is_some(),
            world.province_at(m) == Some(DN),
        );
        let last = steps.last().map(|s| s.day).unwrap_or_default();
        let reached = steps
            .iter()
            .rev()
            .find(|s| MAIN.contains(&s.to))
            .map_or(Stage::Proposed, |s| s.to);
        // Share of the capital disbursed by the stage reached.
        let share = match reached {
            Stage::Proposed | Stage::PolicyApproved => 0.0,
            Stage::InvestorSelected => rng.gen_range(0.0..0.05),
            Stage::LandAllocated => rng.gen_range(0.05..0.2),
            Stage::BuildingPermit => rng.gen_range(0.1..0.3),
            Stage::UnderConstruction => rng.gen_range(0.3..0.8),
            _ => rng.gen_range(0.8..1.0),
        };
        let disbursed = ((capital as f64 * share) / 1e6).round() as i64 * 1_000_000;
        let approval = steps.iter().rev().find_map(|s| s.decision.clone());
        let deadline = stage.deadline().map(|(months, _)| {
            (last + chrono::Months::new(months))
                .format("%Y-%m-%d")
                .to_string()
        });
        l.push(
            Geometry::Polygon(s.shape),
            vec![
                text(s.name),
                text(stage.vi()),
                text(stage.code()),
                text(last.format("%Y-%m-%d").to_string()),
                Value::Int(capital),
                Value::Int(disbursed),
                Value::Real(usd),
                Value::Real(ha),
                text(s.function),
                opt_text(zone.map(|z| z.name.clone())),
                opt_text(investor),
                opt_text(approval),
                opt_text(deadline.clone()),
                opt_text(deadline.map(|_| stage.due_text())),
                Value::Null,
                Value::Null,
                Value::Bool(true),
            ],
        )?;
        procedures.push(steps);
    }
    Ok((l.finish()?, procedures))
}
