//! A small, hardened XML reader for request bodies and filters: parsed with
//! quick-xml into a tree of elements, refusing any DOCTYPE (and so every
//! entity declaration: no XXE, no entity expansion, CVE-2025-58360) and any
//! reference other than the five predefined entities and character
//! references, with caps on depth and element count checked while reading.
//!
//! Names are kept as written (`fes:Filter`); code matches on the local
//! part, since clients bind the OGC namespaces to varying prefixes.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::fmt::Write;

/// Caps on a document, from the configured limits.
#[derive(Debug, Clone, Copy)]
pub struct XmlLimits {
    /// Deepest element nesting accepted.
    pub max_depth: usize,
    /// Most elements accepted.
    pub max_elements: usize,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlError {
    /// DOCTYPE or an entity: never processed.
    #[error("XML with a DOCTYPE or entity declaration is refused")]
    Doctype,
    /// A reference to an entity other than the predefined ones.
    #[error("XML entity reference '&{0};' is refused (only the predefined entities and character references are allowed)")]
    Entity(String),
    /// Nesting too deep.
    #[error("XML nesting exceeds the limit of {0} levels")]
    TooDeep(usize),
    /// Too many elements.
    #[error("XML exceeds the limit of {0} elements")]
    TooLarge(usize),
    /// Not well-formed.
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// One element: its qualified name, attributes, text and children.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// Name as written (`prefix:local`).
    pub name: String,
    /// Attributes as written (names with prefixes), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Concatenated text content directly inside this element.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

/// The part of a qualified name after the colon.
pub fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl Element {
    /// Local part of the name.
    pub fn local(&self) -> &str {
        local(&self.name)
    }

    /// True when the local name is `name` (ASCII case-insensitive: old
    /// clients write `<ogc:PropertyIsEqualTo>` in varying case).
    pub fn is(&self, name: &str) -> bool {
        self.local().eq_ignore_ascii_case(name)
    }

    /// An attribute by local name (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| local(k).eq_ignore_ascii_case(name) && !k.starts_with("xmlns"))
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// Text content, trimmed.
    pub fn text(&self) -> &str {
        self.text.trim()
    }
}

fn start(e: &BytesStart<'_>) -> Result<Element, XmlError> {
    let name = e.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = a.key.as_ref().to_owned();
        let value =
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| match e {
                    quick_xml::Error::Escape(
                        quick_xml::escape::EscapeError::UnrecognizedEntity(_, n),
                    ) => XmlError::Entity(n),
                    e => XmlError::Malformed(e.to_string()),
                })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        ..Default::default()
    })
}

/// Parses a document into its root element within the limits.
pub fn parse(text: &str, limits: XmlLimits) -> Result<Element, XmlError> {
    let mut r = Reader::from_str(text);
    r.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let ev = r
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match ev {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(XmlError::Malformed("content after the root element".into()));
            }
            Event::Start(e) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooLarge(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                stack.push(start(&e)?);
            }
            Event::Empty(e) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooLarge(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let el = start(&e)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(p) = stack.last_mut() {
                    p.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(XmlError::Malformed("text outside the root element".into()));
                }
            }
            Event::CData(t) => match stack.last_mut() {
                Some(p) => p.text.push_str(&t.xml10_content()),
                // Nothing but comments and processing instructions may
                // stand outside the root (a request sniffed by its root
                // must be the request parsed).
                None => return Err(XmlError::Malformed("CDATA outside the root element".into())),
            },
            Event::GeneralRef(g) => {
                let name = g.to_string();
                let resolved = match g.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| XmlError::Entity(name.clone()))?
                        .to_owned(),
                    Err(_) => return Err(XmlError::Entity(name)),
                };
                match stack.last_mut() {
                    Some(p) => p.text.push_str(&resolved),
                    None => {
                        return Err(XmlError::Malformed(
                            "a character or entity reference outside the root element".into(),
                        ))
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| XmlError::Malformed("no root element".into()))
}

/// Appends `s` with the five XML special characters escaped (text and
/// attribute values alike); other characters, Vietnamese included, are
/// written as they are. Characters XML 1.0 forbids are dropped.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// `s` escaped for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// Appends `<name attr="v"...>` with escaped attribute values.
pub fn open(out: &mut String, name: &str, attrs: &[(&str, &str)]) {
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        let _ = write!(out, " {k}=\"");
        escape_into(out, v);
        out.push('"');
    }
    out.push('>');
}

/// Appends `<name>text</name>` with the text escaped.
pub fn leaf(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: XmlLimits = XmlLimits {
        max_depth: 8,
        max_elements: 20,
    };

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_read() {
        let x = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse(x, L).unwrap_err(), XmlError::Doctype);
    }

    #[test]
    fn undeclared_entities_are_refused_and_predefined_ones_resolved() {
        assert!(matches!(
            parse("<r>&x;</r>", L).unwrap_err(),
            XmlError::Entity(n) if n == "x"
        ));
        assert!(matches!(
            parse(r#"<r a="&x;"/>"#, L).unwrap_err(),
            XmlError::Entity(_)
        ));
        let e = parse(r#"<r a="&lt;&#272;">Đà &amp; N&#7861;ng</r>"#, L).unwrap();
        assert_eq!(e.text(), "Đà & Nẵng");
        assert_eq!(e.attr("a"), Some("<Đ"));
    }

    #[test]
    fn depth_and_size_caps_hold() {
        let deep = "<a>".repeat(9) + &"</a>".repeat(9);
        assert_eq!(parse(&deep, L).unwrap_err(), XmlError::TooDeep(8));
        let wide = format!("<a>{}</a>", "<b/>".repeat(20));
        assert_eq!(parse(&wide, L).unwrap_err(), XmlError::TooLarge(20));
        assert!(parse("<a><b></a>", L).is_err());
    }

    #[test]
    fn escaping_keeps_vietnamese_and_drops_forbidden_controls() {
        assert_eq!(
            escape("Hội An <\"&'>\u{1}"),
            "Hội An &lt;&quot;&amp;&apos;&gt;"
        );
    }
}
