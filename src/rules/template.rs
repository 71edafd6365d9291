//! Placeholders (`{detail.customerId}`, `{$}`), channel templates with a literal namespace, payload
//! templates, and the filters that turn any value into a valid channel segment.
//!
//! Templates are parsed once, when the rules document is loaded, into pieces that render without
//! re-parsing. A channel renders segment by segment and every rendered segment is checked against
//! AppSync's segment rule, so a placeholder value can never add a `/`, a wildcard or `..`: a value
//! that does not fit fails the record instead of reaching another channel.
//!
//! Syntax, shared by channel and payload templates:
//! - `{path}` — dot-separated keys into the event document (`detail.customerId`, `detail-type`);
//!   a numeric key indexes an array (`detail.items.0.sku`) and is an ordinary key in an object.
//! - `{$}` — the whole event document.
//! - `{path|slug}`, `{path|hash}` — filters (see [`Filter`]).
//! - `{{` and `}}` — a literal `{` and `}`. A lone `}` is an error, so a typo never renders silently.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::json::kind;
use crate::limits::{MAX_CHANNEL_SEGMENTS, MAX_SEGMENT_CHARS, is_valid_segment};

/// Number of hex characters the `hash` filter keeps (64 bits of SHA-256).
pub const HASH_HEX_CHARS: usize = 16;

/// At most this many characters of a value are quoted in an error reason, so a huge or
/// sensitive value never floods a log line.
const QUOTED_VALUE_CHARS: usize = 40;

/// Why a template cannot be used; reported as a configuration problem at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Why a template could not be rendered for one event; fails that record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A placeholder in a channel addresses a field the event does not have.
    #[error("channel placeholder {path} is missing from the event")]
    Missing {
        /// The placeholder path as written.
        path: String,
    },
    /// A placeholder in a channel addresses an object, an array or null.
    #[error("channel placeholder {path} is {kind}, not a string, number or boolean")]
    NotScalar {
        /// The placeholder path as written.
        path: String,
        /// `an object`, `an array` or `null`.
        kind: &'static str,
    },
    /// The `slug` filter left nothing (the value has no ASCII letter or digit).
    #[error("channel placeholder {path}|slug is empty after slugging {value}")]
    EmptySlug {
        /// The placeholder path as written.
        path: String,
        /// The value, quoted and shortened.
        value: String,
    },
    /// A rendered segment breaks AppSync's rule (1–50 of `[A-Za-z0-9-]`, alphanumeric at both ends).
    #[error(
        "channel segment from {source_text} renders {value}, which is not a valid segment \
         (1-50 of A-Z a-z 0-9 -, starting and ending with a letter or digit)"
    )]
    InvalidSegment {
        /// The segment template as written, e.g. `cust-{detail.customerId}`.
        source_text: String,
        /// The rendered segment, quoted and shortened.
        value: String,
    },
}

/// A filter applied to a placeholder's value before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Lowercase ASCII; every run of characters other than `[a-z0-9]` becomes one `-`; leading
    /// and trailing `-` trimmed; truncated so the segment fits 50 characters. Empty fails in a
    /// channel. `"Jane.Doe+VIP@Example.com"` → `jane-doe-vip-example-com`.
    Slug,
    /// The first 16 lowercase hex characters of the SHA-256 of the value's text (a string's UTF-8
    /// bytes; a number or boolean's JSON text). Stable across versions and languages: the same
    /// value gives the same segment in `sha256sum` or any client.
    Hash,
}

impl Filter {
    fn parse(name: &str) -> Option<Filter> {
        match name {
            "slug" => Some(Filter::Slug),
            "hash" => Some(Filter::Hash),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Filter::Slug => "slug",
            Filter::Hash => "hash",
        }
    }
}

/// Applies the `slug` filter, keeping at most `max` characters.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= max {
                break;
            }
        } else {
            pending_dash = true;
        }
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Applies the `hash` filter.
pub fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..HASH_HEX_CHARS / 2])
}

/// One step of a path: an object key, which is also an array index when numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    key: Box<str>,
    index: Option<usize>,
}

/// A parsed placeholder: where the value is and which filter applies.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placeholder {
    /// The path as written (`detail.customerId`, `$`), for messages.
    text: Box<str>,
    /// Empty for `$` (the whole document).
    steps: Vec<Step>,
    filter: Option<Filter>,
}

