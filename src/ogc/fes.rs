//! OGC Filter Encoding: FES 2.0 (WFS 2.0) and Filter 1.1 / 1.0 (WFS 1.x)
//! in XML, compiled to the engine's [`Expr`]. Element names are matched on
//! their local part, so `fes:`, `ogc:` or no prefix all work.
//!
//! Property names are looked up in the layer's published schema, never
//! evaluated (GeoServer's CVE-2024-36401 evaluated them as XPath); GML
//! operands are read through [`GmlReader`] with its vertex cap, and the
//! XML itself went through [`super::xml::parse`], which refuses DOCTYPEs
//! and entities and caps depth and size.

use super::gml::{GmlError, GmlReader};
use super::xml::{local, Element};
use crate::engine::filter::{CmpOp, Expr, Literal, SpatialOp};
use crate::model::{FieldDef, FieldType};

/// A filter that cannot be compiled, with a message naming the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FesError {
    /// A property that the feature type does not publish.
    #[error("unknown property '{0}' of {1}")]
    UnknownProperty(String, String),
    /// Anything else malformed or unsupported.
    #[error("{0}")]
    Invalid(String),
    /// A GML operand.
    #[error("{0}")]
    Gml(#[from] GmlError),
}

/// What a filter is compiled against: one feature type.
pub struct FesContext<'a> {
    /// Layer id (the part of resource ids before the dot).
    pub layer: &'a str,
    /// Prefixed type name, for messages.
    pub type_name: &'a str,
    /// Published fields.
    pub fields: &'a [FieldDef],
    /// The name of the geometry property.
    pub geometry_name: &'a str,
    /// Reads GML operands (default CRS, axis rules, vertex cap).
    pub gml: GmlReader,
    /// Most resource ids in one filter.
    pub max_ids: usize,
}

fn invalid(s: impl Into<String>) -> FesError {
    FesError::Invalid(s.into())
}

/// Resolves a property reference (`geoplan:land_use_code`,
/// `parcels/land_use_code`, `land_use_code`) to a published field name.
/// Returns `Ok(None)` for the geometry property.
pub fn property<'f>(ctx: &'f FesContext<'_>, raw: &str) -> Result<Option<&'f FieldDef>, FesError> {
    let last = raw.trim().rsplit('/').next().unwrap_or("");
    let name = local(last.trim_start_matches('@'));
    if name == ctx.geometry_name {
        return Ok(None);
    }
    ctx.fields
        .iter()
        .find(|f| f.name == name)
        .map(Some)
        .ok_or_else(|| FesError::UnknownProperty(raw.trim().to_owned(), ctx.type_name.to_owned()))
}

/// Parses a resource id `layer.fid`; ids of other layers yield `None`.
pub fn resource_id(layer: &str, rid: &str) -> Result<Option<i64>, FesError> {
    let rid = local(rid.trim());
    let (l, f) = rid
        .rsplit_once('.')
        .ok_or_else(|| invalid(format!("resource id '{rid}' is not of the form layer.fid")))?;
    let fid: i64 = f.parse().map_err(|_| {
        invalid(format!(
            "resource id '{rid}' does not end in a feature number"
        ))
    })?;
    Ok((l == layer).then_some(fid))
}

/// Compiles a `<Filter>` element (or any filter operator element) to an
/// expression over published field names.
pub fn compile(e: &Element, ctx: &FesContext<'_>) -> Result<Expr, FesError> {
    if e.is("Filter") {
        if e.children.is_empty() {
            return Err(invalid("an empty <Filter>"));
        }
        // Several id elements side by side form one id set.
        if e.children.iter().all(is_id) {
            return ids(&e.children, ctx);
        }
        if e.children.len() == 1 {
            return operator(&e.children[0], ctx);
        }
        return Err(invalid(
            "a <Filter> holds one operator (combine several with <And>)",
        ));
    }
    operator(e, ctx)
}

fn is_id(e: &Element) -> bool {
    e.is("ResourceId") || e.is("FeatureId") || e.is("GmlObjectId")
}

fn ids(es: &[Element], ctx: &FesContext<'_>) -> Result<Expr, FesError> {
    if es.len() > ctx.max_ids {
        return Err(invalid(format!(
            "{} resource ids exceed the limit of {}",
            es.len(),
            ctx.max_ids
        )));
    }
    let mut out = Vec::new();
    for e in es {
        let rid = e
            .attr("rid")
            .or_else(|| e.attr("fid"))
            .or_else(|| e.attr("id"))
            .ok_or_else(|| invalid(format!("<{}> without an id", e.local())))?;
        if let Some(f) = resource_id(ctx.layer, rid)? {
            out.push(f);
        }
    }
    Ok(Expr::Fids(out))
}

