//! The real handler publishing to a namespace whose `onPublish` handler (run by appsync-local, as
//! AppSync runs it) rejects some events: exactly those records are reported failed.

use std::collections::BTreeMap;

use serde_json::json;

use crate::helpers::*;

/// Refuses odd order numbers with a per-event `error`, as an AppSync handler validating payloads
/// would; the rest pass through unchanged.
const REJECT_ODD: &str = r#"
import { util } from '@aws-appsync/utils'

export function onPublish(ctx) {
  return ctx.events.map((event) =>
    event.payload.n % 2 === 1 ? { ...event, error: `order ${event.payload.n} refused` } : event)
}
"#;

#[tokio::test]
async fn events_a_namespace_handler_rejects_fail_their_records_and_the_rest_are_accepted() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("orders.js");
    std::fs::write(&file, REJECT_ODD).expect("the handler file is written");
    let server = appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        namespaces: vec!["orders".into()],
        handlers: BTreeMap::from([("orders".to_owned(), file)]),
        ..Default::default()
    })
    .await
    .expect("local server starts");
    let app = app(&server, &[]);
    let records: Vec<(String, String)> =
        (0..5).map(|n| (format!("m{n}"), order("c1", n))).collect();
    let batch = sqs_batch(
        &records
            .iter()
            .map(|(id, body)| (id.as_str(), body.clone(), None))
            .collect::<Vec<_>>(),
    );

    let answer = run(&app, batch).await.expect("an SQS answer");

    assert_eq!(failed_items(&answer), vec!["m1", "m3"]);
    let delivered: Vec<serde_json::Value> = server
        .accepted()
        .iter()
        .map(|e| serde_json::from_str(&e.event).expect("JSON event"))
        .collect();
    let numbers: Vec<u64> = delivered.iter().map(|e| e["n"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![0, 2, 4]);
    assert_eq!(
        delivered[0],
        json!({"kind": "order", "customerId": "c1", "n": 0})
    );
    // A handler's refusal is final: one request, nothing retried.
    assert_eq!(server.requests().len(), 1);
    server.shutdown().await;
}

/// Refuses a whole request the way AppSync handlers do: `util.error` (AppSync answers 403 over
/// HTTP) for a closed customer, `util.unauthorized()` (401) for a blocked one.
const REFUSE_REQUESTS: &str = r#"
import { util } from '@aws-appsync/utils'

export function onPublish(ctx) {
  const customer = ctx.events[0].payload.customerId
  if (customer === 'closed') util.error('orders from this customer are closed', 'OrderRejected')
  if (customer === 'blocked') util.unauthorized()
  return ctx.events
}
"#;

#[tokio::test]
async fn a_handler_refusing_the_request_fails_its_records_with_appsyncs_error_and_no_retry() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("orders.js");
    std::fs::write(&file, REFUSE_REQUESTS).expect("the handler file is written");
    let server = appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        namespaces: vec!["orders".into()],
        handlers: BTreeMap::from([("orders".to_owned(), file)]),
        ..Default::default()
    })
    .await
    .expect("local server starts");
    let rules = [(
        "BRIDGE_RULES",
        "rules: [{name: all, channel: '/orders/{detail.customerId}'}]",
    )];
    let app = app(&server, &rules);
    for (customer, status, error_type) in [
        ("closed", 403, "OrderRejected"),
        ("blocked", 401, "UnauthorizedException"),
    ] {
        let before = server.requests().len();
        let event = json!({
            "id": format!("e-{customer}"), "source": "shop.orders", "detail-type": "t",
            "detail": {"customerId": customer, "n": 1}
        });
        let error = run(&app, event).await.expect_err("the event fails");
        let appsync_bridge::handler::HandlerError::EventFailed { reasons, .. } = error else {
            panic!("{customer}: not an event failure: {error:?}");
        };
        assert!(
            reasons.starts_with(&format!(
                "rule all channel /orders/{customer}: appsync answered http {status} ({error_type}"
            )),
            "{customer}: {reasons}"
        );
        assert_eq!(
            server.requests().len(),
            before + 1,
            "{customer}: not retried"
        );
    }
    // A request the handler lets through is accepted.
    let event = json!({"id": "e-open", "source": "shop.orders", "detail-type": "t",
        "detail": {"customerId": "open", "n": 1}});
    assert!(run(&app, event).await.is_ok());
    assert_eq!(server.accepted().len(), 1);
    server.shutdown().await;
}