impl Placeholder {
    /// Parses the inside of `{...}`.
    fn parse(inner: &str) -> Result<Placeholder, TemplateError> {
        let (path, filter) = match inner.split_once('|') {
            Some((path, filter)) => {
                let name = filter.trim();
                let filter = Filter::parse(name).ok_or_else(|| {
                    TemplateError(format!(
                        "unknown filter `{name}` in `{{{inner}}}` (known: slug, hash)"
                    ))
                })?;
                (path.trim(), Some(filter))
            }
            None => (inner.trim(), None),
        };
        if path.is_empty() {
            return Err(TemplateError(format!(
                "empty placeholder `{{{inner}}}` (write a path such as {{detail.id}}, or {{$}} for the whole event)"
            )));
        }
        let steps = if path == "$" {
            Vec::new()
        } else {
            let mut steps = Vec::new();
            for key in path.split('.') {
                if key.is_empty() {
                    return Err(TemplateError(format!(
                        "bad placeholder path `{path}`: empty key between dots"
                    )));
                }
                if key.chars().any(char::is_whitespace) || key.contains('{') {
                    return Err(TemplateError(format!(
                        "bad placeholder path `{path}`: key `{key}` has whitespace or `{{`"
                    )));
                }
                steps.push(Step {
                    key: key.into(),
                    index: key.parse().ok(),
                });
            }
            steps
        };
        let text = match filter {
            Some(f) => format!("{path}|{}", f.name()),
            None => path.to_owned(),
        };
        Ok(Placeholder {
            text: text.into(),
            steps,
            filter,
        })
    }

    fn path_text(&self) -> &str {
        self.text
            .split_once('|')
            .map_or(&*self.text, |(path, _)| path)
    }

    /// The value this placeholder addresses, if the document has it.
    fn lookup<'v>(&self, document: &'v Value) -> Option<&'v Value> {
        let mut current = document;
        for step in &self.steps {
            current = match current {
                Value::Object(map) => map.get(&*step.key)?,
                Value::Array(items) => items.get(step.index?)?,
                _ => return None,
            };
        }
        Some(current)
    }
}

/// Part of a text template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Placeholder(Placeholder),
}

/// A string with placeholders, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    pieces: Vec<Piece>,
    /// Some placeholder uses `slug`, whose length budget depends on the other pieces.
    has_slug: bool,
}

impl Text {
    fn parse(text: &str) -> Result<Text, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find(['{', '}']) {
            literal.push_str(&rest[..pos]);
            let brace = rest.as_bytes()[pos];
            let after = &rest[pos + 1..];
            if brace == b'}' {
                if let Some(next) = after.strip_prefix('}') {
                    literal.push('}');
                    rest = next;
                    continue;
                }
                return Err(TemplateError(format!(
                    "unmatched `}}` in `{text}` (write `}}}}` for a literal brace)"
                )));
            }
            if let Some(next) = after.strip_prefix('{') {
                literal.push('{');
                rest = next;
                continue;
            }
            let Some(end) = after.find('}') else {
                return Err(TemplateError(format!(
                    "unclosed `{{` in `{text}` (write `{{{{` for a literal brace)"
                )));
            };
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Placeholder(Placeholder::parse(&after[..end])?));
            rest = &after[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        let has_slug = pieces
            .iter()
            .any(|p| matches!(p, Piece::Placeholder(p) if p.filter == Some(Filter::Slug)));
        Ok(Text { pieces, has_slug })
    }

    fn is_literal(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Literal(_)))
    }

    fn literal_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(s) => s.len(),
                Piece::Placeholder(_) => 0,
            })
            .sum()
    }

    /// The single placeholder, when the text is exactly one.
    fn as_single_placeholder(&self) -> Option<&Placeholder> {
        match self.pieces.as_slice() {
            [Piece::Placeholder(p)] => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => {
                    for c in s.chars() {
                        match c {
                            '{' => f.write_str("{{")?,
                            '}' => f.write_str("}}")?,
                            c => f.write_char(c)?,
                        }
                    }
                }
                Piece::Placeholder(p) => write!(f, "{{{}}}", p.text)?,
            }
        }
        Ok(())
    }
}