fn cmp_op(name: &str) -> Option<CmpOp> {
    Some(match name.to_ascii_lowercase().as_str() {
        "propertyisequalto" => CmpOp::Eq,
        "propertyisnotequalto" => CmpOp::Ne,
        "propertyislessthan" => CmpOp::Lt,
        "propertyislessthanorequalto" => CmpOp::Le,
        "propertyisgreaterthan" => CmpOp::Gt,
        "propertyisgreaterthanorequalto" => CmpOp::Ge,
        _ => return None,
    })
}

fn spatial_op(name: &str) -> Option<SpatialOp> {
    Some(match name.to_ascii_lowercase().as_str() {
        "bbox" => SpatialOp::BBox,
        "intersects" => SpatialOp::Intersects,
        "disjoint" => SpatialOp::Disjoint,
        "within" => SpatialOp::Within,
        "contains" => SpatialOp::Contains,
        "touches" => SpatialOp::Touches,
        "crosses" => SpatialOp::Crosses,
        "overlaps" => SpatialOp::Overlaps,
        "equals" => SpatialOp::Equals,
        "dwithin" => SpatialOp::DWithin(0.0),
        "beyond" => SpatialOp::Beyond(0.0),
        _ => return None,
    })
}

fn is_property(e: &Element) -> bool {
    e.is("ValueReference") || e.is("PropertyName")
}

/// The literal for a field: booleans written `1`/`0` become booleans.
fn literal(f: &FieldDef, text: &str) -> Literal {
    if f.ty == FieldType::Boolean {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => return Literal::Bool(true),
            "0" | "false" => return Literal::Bool(false),
            _ => {}
        }
    }
    Literal::Text(text.to_owned())
}

/// Escapes text for the engine's LIKE syntax (`%`, `_`, `\`).
fn like_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn match_case(e: &Element) -> bool {
    !e.attr("matchCase")
        .is_some_and(|v| v.eq_ignore_ascii_case("false") || v == "0")
}

fn field_of<'f>(ctx: &'f FesContext<'_>, e: &Element, op: &str) -> Result<&'f FieldDef, FesError> {
    let p = e.children.iter().find(|c| is_property(c)).ok_or_else(|| {
        invalid(format!(
            "<{op}> names no property (ValueReference/PropertyName)"
        ))
    })?;
    property(ctx, p.text())?.ok_or_else(|| {
        invalid(format!(
            "<{op}> compares the geometry property '{}'; use a spatial operator",
            p.text()
        ))
    })
}

