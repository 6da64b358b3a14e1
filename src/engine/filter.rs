//! Attribute filters: an expression over field names ([`Expr`]), compiled
//! against a layer schema into field indexes and typed literals
//! ([`Filter`]), then evaluated per row without allocation.
//!
//! Property names are looked up in the schema, never evaluated; unknown
//! fields and type mismatches are errors naming the field.

use crate::model::{grow_rect, FieldDef, FieldType, LayerData, ValueRef};
use geo::{BoundingRect, Intersects, Relate};
use geo_types::{Geometry, Rect};
use std::sync::Arc;

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text (also dates as ISO 8601).
    Text(String),
    /// Number.
    Number(f64),
    /// Boolean.
    Bool(bool),
}

/// Comparison operators, of filters and of the map style alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// = (`==` in a style)
    Eq,
    /// <> (`!=` in a style)
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

/// A filter over field names, as parsed from a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// Any must hold.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `field op literal`.
    Cmp(String, CmpOp, Literal),
    /// `field IN (a, b, ...)`.
    In(String, Vec<Literal>),
    /// `field BETWEEN lo AND hi`.
    Between(String, Literal, Literal),
    /// `field LIKE pattern` (`%` any run, `_` one character).
    Like {
        /// Field.
        field: String,
        /// Pattern.
        pattern: String,
        /// Case-insensitive (`ILIKE`).
        case_insensitive: bool,
    },
    /// `field IS NULL`.
    IsNull(String),
    /// The feature id is one of these (WFS `ResourceId`, `FeatureId`).
    Fids(Vec<i64>),
    /// A spatial relation between the feature's geometry and a geometry
    /// given in Web Mercator (callers transform request geometry first).
    Spatial(SpatialOp, Geometry<f64>),
}

/// Spatial relations a filter can test (OGC Filter Encoding names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpatialOp {
    /// The feature intersects the envelope of the geometry (`BBOX`).
    BBox,
    /// Shares at least one point.
    Intersects,
    /// Shares no point.
    Disjoint,
    /// The feature lies within the geometry.
    Within,
    /// The feature contains the geometry.
    Contains,
    /// Boundaries touch, interiors do not meet.
    Touches,
    /// DE-9IM crosses.
    Crosses,
    /// DE-9IM overlaps.
    Overlaps,
    /// Topologically equal.
    Equals,
    /// Within this many metres on the ground.
    DWithin(f64),
    /// Farther than this many metres on the ground.
    Beyond(f64),
}

impl Expr {
    /// A rectangle (Web Mercator) every feature matching the expression
    /// must intersect, when the expression implies one: a spatial predicate
    /// other than `Disjoint`/`Beyond`, alone or inside an `And`. Callers
    /// use it to let the R-tree narrow the scan before the exact filter.
    pub fn envelope_hint(&self) -> Option<Rect<f64>> {
        match self {
            Expr::Spatial(SpatialOp::Disjoint | SpatialOp::Beyond(_), _) => None,
            Expr::Spatial(op, g) => {
                let r = g.bounding_rect()?;
                let pad = match op {
                    SpatialOp::DWithin(d) => d / ground_scale(&r),
                    _ => 0.0,
                };
                Some(grow_rect(r, pad))
            }
            Expr::And(es) => es.iter().find_map(Expr::envelope_hint),
            _ => None,
        }
    }
}

/// Metres on the ground per Web Mercator unit at the centre of `r`
/// (cos of the latitude); a distance filter measures with it, which is
/// exact to well under 0.1 % over the few kilometres such filters span.
fn ground_scale(r: &Rect<f64>) -> f64 {
    let y = r.center().y;
    let lat = 2.0 * (y / 6_378_137.0).exp().atan() - std::f64::consts::FRAC_PI_2;
    lat.cos().max(1e-6)
}

/// A spatial operand compiled once: the geometry and its envelope.
#[derive(Debug)]
pub struct SpatialArg {
    geom: Geometry<f64>,
    rect: Rect<f64>,
    scale: f64,
}