/// A channel template: a literal namespace and up to four more segments, each literal or
/// templated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTemplate {
    source: String,
    namespace: String,
    segments: Vec<Text>,
}

impl ChannelTemplate {
    /// Parses and validates a channel template; returns every problem found.
    pub fn parse(template: &str) -> Result<ChannelTemplate, Vec<TemplateError>> {
        let mut problems = Vec::new();
        let path = template.strip_prefix('/').unwrap_or(template);
        let raw: Vec<&str> = path.split('/').collect();
        if raw.len() > MAX_CHANNEL_SEGMENTS {
            problems.push(TemplateError(format!(
                "`{template}` has {} segments; AppSync allows at most {MAX_CHANNEL_SEGMENTS} including the namespace",
                raw.len()
            )));
        }
        let mut segments = Vec::with_capacity(raw.len());
        for (i, seg) in raw.iter().enumerate() {
            if seg.is_empty() {
                problems.push(TemplateError(format!(
                    "`{template}` has an empty segment (segment {})",
                    i + 1
                )));
                continue;
            }
            let text = match Text::parse(seg) {
                Ok(text) => text,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            if i == 0 && !text.is_literal() {
                problems.push(TemplateError(format!(
                    "the namespace `{seg}` must be literal, so the IAM policy can name it"
                )));
                continue;
            }
            if let Some(p) = literal_problem(seg, &text) {
                problems.push(TemplateError(p));
                continue;
            }
            segments.push(text);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let namespace = match segments.first().and_then(|t| t.pieces.first()) {
            Some(Piece::Literal(ns)) => ns.clone(),
            _ => {
                return Err(vec![TemplateError(format!(
                    "`{template}` has no namespace"
                ))]);
            }
        };
        Ok(ChannelTemplate {
            source: template.to_owned(),
            namespace,
            segments,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The literal namespace (the first segment), for IAM policies and `check`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Renders the channel (`/ns/a/b`) for one event document. The result always satisfies
    /// [`crate::limits::is_valid_channel`] and starts with `/{namespace}`.
    pub fn render(&self, document: &Value) -> Result<String, RenderError> {
        let mut channel = String::with_capacity(64);
        for segment in &self.segments {
            channel.push('/');
            render_segment(segment, document, &mut channel)?;
        }
        Ok(channel)
    }
}

/// Checks the literal parts of a channel segment against AppSync's rule, so a template that can
/// never render a valid segment is a start-up error rather than a failure per record.
fn literal_problem(seg: &str, text: &Text) -> Option<String> {
    if text.is_literal() {
        return (!is_valid_segment(seg)).then(|| {
            format!(
                "segment `{seg}` is not valid for AppSync (1-50 of A-Z a-z 0-9 -, starting and ending with a letter or digit)"
            )
        });
    }
    for piece in &text.pieces {
        if let Piece::Literal(s) = piece
            && let Some(c) = s
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!(
                "segment `{seg}` has `{c}`, which AppSync does not allow in a channel (only A-Z a-z 0-9 -)"
            ));
        }
    }
    let starts_with_dash =
        matches!(text.pieces.first(), Some(Piece::Literal(s)) if s.starts_with('-'));
    let ends_with_dash = matches!(text.pieces.last(), Some(Piece::Literal(s)) if s.ends_with('-'));
    if starts_with_dash || ends_with_dash {
        return Some(format!(
            "segment `{seg}` starts or ends with `-`, which AppSync does not allow"
        ));
    }
    let placeholders = text.pieces.len()
        - text
            .pieces
            .iter()
            .filter(|p| matches!(p, Piece::Literal(_)))
            .count();
    if text.literal_len() + placeholders > MAX_SEGMENT_CHARS {
        return Some(format!(
            "segment `{seg}` cannot fit in {MAX_SEGMENT_CHARS} characters"
        ));
    }
    None
}

/// Renders one segment into `out`, then checks it. Slug values share what the other pieces leave
/// of the 50 characters, so `cust-{detail.email|slug}` truncates the slug rather than failing.
fn render_segment(segment: &Text, document: &Value, out: &mut String) -> Result<(), RenderError> {
    let start = out.len();
    if !segment.has_slug {
        // Fast path: no slug budget to share, so pieces go straight into the channel.
        for piece in &segment.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Placeholder(p) => {
                    let text = channel_scalar(p, document)?;
                    match p.filter {
                        Some(Filter::Hash) => out.push_str(&hash(&text)),
                        _ => out.push_str(&text),
                    }
                }
            }
        }
        return check_segment(segment, out, start);
    }
    let mut parts: Vec<Cow<'_, str>> = Vec::with_capacity(segment.pieces.len());
    let mut slugs = Vec::new();
    for piece in &segment.pieces {
        match piece {
            Piece::Literal(s) => parts.push(Cow::Borrowed(s)),
            Piece::Placeholder(p) => {
                let text = channel_scalar(p, document)?;
                match p.filter {
                    None => parts.push(text),
                    Some(Filter::Hash) => parts.push(Cow::Owned(hash(&text))),
                    Some(Filter::Slug) => {
                        slugs.push((parts.len(), p));
                        parts.push(text);
                    }
                }
            }
        }
    }
    if !slugs.is_empty() {
        let fixed: usize = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| !slugs.iter().any(|(j, _)| j == i))
            .map(|(_, s)| s.len())
            .sum();
        let budget = MAX_SEGMENT_CHARS.saturating_sub(fixed) / slugs.len();
        for (i, p) in slugs {
            let slugged = slug(&parts[i], budget.max(1));
            if slugged.is_empty() {
                return Err(RenderError::EmptySlug {
                    path: p.path_text().to_owned(),
                    value: quote(&parts[i]),
                });
            }
            parts[i] = Cow::Owned(slugged);
        }
    }
    for part in &parts {
        out.push_str(part);
    }
    check_segment(segment, out, start)
}

