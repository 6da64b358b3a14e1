//! The MapLibre style subset of `styles/README.md`, compiled once for the
//! map renderer: layer types `fill`, `line`, `circle`, `symbol` (and
//! `background`, which WMS ignores: its maps are transparent or `BGCOLOR`),
//! `filter`, `minzoom`/`maxzoom`, `visibility`, and the expressions `get`,
//! `match`, `==`/`!=`/`<`/`<=`/`>`/`>=`, `all`/`any`/`!`, `case`,
//! `coalesce`, `concat`, `to-string`, `to-number`, `round`, `zoom`,
//! `literal` and `interpolate` (`linear`) over `zoom`.
//!
//! A style layer outside the subset is refused when the style is compiled,
//! with its id in the error, so a style edit cannot silently drop a layer.
//! Evaluation reads attributes straight from the engine's columns (no
//! allocation for the common `get`/`match`/`==` cases).

use crate::model::{LayerData, ValueRef};
use serde_json::Value as Json;
use std::borrow::Cow;

/// Errors compiling a style.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StyleError {
    /// The JSON is not a style of the supported subset.
    #[error("style layer '{layer}': {msg}")]
    Unsupported {
        /// Style layer id.
        layer: String,
        /// What is wrong.
        msg: String,
    },
    /// The document is not a style at all.
    #[error("not a MapLibre style: {0}")]
    NotAStyle(String),
}

/// A value produced by an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// null / missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Number.
    Num(f64),
    /// String (borrowed from the data or the style when possible).
    Str(Cow<'a, str>),
    /// A colour (from `interpolate` over colours).
    Color(Rgba),
}

impl Val<'_> {
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            _ => true,
        }
    }

    /// The value as a number, when it is one.
    pub fn num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The value as text (`to-string` semantics).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Val::Null => Cow::Borrowed(""),
            Val::Bool(b) => Cow::Owned(b.to_string()),
            Val::Num(n) => Cow::Owned(fmt_num(*n)),
            Val::Str(s) => Cow::Borrowed(s.as_ref()),
            Val::Color(c) => Cow::Owned(format!(
                "rgba({},{},{},{})",
                c.r,
                c.g,
                c.b,
                f64::from(c.a) / 255.0
            )),
        }
    }

    /// The value as a colour (strings are parsed as CSS colours).
    pub fn color(&self) -> Option<Rgba> {
        match self {
            Val::Color(c) => Some(*c),
            Val::Str(s) => Rgba::parse(s),
            _ => None,
        }
    }

    fn into_owned(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Num(n) => Val::Num(n),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Color(c) => Val::Color(c),
        }
    }
}

/// Numbers as MapLibre prints them: integers without a fraction.
fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// An 8-bit RGBA colour (not premultiplied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (255 opaque).
    pub a: u8,
}

impl Rgba {
    /// Parses `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(r,g,b)`, `rgba(r,g,b,a)`
    /// and a few names (`white`, `black`, `transparent`, ...).
    pub fn parse(s: &str) -> Option<Rgba> {
        let s = s.trim();
        if let Some(hex) = s.strip_prefix('#') {
            let v = |i: usize, n: usize| u8::from_str_radix(hex.get(i..i + n)?, 16).ok();
            return match hex.len() {
                3 => Some(Rgba {
                    r: v(0, 1)? * 17,
                    g: v(1, 1)? * 17,
                    b: v(2, 1)? * 17,
                    a: 255,
                }),
                6 | 8 => Some(Rgba {
                    r: v(0, 2)?,
                    g: v(2, 2)?,
                    b: v(4, 2)?,
                    a: if hex.len() == 8 { v(6, 2)? } else { 255 },
                }),
                _ => None,
            };
        }
        let lower = s.to_ascii_lowercase();
        if let Some(inner) = lower
            .strip_prefix("rgba(")
            .or_else(|| lower.strip_prefix("rgb("))
            .and_then(|r| r.strip_suffix(')'))
        {
            let parts: Vec<f64> = inner
                .split(',')
                .map(|p| p.trim().parse::<f64>().ok())
                .collect::<Option<_>>()?;
            let c = |x: f64| x.round().clamp(0.0, 255.0) as u8;
            return match parts.as_slice() {
                [r, g, b] => Some(Rgba {
                    r: c(*r),
                    g: c(*g),
                    b: c(*b),
                    a: 255,
                }),
                [r, g, b, a] => Some(Rgba {
                    r: c(*r),
                    g: c(*g),
                    b: c(*b),
                    a: c(a * 255.0),
                }),
                _ => None,
            };
        }
        let (r, g, b, a) = match lower.as_str() {
            "white" => (255, 255, 255, 255),
            "black" => (0, 0, 0, 255),
            "red" => (255, 0, 0, 255),
            "green" => (0, 128, 0, 255),
            "blue" => (0, 0, 255, 255),
            "gray" | "grey" => (128, 128, 128, 255),
            "transparent" => (0, 0, 0, 0),
            _ => return None,
        };
        Some(Rgba { r, g, b, a })
    }

