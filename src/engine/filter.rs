//! Attribute filters: an expression over field names ([`Expr`]), compiled
//! against a layer schema into field indexes and typed literals
//! ([`Filter`]), then evaluated per row without allocation.
//!
//! Property names are looked up in the schema, never evaluated; unknown
//! fields and type mismatches are errors naming the field.

use crate::model::{FieldDef, FieldType, LayerData, ValueRef};

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

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// =
    Eq,
    /// <>
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
        }
    }
}

fn cmp(o: Option<std::cmp::Ordering>, op: CmpOp) -> bool {
    use std::cmp::Ordering::*;
    match (o, op) {
        (None, _) => false,
        (Some(o), CmpOp::Eq) => o == Equal,
        (Some(o), CmpOp::Ne) => o != Equal,
        (Some(o), CmpOp::Lt) => o == Less,
        (Some(o), CmpOp::Le) => o != Greater,
        (Some(o), CmpOp::Gt) => o == Greater,
        (Some(o), CmpOp::Ge) => o != Less,
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

/// Matches a LIKE pattern in O(len(s) × len(pattern)): the classic
/// wildcard walk that, on a mismatch, only ever goes back to the last `%`
/// (recursive backtracking over every `%` is exponential: a filter such as
/// `LIKE '%%%%%%%%%%%%x'` would pin a core).
fn like(s: &str, toks: &[LikeToken]) -> bool {
    let (mut i, mut j) = (0usize, 0usize);
    // The last `%` seen and the position in `s` it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let rest = &s[i..];
        let step = match toks.get(j) {
            Some(LikeToken::Any) => {
                star = Some((j, i));
                j += 1;
                continue;
            }
            Some(LikeToken::Lit(l)) => rest.starts_with(l.as_str()).then_some(l.len()),
            Some(LikeToken::One) => rest.chars().next().map(char::len_utf8),
            None if rest.is_empty() => return true,
            None => None,
        };
        match step {
            Some(n) => {
                i += n;
                j += 1;
            }
            None => match star {
                // Let the last `%` take one more character and retry.
                Some((sj, si)) => match s[si..].chars().next() {
                    Some(c) => {
                        let si = si + c.len_utf8();
                        star = Some((sj, si));
                        i = si;
                        j = sj + 1;
                    }
                    None => return false,
                },
                None => return false,
            },
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
        assert!(like("Hội An", &like_tokens("%An")));
        assert!(like("abc", &like_tokens("%")));
        assert!(like("", &like_tokens("%")));
        assert!(!like("", &like_tokens("_")));
        assert!(like("xaby", &like_tokens("%a_y")));
        assert!(like("aXbXc", &like_tokens("a%b%c")));
        assert!(!like("aXbXd", &like_tokens("a%b%c")));
        assert!(like("mississippi", &like_tokens("m%iss%ppi")));
    }

    #[test]
    fn like_with_many_wildcards_takes_linear_time_not_exponential() {
        let s = "a".repeat(10_000);
        let p = like_tokens(&("%a".repeat(50) + "b"));
        let t = std::time::Instant::now();
        assert!(!like(&s, &p));
        assert!(like(&s, &like_tokens(&"%a".repeat(50))));
        assert!(!like(&s, &like_tokens(&("%".repeat(30) + "x"))));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
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
}
