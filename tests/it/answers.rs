//! What AppSync's answers mean, against the local server's faults: a 2xx confirms only what it
//! lists, an event in neither list is accepted but reported, and a namespace handler's errors
//! (403 `util.error`, 401 `util.unauthorized`) are final.

use std::sync::{Arc, Mutex};

use appsync_bridge::handler::{App, HandlerError};
use appsync_bridge::metrics::MetricsSink;
use appsync_local::{Malformed, Scripted};
use serde_json::{Value, json};

use crate::helpers::{
    CapturedLogs, app, config, failed_items, local_server, order, run, sqs_batch,
};

/// Three order records for one channel: one request.
fn three_orders() -> Value {
    sqs_batch(&[
        ("m0", order("c1", 0), None),
        ("m1", order("c1", 1), None),
        ("m2", order("c1", 2), None),
    ])
}

#[tokio::test]
async fn no_record_of_a_malformed_2xx_is_reported_successful_and_a_later_good_answer_accepts_them()
{
    for shape in Malformed::ALL {
        // Every attempt garbled: nothing was confirmed, so every record fails.
        let server = local_server().await;
        server.script(vec![Scripted::Malformed(shape); 3]);
        let bridge = app(&server, &[]);
        let answer = run(&bridge, three_orders()).await.unwrap();
        assert_eq!(failed_items(&answer), ["m0", "m1", "m2"], "{shape:?}");
        assert_eq!(
            server.requests().len(),
            3,
            "{shape:?}: sent again each time"
        );

        // One garbled answer, then a good one: the retry is confirmed.
        let server = local_server().await;
        server.script([Scripted::Malformed(shape)]);
        let bridge = app(&server, &[]);
        let answer = run(&bridge, three_orders()).await.unwrap();
        assert!(failed_items(&answer).is_empty(), "{shape:?}: {answer}");
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{shape:?}");
        assert_eq!(
            requests[1].events.len(),
            3,
            "{shape:?}: the whole request again"
        );
        // The garbled answer's events were taken too: at least once, so twice here.
        assert_eq!(server.accepted().len(), 6, "{shape:?}");
    }
}

#[tokio::test]
async fn an_eventbridge_event_whose_answer_confirms_nothing_is_a_lambda_error() {
    let server = local_server().await;
    server.script(vec![Scripted::Malformed(Malformed::EmptyObject); 3]);
    let app = app(
        &server,
        &[(
            "BRIDGE_RULES",
            r#"rules: [{name: all, channel: /orders/all}]"#,
        )],
    );
    let event = json!({"id": "e-1", "source": "s", "detail-type": "t", "detail": {}});
    let Err(HandlerError::EventFailed { id, reasons }) = run(&app, event).await else {
        panic!("an unconfirmed event must fail the invocation");
    };
    assert_eq!(id, "e-1");
    assert!(
        reasons.contains("without confirming the event"),
        "{reasons}"
    );
}

#[tokio::test]
async fn an_unlisted_event_is_counted_accepted_warned_once_and_metered() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = local_server().await;
    server.script([Scripted::Unlisted(vec![1])]);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let app = App::new(config(&server, &[])).with_metrics(MetricsSink::Memory(Arc::clone(&lines)));
    let answer = run(&app, three_orders()).await.unwrap();

    assert!(failed_items(&answer).is_empty(), "{answer}");
    assert_eq!(server.requests().len(), 1, "not sent again");
    assert_eq!(server.accepted().len(), 2, "the handler dropped one");
    let text = logs.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("without listing them"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("unlisted=1"),
        "{}",
        warnings[0]
    );
    let metrics: Value = serde_json::from_str(&lines.lock().unwrap()[0]).unwrap();
    assert_eq!(metrics["Unlisted"], 1);
    assert_eq!(metrics["EventsPublished"], 3);
}

#[tokio::test]
async fn handler_errors_are_not_retried_and_fail_the_records_with_appsyncs_error_type() {
    for (status, error_type, message) in [
        (403, "OrderRejected", "orders from c1 are closed"),
        (
            401,
            "UnauthorizedException",
            "You are not authorized to make this call.",
        ),
    ] {
        let error = || Scripted::Error {
            status,
            error_type: error_type.into(),
            message: message.into(),
        };
        // An SQS batch: the whole request's records fail, after one request.
        let server = local_server().await;
        server.script([error()]);
        let answer = run(&app(&server, &[]), three_orders()).await.unwrap();
        assert_eq!(failed_items(&answer), ["m0", "m1", "m2"], "{status}");
        assert_eq!(server.requests().len(), 1, "{status}: never retried");
        assert!(server.accepted().is_empty());

        // An EventBridge event: the Lambda error names AppSync's error type and message.
        let server = local_server().await;
        server.script([error()]);
        let rules = [("BRIDGE_RULES", "rules: [{name: all, channel: /orders/all}]")];
        let event = json!({"id": "e-1", "source": "s", "detail-type": "t", "detail": {}});
        let Err(HandlerError::EventFailed { reasons, .. }) =
            run(&app(&server, &rules), event).await
        else {
            panic!("{status}: the event must fail");
        };
        assert_eq!(server.requests().len(), 1, "{status}: never retried");
        assert_eq!(
            reasons,
            format!(
                "rule all channel /orders/all: appsync answered http {status} ({error_type}: {message})"
            )
        );
    }
}