    /// This colour with its alpha multiplied by `opacity` (0..1).
    pub fn with_opacity(self, opacity: f64) -> Rgba {
        Rgba {
            a: (f64::from(self.a) * opacity.clamp(0.0, 1.0)).round() as u8,
            ..self
        }
    }

    /// `#rrggbb` (alpha dropped).
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// The feature an expression is evaluated for (or none: legends).
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// Map zoom (MapLibre zoom, 512-pixel tiles).
    pub zoom: f64,
    /// The feature's attributes: the layer data and the row.
    pub feature: Option<(&'a LayerData, usize)>,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant.
    Lit(Val<'static>),
    /// `["get", name]`.
    Get(String),
    /// `["zoom"]`.
    Zoom,
    /// `["match", input, labels, out, ..., default]`.
    Match {
        /// The input.
        input: Box<Expr>,
        /// Labels (one or more per arm) and outputs.
        arms: Vec<MatchArm>,
        /// The fallback.
        default: Box<Expr>,
    },
    /// Comparisons: `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `["all", ...]`.
    All(Vec<Expr>),
    /// `["any", ...]`.
    Any(Vec<Expr>),
    /// `["!", e]`.
    Not(Box<Expr>),
    /// `["case", cond, out, ..., default]`.
    Case(Vec<(Expr, Expr)>, Box<Expr>),
    /// `["coalesce", ...]`.
    Coalesce(Vec<Expr>),
    /// `["concat", ...]`.
    Concat(Vec<Expr>),
    /// `["to-string", e]`.
    ToString(Box<Expr>),
    /// `["to-number", e]`.
    ToNumber(Box<Expr>),
    /// `["round", e]`.
    Round(Box<Expr>),
    /// `["interpolate", ["linear"], input, z0, v0, z1, v1, ...]`.
    Interpolate(Box<Expr>, Vec<(f64, Expr)>),
}

/// One arm of a `match`: its labels and output.
pub type MatchArm = (Vec<Val<'static>>, Expr);

pub use crate::engine::filter::CmpOp;

fn lit(v: &Json) -> Option<Val<'static>> {
    Some(match v {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Number(n) => Val::Num(n.as_f64()?),
        Json::String(s) => Val::Str(Cow::Owned(s.clone())),
        _ => return None,
    })
}

impl Expr {
    /// Compiles a JSON expression (or literal).
    pub fn compile(v: &Json) -> Result<Expr, String> {
        let Json::Array(a) = v else {
            return lit(v)
                .map(Expr::Lit)
                .ok_or_else(|| format!("unsupported value {v}"));
        };
        let Some(op) = a.first().and_then(Json::as_str) else {
            return Err(format!("expression without an operator: {v}"));
        };
        let args = &a[1..];
        let arg = |i: usize| -> Result<Expr, String> {
            Expr::compile(
                args.get(i)
                    .ok_or_else(|| format!("'{op}' lacks argument {i}"))?,
            )
        };
        let boxed = |i: usize| arg(i).map(Box::new);
        let all = || {
            args.iter()
                .map(Expr::compile)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match op {
            "get" => match args {
                [Json::String(s)] => Expr::Get(s.clone()),
                _ => return Err("'get' takes one property name (no object)".into()),
            },
            "zoom" => Expr::Zoom,
            "literal" => Expr::Lit(
                args.first()
                    .and_then(lit)
                    .ok_or("'literal' of arrays/objects is not supported")?,
            ),
            "match" => {
                if args.len() < 4 || args.len() % 2 != 0 {
                    return Err("'match' needs input, label/output pairs and a default".into());
                }
                let mut arms = Vec::new();
                for pair in args[1..args.len() - 1].chunks(2) {
                    let labels = match &pair[0] {
                        Json::Array(ls) => ls.iter().map(lit).collect::<Option<Vec<_>>>(),
                        l => lit(l).map(|l| vec![l]),
                    }
                    .ok_or("'match' labels must be literals")?;
                    arms.push((labels, Expr::compile(&pair[1])?));
                }
                Expr::Match {
                    input: boxed(0)?,
                    arms,
                    default: Box::new(Expr::compile(&args[args.len() - 1])?),
                }
            }
            "==" | "!=" | "<" | "<=" | ">" | ">=" => {
                let cmp = match op {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Expr::Cmp(cmp, boxed(0)?, boxed(1)?)
            }
            "all" => Expr::All(all()?),
            "any" => Expr::Any(all()?),
            "!" => Expr::Not(boxed(0)?),
            "case" => {
                if args.len() < 3 || args.len() % 2 == 0 {
                    return Err("'case' needs condition/output pairs and a default".into());
                }
                let mut arms = Vec::new();
                for pair in args[..args.len() - 1].chunks(2) {
                    arms.push((Expr::compile(&pair[0])?, Expr::compile(&pair[1])?));
                }
                Expr::Case(arms, Box::new(Expr::compile(&args[args.len() - 1])?))
            }
            "coalesce" => Expr::Coalesce(all()?),
            "concat" => Expr::Concat(all()?),
            "to-string" => Expr::ToString(boxed(0)?),
            "to-number" => Expr::ToNumber(boxed(0)?),
            "round" => Expr::Round(boxed(0)?),
            "interpolate" => {
                if args.first() != Some(&serde_json::json!(["linear"])) {
                    return Err("only ['interpolate', ['linear'], ...] is supported".into());
                }
                if args.len() < 4 || args.len() % 2 != 0 {
                    return Err("'interpolate' needs an input and stop/output pairs".into());
                }
                let mut stops = Vec::new();
                for pair in args[2..].chunks(2) {
                    let z = pair[0]
                        .as_f64()
                        .ok_or("interpolate stops must be numbers")?;
                    stops.push((z, Expr::compile(&pair[1])?));
                }
                if stops.windows(2).any(|w| w[0].0 >= w[1].0) {
                    return Err("interpolate stops must ascend".into());
                }
                Expr::Interpolate(boxed(1)?, stops)
            }
            other => {
                return Err(format!(
                    "expression '{other}' is outside the supported subset"
                ))
            }
        })
    }

    /// True when the expression reads no feature attribute.
    pub fn is_feature_constant(&self) -> bool {
        match self {
            Expr::Get(_) => false,
            Expr::Lit(_) | Expr::Zoom => true,
            Expr::Match {
                input,
                arms,
                default,
            } => {
                input.is_feature_constant()
                    && default.is_feature_constant()
                    && arms.iter().all(|(_, e)| e.is_feature_constant())
            }
            Expr::Cmp(_, a, b) => a.is_feature_constant() && b.is_feature_constant(),
            Expr::All(v) | Expr::Any(v) | Expr::Coalesce(v) | Expr::Concat(v) => {
                v.iter().all(Expr::is_feature_constant)
            }
            Expr::Not(e) | Expr::ToString(e) | Expr::ToNumber(e) | Expr::Round(e) => {
                e.is_feature_constant()
            }
            Expr::Case(arms, d) => {
                d.is_feature_constant()
                    && arms
                        .iter()
                        .all(|(c, o)| c.is_feature_constant() && o.is_feature_constant())
            }
            Expr::Interpolate(i, stops) => {
                i.is_feature_constant() && stops.iter().all(|(_, e)| e.is_feature_constant())
            }
        }
    }

    /// Evaluates the expression for a feature at a zoom.
    pub fn eval<'a>(&'a self, cx: &Ctx<'a>) -> Val<'a> {
        match self {
            Expr::Lit(v) => match v {
                Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
                other => other.clone(),
            },
            Expr::Zoom => Val::Num(cx.zoom),
            Expr::Get(name) => {
                let Some((data, row)) = cx.feature else {
                    return Val::Null;
                };
                match data.field_index(name).map(|c| data.value(row, c)) {
                    None | Some(ValueRef::Null) => Val::Null,
                    Some(ValueRef::Bool(b)) => Val::Bool(b),
                    Some(ValueRef::Int(i)) => Val::Num(i as f64),
                    Some(ValueRef::Real(r)) => Val::Num(r),
                    Some(ValueRef::Text(t)) => Val::Str(Cow::Borrowed(t)),
                }
            }
            Expr::Match {
                input,
                arms,
                default,
            } => {
                let v = input.eval(cx);
                for (labels, out) in arms {
                    if labels.iter().any(|l| loose_eq(l, &v)) {
                        return out.eval(cx);
                    }
                }
                default.eval(cx)
            }
            Expr::Cmp(op, a, b) => {
                let (a, b) = (a.eval(cx), b.eval(cx));
                Val::Bool(match op {
                    CmpOp::Eq => loose_eq(&a, &b),
                    CmpOp::Ne => !loose_eq(&a, &b),
                    _ => {
                        let ord = match (&a, &b) {
                            (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
                            (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
                            _ => None,
                        };
                        ord.is_some_and(|o| op.holds(o))
                    }
                })
            }
            Expr::All(v) => Val::Bool(v.iter().all(|e| e.eval(cx).truthy())),
            Expr::Any(v) => Val::Bool(v.iter().any(|e| e.eval(cx).truthy())),
            Expr::Not(e) => Val::Bool(!e.eval(cx).truthy()),
            Expr::Case(arms, d) => arms
                .iter()
                .find(|(c, _)| c.eval(cx).truthy())
                .map(|(_, o)| o.eval(cx))
                .unwrap_or_else(|| d.eval(cx)),
            Expr::Coalesce(v) => v
                .iter()
                .map(|e| e.eval(cx))
                .find(|x| *x != Val::Null)
                .unwrap_or(Val::Null),
            Expr::Concat(v) => {
                let mut s = String::new();
                for e in v {
                    s.push_str(&e.eval(cx).text());
                }
                Val::Str(Cow::Owned(s))
            }
            Expr::ToString(e) => Val::Str(Cow::Owned(e.eval(cx).text().into_owned())),
            Expr::ToNumber(e) => match e.eval(cx) {
                Val::Num(n) => Val::Num(n),
                Val::Bool(b) => Val::Num(if b { 1.0 } else { 0.0 }),
                Val::Str(s) => s.trim().parse().map(Val::Num).unwrap_or(Val::Null),
                _ => Val::Null,
            },
            Expr::Round(e) => match e.eval(cx) {
                Val::Num(n) => Val::Num(n.round()),
                _ => Val::Null,
            },
            Expr::Interpolate(input, stops) => {
                let Some(x) = input.eval(cx).num() else {
                    return Val::Null;
                };
                let i = stops.partition_point(|(z, _)| *z <= x);
                if i == 0 {
                    return stops[0].1.eval(cx);
                }
                if i == stops.len() {
                    return stops[i - 1].1.eval(cx);
                }
                let ((z0, e0), (z1, e1)) = (&stops[i - 1], &stops[i]);
                let t = (x - z0) / (z1 - z0);
                let (a, b) = (e0.eval(cx), e1.eval(cx));
                match (a.num(), b.num(), a.color(), b.color()) {
                    (Some(a), Some(b), _, _) => Val::Num(a + (b - a) * t),
                    (_, _, Some(a), Some(b)) => {
                        let l = |p: u8, q: u8| {
                            (f64::from(p) + (f64::from(q) - f64::from(p)) * t).round() as u8
                        };
                        Val::Color(Rgba {
                            r: l(a.r, b.r),
                            g: l(a.g, b.g),
                            b: l(a.b, b.b),
                            a: l(a.a, b.a),
                        })
                    }
                    _ => a.into_owned(),
                }
            }
        }
    }

    /// Evaluates to a number (`default` when not a number).
    pub fn num(&self, cx: &Ctx<'_>, default: f64) -> f64 {
        self.eval(cx)
            .num()
            .filter(|n| n.is_finite())
            .unwrap_or(default)
    }

    /// Evaluates to a colour (`None` when not a colour).
    pub fn color(&self, cx: &Ctx<'_>) -> Option<Rgba> {
        self.eval(cx).color()
    }

    /// The arms of a top-level `match` on a property: (labels, output
    /// expression); legends list them.
    pub fn match_arms(&self) -> Option<(&str, &[MatchArm])> {
        match self {
            Expr::Match { input, arms, .. } => match input.as_ref() {
                Expr::Get(p) => Some((p.as_str(), arms.as_slice())),
                _ => None,
            },
            _ => None,
        }
    }
}

fn loose_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Null, Val::Null) => true,
        _ => false,
    }
}

/// The kind of a style layer and its properties.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Polygon fill, with an optional one-pixel outline.
    Fill {
        /// `fill-color`.
        color: Expr,
        /// `fill-opacity`.
        opacity: Expr,
        /// `fill-outline-color`.
        outline: Option<Expr>,
    },
    /// Stroked lines (and polygon outlines).
    Line {
        /// `line-color`.
        color: Expr,
        /// `line-width`, pixels.
        width: Expr,
        /// `line-opacity`.
        opacity: Expr,
        /// `line-dasharray`, in line widths.
        dash: Option<Vec<f32>>,
        /// `line-cap`: butt, round, square.
        cap: String,
        /// `line-join`: miter, round, bevel.
        join: String,
    },
    /// Circles at points.
    Circle {
        /// `circle-radius`, pixels.
        radius: Expr,
        /// `circle-color`.
        color: Expr,
        /// `circle-opacity`.
        opacity: Expr,
        /// `circle-stroke-color`.
        stroke_color: Expr,
        /// `circle-stroke-width`.
        stroke_width: Expr,
    },
    /// Text labels.
    Symbol(Box<SymbolStyle>),
}

/// Properties of a `symbol` layer (text only: no icons in the subset).
#[derive(Debug, Clone)]
pub struct SymbolStyle {
    /// `text-field`.
    pub field: Expr,
    /// `text-font`: font names, first installed wins.
    pub font: Vec<String>,
    /// `text-size`, pixels.
    pub size: Expr,
    /// `text-color`.
    pub color: Expr,
    /// `text-halo-color`.
    pub halo_color: Expr,
    /// `text-halo-width`, pixels.
    pub halo_width: Expr,
    /// `text-offset`, ems.
    pub offset: (f32, f32),
    /// `text-anchor`.
    pub anchor: String,
    /// `symbol-placement` is `line`.
    pub along_line: bool,
}

/// One compiled style layer.
#[derive(Debug, Clone)]
pub struct StyleLayer {
    /// Style layer id.
    pub id: String,
    /// The engine layer it draws (`source-layer`).
    pub source_layer: String,
    /// Shown from this zoom on.
    pub minzoom: f64,
    /// Shown below this zoom.
    pub maxzoom: f64,
    /// `filter`.
    pub filter: Option<Expr>,
    /// What to draw.
    pub kind: Kind,
}

impl StyleLayer {
    /// True when the layer shows at this zoom.
    pub fn visible_at(&self, zoom: f64) -> bool {
        zoom >= self.minzoom && zoom < self.maxzoom
    }
}

/// A compiled style: its drawable layers in order, and its metadata.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// Drawable layers, bottom first.
    pub layers: Vec<StyleLayer>,
    /// The style's `metadata` object.
    pub metadata: Json,
}