/// A filter could not be compiled against a schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// The field is not in the layer.
    #[error("unknown property '{0}'")]
    UnknownField(String),
    /// The literal does not fit the field.
    #[error("property '{field}' is {ty}, it cannot be compared with {literal}")]
    Type {
        /// Field.
        field: String,
        /// Its type.
        ty: &'static str,
        /// The literal as written.
        literal: String,
    },
    /// A limit was exceeded.
    #[error("{0}")]
    TooComplex(String),
    /// An operand that cannot be evaluated (an empty geometry, a negative
    /// distance).
    #[error("{0}")]
    Invalid(String),
}

/// A compiled filter: field indexes and literals typed for their fields.
#[derive(Debug, Clone)]
pub enum Filter {
    /// All.
    And(Vec<Filter>),
    /// Any.
    Or(Vec<Filter>),
    /// Not.
    Not(Box<Filter>),
    /// Numeric comparison.
    Num(usize, CmpOp, f64),
    /// Text comparison (also dates: ISO text compares in date order).
    Text(usize, CmpOp, String),
    /// Boolean equality.
    Bool(usize, bool),
    /// Numeric membership.
    InNum(usize, Vec<f64>),
    /// Text membership.
    InText(usize, Vec<String>),
    /// LIKE.
    Like(usize, Vec<LikeToken>, bool),
    /// IS NULL.
    IsNull(usize),
    /// Feature id in a sorted list.
    Fids(Arc<Vec<i64>>),
    /// Spatial relation with a geometry in Web Mercator.
    Spatial(SpatialOp, Arc<SpatialArg>),
}

/// A piece of a LIKE pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum LikeToken {
    /// Literal text.
    Lit(String),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Any,
}

/// Limits on filter size (config values).
#[derive(Debug, Clone, Copy)]
pub struct FilterLimits {
    /// Maximum nesting depth.
    pub max_depth: usize,
    /// Maximum number of nodes.
    pub max_nodes: usize,
    /// Maximum IN-list length.
    pub max_in_list: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_depth: 16,
            max_nodes: 256,
            max_in_list: 1000,
        }
    }
}

