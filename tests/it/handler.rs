//! The Lambda handler end to end with the sample events and rules: auth (API key, SigV4
//! verified by the server), EventBridge answers, the poison batch, and no secrets in logs.

use appsync_bridge::handler::{App, HandlerError};
use appsync_bridge::limits::MAX_EVENT_BYTES;
use appsync_bridge::metrics::MetricsSink;
use appsync_local::{AuthOutcome, Scripted};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

use crate::helpers::{
    API_KEY, CapturedLogs, app, config, failed_items, local_server, order, repo_path, run, sample,
    sqs_batch,
};

const AKID: &str = "AKIDLOCALTEST0001";
const SECRET: &str = "local/secret+key-do-not-log";
const SESSION: &str = "session-token-do-not-log";

fn sample_rules() -> String {
    repo_path("rules.yaml").display().to_string()
}

#[tokio::test]
async fn the_api_key_is_sent_and_accepted() {
    let server = local_server().await;
    let app = app(&server, &[]);
    let answer = run(&app, sqs_batch(&[("m0", order("c1", 0), None)]))
        .await
        .unwrap();
    assert!(failed_items(&answer).is_empty());
    assert_eq!(server.requests()[0].auth, AuthOutcome::ApiKey);
}

#[tokio::test]
async fn a_wrong_api_key_fails_the_record_without_retries() {
    let server = local_server().await;
    let app = app(&server, &[("APPSYNC_API_KEY", "da2-wrong")]);
    let answer = run(&app, sqs_batch(&[("m0", order("c1", 0), None)]))
        .await
        .unwrap();
    assert_eq!(failed_items(&answer), vec!["m0"]);
    assert_eq!(server.requests().len(), 1);
    assert!(!server.requests()[0].auth.is_allowed());
}

#[tokio::test]
async fn sigv4_requests_are_verified_by_the_server_and_no_secret_is_logged() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = appsync_local::start(appsync_local::Config {
        iam_credentials: vec![(AKID.into(), SECRET.into())],
        region: "eu-west-1".into(),
        namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let config = config(
        &server,
        &[
            ("APPSYNC_AUTH_MODE", "AWS_IAM"),
            ("APPSYNC_REGION", "eu-west-1"),
        ],
    );
    let credentials = Credentials::new(AKID, SECRET, Some(SESSION.into()), None, "test");
    let app = App::new(config)
        .with_credentials_provider(SharedCredentialsProvider::new(credentials))
        .with_metrics(MetricsSink::Off);
    let records = vec![("m0", order("c1", 0), None), ("m1", order("c2", 1), None)];
    let answer = run(&app, sqs_batch(&records)).await.unwrap();
    assert!(failed_items(&answer).is_empty(), "{answer}");
    for r in server.requests() {
        assert_eq!(
            r.auth,
            AuthOutcome::Iam {
                access_key_id: AKID.into()
            }
        );
    }

    // A wrong secret is refused by the server's verification, not just "header present".
    let wrong = Credentials::new(AKID, "not-the-secret", Some(SESSION.into()), None, "test");
    let app = App::new(crate::helpers::config(
        &server,
        &[
            ("APPSYNC_AUTH_MODE", "AWS_IAM"),
            ("APPSYNC_REGION", "eu-west-1"),
        ],
    ))
    .with_credentials_provider(SharedCredentialsProvider::new(wrong))
    .with_metrics(MetricsSink::Off);
    let answer = run(&app, sqs_batch(&[("m2", order("c1", 2), None)]))
        .await
        .unwrap();
    assert_eq!(failed_items(&answer), vec!["m2"]);

    let text = logs.text();
    assert!(text.contains("record failed"), "logs were captured: {text}");
    for secret in [
        SECRET,
        SESSION,
        "not-the-secret",
        "AWS4-HMAC-SHA256",
        "Signature=",
        API_KEY,
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into logs");
    }
}

#[tokio::test]
async fn an_eventbridge_event_is_published_and_answered_with_a_summary() {
    let server = local_server().await;
    let app = app(
        &server,
        &[("BRIDGE_RULES", ""), ("BRIDGE_RULES_FILE", &sample_rules())],
    );
    let answer = run(&app, sample("eventbridge-order-status.json"))
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"records": 1, "eventsPublished": 2, "unmatched": 0, "failed": 0})
    );
    let mut channels: Vec<String> = server.accepted().into_iter().map(|e| e.channel).collect();
    channels.sort();
    assert_eq!(
        channels,
        vec!["/orders/cust-1042/ord-20261122-0007", "/orders/dashboard"]
    );
}