fn prop<'a>(l: &'a Json, group: &str, key: &str) -> Option<&'a Json> {
    l.get(group).and_then(|g| g.get(key))
}

impl Style {
    /// Compiles a MapLibre style document. `background` layers and
    /// layers with `visibility: none` are skipped; anything outside the
    /// subset is an error naming the layer.
    pub fn compile(doc: &Json) -> Result<Style, StyleError> {
        let layers = doc
            .get("layers")
            .and_then(Json::as_array)
            .ok_or_else(|| StyleError::NotAStyle("no 'layers' array".into()))?;
        let mut out = Vec::new();
        for l in layers {
            let id = l.get("id").and_then(Json::as_str).unwrap_or("?").to_owned();
            let err = |msg: String| StyleError::Unsupported {
                layer: id.clone(),
                msg,
            };
            let ty = l.get("type").and_then(Json::as_str).unwrap_or("");
            if ty == "background" {
                continue;
            }
            if prop(l, "layout", "visibility").and_then(Json::as_str) == Some("none") {
                continue;
            }
            let source_layer = l
                .get("source-layer")
                .and_then(Json::as_str)
                .ok_or_else(|| err("no 'source-layer'".into()))?
                .to_owned();
            let expr = |group: &str, key: &str, default: Json| -> Result<Expr, StyleError> {
                Expr::compile(prop(l, group, key).unwrap_or(&default))
                    .map_err(|m| err(format!("{key}: {m}")))
            };
            let opt = |group: &str, key: &str| -> Result<Option<Expr>, StyleError> {
                prop(l, group, key)
                    .map(|v| Expr::compile(v).map_err(|m| err(format!("{key}: {m}"))))
                    .transpose()
            };
            let text = |group: &str, key: &str, default: &str| -> String {
                prop(l, group, key)
                    .and_then(Json::as_str)
                    .unwrap_or(default)
                    .to_owned()
            };
            use serde_json::json;
            let kind = match ty {
                "fill" => Kind::Fill {
                    color: expr("paint", "fill-color", json!("#000000"))?,
                    opacity: expr("paint", "fill-opacity", json!(1))?,
                    outline: opt("paint", "fill-outline-color")?,
                },
                "line" => Kind::Line {
                    color: expr("paint", "line-color", json!("#000000"))?,
                    width: expr("paint", "line-width", json!(1))?,
                    opacity: expr("paint", "line-opacity", json!(1))?,
                    dash: match prop(l, "paint", "line-dasharray") {
                        None => None,
                        Some(Json::Array(a)) => Some(
                            a.iter()
                                .map(|x| x.as_f64().map(|x| x as f32))
                                .collect::<Option<Vec<_>>>()
                                .ok_or_else(|| err("line-dasharray must be numbers".into()))?,
                        ),
                        Some(_) => {
                            return Err(err("line-dasharray must be a literal array".into()))
                        }
                    },
                    cap: text("layout", "line-cap", "butt"),
                    join: text("layout", "line-join", "miter"),
                },
                "circle" => Kind::Circle {
                    radius: expr("paint", "circle-radius", json!(5))?,
                    color: expr("paint", "circle-color", json!("#000000"))?,
                    opacity: expr("paint", "circle-opacity", json!(1))?,
                    stroke_color: expr("paint", "circle-stroke-color", json!("#000000"))?,
                    stroke_width: expr("paint", "circle-stroke-width", json!(0))?,
                },
                "symbol" => {
                    let offset = match prop(l, "layout", "text-offset") {
                        None => (0.0, 0.0),
                        Some(Json::Array(a)) if a.len() == 2 => (
                            a[0].as_f64().unwrap_or(0.0) as f32,
                            a[1].as_f64().unwrap_or(0.0) as f32,
                        ),
                        Some(_) => return Err(err("text-offset must be [x, y]".into())),
                    };
                    let font = match prop(l, "layout", "text-font") {
                        None => vec!["DejaVu Sans".to_owned()],
                        Some(Json::Array(a)) => a
                            .iter()
                            .filter_map(|f| f.as_str().map(str::to_owned))
                            .collect(),
                        Some(_) => return Err(err("text-font must be a literal array".into())),
                    };
                    Kind::Symbol(Box::new(SymbolStyle {
                        field: expr("layout", "text-field", json!(""))?,
                        font,
                        size: expr("layout", "text-size", json!(16))?,
                        color: expr("paint", "text-color", json!("#000000"))?,
                        halo_color: expr("paint", "text-halo-color", json!("rgba(0,0,0,0)"))?,
                        halo_width: expr("paint", "text-halo-width", json!(0))?,
                        offset,
                        anchor: text("layout", "text-anchor", "center"),
                        along_line: text("layout", "symbol-placement", "point") == "line",
                    }))
                }
                other => return Err(err(format!("layer type '{other}' is not supported"))),
            };
            let zoom = |k: &str, d: f64| l.get(k).and_then(Json::as_f64).unwrap_or(d);
            out.push(StyleLayer {
                id: id.clone(),
                source_layer,
                minzoom: zoom("minzoom", 0.0),
                maxzoom: zoom("maxzoom", 24.0),
                filter: l
                    .get("filter")
                    .map(|f| Expr::compile(f).map_err(|m| err(format!("filter: {m}"))))
                    .transpose()?,
                kind,
            });
        }
        Ok(Style {
            layers: out,
            metadata: doc.get("metadata").cloned().unwrap_or(Json::Null),
        })
    }

