//! Payload templates: a JSON shape whose strings may hold placeholders; a string that is exactly
//! one placeholder keeps the value's JSON type, mixed text interpolates. The default payload is
//! the event's `detail`.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use super::{Filter, Piece, Placeholder, TemplateError, Text, hash, slug};
use crate::limits::MAX_SEGMENT_CHARS;

/// A payload template: any YAML/JSON value whose strings may hold placeholders.
///
/// Missing fields never fail a payload: a string that is exactly one placeholder renders `null`,
/// a placeholder inside text renders as empty text.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// No `payload` key: the event's `detail` (or `null` when there is none).
    Detail,
    /// A value with no placeholder anywhere, rendered by cloning.
    Literal(Value),
    /// A string that is exactly one placeholder: keeps the value's JSON type.
    Exact(Placeholder),
    /// A string mixing text and placeholders.
    Text(Text),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

impl PayloadTemplate {
    /// The default payload: the event's `detail`.
    pub fn detail() -> PayloadTemplate {
        PayloadTemplate { node: Node::Detail }
    }

    /// Parses a payload template; returns every problem, each with its path in the payload
    /// (`order`, `items[1]`, empty for the root).
    pub fn parse(template: &Value) -> Result<PayloadTemplate, Vec<(String, TemplateError)>> {
        let mut problems = Vec::new();
        let node = parse_node(template, String::new(), &mut problems);
        if problems.is_empty() {
            Ok(PayloadTemplate { node })
        } else {
            Err(problems)
        }
    }

    /// True for the default (`detail`) payload.
    pub fn is_detail(&self) -> bool {
        matches!(self.node, Node::Detail)
    }

    /// Renders the payload for one event document as a `Value` (the tests' view; the bridge
    /// writes text with [`render_json`](Self::render_json)). Never fails.
    #[cfg(test)]
    pub fn render(&self, document: &Value) -> Value {
        // A view of borrowed values always converts (its map keys are strings).
        serde_json::to_value(self.view(document)).unwrap_or(Value::Null)
    }

    /// Renders the payload for one event document straight to its compact JSON text (what is
    /// published), borrowing from the document instead of building a tree: the default
    /// payload's `detail` is written, not copied. The same text as `render(..).to_string()`.
    pub fn render_json(&self, document: &Value) -> String {
        // Writing borrowed values and strings into a `Vec` cannot fail.
        serde_json::to_string(&self.view(document)).unwrap_or_else(|_| "null".to_owned())
    }

    fn view<'a>(&'a self, document: &'a Value) -> Rendered<'a> {
        Rendered {
            node: &self.node,
            document,
        }
    }
}

/// A node rendered against a document, as it serialises: objects keep the template's key order
/// (sorted, as a `serde_json::Map` holds them), values are borrowed from the document.
struct Rendered<'a> {
    node: &'a Node,
    document: &'a Value,
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let document = self.document;
        match self.node {
            Node::Detail => document
                .get("detail")
                .unwrap_or(&Value::Null)
                .serialize(serializer),
            Node::Literal(v) => v.serialize(serializer),
            Node::Exact(p) => match (p.lookup(document), p.filter) {
                (None, _) => serializer.serialize_unit(),
                (Some(v), None) => v.serialize(serializer),
                (Some(v), Some(filter)) => serializer.serialize_str(&filter_payload(filter, v)),
            },
            Node::Text(text) => serializer.serialize_str(&interpolate(text, document)),
            Node::Object(nodes) => {
                let mut map = serializer.serialize_map(Some(nodes.len()))?;
                for (k, node) in nodes {
                    map.serialize_entry(k, &Rendered { node, document })?;
                }
                map.end()
            }
            Node::Array(nodes) => {
                let mut seq = serializer.serialize_seq(Some(nodes.len()))?;
                for node in nodes {
                    seq.serialize_element(&Rendered { node, document })?;
                }
                seq.end()
            }
        }
    }
}

/// Text with its placeholders filled in; a missing field is empty text.
fn interpolate(text: &Text, document: &Value) -> String {
    let mut out = String::new();
    for piece in &text.pieces {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Placeholder(p) => match (p.lookup(document), p.filter) {
                (None, _) => {}
                (Some(Value::String(s)), None) => out.push_str(s),
                (Some(v), None) => out.push_str(&v.to_string()),
                (Some(v), Some(filter)) => out.push_str(&filter_payload(filter, v)),
            },
        }
    }
    out
}

