//! `--namespaces-from FILE`: the channel namespaces an appsync-bridge rules document publishes
//! to (the first segment of every rule's `channel`), so the local server serves exactly what the
//! bridge's rules need.
//!
//! Read with its own small reader: appsync-local does not depend on the bridge crate, and
//! needs nothing of a rule but its `channel`. Whether the rest of the document is valid is the
//! bridge's `check` to say.

use serde_json::Value;

use crate::channel::is_valid_segment;

/// The namespaces `text` (a rules document, YAML or JSON) publishes to, in document order,
/// each once. The error says which rule is the problem.
pub fn namespaces_from_rules(text: &str) -> Result<Vec<String>, String> {
    // The bridge reads a document starting with `{` as JSON first; YAML reads JSON too.
    let document: Value = match serde_json::from_str(text) {
        Ok(document) if text.trim_start().starts_with('{') => document,
        _ => serde_norway::from_str(text).map_err(|e| format!("is not YAML or JSON: {e}"))?,
    };
    let Some(rules) = document.get("rules").and_then(Value::as_array) else {
        return Err("has no `rules` list".to_owned());
    };
    let mut namespaces = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let name = rule.get("name").and_then(Value::as_str).unwrap_or("?");
        let Some(channel) = rule.get("channel").and_then(Value::as_str) else {
            return Err(format!("rules[{index}] ({name}) has no channel"));
        };
        let path = channel.trim().trim_start_matches('/');
        let namespace = path.split('/').next().unwrap_or_default();
        if !is_valid_segment(namespace) {
            return Err(format!(
                "rules[{index}] ({name}): the namespace of channel {channel} is not a literal namespace name"
            ));
        }
        if !namespaces.iter().any(|n| n == namespace) {
            namespaces.push(namespace.to_owned());
        }
    }
    if namespaces.is_empty() {
        return Err("has no rules, so no namespaces".to_owned());
    }
    Ok(namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespaces_are_the_first_segments_of_the_channels_each_once() {
        let yaml = "rules:\n  - name: a\n    channel: /orders/{detail.id}\n  - name: b\n    channel: presence/agents\n  - name: c\n    channel: /orders/dashboard\nunmatched: drop\n";
        assert_eq!(namespaces_from_rules(yaml).unwrap(), ["orders", "presence"]);
        let json = r#"{"rules":[{"name":"a","channel":"/prices/{detail.symbol|slug}"}]}"#;
        assert_eq!(namespaces_from_rules(json).unwrap(), ["prices"]);
    }

    #[test]
    fn a_placeholder_namespace_or_a_document_without_rules_is_refused_with_the_rule() {
        let err = namespaces_from_rules("rules:\n  - name: t\n    channel: /{detail.tenant}/x\n")
            .unwrap_err();
        assert!(err.contains("rules[0] (t)"), "{err}");
        assert!(namespaces_from_rules("unmatched: drop\n").is_err());
        assert!(
            namespaces_from_rules("rules: [{name: x}]")
                .unwrap_err()
                .contains("no channel")
        );
        assert!(namespaces_from_rules(": : :").is_err());
    }
}
