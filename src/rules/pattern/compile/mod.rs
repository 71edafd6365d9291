//! Pattern JSON → matcher tree, with EventBridge's validation: every rejected construct becomes
//! a [`PatternError`] with its path, and compilation goes on so that all problems are reported.

mod operators;

use serde_json::{Map, Value};

use super::ops::{Literal, Matcher, Num};
use super::{Fields, Node, PatternError};
use operators::operator;

/// The key EventBridge reads as "one of these sub-patterns".
const OR: &str = "$or";

/// The comparison operators EventBridge knows.
const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
];

/// Compiles a whole pattern; the root must be a non-empty object.
pub(super) fn compile(pattern: &Value) -> Result<Fields, Vec<PatternError>> {
    let mut errors = Errors::default();
    let Some(object) = pattern.as_object() else {
        errors.push("", "pattern must be a JSON object");
        return Err(errors.0);
    };
    let root = fields(object, "", false, &mut errors);
    if errors.0.is_empty() {
        Ok(root)
    } else {
        Err(errors.0)
    }
}

#[derive(Default)]
struct Errors(Vec<PatternError>);

impl Errors {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(PatternError {
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// One object level of the pattern.
fn fields(object: &Map<String, Value>, path: &str, in_or: bool, errors: &mut Errors) -> Fields {
    if object.is_empty() {
        errors.push(path, "empty objects are not allowed");
    }
    let mut entries = Vec::with_capacity(object.len());
    let mut any_of = Vec::new();
    for (key, value) in object {
        let here = child(path, key);
        // Inside `$or`, EventBridge refuses operator names as field names (they would be
        // ambiguous with a misplaced operator).
        if in_or && OPERATORS.contains(&key.as_str()) {
            errors.push(
                &here,
                format!("`{key}` is an operator name and cannot be a field name inside $or"),
            );
            continue;
        }
        if key == OR {
            if let Some(alternatives) = or_group(value, &here, errors) {
                any_of.push(alternatives);
            }
            continue;
        }
        match value {
            Value::Object(nested) => {
                entries.push((
                    key.as_str().into(),
                    Node::Object(fields(nested, &here, in_or, errors)),
                ));
            }
            Value::Array(items) => {
                entries.push((key.as_str().into(), Node::Leaf(leaf(items, &here, errors))));
            }
            _ => errors.push(
                &here,
                "a field's value must be an array of values to match or a nested object",
            ),
        }
    }
    // AND is order-independent, so test the cheapest, most selective fields first: leaves of
    // plain literals (usually `source`, `detail-type`) let most non-matching rules exit early.
    entries.sort_by_key(|(_, node)| cost(node));
    Fields {
        entries: entries.into_boxed_slice(),
        any_of: any_of.into_boxed_slice(),
    }
}

fn cost(node: &Node) -> u8 {
    match node {
        Node::Leaf(matchers) if matchers.iter().all(|m| matches!(m, Matcher::Exact(_))) => 0,
        Node::Leaf(_) => 1,
        Node::Object(_) => 2,
    }
}

/// `"$or": [ {...}, {...} ]`: at least two sub-patterns, each a non-empty object.
fn or_group(value: &Value, path: &str, errors: &mut Errors) -> Option<Box<[Fields]>> {
    let Some(items) = value.as_array() else {
        errors.push(path, "$or must be an array of at least two objects");
        return None;
    };
    if items.len() < 2 {
        errors.push(path, "$or must have at least two alternatives");
    }
    let mut alternatives = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = index(path, i);
        match item.as_object() {
            Some(object) => alternatives.push(fields(object, &here, true, errors)),
            None => errors.push(&here, "each $or alternative must be an object"),
        }
    }
    Some(alternatives.into_boxed_slice())
}

/// A leaf array: literals and operator objects, any of which may match.
fn leaf(items: &[Value], path: &str, errors: &mut Errors) -> Box<[Matcher]> {
    if items.is_empty() {
        errors.push(path, "empty arrays are not allowed");
    }
    let mut matchers = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = index(path, i);
        let matcher = match item {
            Value::Object(op) => operator(op, &here, errors),
            Value::Array(_) => {
                errors.push(&here, "nested arrays are not allowed in a pattern");
                None
            }
            scalar => literal(scalar).map(Matcher::Exact),
        };
        matchers.extend(matcher);
    }
    matchers.into_boxed_slice()
}

fn literal(value: &Value) -> Option<Literal> {
    match value {
        Value::String(s) => Some(Literal::String(s.as_str().into())),
        Value::Number(n) => Some(Literal::Number(Num::from(n))),
        Value::Bool(b) => Some(Literal::Bool(*b)),
        Value::Null => Some(Literal::Null),
        Value::Array(_) | Value::Object(_) => None,
    }
}