fn parse_node(value: &Value, at: String, problems: &mut Vec<(String, TemplateError)>) -> Node {
    match value {
        Value::String(s) if s.contains(['{', '}']) => match Text::parse(s) {
            Ok(text) => {
                if let Some(p) = text.as_single_placeholder() {
                    Node::Exact(p.clone())
                } else if text.is_literal() {
                    // Only escaped braces: the unescaped text.
                    let literal: String = text
                        .pieces
                        .iter()
                        .filter_map(|p| match p {
                            Piece::Literal(s) => Some(s.as_str()),
                            Piece::Placeholder(_) => None,
                        })
                        .collect();
                    Node::Literal(Value::String(literal))
                } else {
                    Node::Text(text)
                }
            }
            Err(e) => {
                problems.push((at, e));
                Node::Literal(Value::Null)
            }
        },
        Value::Object(map) => {
            let nodes: Vec<(String, Node)> = map
                .iter()
                .map(|(k, v)| {
                    let child = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    (k.clone(), parse_node(v, child, problems))
                })
                .collect();
            // All children literal: one literal built from their values (not the raw template,
            // whose strings may still hold `{{`/`}}` escapes).
            let literal: Option<Map<String, Value>> = nodes
                .iter()
                .map(|(k, n)| match n {
                    Node::Literal(v) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect();
            match literal {
                Some(map) => Node::Literal(Value::Object(map)),
                None => Node::Object(nodes),
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, v)| parse_node(v, format!("{at}[{i}]"), problems))
                .collect();
            let literal: Option<Vec<Value>> = nodes
                .iter()
                .map(|n| match n {
                    Node::Literal(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            match literal {
                Some(items) => Node::Literal(Value::Array(items)),
                None => Node::Array(nodes),
            }
        }
        other => Node::Literal(other.clone()),
    }
}

/// Filters in a payload take the value's text (strings raw, anything else its JSON text) and
/// never fail: a slug of nothing is the empty string.
fn filter_payload(filter: Filter, v: &Value) -> String {
    let text: Cow<'_, str> = match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    };
    match filter {
        Filter::Slug => slug(&text, MAX_SEGMENT_CHARS),
        Filter::Hash => hash(&text),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{doc, json_value};
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The rendering the serialising view must reproduce: a tree built value by value.
    fn reference_render(node: &Node, document: &Value) -> Value {
        match node {
            Node::Detail => document.get("detail").cloned().unwrap_or(Value::Null),
            Node::Literal(v) => v.clone(),
            Node::Exact(p) => match (p.lookup(document), p.filter) {
                (None, _) => Value::Null,
                (Some(v), None) => v.clone(),
                (Some(v), Some(filter)) => Value::String(filter_payload(filter, v)),
            },
            Node::Text(text) => Value::String(interpolate(text, document)),
            Node::Object(nodes) => Value::Object(
                nodes
                    .iter()
                    .map(|(k, n)| (k.clone(), reference_render(n, document)))
                    .collect(),
            ),
            Node::Array(nodes) => Value::Array(
                nodes
                    .iter()
                    .map(|n| reference_render(n, document))
                    .collect(),
            ),
        }
    }

    #[test]
    fn payload_templates_keep_types_interpolate_and_tolerate_missing_fields() {
        let template = json!({
            "order": "{detail.orderId}",
            "total": "{detail.total}",
            "gift": "{detail.gift}",
            "items": "{detail.items}",
            "first": "{detail.items.0.sku}",
            "missing": "{detail.nope}",
            "note": "order {detail.orderId} is {detail.status} ({detail.total}, {detail.nope}x)",
            "braces": "{{literal}} {detail.count}",
            "only_braces": "{{x}}",
            "fixed": {"version": 1, "tags": ["a", "b"]},
            "list": ["{detail.count}", "n={detail.count}", 7],
            "who": "{detail.email|hash}",
            "slugged": "{detail.email|slug}",
            "whole": "{$}",
            "kind": "{detail-type}"
        });
        let t = PayloadTemplate::parse(&template).unwrap();
        let document = doc();
        let out = t.render(&document);
        assert_eq!(out["order"], json!("o-7"));
        assert_eq!(out["total"], json!(12.5));
        assert_eq!(out["gift"], json!(true));
        assert_eq!(out["items"], json!([{"sku": "SKU-1"}, {"sku": "SKU-2"}]));
        assert_eq!(out["first"], json!("SKU-1"));
        assert_eq!(out["missing"], Value::Null);
        assert_eq!(out["note"], json!("order o-7 is shipped (12.5, x)"));
        assert_eq!(out["braces"], json!("{literal} 3"));
        assert_eq!(out["only_braces"], json!("{x}"));
        assert_eq!(out["fixed"], json!({"version": 1, "tags": ["a", "b"]}));
        assert_eq!(out["list"], json!([3, "n=3", 7]));
        assert_eq!(out["who"], json!("5d90bf10b8454827"));
        assert_eq!(out["slugged"], json!("jane-doe-vip-example-com"));
        assert_eq!(out["whole"], document);
        assert_eq!(out["kind"], json!("OrderStatusChanged"));
    }

    #[test]
    fn escaped_braces_are_unescaped_in_objects_and_arrays_without_placeholders() {
        let t = PayloadTemplate::parse(&json!({"note": "use {{braces}}", "v": 1})).unwrap();
        assert_eq!(t.render(&doc()), json!({"note": "use {braces}", "v": 1}));
        let t = PayloadTemplate::parse(&json!(["{{a}}", {"b": ["x}}"]}, 2])).unwrap();
        assert_eq!(t.render(&doc()), json!(["{a}", {"b": ["x}"]}, 2]));
    }

    #[test]
    fn default_payload_is_the_detail_or_null() {
        let t = PayloadTemplate::detail();
        assert!(t.is_detail());
        assert_eq!(t.render(&json!({"detail": {"a": 1}})), json!({"a": 1}));
        assert_eq!(t.render(&json!({"other": 1})), Value::Null);
    }

    #[test]
    fn payload_template_problems_name_their_place() {
        let problems = PayloadTemplate::parse(&json!({
            "a": "{detail.x|nope}",
            "b": [1, "{unclosed"],
            "c": {"d": "x}"}
        }))
        .unwrap_err();
        let places: Vec<&str> = problems.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(places, ["a", "b[1]", "c.d"]);
    }

    proptest! {
        #[test]
        fn payload_rendering_never_panics(document in json_value()) {
            let t = PayloadTemplate::parse(&json!({
                "a": "{detail.a}", "b": "x {detail.b|slug} {$}", "c": ["{a.0.b}", "{detail|hash}"]
            })).unwrap();
            let reference = reference_render(&t.node, &document);
            prop_assert_eq!(t.render(&document), reference.clone());
            prop_assert_eq!(t.render_json(&document), reference.to_string());
            let detail = PayloadTemplate::detail();
            let document = json!({"detail": document});
            prop_assert_eq!(detail.render_json(&document), document["detail"].to_string());
        }

    }
}