fn check_segment(segment: &Text, out: &str, start: usize) -> Result<(), RenderError> {
    if !is_valid_segment(&out[start..]) {
        return Err(RenderError::InvalidSegment {
            source_text: segment.to_string(),
            value: quote(&out[start..]),
        });
    }
    Ok(())
}

/// The text a placeholder contributes to a channel: strings raw, numbers and booleans as their
/// JSON text; anything else fails the record.
fn channel_scalar<'v>(p: &Placeholder, document: &'v Value) -> Result<Cow<'v, str>, RenderError> {
    match p.lookup(document) {
        None => Err(RenderError::Missing {
            path: p.path_text().to_owned(),
        }),
        Some(Value::String(s)) => Ok(Cow::Borrowed(s)),
        Some(Value::Number(n)) => Ok(Cow::Owned(n.to_string())),
        Some(Value::Bool(b)) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
        Some(v) => Err(RenderError::NotScalar {
            path: p.path_text().to_owned(),
            kind: kind(v),
        }),
    }
}

/// Quotes a value for an error reason, shortened to a few dozen characters.
fn quote(s: &str) -> String {
    let end = s.floor_char_boundary(QUOTED_VALUE_CHARS);
    if end < s.len() {
        format!("{:?}…", &s[..end])
    } else {
        format!("{s:?}")
    }
}

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

    /// Renders the payload for one event document. Never fails.
    pub fn render(&self, document: &Value) -> Value {
        render_node(&self.node, document)
    }
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