fn operator(e: &Element, ctx: &FesContext<'_>) -> Result<Expr, FesError> {
    let name = e.local();
    let lname = name.to_ascii_lowercase();
    if let Some(op) = cmp_op(name) {
        let f = field_of(ctx, e, name)?;
        let lit_pos = e.children.iter().position(|c| c.is("Literal"));
        let prop_pos = e.children.iter().position(is_property);
        let lit = e
            .children
            .iter()
            .find(|c| c.is("Literal"))
            .ok_or_else(|| invalid(format!("<{name}> has no <Literal>")))?;
        if e.children
            .iter()
            .any(|c| c.is("Function") || c.is("Add") || c.is("Sub") || c.is("Mul") || c.is("Div"))
        {
            return Err(invalid("filter functions and arithmetic are not supported"));
        }
        // `<Literal>5</Literal><ValueReference>a</ValueReference>` reads 5 op a.
        let op = if lit_pos < prop_pos {
            match op {
                CmpOp::Lt => CmpOp::Gt,
                CmpOp::Le => CmpOp::Ge,
                CmpOp::Gt => CmpOp::Lt,
                CmpOp::Ge => CmpOp::Le,
                o => o,
            }
        } else {
            op
        };
        let text = lit.text.as_str();
        if !match_case(e) && f.ty == FieldType::Text && matches!(op, CmpOp::Eq | CmpOp::Ne) {
            let like = Expr::Like {
                field: f.name.clone(),
                pattern: like_escape(text),
                case_insensitive: true,
            };
            return Ok(if op == CmpOp::Ne {
                Expr::Not(Box::new(like))
            } else {
                like
            });
        }
        let value = if f.ty == FieldType::Text {
            text
        } else {
            text.trim()
        };
        return Ok(Expr::Cmp(f.name.clone(), op, literal(f, value)));
    }
    if let Some(op) = spatial_op(name) {
        return spatial(e, op, ctx);
    }
    Ok(match lname.as_str() {
        "and" | "or" => {
            if e.children.len() < 2 {
                return Err(invalid(format!("<{name}> needs at least two operands")));
            }
            let xs = e
                .children
                .iter()
                .map(|c| operator(c, ctx))
                .collect::<Result<Vec<_>, _>>()?;
            if lname == "and" {
                Expr::And(xs)
            } else {
                Expr::Or(xs)
            }
        }
        "not" => {
            let [c] = e.children.as_slice() else {
                return Err(invalid("<Not> needs exactly one operand"));
            };
            Expr::Not(Box::new(operator(c, ctx)?))
        }
        "propertyislike" => {
            let f = field_of(ctx, e, name)?;
            let lit = e
                .child("Literal")
                .ok_or_else(|| invalid("<PropertyIsLike> has no <Literal>"))?;
            let wild = e.attr("wildCard").unwrap_or("*");
            let single = e.attr("singleChar").unwrap_or(".");
            let esc = e
                .attr("escapeChar")
                .or_else(|| e.attr("escape"))
                .unwrap_or("\\");
            let one = |s: &str, what: &str| -> Result<char, FesError> {
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Ok(c),
                    _ => Err(invalid(format!(
                        "<PropertyIsLike> {what} must be one character, got '{s}'"
                    ))),
                }
            };
            let (w, s1, x) = (
                one(wild, "wildCard")?,
                one(single, "singleChar")?,
                one(esc, "escapeChar")?,
            );
            let mut pattern = String::new();
            let mut chars = lit.text.chars();
            while let Some(c) = chars.next() {
                if c == x {
                    if let Some(n) = chars.next() {
                        pattern.push_str(&like_escape(&n.to_string()));
                    }
                } else if c == w {
                    pattern.push('%');
                } else if c == s1 {
                    pattern.push('_');
                } else {
                    pattern.push_str(&like_escape(&c.to_string()));
                }
            }
            Expr::Like {
                field: f.name.clone(),
                pattern,
                case_insensitive: !match_case(e),
            }
        }
        "propertyisnull" | "propertyisnil" => Expr::IsNull(field_of(ctx, e, name)?.name.clone()),
        "propertyisbetween" => {
            let f = field_of(ctx, e, name)?;
            let bound = |b: &str| -> Result<Literal, FesError> {
                let el = e
                    .child(b)
                    .ok_or_else(|| invalid(format!("<PropertyIsBetween> has no <{b}>")))?;
                let lit = el
                    .child("Literal")
                    .ok_or_else(|| invalid(format!("<{b}> has no <Literal>")))?;
                Ok(literal(f, lit.text()))
            };
            Expr::Between(
                f.name.clone(),
                bound("LowerBoundary")?,
                bound("UpperBoundary")?,
            )
        }
        "resourceid" | "featureid" | "gmlobjectid" => ids(std::slice::from_ref(e), ctx)?,
        _ => return Err(invalid(format!("unsupported filter operator <{}>", e.name))),
    })
}

fn spatial(e: &Element, op: SpatialOp, ctx: &FesContext<'_>) -> Result<Expr, FesError> {
    let name = e.local();
    if let Some(p) = e.children.iter().find(|c| is_property(c)) {
        if property(ctx, p.text())?.is_some() {
            return Err(invalid(format!(
                "<{name}> needs the geometry property '{}', not '{}'",
                ctx.geometry_name,
                p.text()
            )));
        }
    }
    let g = e
        .children
        .iter()
        .find(|c| !is_property(c) && !c.is("Distance"))
        .ok_or_else(|| invalid(format!("<{name}> has no geometry")))?;
    let geom = ctx.gml.read(g)?;
    let op = match op {
        SpatialOp::DWithin(_) | SpatialOp::Beyond(_) => {
            let d = e
                .child("Distance")
                .ok_or_else(|| invalid(format!("<{name}> has no <Distance>")))?;
            let v: f64 = d
                .text()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    invalid(format!(
                        "<Distance> '{}' is not a non-negative number",
                        d.text()
                    ))
                })?;
            let unit = d.attr("uom").or_else(|| d.attr("units")).unwrap_or("m");
            let metres = v * unit_factor(unit)?;
            if matches!(op, SpatialOp::DWithin(_)) {
                SpatialOp::DWithin(metres)
            } else {
                SpatialOp::Beyond(metres)
            }
        }
        o => o,
    };
    Ok(Expr::Spatial(op, geom))
}

