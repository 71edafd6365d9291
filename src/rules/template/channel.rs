//! Channel templates: a literal namespace, then segments rendered one by one and each checked
//! against AppSync's segment rule, so a placeholder value can never add a `/`, a wildcard or
//! `..` — a value that does not fit fails the record instead of reaching another channel.

use std::borrow::Cow;

use serde_json::Value;

use super::{Filter, Piece, Placeholder, TemplateError, Text, hash, quote, slug};
use crate::json::kind;
use crate::limits::{MAX_CHANNEL_SEGMENTS, MAX_SEGMENT_CHARS, is_valid_segment};

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

#[cfg(test)]
mod tests {
    use super::super::tests::{doc, json_value};
    use super::*;
    use crate::limits::is_valid_channel;
    use proptest::prelude::*;
    use serde_json::json;

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

    }
}
