//! Routing: an event document × the rule set → the events to publish, each with its channel,
//! payload and the rule that produced it. Pure: no clock, no network.

use std::sync::Arc;

use serde_json::Value;

use crate::rules::RuleSet;

/// One event to publish, produced by one matching rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The name of the rule that matched (for logs and metrics).
    pub rule: Arc<str>,
    /// The rendered channel, `/namespace/...`, valid by AppSync's channel rules.
    pub channel: String,
    /// The rendered payload (published as its JSON text).
    pub payload: Value,
}

/// Why a record cannot be routed. Deterministic, so never retryable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No rule matched and the rules say `unmatched: fail`.
    #[error("no rule matched")]
    Unmatched,
    /// A matching rule could not render its channel or payload for this event.
    #[error("rule {rule}: {reason}")]
    Render {
        /// The rule's name.
        rule: Arc<str>,
        /// What went wrong, e.g. `channel segment from detail.customerId "../admin" is not a valid segment`.
        reason: String,
    },
}

/// Routes one event document. `Ok(vec![])` means no rule matched and unmatched records are
/// dropped. When any matching rule fails to render, the whole record fails and nothing of it is
/// published (so a redelivery never duplicates the rules that did render).
pub fn route(_rules: &RuleSet, _document: &Value) -> Result<Vec<Routed>, RouteError> {
    unimplemented!("issue 2: routing")
}