fn lit_text(l: &Literal) -> String {
    match l {
        Literal::Text(s) => format!("'{s}'"),
        Literal::Number(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}

impl Filter {
    /// Compiles an expression against a schema, within limits.
    pub fn compile(
        expr: &Expr,
        fields: &[FieldDef],
        limits: &FilterLimits,
    ) -> Result<Filter, FilterError> {
        let mut nodes = 0;
        compile(expr, fields, limits, 0, &mut nodes)
    }

    /// The fids (sorted) every matching feature is among, when the filter
    /// names them: a fid list alone or inside an `And`. Callers look those
    /// features up instead of scanning the layer.
    pub fn fid_hint(&self) -> Option<&[i64]> {
        match self {
            Filter::Fids(fids) => Some(fids),
            Filter::And(fs) => fs.iter().find_map(Filter::fid_hint),
            _ => None,
        }
    }

    /// Evaluates the filter on a row.
    pub fn matches(&self, data: &LayerData, row: usize) -> bool {
        match self {
            Filter::And(fs) => fs.iter().all(|f| f.matches(data, row)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(data, row)),
            Filter::Not(f) => !f.matches(data, row),
            Filter::Num(c, op, x) => match data.value(row, *c).as_f64() {
                Some(v) => cmp(v.partial_cmp(x), *op),
                None => false,
            },
            Filter::Text(c, op, s) => match data.value(row, *c) {
                ValueRef::Text(v) => cmp(Some(v.cmp(s.as_str())), *op),
                _ => false,
            },
            Filter::Bool(c, b) => data.value(row, *c) == ValueRef::Bool(*b),
            Filter::InNum(c, xs) => data
                .value(row, *c)
                .as_f64()
                .is_some_and(|v| xs.contains(&v)),
            Filter::InText(c, xs) => match data.value(row, *c) {
                ValueRef::Text(v) => xs.iter().any(|x| x == v),
                _ => false,
            },
            Filter::Like(c, toks, ci) => match data.value(row, *c) {
                ValueRef::Text(v) => {
                    if *ci {
                        like(&v.to_lowercase(), toks)
                    } else {
                        like(v, toks)
                    }
                }
                _ => false,
            },
            Filter::IsNull(c) => data.value(row, *c) == ValueRef::Null,
            Filter::Fids(fids) => fids.binary_search(&data.fids[row]).is_ok(),
            Filter::Spatial(op, arg) => spatial_matches(*op, arg, data, row),
        }
    }
}

fn spatial_matches(op: SpatialOp, arg: &SpatialArg, data: &LayerData, row: usize) -> bool {
    let g = &data.geometry;
    let Some(fb) = g.bbox(row) else {
        // No geometry: only the negative relations hold.
        return matches!(op, SpatialOp::Disjoint | SpatialOp::Beyond(_));
    };
    let pad = match op {
        SpatialOp::DWithin(d) | SpatialOp::Beyond(d) => d / arg.scale,
        _ => 0.0,
    };
    let near = fb.intersects(&grow_rect(arg.rect, pad));
    match op {
        SpatialOp::BBox => near && g.intersects_rect(row, &arg.rect),
        SpatialOp::Disjoint | SpatialOp::Beyond(_) if !near => true,
        _ if !near => false,
        _ => {
            let Some(fg) = g.to_geo(row, data.geometry_type) else {
                return false;
            };
            match op {
                SpatialOp::Intersects => fg.intersects(&arg.geom),
                SpatialOp::Disjoint => !fg.intersects(&arg.geom),
                SpatialOp::DWithin(d) => distance(&fg, &arg.geom) * arg.scale <= d,
                SpatialOp::Beyond(d) => distance(&fg, &arg.geom) * arg.scale > d,
                _ => {
                    let m = fg.relate(&arg.geom);
                    match op {
                        SpatialOp::Within => m.is_within(),
                        SpatialOp::Contains => m.is_contains(),
                        SpatialOp::Touches => m.is_touches(),
                        SpatialOp::Crosses => m.is_crosses(),
                        SpatialOp::Overlaps => m.is_overlaps(),
                        SpatialOp::Equals => m.is_equal_topo(),
                        _ => false,
                    }
                }
            }
        }
    }
}

fn distance(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    use geo::{Distance, Euclidean};
    if a.intersects(b) {
        return 0.0;
    }
    Euclidean.distance(a, b)
}

fn cmp(o: Option<std::cmp::Ordering>, op: CmpOp) -> bool {
    o.is_some_and(|o| op.holds(o))
}

impl CmpOp {
    /// Whether `a op b` holds when `a` compares to `b` as `o`.
    pub fn holds(self, o: std::cmp::Ordering) -> bool {
        match self {
            CmpOp::Eq => o.is_eq(),
            CmpOp::Ne => o.is_ne(),
            CmpOp::Lt => o.is_lt(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            CmpOp::Ge => o.is_ge(),
        }
    }
}

fn compile(
    e: &Expr,
    fields: &[FieldDef],
    limits: &FilterLimits,
    depth: usize,
    nodes: &mut usize,
) -> Result<Filter, FilterError> {
    *nodes += 1;
    if depth > limits.max_depth {
        return Err(FilterError::TooComplex(format!(
            "filter nesting exceeds the limit of {} levels",
            limits.max_depth
        )));
    }
    if *nodes > limits.max_nodes {
        return Err(FilterError::TooComplex(format!(
            "filter exceeds the limit of {} nodes",
            limits.max_nodes
        )));
    }
    let field = |name: &str| -> Result<(usize, FieldType), FilterError> {
        fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| (i, fields[i].ty))
            .ok_or_else(|| FilterError::UnknownField(name.to_owned()))
    };
    let type_err = |name: &str, ty: FieldType, l: &Literal| FilterError::Type {
        field: name.to_owned(),
        ty: ty.json_type(),
        literal: lit_text(l),
    };
    let sub = |es: &[Expr], nodes: &mut usize| -> Result<Vec<Filter>, FilterError> {
        es.iter()
            .map(|x| compile(x, fields, limits, depth + 1, nodes))
            .collect()
    };
    Ok(match e {
        Expr::And(es) => Filter::And(sub(es, nodes)?),
        Expr::Or(es) => Filter::Or(sub(es, nodes)?),
        Expr::Not(x) => Filter::Not(Box::new(compile(x, fields, limits, depth + 1, nodes)?)),
        Expr::Cmp(name, op, l) => {
            let (i, ty) = field(name)?;
            match (ty, l) {
                (FieldType::Integer | FieldType::Real, Literal::Number(n)) => {
                    Filter::Num(i, *op, *n)
                }
                // Numbers given as text ('12') still compare numerically.
                (FieldType::Integer | FieldType::Real, Literal::Text(s)) => {
                    Filter::Num(i, *op, s.trim().parse().map_err(|_| type_err(name, ty, l))?)
                }
                (FieldType::Boolean, Literal::Bool(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                    let f = Filter::Bool(i, *b);
                    if *op == CmpOp::Ne {
                        Filter::Not(Box::new(f))
                    } else {
                        f
                    }
                }
                (FieldType::Boolean, Literal::Text(s))
                    if matches!(op, CmpOp::Eq | CmpOp::Ne)
                        && matches!(s.as_str(), "true" | "false") =>
                {
                    let f = Filter::Bool(i, s == "true");
                    if *op == CmpOp::Ne {
                        Filter::Not(Box::new(f))
                    } else {
                        f
                    }
                }
                (FieldType::Text | FieldType::Date | FieldType::DateTime, Literal::Text(s)) => {
                    Filter::Text(i, *op, crate::model::nfc(s))
                }
                (FieldType::Text, Literal::Number(n)) => Filter::Text(i, *op, n.to_string()),
                _ => return Err(type_err(name, ty, l)),
            }
        }
        Expr::Between(name, lo, hi) => {
            let a = compile(
                &Expr::Cmp(name.clone(), CmpOp::Ge, lo.clone()),
                fields,
                limits,
                depth + 1,
                nodes,
            )?;
            let b = compile(
                &Expr::Cmp(name.clone(), CmpOp::Le, hi.clone()),
                fields,
                limits,
                depth + 1,
                nodes,
            )?;
            Filter::And(vec![a, b])
        }
        Expr::In(name, ls) => {
            if ls.len() > limits.max_in_list {
                return Err(FilterError::TooComplex(format!(
                    "IN list of {} values exceeds the limit of {}",
                    ls.len(),
                    limits.max_in_list
                )));
            }
            let (i, ty) = field(name)?;
            match ty {
                FieldType::Integer | FieldType::Real => Filter::InNum(
                    i,
                    ls.iter()
                        .map(|l| match l {
                            Literal::Number(n) => Ok(*n),
                            Literal::Text(s) => s.trim().parse().map_err(|_| type_err(name, ty, l)),
                            _ => Err(type_err(name, ty, l)),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                FieldType::Text | FieldType::Date | FieldType::DateTime => Filter::InText(
                    i,
                    ls.iter()
                        .map(|l| match l {
                            Literal::Text(s) => Ok(crate::model::nfc(s)),
                            _ => Err(type_err(name, ty, l)),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                FieldType::Boolean => {
                    return Err(type_err(
                        name,
                        ty,
                        ls.first().unwrap_or(&Literal::Bool(true)),
                    ))
                }
            }
        }
        Expr::Like {
            field: name,
            pattern,
            case_insensitive,
        } => {
            let (i, ty) = field(name)?;
            if ty != FieldType::Text && ty != FieldType::Date && ty != FieldType::DateTime {
                return Err(type_err(name, ty, &Literal::Text(pattern.clone())));
            }
            let p = crate::model::nfc(pattern);
            let p = if *case_insensitive {
                p.to_lowercase()
            } else {
                p
            };
            Filter::Like(i, like_tokens(&p), *case_insensitive)
        }
        Expr::IsNull(name) => Filter::IsNull(field(name)?.0),
        Expr::Fids(fids) => {
            if fids.len() > limits.max_in_list {
                return Err(FilterError::TooComplex(format!(
                    "{} feature ids exceed the limit of {}",
                    fids.len(),
                    limits.max_in_list
                )));
            }
            let mut v = fids.clone();
            v.sort_unstable();
            v.dedup();
            Filter::Fids(Arc::new(v))
        }
        Expr::Spatial(op, g) => {
            let rect = g.bounding_rect().ok_or_else(|| {
                FilterError::Invalid("a spatial filter has an empty geometry".into())
            })?;
            if let SpatialOp::DWithin(d) | SpatialOp::Beyond(d) = op {
                if !d.is_finite() || *d < 0.0 {
                    return Err(FilterError::Invalid(format!(
                        "distance {d} must be a finite non-negative number of metres"
                    )));
                }
            }
            Filter::Spatial(
                *op,
                Arc::new(SpatialArg {
                    scale: ground_scale(&rect),
                    geom: g.clone(),
                    rect,
                }),
            )
        }
    })
}

fn like_tokens(p: &str) -> Vec<LikeToken> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    lit.push(n)
                }
            }
            '%' | '_' => {
                if !lit.is_empty() {
                    out.push(LikeToken::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '%' {
                    LikeToken::Any
                } else {
                    LikeToken::One
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(LikeToken::Lit(lit));
    }
    out
}

/// Matches a LIKE pattern in one pass with a single backtrack point (the
/// last `%` seen), so time is at most text length × pattern length: a
/// hostile pattern such as `%a%a%a%a%…b` cannot take exponential time.
fn like(s: &str, toks: &[LikeToken]) -> bool {
    let next_len = |i: usize| s[i..].chars().next().map_or(0, char::len_utf8);
    let (mut si, mut ti) = (0usize, 0usize);
    // After a `%`: the token to resume from and the text position it
    // absorbed up to.
    let mut back: Option<(usize, usize)> = None;
    loop {
        if let Some(t) = toks.get(ti) {
            match t {
                LikeToken::Any => {
                    back = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                LikeToken::Lit(l) if s[si..].starts_with(l.as_str()) => {
                    si += l.len();
                    ti += 1;
                    continue;
                }
                LikeToken::One if si < s.len() => {
                    si += next_len(si);
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if si == s.len() {
            return true;
        }
        // Mismatch: let the last `%` absorb one more character.
        match back {
            Some((bt, bs)) if bs < s.len() => {
                let nbs = bs + next_len(bs);
                back = Some((bt, nbs));
                ti = bt;
                si = nbs;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_handles_runs_single_characters_and_vietnamese() {
        let t = like_tokens("Phường %An");
        assert!(like("Phường Minh An", &t));
        assert!(!like("Xã Minh An", &t));
        assert!(like("ODT", &like_tokens("O_T")));
        assert!(!like("ODDT", &like_tokens("O_T")));
        assert!(like("a%b", &like_tokens("a\\%b")));
        assert!(like("Đà Nẵng", &like_tokens("%Nẵng")));
        assert!(like("Đà Nẵng", &like_tokens("_à%")));
        assert!(like("", &like_tokens("%")));
        assert!(!like("", &like_tokens("_")));
        assert!(like("abcabc", &like_tokens("%bc")));
        assert!(like("xaby", &like_tokens("%a_y")));
        assert!(!like("xab", &like_tokens("%a_y")));
        assert!(like("Hội An", &like_tokens("%An")));
        assert!(like("abc", &like_tokens("%")));
        assert!(like("aXbXc", &like_tokens("a%b%c")));
        assert!(!like("aXbXd", &like_tokens("a%b%c")));
        assert!(like("mississippi", &like_tokens("m%iss%ppi")));
    }

    #[test]
    fn a_hostile_like_pattern_is_matched_in_polynomial_time() {
        let text = "a".repeat(5000);
        let pattern = format!("{}b", "%a".repeat(200));
        let t = std::time::Instant::now();
        assert!(!like(&text, &like_tokens(&pattern)));
        assert!(like(&(text.clone() + "b"), &like_tokens(&pattern)));
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named() {
        let fields = vec![FieldDef::new("legal_area", FieldType::Real)];
        let l = FilterLimits::default();
        let e = Filter::compile(
            &Expr::Cmp("area".into(), CmpOp::Gt, Literal::Number(1.0)),
            &fields,
            &l,
        )
        .unwrap_err();
        assert_eq!(e, FilterError::UnknownField("area".into()));
        let e = Filter::compile(
            &Expr::Cmp("legal_area".into(), CmpOp::Gt, Literal::Text("big".into())),
            &fields,
            &l,
        )
        .unwrap_err();
        assert!(e.to_string().contains("legal_area"));
    }

    #[test]
    fn limits_on_in_lists_and_depth_are_enforced() {
        let fields = vec![FieldDef::new("code", FieldType::Text)];
        let l = FilterLimits {
            max_depth: 3,
            max_nodes: 100,
            max_in_list: 2,
        };
        let e = Expr::In("code".into(), vec![Literal::Text("a".into()); 3]);
        assert!(matches!(
            Filter::compile(&e, &fields, &l),
            Err(FilterError::TooComplex(_))
        ));
        let mut deep = Expr::IsNull("code".into());
        for _ in 0..5 {
            deep = Expr::Not(Box::new(deep));
        }
        assert!(matches!(
            Filter::compile(&deep, &fields, &l),
            Err(FilterError::TooComplex(_))
        ));
    }

    fn squares() -> LayerData {
        use crate::model::{GeometryType, LayerDataBuilder};
        // A row of 10 m squares along x (in any metric frame near the
        // equator, where the ground scale of Web Mercator is ~1).
        let mut b = LayerDataBuilder::new("sq", 3857, GeometryType::Polygon, vec![]);
        for i in 0..10 {
            let x = i as f64 * 10.0;
            let r = Rect::new(
                geo_types::coord! {x: x, y: 0.0},
                geo_types::coord! {x: x + 10.0, y: 10.0},
            );
            b.push(i + 1, Some(&Geometry::Polygon(r.to_polygon())), vec![])
                .unwrap();
        }
        b.finish().unwrap()
    }

    fn hits(d: &LayerData, e: Expr) -> Vec<i64> {
        let f = Filter::compile(&e, &[], &FilterLimits::default()).unwrap();
        (0..d.len())
            .filter(|&r| f.matches(d, r))
            .map(|r| d.fids[r])
            .collect()
    }

    #[test]
    fn spatial_relations_follow_de9im_and_distances_are_in_metres() {
        let d = squares();
        // A box over squares 3..=5 (x 25..45), inside the row's height.
        let g = Geometry::Polygon(
            Rect::new(
                geo_types::coord! {x: 25.0, y: 2.0},
                geo_types::coord! {x: 45.0, y: 8.0},
            )
            .to_polygon(),
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Intersects, g.clone())),
            vec![3, 4, 5]
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::BBox, g.clone())),
            vec![3, 4, 5]
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Disjoint, g.clone())),
            vec![1, 2, 6, 7, 8, 9, 10]
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Overlaps, g.clone())),
            vec![3, 4, 5]
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Contains, g.clone())),
            Vec::<i64>::new()
        );
        let inner = Geometry::Polygon(
            Rect::new(
                geo_types::coord! {x: 31.0, y: 1.0},
                geo_types::coord! {x: 39.0, y: 9.0},
            )
            .to_polygon(),
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Contains, inner.clone())),
            vec![4]
        );
        let big = Geometry::Polygon(
            Rect::new(
                geo_types::coord! {x: 19.0, y: -1.0},
                geo_types::coord! {x: 41.0, y: 11.0},
            )
            .to_polygon(),
        );
        assert_eq!(hits(&d, Expr::Spatial(SpatialOp::Within, big)), vec![3, 4]);
        // The shared edge x = 50 touches squares 5 and 6.
        let edge =
            Geometry::LineString(geo_types::LineString::from(vec![(50.0, 0.0), (50.0, 10.0)]));
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::Touches, edge)),
            vec![5, 6]
        );
        // A point 12 m right of the row: square 10 is 12 m away.
        let p = Geometry::Point(geo_types::point!(x: 112.0, y: 5.0));
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::DWithin(12.5), p.clone())),
            vec![10]
        );
        assert_eq!(
            hits(&d, Expr::Spatial(SpatialOp::DWithin(11.5), p.clone())),
            Vec::<i64>::new()
        );
        assert_eq!(hits(&d, Expr::Spatial(SpatialOp::Beyond(30.0), p)).len(), 8);
        assert_eq!(hits(&d, Expr::Fids(vec![7, 2, 99])), vec![2, 7]);
    }
}
