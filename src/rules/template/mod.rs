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

mod channel;
mod filter;
mod payload;

use std::fmt::{self, Write as _};

use serde_json::Value;

pub use channel::{ChannelTemplate, RenderError};
pub use filter::Filter;
use filter::{hash, slug};
pub use payload::PayloadTemplate;

/// At most this many characters of a value are quoted in an error reason, so a huge or
/// sensitive value never floods a log line.
const QUOTED_VALUE_CHARS: usize = 40;

/// Why a template cannot be used; reported as a configuration problem at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

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

/// Quotes a value for an error reason, shortened to a few dozen characters.
fn quote(s: &str) -> String {
    let end = s.floor_char_boundary(QUOTED_VALUE_CHARS);
    if end < s.len() {
        format!("{:?}…", &s[..end])
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// An event document with every kind of value a template meets.
    pub(super) fn doc() -> Value {
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

    pub(super) fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c0-2]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn templates_print_back_as_written() {
        let text = Text::parse("a {{b}} {detail.x|slug}").unwrap();
        assert_eq!(text.to_string(), "a {{b}} {detail.x|slug}");
    }

    proptest! {
        #[test]
        fn parsing_any_template_text_never_panics(s in "[{}|./a-z$ 0-9-]{0,40}") {
            let _ = ChannelTemplate::parse(&s);
            let _ = PayloadTemplate::parse(&Value::String(s));
        }

    }
}