fn render_node(node: &Node, document: &Value) -> Value {
    match node {
        Node::Detail => document.get("detail").cloned().unwrap_or(Value::Null),
        Node::Literal(v) => v.clone(),
        Node::Exact(p) => match (p.lookup(document), p.filter) {
            (None, _) => Value::Null,
            (Some(v), None) => v.clone(),
            (Some(v), Some(filter)) => Value::String(filter_payload(filter, v)),
        },
        Node::Text(text) => {
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
            Value::String(out)
        }
        Node::Object(nodes) => {
            let mut map = Map::new();
            for (k, n) in nodes {
                map.insert(k.clone(), render_node(n, document));
            }
            Value::Object(map)
        }
        Node::Array(nodes) => {
            Value::Array(nodes.iter().map(|n| render_node(n, document)).collect())
        }
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
    use super::*;
    use crate::limits::is_valid_channel;
    use proptest::prelude::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "id": "e-1",
            "detail-type": "OrderStatusChanged",
            "source": "shop.orders",
            "detail": {
                "customerId": "c-42",
                "orderId": "o-7",
                "status": "shipped",
                "total": 12.5,
                "count": 3,
                "gift": true,
                "note": null,
                "email": "Jane.Doe+VIP@Example.com",
                "items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}],
                "address": {"city": "Lyon"},
                "evil": "../admin",
                "star": "*",
                "space": "a b",
                "unicode": "café",
                "empty": "",
                "long": "a".repeat(51),
                "symbols": "!!!",
                "0": "zero-key"
            }
        })
    }

    #[test]
    fn channel_templates_render_or_fail_with_a_reason() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "/orders/{detail.customerId}/{detail.orderId}",
                Ok("/orders/c-42/o-7"),
            ),
            ("orders/{detail.customerId}", Ok("/orders/c-42")),
            ("/orders/cust-{detail.customerId}", Ok("/orders/cust-c-42")),
            ("/orders/{detail.items.1.sku}", Ok("/orders/SKU-2")),
            ("/orders/{detail.count}", Ok("/orders/3")),
            ("/orders/{detail.gift}", Ok("/orders/true")),
            ("/orders/{detail.0}", Ok("/orders/zero-key")),
            ("/orders/{detail-type}", Ok("/orders/OrderStatusChanged")),
            (
                "/orders/{detail.email|slug}",
                Ok("/orders/jane-doe-vip-example-com"),
            ),
            (
                "/orders/{detail.email|hash}",
                Ok("/orders/5d90bf10b8454827"),
            ),
            ("/orders/{detail.unicode|slug}", Ok("/orders/caf")),
            ("/orders/{detail.total}", Err("12.5")),
            (
                "/orders/{detail.evil}",
                Err("\"../admin\", which is not a valid segment"),
            ),
            (
                "/orders/{detail.star}",
                Err("\"*\", which is not a valid segment"),
            ),
            ("/orders/{detail.space}", Err("\"a b\"")),
            ("/orders/{detail.unicode}", Err("\"café\"")),
            ("/orders/{detail.empty}", Err("renders \"\"")),
            ("/orders/{detail.long}", Err("not a valid segment")),
            ("/orders/{detail.missing}", Err("detail.missing is missing")),
            ("/orders/{detail.note}", Err("detail.note is null")),
            ("/orders/{detail.address}", Err("is an object")),
            ("/orders/{detail.items}", Err("is an array")),
            ("/orders/{detail.items.9.sku}", Err("is missing")),
            ("/orders/{detail.symbols|slug}", Err("empty after slugging")),
            ("/orders/{detail.customerId.x}", Err("is missing")),
        ];
        let document = doc();
        for (template, want) in cases {
            let t = ChannelTemplate::parse(template).unwrap();
            let got = t.render(&document);
            match (want, &got) {
                (Ok(channel), Ok(rendered)) => assert_eq!(rendered, channel, "{template}"),
                (Err(fragment), Err(e)) => assert!(
                    e.to_string().contains(fragment),
                    "{template}: `{e}` lacks `{fragment}`"
                ),
                _ => panic!("{template}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn hash_is_the_first_sixteen_hex_of_sha256() {
        // sha256("Jane.Doe+VIP@Example.com"), checked with `printf %s ... | sha256sum`.
        let full = hex::encode(Sha256::digest(b"Jane.Doe+VIP@Example.com"));
        assert_eq!(hash("Jane.Doe+VIP@Example.com"), full[..16]);
        assert_eq!(hash("abc"), "ba7816bf8f01cfea");
    }

    #[test]
    fn slug_lowercases_collapses_trims_and_truncates() {
        assert_eq!(slug("  Hello,  World!  ", 50), "hello-world");
        assert_eq!(slug("BRK.B", 50), "brk-b");
        assert_eq!(slug("---", 50), "");
        assert_eq!(slug(&"ab".repeat(40), 50).len(), 50);
        assert_eq!(slug("abcd-efgh", 5), "abcd");
    }

    #[test]
    fn slug_shares_the_segment_with_literal_text() {
        let document = json!({"detail": {"email": "x".repeat(80)}});
        let t = ChannelTemplate::parse("/users/u-{detail.email|slug}").unwrap();
        let channel = t.render(&document).unwrap();
        assert_eq!(channel, format!("/users/u-{}", "x".repeat(48)));
        assert!(is_valid_channel(&channel));
    }

    #[test]
    fn channel_template_problems_are_all_reported() {
        let cases: &[(&str, &str)] = &[
            ("/{detail.ns}/x", "namespace `{detail.ns}` must be literal"),
            ("/ord-{detail.ns}/x", "must be literal"),
            ("/a/b/c/d/e/f", "6 segments"),
            ("/orders//x", "empty segment"),
            ("/orders/", "empty segment"),
            ("/orders/a_b", "segment `a_b` is not valid"),
            ("/orders/*", "segment `*` is not valid"),
            ("/orders/-{detail.x}", "starts or ends with `-`"),
            ("/orders/x.{detail.x}", "has `.`"),
            ("/orders/{detail.x|upper}", "unknown filter `upper`"),
            ("/orders/{detail..x}", "empty key between dots"),
            ("/orders/{}", "empty placeholder"),
            ("/orders/{detail.x", "unclosed `{`"),
            ("/orders/x}", "unmatched `}`"),
            ("/orders/{detail.a b}", "whitespace"),
            ("/or.ders/x", "segment `or.ders` is not valid"),
        ];
        for (template, fragment) in cases {
            let problems = ChannelTemplate::parse(template).unwrap_err();
            assert!(
                problems.iter().any(|p| p.0.contains(fragment)),
                "{template}: {problems:?} lacks `{fragment}`"
            );
        }
        let many = ChannelTemplate::parse("/{x}/a_b/{y|nope}/c/d/e").unwrap_err();
        assert_eq!(many.len(), 4, "{many:?}");
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

    #[test]
    fn templates_print_back_as_written() {
        let text = Text::parse("a {{b}} {detail.x|slug}").unwrap();
        assert_eq!(text.to_string(), "a {{b}} {detail.x|slug}");
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,60}".prop_map(Value::String),
            "[a-zA-Z0-9./*-]{0,70}".prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c0-2]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn rendered_channels_stay_in_their_namespace_and_valid(
            a in json_value(), b in json_value(), c in json_value(), d in json_value()
        ) {
            let document = json!({"detail": {"a": a, "b": b, "c": c, "d": d}});
            for template in [
                "/ns/{detail.a}",
                "/ns/{detail.a}/{detail.b}/{detail.c}/{detail.d}",
                "/ns/x-{detail.a}-{detail.b}",
                "/ns/{detail.a|slug}/{detail.b|hash}/p{detail.c|slug}q{detail.d|slug}",
                "/ns/{detail.a.0}/{detail.b.a}/{$}",
            ] {
                let t = ChannelTemplate::parse(template).unwrap();
                if let Ok(channel) = t.render(&document) {
                    prop_assert!(channel.starts_with("/ns/"), "{}", channel);
                    prop_assert!(is_valid_channel(&channel), "{}", channel);
                }
            }
        }

        #[test]
        fn any_string_value_in_a_segment_renders_valid_or_fails(s in ".{0,80}") {
            let document = json!({"detail": {"v": s}});
            let t = ChannelTemplate::parse("/ns/{detail.v}/end").unwrap();
            match t.render(&document) {
                Ok(channel) => {
                    prop_assert!(is_valid_channel(&channel));
                    prop_assert_eq!(channel.split('/').count(), 4);
                    prop_assert!(channel.ends_with("/end"));
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            let slugged = ChannelTemplate::parse("/ns/{detail.v|slug}").unwrap().render(&document);
            if let Ok(channel) = slugged {
                prop_assert!(is_valid_channel(&channel));
            }
            let hashed = ChannelTemplate::parse("/ns/{detail.v|hash}").unwrap().render(&document).unwrap();
            prop_assert!(is_valid_channel(&hashed));
        }

        #[test]
        fn parsing_any_template_text_never_panics(s in "[{}|./a-z$ 0-9-]{0,40}") {
            let _ = ChannelTemplate::parse(&s);
            let _ = PayloadTemplate::parse(&Value::String(s));
        }

        #[test]
        fn payload_rendering_never_panics(document in json_value()) {
            let t = PayloadTemplate::parse(&json!({
                "a": "{detail.a}", "b": "x {detail.b|slug} {$}", "c": ["{a.0.b}", "{detail|hash}"]
            })).unwrap();
            let _ = t.render(&document);
        }
    }
}