#[tokio::test]
async fn a_failed_eventbridge_publish_is_a_lambda_error_saying_what_failed() {
    let server = local_server().await;
    server.script([Scripted::Status(400), Scripted::Status(400)]);
    let app = app(
        &server,
        &[("BRIDGE_RULES", ""), ("BRIDGE_RULES_FILE", &sample_rules())],
    );
    let err = run(&app, sample("eventbridge-order-status.json"))
        .await
        .unwrap_err();
    let diagnostic: Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "EventFailed");
    assert!(
        diagnostic.error_message.contains("http 400"),
        "{}",
        diagnostic.error_message
    );
    assert!(
        diagnostic.error_message.contains("rule order-"),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn a_payload_of_neither_shape_is_an_error_saying_what_was_expected() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = local_server().await;
    let app = app(&server, &[]);
    let err = run(&app, json!({"hello": "world"})).await.unwrap_err();
    assert!(matches!(err, HandlerError::Payload(_)));
    let diagnostic: Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "UnrecognisedPayload");
    assert!(
        diagnostic
            .error_message
            .contains("expected an EventBridge event"),
        "{}",
        diagnostic.error_message
    );
    assert!(server.requests().is_empty());
    // Still one summary line for the invocation, at warn, saying what was expected.
    let text = logs.text();
    let summaries: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("invocation rejected"))
        .collect();
    assert_eq!(summaries.len(), 1, "{text}");
    assert!(summaries[0].contains("WARN"), "{}", summaries[0]);
    assert!(
        summaries[0].contains("error_type=\"UnrecognisedPayload\""),
        "{}",
        summaries[0]
    );
    assert!(
        summaries[0].contains("expected an EventBridge event"),
        "{}",
        summaries[0]
    );
}

#[tokio::test]
async fn the_poison_batch_fails_exactly_its_three_bad_records_with_their_reasons() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = local_server().await;
    let app = app(
        &server,
        &[("BRIDGE_RULES", ""), ("BRIDGE_RULES_FILE", &sample_rules())],
    );
    let answer = run(&app, sample("sqs-poison.json")).await.unwrap();
    let failed = failed_items(&answer);
    assert_eq!(
        failed,
        vec![
            "c0ffee00-0000-4000-8000-000000000002",
            "c0ffee00-0000-4000-8000-000000000003",
            "c0ffee00-0000-4000-8000-000000000004",
        ]
    );
    // The good records were delivered; nothing reached a channel outside its namespace.
    let accepted = server.accepted();
    assert!(
        accepted
            .iter()
            .any(|e| e.channel == "/orders/cust-1042/ord-20261122-0019")
    );
    assert!(
        accepted
            .iter()
            .any(|e| e.channel.starts_with("/presence/agents/"))
    );
    assert!(!accepted.iter().any(|e| e.channel.contains("admin")));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.events.iter().all(|e| e.len() <= MAX_EVENT_BYTES))
    );

    let text = logs.text();
    let line_for = |id: &str| {
        text.lines()
            .find(|l| l.contains("record failed") && l.contains(id))
            .unwrap_or_else(|| panic!("no warn line for {id}: {text}"))
            .to_owned()
    };
    assert!(line_for("000000000002").contains("route failed"));
    assert!(line_for("000000000003").contains("route failed"));
    assert!(line_for("000000000004").contains("over appsync's"));
    // The key went out in a header on every request; DEBUG logs still never show it.
    assert!(!text.contains(API_KEY), "the api key leaked into logs");
}

/// The EMF lines the real handler emits for a mixed batch (good records, a route failure, an
/// oversized event, an unreadable body, one throttled request) carry exactly its counts.
#[tokio::test]
async fn the_metrics_line_of_a_mixed_batch_counts_records_events_failures_and_retries() {
    let server = local_server().await;
    // The first request is throttled once, then succeeds: one event re-sent.
    server.script([Scripted::Status(429)]);
    let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = app(
        &server,
        &[
            ("BRIDGE_RULES", ""),
            ("BRIDGE_RULES_FILE", &sample_rules()),
            ("BRIDGE_METRICS_NAMESPACE", "BridgeTest"),
        ],
    )
    .with_metrics(appsync_bridge::metrics::MetricsSink::Memory(kept.clone()));
    run(&app, sample("sqs-poison.json")).await.unwrap();

    let lines = kept.lock().unwrap().clone();
    let docs: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("every metrics line is one JSON document"))
        .collect();
    let function = docs
        .iter()
        .find(|d| d.get("RecordsIn").is_some())
        .expect("a function-level line");
    let directive = &function["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "BridgeTest");
    assert_eq!(directive["Dimensions"], json!([[]]));
    assert_eq!(function["RecordsIn"], 5);
    assert_eq!(function["RecordsFailed"], 3);
    assert_eq!(function["EventsPublished"], 3);
    assert_eq!(function["Retries"], 1);
    assert_eq!(function["Unmatched"], 0);
    let latencies = function["PublishLatency"]
        .as_array()
        .expect("latency values");
    assert_eq!(
        latencies.len(),
        server.requests().len(),
        "one value per request"
    );
    // Per-rule lines use the rule name as the only dimension, never a channel.
    let rules: Vec<&str> = docs
        .iter()
        .filter_map(|d| d.get("Rule").and_then(Value::as_str))
        .collect();
    assert!(
        rules.contains(&"order-status") && rules.contains(&"agent-presence"),
        "{rules:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("/orders/") && !l.contains("/presence/"))
    );
}
