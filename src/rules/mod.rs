//! The rules document → compiled rules: parsed once (YAML or JSON), validated with every problem
//! reported, and compiled into a [`RuleSet`] that routing evaluates per record. Where the
//! document comes from is configuration's business ([`crate::config::RulesDocument`]).
//!
//! Each problem names where it is: `rules[2] (order-status).channel`, `rules[0] (x).pattern.detail`,
//! `unmatched`, `BRIDGE_RULES_FILE`, so a user fixes a whole document in one pass.

pub mod pattern;
pub mod template;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::problem::Problem;
use pattern::Pattern;
use template::{ChannelTemplate, PayloadTemplate};

/// Rule names appear in logs and metric dimensions, so they are kept short and plain.
const MAX_NAME_CHARS: usize = 64;

const TOP_LEVEL_KEYS: &[&str] = &["rules", "unmatched"];
const RULE_KEYS: &[&str] = &["name", "description", "pattern", "channel", "payload"];

/// What to do with a record no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmatched {
    /// Drop and count it (default).
    #[default]
    Drop,
    /// Fail the record.
    Fail,
}

impl Unmatched {
    /// The name used in the rules document.
    pub fn as_str(self) -> &'static str {
        match self {
            Unmatched::Drop => "drop",
            Unmatched::Fail => "fail",
        }
    }
}

/// One compiled rule: when its pattern matches, it publishes its payload to its channel.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique name, used in logs, metrics and failure reasons.
    pub name: Arc<str>,
    /// `None` matches every event (the rule has no `pattern`).
    pub pattern: Option<Pattern>,
    /// Where the event goes.
    pub channel: ChannelTemplate,
    /// What is published.
    pub payload: PayloadTemplate,
}

impl Rule {
    /// True when the event matches the rule's pattern (or the rule has none).
    pub fn matches(&self, document: &Value) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.matches(document))
    }
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// What happens to records no rule matches.
    pub unmatched: Unmatched,
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Parses a rules document (YAML or JSON).
    pub fn parse(text: &str) -> Result<RuleSet, Vec<Problem>> {
        Self::from_value(&Self::read_document(text)?)
    }

    /// Reads a rules document's text (YAML or JSON) into its JSON value, unvalidated.
    pub fn read_document(text: &str) -> Result<Value, Vec<Problem>> {
        if text.trim().is_empty() {
            return Err(vec![Problem::new("rules document", "is empty")]);
        }
        // JSON is YAML, so one parser reads both; going through serde_json::Value keeps a single
        // representation for patterns and templates. A document that looks like JSON is tried as
        // JSON first: the same `Value`, read about twenty times faster than by libyaml's scanner
        // (BENCHMARKS.md, "Init and memory"). Anything serde_json refuses (a YAML flow mapping
        // such as `{rules: []}`, a syntax error) goes to the YAML parser and its message.
        if text.trim_start().starts_with('{')
            && let Ok(document) = serde_json::from_str::<Value>(text)
        {
            return Ok(document);
        }
        serde_norway::from_str(text).map_err(|e| {
            vec![Problem::new(
                "rules document",
                format!("is not valid YAML or JSON: {e}"),
            )]
        })
    }

    /// Validates a parsed document.
    pub fn from_value(document: &Value) -> Result<RuleSet, Vec<Problem>> {
        let Some(top) = document.as_object() else {
            return Err(vec![Problem::new(
                "rules document",
                "must be a mapping with `rules` (and optionally `unmatched`)",
            )]);
        };
        let mut problems = Vec::new();
        unknown_keys(top, TOP_LEVEL_KEYS, "rules document", &mut problems);

        let unmatched = match top.get("unmatched") {
            None => Unmatched::Drop,
            Some(Value::String(s)) if s == "drop" => Unmatched::Drop,
            Some(Value::String(s)) if s == "fail" => Unmatched::Fail,
            Some(other) => {
                problems.push(Problem::new(
                    "unmatched",
                    format!("must be `drop` or `fail`, not {other}"),
                ));
                Unmatched::Drop
            }
        };

        let mut rules = Vec::new();
        match top.get("rules") {
            None => problems.push(Problem::new("rules", "is missing")),
            Some(Value::Array(items)) if items.is_empty() => {
                problems.push(Problem::new("rules", "is empty; add at least one rule"));
            }
            Some(Value::Array(items)) => {
                let mut seen = HashSet::new();
                for (index, item) in items.iter().enumerate() {
                    if let Some(rule) = compile_rule(index, item, &mut seen, &mut problems) {
                        rules.push(rule);
                    }
                }
            }
            Some(_) => problems.push(Problem::new("rules", "must be a list of rules")),
        }

        if problems.is_empty() {
            Ok(RuleSet { unmatched, rules })
        } else {
            Err(problems)
        }
    }

    /// The rules, in document order (the order fan-out publishes in).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Always false for a validated rule set (an empty one is a configuration problem).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rule names in document order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// The distinct namespaces the rules publish to, sorted: what the IAM policy must allow
    /// (`appsync:EventPublish` on `.../channelNamespace/<ns>`).
    pub fn namespaces(&self) -> Vec<&str> {
        let mut namespaces: Vec<&str> = self.rules.iter().map(|r| r.channel.namespace()).collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        namespaces
    }
}