/// Metres per unit of a `Distance` (`m`, `km`, `ft`, EPSG UoM URNs,
/// degrees at the equator as GDAL sends for geographic layers).
fn unit_factor(u: &str) -> Result<f64, FesError> {
    let t = u.trim().to_ascii_lowercase();
    let tail = t.rsplit([':', '#', '/']).next().unwrap_or("");
    Ok(match tail {
        "m" | "meter" | "meters" | "metre" | "metres" | "9001" => 1.0,
        "km" | "kilometer" | "kilometers" | "kilometre" | "kilometres" | "9036" => 1000.0,
        "ft" | "foot" | "feet" | "9002" => 0.3048,
        "mi" | "mile" | "miles" => 1609.344,
        "deg" | "degree" | "degrees" | "9102" => 111_319.490_793_273_6,
        _ => {
            return Err(invalid(format!(
                "unknown distance unit '{u}' (use m or km)"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;
    use crate::ogc::xml::{parse, XmlLimits};

    fn ctx(fields: &[FieldDef]) -> FesContext<'_> {
        FesContext {
            layer: "parcels",
            type_name: "geoplan:parcels",
            fields,
            geometry_name: "geom",
            gml: GmlReader {
                default: (Crs::Epsg(5899), false),
                epsg_order: true,
                max_vertices: 100,
            },
            max_ids: 3,
        }
    }

    fn fields() -> Vec<FieldDef> {
        vec![
            FieldDef::new("land_use_code", FieldType::Text),
            FieldDef::new("legal_area", FieldType::Real),
            FieldDef::new("synthetic", FieldType::Boolean),
        ]
    }

    fn xml(s: &str) -> Element {
        parse(
            s,
            XmlLimits {
                max_depth: 32,
                max_elements: 1000,
            },
        )
        .unwrap()
    }

    #[test]
    fn comparisons_logic_and_like_compile_to_engine_expressions() {
        let f = fields();
        let e = xml(
            r##"<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:And>
              <fes:PropertyIsEqualTo><fes:ValueReference>geoplan:land_use_code</fes:ValueReference><fes:Literal>ODT</fes:Literal></fes:PropertyIsEqualTo>
              <fes:PropertyIsLike wildCard="*" singleChar="#" escapeChar="!"><fes:ValueReference>land_use_code</fes:ValueReference><fes:Literal>O#*!*%</fes:Literal></fes:PropertyIsLike>
              <fes:Not><fes:PropertyIsNull><fes:ValueReference>legal_area</fes:ValueReference></fes:PropertyIsNull></fes:Not>
              <fes:PropertyIsGreaterThan><fes:Literal>100</fes:Literal><fes:ValueReference>legal_area</fes:ValueReference></fes:PropertyIsGreaterThan>
            </fes:And></fes:Filter>"##,
        );
        let got = compile(&e, &ctx(&f)).unwrap();
        let Expr::And(xs) = got else { panic!() };
        assert_eq!(
            xs[0],
            Expr::Cmp(
                "land_use_code".into(),
                CmpOp::Eq,
                Literal::Text("ODT".into())
            )
        );
        assert_eq!(
            xs[1],
            Expr::Like {
                field: "land_use_code".into(),
                pattern: "O_%*\\%".into(),
                case_insensitive: false
            }
        );
        assert_eq!(
            xs[3],
            Expr::Cmp("legal_area".into(), CmpOp::Lt, Literal::Text("100".into()))
        );
    }

    #[test]
    fn unknown_properties_are_named_never_evaluated() {
        let f = fields();
        let e = xml(
            r#"<Filter><PropertyIsEqualTo><PropertyName>exec(java.lang.Runtime)</PropertyName><Literal>1</Literal></PropertyIsEqualTo></Filter>"#,
        );
        let err = compile(&e, &ctx(&f)).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown property 'exec(java.lang.Runtime)'"),
            "{err}"
        );
    }

    #[test]
    fn resource_ids_of_the_layer_become_a_fid_set_within_the_cap() {
        let f = fields();
        let e = xml(
            r#"<Filter><ResourceId rid="parcels.3"/><ResourceId rid="roads.4"/><ResourceId rid="parcels.9"/></Filter>"#,
        );
        assert_eq!(compile(&e, &ctx(&f)).unwrap(), Expr::Fids(vec![3, 9]));
        let e = xml(
            r#"<Filter><FeatureId fid="parcels.1"/><FeatureId fid="parcels.2"/><FeatureId fid="parcels.3"/><FeatureId fid="parcels.4"/></Filter>"#,
        );
        assert!(compile(&e, &ctx(&f))
            .unwrap_err()
            .to_string()
            .contains("limit of 3"));
    }

    #[test]
    fn dwithin_converts_units_to_metres() {
        let f = fields();
        let e = xml(
            r#"<Filter><DWithin><ValueReference>geom</ValueReference><gml:Point><gml:pos>561000 1756000</gml:pos></gml:Point><Distance uom="km">1.5</Distance></DWithin></Filter>"#,
        );
        let Expr::Spatial(SpatialOp::DWithin(d), _) = compile(&e, &ctx(&f)).unwrap() else {
            panic!()
        };
        assert_eq!(d, 1500.0);
        let e = xml(
            r#"<Filter><Intersects><ValueReference>legal_area</ValueReference><gml:Point><gml:pos>1 2</gml:pos></gml:Point></Intersects></Filter>"#,
        );
        assert!(compile(&e, &ctx(&f)).is_err());
    }
}
