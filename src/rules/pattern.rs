//! EventBridge event patterns, compiled once and evaluated against event documents with
//! EventBridge's own semantics.
//!
//! PLACEHOLDER: exact-value matching only, so routing can be built against the API. The full
//! matcher (issue 2, item 3) replaces this file.

use serde_json::Value;

/// A compiled EventBridge event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: Value,
}

/// Why a pattern is not one EventBridge would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PatternError {
    /// Where in the pattern, dot-separated (`detail.status[0]`), empty for the root.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Pattern {
    /// Compiles a pattern, reporting every problem found.
    pub fn compile(pattern: &Value) -> Result<Pattern, Vec<PatternError>> {
        if !pattern.is_object() {
            return Err(vec![PatternError {
                path: String::new(),
                message: "pattern must be a JSON object".into(),
            }]);
        }
        Ok(Pattern {
            source: pattern.clone(),
        })
    }

    /// True when the event matches.
    pub fn matches(&self, event: &Value) -> bool {
        fields_match(&self.source, event)
    }
}

fn fields_match(pattern: &Value, event: &Value) -> bool {
    let (Some(pattern), Some(event)) = (pattern.as_object(), event.as_object()) else {
        return false;
    };
    pattern
        .iter()
        .all(|(key, want)| match (want, event.get(key)) {
            (Value::Object(_), Some(got)) => fields_match(want, got),
            (Value::Array(allowed), Some(got)) => allowed.iter().any(|a| a == got),
            _ => false,
        })
}
