//! Routing: an event document × the rule set → the events to publish, each with its channel,
//! payload and the rule that produced it. Pure: no clock, no network.

use std::sync::Arc;

use serde_json::Value;

use crate::rules::template::RenderError;
use crate::rules::{RuleSet, Unmatched};

/// One event to publish, produced by one matching rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The name of the rule that matched (for logs and metrics).
    pub rule: Arc<str>,
    /// The rendered channel, `/namespace/...`, valid by AppSync's channel rules.
    pub channel: String,
    /// The rendered payload's compact JSON text, as it is published.
    pub json: String,
}

/// Why a record cannot be routed. Deterministic, so never retryable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No rule matched and the rules say `unmatched: fail`.
    #[error("no rule matched")]
    Unmatched,
    /// A matching rule could not render its channel for this event.
    #[error("rule {rule}: {error}")]
    Render {
        /// The rule's name.
        rule: Arc<str>,
        /// What went wrong, e.g. `channel segment from detail.customerId renders "../admin", which
        /// is not a valid segment`.
        #[source]
        error: RenderError,
    },
}

/// Routes one event document. `Ok(vec![])` means no rule matched and unmatched records are
/// dropped. When any matching rule fails to render, the whole record fails and nothing of it is
/// published (so a redelivery never duplicates the rules that did render).
pub fn route(rules: &RuleSet, document: &Value) -> Result<Vec<Routed>, RouteError> {
    let mut routed = Vec::new();
    for rule in rules.rules() {
        if !rule.matches(document) {
            continue;
        }
        let channel = rule
            .channel
            .render(document)
            .map_err(|error| RouteError::Render {
                rule: Arc::clone(&rule.name),
                error,
            })?;
        routed.push(Routed {
            rule: Arc::clone(&rule.name),
            channel,
            json: rule.payload.render_json(document),
        });
    }
    if routed.is_empty() && rules.unmatched == Unmatched::Fail {
        return Err(RouteError::Unmatched);
    }
    Ok(routed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::is_valid_channel;
    use proptest::prelude::*;
    use serde_json::json;

    const RULES: &str = r#"
rules:
  - name: order-status
    pattern: { source: [shop.orders], detail-type: [OrderStatusChanged] }
    channel: /orders/{detail.customerId}/{detail.orderId}
    payload: { order: "{detail.orderId}", status: "{detail.status}" }
  - name: order-feed
    pattern: { source: [shop.orders] }
    channel: /orders/feed
  - name: presence
    pattern: { source: [support.agents] }
    channel: /presence/agents/{detail.agentId|slug}
"#;

    fn order(customer: &str) -> Value {
        json!({
            "source": "shop.orders",
            "detail-type": "OrderStatusChanged",
            "detail": {"customerId": customer, "orderId": "o-1", "status": "paid"}
        })
    }

    #[test]
    fn every_matching_rule_publishes_in_rule_order() {
        let rules = RuleSet::parse(RULES).unwrap();
        let routed = route(&rules, &order("c-1")).unwrap();
        let got: Vec<(&str, &str)> = routed
            .iter()
            .map(|r| (&*r.rule, r.channel.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("order-status", "/orders/c-1/o-1"),
                ("order-feed", "/orders/feed")
            ]
        );
        let payload = |i: usize| serde_json::from_str::<Value>(&routed[i].json).unwrap();
        assert_eq!(payload(0), json!({"order": "o-1", "status": "paid"}));
        assert_eq!(
            payload(1),
            json!({"customerId": "c-1", "orderId": "o-1", "status": "paid"})
        );
    }

    #[test]
    fn unmatched_records_are_dropped_by_default() {
        let rules = RuleSet::parse(RULES).unwrap();
        assert_eq!(route(&rules, &json!({"source": "elsewhere"})), Ok(vec![]));
    }

    #[test]
    fn unmatched_records_fail_when_the_rules_say_so() {
        let rules = RuleSet::parse(&format!("{RULES}\nunmatched: fail\n")).unwrap();
        assert_eq!(
            route(&rules, &json!({"source": "elsewhere"})),
            Err(RouteError::Unmatched)
        );
    }

    #[test]
    fn one_failed_render_fails_the_whole_record() {
        let rules = RuleSet::parse(RULES).unwrap();
        let err = route(&rules, &order("../admin")).unwrap_err();
        let RouteError::Render { rule, error } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(&**rule, "order-status");
        assert!(error.to_string().contains("\"../admin\""), "{error}");
        assert!(
            err.to_string()
                .starts_with("rule order-status: channel segment")
        );
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,60}".prop_map(Value::String),
            "(\\.\\./)?[a-zA-Z0-9/*. -]{0,60}".prop_map(Value::String),
            Just(json!({"nested": "x"})),
            Just(json!(["a", "b"])),
        ]
    }

    proptest! {
        #[test]
        fn routed_channels_stay_valid_and_in_their_rules_namespace(
            source in prop_oneof![Just("shop.orders"), Just("support.agents"), Just("x")],
            customer in scalar(),
            order_id in scalar(),
            agent in scalar(),
        ) {
            let rules = RuleSet::parse(RULES).unwrap();
            let document = json!({
                "source": source,
                "detail-type": "OrderStatusChanged",
                "detail": {"customerId": customer, "orderId": order_id, "agentId": agent}
            });
            if let Ok(routed) = route(&rules, &document) {
                for r in routed {
                    let rule = rules.rules().iter().find(|x| x.name == r.rule).unwrap();
                    let prefix = format!("/{}/", rule.channel.namespace());
                    prop_assert!(r.channel.starts_with(&prefix), "{}", r.channel);
                    prop_assert!(is_valid_channel(&r.channel), "{}", r.channel);
                }
            }
        }
    }
}