    /// The style layers drawing one engine layer, in order.
    pub fn layers_of<'a>(&'a self, source_layer: &'a str) -> impl Iterator<Item = &'a StyleLayer> {
        self.layers
            .iter()
            .filter(move |l| l.source_layer == source_layer)
    }

    /// The zoom from which no style layer of `source_layer` shows any more
    /// (`None` when some layer shows at every zoom, or none draws it).
    pub fn maxzoom_of(&self, source_layer: &str) -> Option<f64> {
        self.layers_of(source_layer)
            .map(|l| l.maxzoom)
            .max_by(f64::total_cmp)
            .filter(|z| *z < 24.0)
    }

    /// The lowest zoom at which any style layer of `source_layer` shows
    /// (`None` when the style does not draw it).
    pub fn minzoom_of(&self, source_layer: &str) -> Option<f64> {
        self.layers_of(source_layer)
            .map(|l| l.minzoom)
            .min_by(f64::total_cmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval_const(e: &Json, zoom: f64) -> Val<'static> {
        let e = Expr::compile(e).unwrap();
        let v = e.eval(&Ctx {
            zoom,
            feature: None,
        });
        v.into_owned()
    }

    #[test]
    fn interpolate_over_zoom_is_linear_and_clamped() {
        let e = json!(["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1.2]);
        assert_eq!(eval_const(&e, 10.0), Val::Num(0.3));
        assert_eq!(eval_const(&e, 25.0), Val::Num(1.2));
        let mid = eval_const(&e, 17.0).num().unwrap();
        assert!((mid - 0.75).abs() < 1e-9);
    }

    #[test]
    fn match_takes_the_arm_of_its_label_or_the_default() {
        let e = json!([
            "match",
            "ODT",
            "LUC",
            "#fffc8c",
            ["ODT", "ONT"],
            "#ffa0ff",
            "#e0e0e0"
        ]);
        assert_eq!(eval_const(&e, 0.0).color(), Rgba::parse("#ffa0ff"));
        let e = json!(["match", "XYZ", "LUC", "#fffc8c", "#e0e0e0"]);
        assert_eq!(eval_const(&e, 0.0).text(), "#e0e0e0");
    }

    #[test]
    fn concat_prints_rounded_numbers_without_a_fraction() {
        let e = json!(["concat", ["to-string", ["round", 123.6]], "/", "ODT"]);
        assert_eq!(eval_const(&e, 0.0).text(), "124/ODT");
    }

    #[test]
    fn colours_parse_in_every_css_form_the_style_may_use() {
        let c = |s| Rgba::parse(s).unwrap();
        assert_eq!(c("#fff"), c("#ffffff"));
        assert_eq!(c("rgba(255,0,0,0.5)").a, 128);
        assert_eq!(
            c("rgb(1,2,3)"),
            Rgba {
                r: 1,
                g: 2,
                b: 3,
                a: 255
            }
        );
        assert!(Rgba::parse("#ggg").is_none());
    }

    #[test]
    fn an_unsupported_expression_is_refused_with_the_layer_named() {
        let doc = json!({"layers": [{"id": "x", "type": "fill", "source-layer": "parcels",
            "paint": {"fill-color": ["step", ["zoom"], "#000", 5, "#fff"]}}]});
        let e = Style::compile(&doc).unwrap_err().to_string();
        assert!(e.contains("'x'") && e.contains("step"), "{e}");
    }

    #[test]
    fn the_planning_style_compiles_whole() {
        let doc: Json = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/styles/planning.json"))
                .unwrap(),
        )
        .unwrap();
        let s = Style::compile(&doc).unwrap();
        // Every layer but the background.
        assert_eq!(s.layers.len(), doc["layers"].as_array().unwrap().len() - 1);
        assert_eq!(s.minzoom_of("parcels"), Some(11.0));
    }
}