/// Where a problem inside one of a rule's fields is: `{at}.{field}` followed by the path inside
/// it (`.key`, `[0]`), if any.
fn place(at: &str, field: &str, inner: &str) -> String {
    if inner.is_empty() {
        format!("{at}.{field}")
    } else if inner.starts_with('[') {
        format!("{at}.{field}{inner}")
    } else {
        format!("{at}.{field}.{inner}")
    }
}

fn unknown_keys(map: &Map<String, Value>, known: &[&str], at: &str, problems: &mut Vec<Problem>) {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            problems.push(Problem::new(
                format!("{at}.{key}"),
                format!("unknown key (expected one of: {})", known.join(", ")),
            ));
        }
    }
}

fn compile_rule(
    index: usize,
    item: &Value,
    seen: &mut HashSet<String>,
    problems: &mut Vec<Problem>,
) -> Option<Rule> {
    let Some(map) = item.as_object() else {
        problems.push(Problem::new(
            format!("rules[{index}]"),
            "must be a mapping with name, pattern, channel and payload",
        ));
        return None;
    };
    let before = problems.len();

    let name = match map.get("name") {
        Some(Value::String(name)) if valid_name(name) => Some(name.as_str()),
        Some(Value::String(name)) => {
            problems.push(Problem::new(
                format!("rules[{index}].name"),
                format!("`{name}` is not a valid name (1-{MAX_NAME_CHARS} of A-Z a-z 0-9 - _ .)"),
            ));
            None
        }
        Some(other) => {
            problems.push(Problem::new(
                format!("rules[{index}].name"),
                format!("must be a string, not {other}"),
            ));
            None
        }
        None => {
            problems.push(Problem::new(format!("rules[{index}].name"), "is missing"));
            None
        }
    };
    let at = match name {
        Some(name) => format!("rules[{index}] ({name})"),
        None => format!("rules[{index}]"),
    };
    if let Some(name) = name
        && !seen.insert(name.to_owned())
    {
        problems.push(Problem::new(
            format!("{at}.name"),
            format!("duplicate name `{name}`; rule names must be unique"),
        ));
    }
    unknown_keys(map, RULE_KEYS, &at, problems);

    if map.get("description").is_some_and(|d| !d.is_string()) {
        problems.push(Problem::new(
            format!("{at}.description"),
            "must be a string",
        ));
    }

    let pattern = match map.get("pattern") {
        None => None,
        Some(p) => match Pattern::compile(p) {
            Ok(p) => Some(p),
            Err(errors) => {
                for e in errors {
                    problems.push(Problem::new(place(&at, "pattern", &e.path), e.message));
                }
                None
            }
        },
    };

    let channel = match map.get("channel") {
        Some(Value::String(c)) => match ChannelTemplate::parse(c) {
            Ok(c) => Some(c),
            Err(errors) => {
                for e in errors {
                    problems.push(Problem::new(format!("{at}.channel"), e.0));
                }
                None
            }
        },
        Some(other) => {
            problems.push(Problem::new(
                format!("{at}.channel"),
                format!("must be a string such as /orders/{{detail.orderId}}, not {other}"),
            ));
            None
        }
        None => {
            problems.push(Problem::new(format!("{at}.channel"), "is missing"));
            None
        }
    };

    let payload = match map.get("payload") {
        None => Some(PayloadTemplate::detail()),
        Some(p) => match PayloadTemplate::parse(p) {
            Ok(p) => Some(p),
            Err(errors) => {
                for (inner, e) in errors {
                    problems.push(Problem::new(place(&at, "payload", &inner), e.0));
                }
                None
            }
        },
    };

    if problems.len() != before {
        return None;
    }
    Some(Rule {
        name: Arc::from(name?),
        pattern,
        channel: channel?,
        payload: payload?,
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = r#"
rules:
  - name: order-status
    description: one channel per customer and order
    pattern:
      source: [shop.orders]
      detail-type: [OrderStatusChanged]
    channel: /orders/{detail.customerId}/{detail.orderId}
    payload:
      order: "{detail.orderId}"
      status: "{detail.status}"
  - name: presence
    channel: /presence/agents/{detail.agentId|slug}
unmatched: fail
"#;

    fn problems(text: &str) -> Vec<Problem> {
        RuleSet::parse(text).unwrap_err()
    }

    fn has(problems: &[Problem], location: &str, fragment: &str) -> bool {
        problems
            .iter()
            .any(|p| p.location == location && p.message.contains(fragment))
    }

    #[test]
    fn a_json_document_reads_as_the_same_value_through_json_and_yaml() {
        let yaml_text =
            std::fs::read_to_string(format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let sample: Value = serde_norway::from_str(&yaml_text).unwrap();
        let odd = r#"{"rules": [{"name": "a\u00e9\/\"q\"", "n": [1, -2, 3.5, 1e3, 0.1, 18446744073709551615],
            "t": true, "z": null, "dup": 1, "dup": 2, "s": "\u00e9 tab\t"}]}"#;
        for text in [sample.to_string(), odd.to_owned()] {
            let json: Value = serde_json::from_str(&text).unwrap();
            let yaml: Value = serde_norway::from_str(&text).unwrap();
            assert_eq!(json, yaml, "{text}");
        }
        let json_rules = RuleSet::parse(&sample.to_string()).unwrap();
        let yaml_rules = RuleSet::parse(&yaml_text).unwrap();
        assert_eq!(
            json_rules.names().collect::<Vec<_>>(),
            yaml_rules.names().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_json_surrogate_pair_escape_that_libyaml_refuses_is_read_as_json() {
        let text = r#"{"rules": [{"name": "emoji", "channel": "/default/x",
            "payload": {"v": "\ud83d\ude00 {detail.v}"}}]}"#;
        assert!(serde_norway::from_str::<Value>(text).is_err());
        assert_eq!(
            RuleSet::parse(text).map(|r| r.len()).map_err(|p| p.len()),
            Ok(1)
        );
    }

    #[test]
    fn a_yaml_flow_mapping_that_is_not_json_still_parses_as_yaml() {
        let rules =
            RuleSet::parse("{rules: [{name: a, channel: /default/x, payload: {v: '{detail.v}'}}]}");
        assert_eq!(rules.map(|r| r.len()).map_err(|p| p.len()), Ok(1));
    }

    #[test]
    fn a_valid_yaml_document_compiles() {
        let rules = RuleSet::parse(SAMPLE).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules.names().collect::<Vec<_>>(),
            ["order-status", "presence"]
        );
        assert_eq!(rules.unmatched, Unmatched::Fail);
        assert_eq!(rules.namespaces(), ["orders", "presence"]);
        assert!(rules.rules()[1].payload.is_detail());
        assert!(rules.rules()[1].pattern.is_none());
    }

    #[test]
    fn a_json_document_compiles_and_unmatched_defaults_to_drop() {
        let text = json!({"rules": [{"name": "a", "channel": "/ns/x"}]}).to_string();
        let rules = RuleSet::parse(&text).unwrap();
        assert_eq!(rules.unmatched, Unmatched::Drop);
        assert_eq!(rules.rules()[0].channel.source(), "/ns/x");
    }

    #[test]
    fn each_problem_kind_is_reported_with_rule_and_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "rules document", "is empty"),
            ("rules: [", "rules document", "not valid YAML"),
            ("- a", "rules document", "must be a mapping"),
            ("unmatched: drop", "rules", "is missing"),
            ("rules: []", "rules", "is empty"),
            ("rules: {}", "rules", "must be a list"),
            (
                "rules: [{name: a, channel: /n/x}]\nunmatched: never",
                "unmatched",
                "`drop` or `fail`",
            ),
            (
                "rules: [{name: a, channel: /n/x}]\nextra: 1",
                "rules document.extra",
                "unknown key",
            ),
            (
                "rules: [{name: a, channel: /n/x, colour: red}]",
                "rules[0] (a).colour",
                "unknown key",
            ),
            ("rules: [{channel: /n/x}]", "rules[0].name", "is missing"),
            (
                "rules: [{name: 'a b', channel: /n/x}]",
                "rules[0].name",
                "not a valid name",
            ),
            (
                "rules: [{name: 3, channel: /n/x}]",
                "rules[0].name",
                "must be a string",
            ),
            (
                "rules: [{name: a, channel: /n/x}, {name: a, channel: /n/y}]",
                "rules[1] (a).name",
                "duplicate",
            ),
            ("rules: [{name: a}]", "rules[0] (a).channel", "is missing"),
            (
                "rules: [{name: a, channel: [x]}]",
                "rules[0] (a).channel",
                "must be a string",
            ),
            (
                "rules: [{name: a, channel: '/{detail.ns}/x'}]",
                "rules[0] (a).channel",
                "must be literal",
            ),
            (
                "rules: [{name: a, channel: /n/a/b/c/d/e}]",
                "rules[0] (a).channel",
                "at most 5",
            ),
            (
                "rules: [{name: a, channel: /n/a_b}]",
                "rules[0] (a).channel",
                "not valid",
            ),
            (
                "rules: [{name: a, channel: '/n/{detail..x}'}]",
                "rules[0] (a).channel",
                "bad placeholder path",
            ),
            (
                "rules: [{name: a, channel: '/n/{detail.x|upper}'}]",
                "rules[0] (a).channel",
                "unknown filter",
            ),
            (
                "rules: [{name: a, channel: /n/x, payload: {b: '{detail.x|nope}'}}]",
                "rules[0] (a).payload.b",
                "unknown filter",
            ),
            (
                "rules: [{name: a, channel: /n/x, pattern: [1]}]",
                "rules[0] (a).pattern",
                "object",
            ),
            (
                "rules: [{name: a, channel: /n/x, description: [1]}]",
                "rules[0] (a).description",
                "must be a string",
            ),
            ("rules: [7]", "rules[0]", "must be a mapping"),
            (
                "rules: [{name: a, channel: /n/x, pattern: {detail: {n: [{numeric: ['>', x]}]}}}]",
                "rules[0] (a).pattern.detail.n[0].numeric[1]",
                "",
            ),
        ];
        for (text, location, fragment) in cases {
            let found = problems(text);
            assert!(
                has(&found, location, fragment),
                "{text:?}: no `{location}: ...{fragment}...` in {found:?}"
            );
        }
    }

    #[test]
    fn several_problems_are_all_reported_at_once() {
        let found = problems(
            r#"
rules:
  - name: ok
    channel: /orders/{detail.id}
  - name: bad-channel
    channel: /{detail.ns}/a/b/c/d/e
    colour: red
  - channel: /x/y
  - name: ok
    channel: /orders/{detail.id|nope}
    payload: { a: "{unclosed" }
unmatched: sometimes
surprise: true
"#,
        );
        let locations: Vec<&str> = found.iter().map(|p| p.location.as_str()).collect();
        for want in [
            "rules document.surprise",
            "unmatched",
            "rules[1] (bad-channel).colour",
            "rules[1] (bad-channel).channel",
            "rules[2].name",
            "rules[3] (ok).name",
            "rules[3] (ok).channel",
            "rules[3] (ok).payload.a",
        ] {
            assert!(locations.contains(&want), "{want} not in {locations:?}");
        }
        // Both the templated namespace and the sixth segment are reported for rule 1.
        assert_eq!(
            locations
                .iter()
                .filter(|l| **l == "rules[1] (bad-channel).channel")
                .count(),
            2
        );
    }
}
