//! Publishing through the real handler against a local AppSync Events server: batching per
//! channel, per-event failures, retries, timeouts and the deadline, FIFO groups.

use std::time::{Duration, Instant};

use appsync_bridge::handler::handle;
use appsync_local::Scripted;

use crate::helpers::{answer, app, failed_items, invocation, local_server, order, run, sqs_batch};

/// An SQS batch of order records `m0, m1, …`, record `i` for customer `customers[i]`.
fn orders_for(customers: &[&str]) -> serde_json::Value {
    let ids: Vec<String> = (0..customers.len()).map(|i| format!("m{i}")).collect();
    let records: Vec<_> = ids
        .iter()
        .zip(customers)
        .enumerate()
        .map(|(i, (id, c))| (id.as_str(), order(c, i), None))
        .collect();
    sqs_batch(&records)
}

#[tokio::test]
async fn twelve_events_for_one_channel_go_in_three_requests_in_source_order() {
    let server = local_server().await;
    let app = app(&server, &[]);
    let answer = run(&app, orders_for(&["c1"; 12])).await.unwrap();

    assert!(failed_items(&answer).is_empty());
    let requests = server.requests();
    assert_eq!(
        requests.iter().map(|r| r.events.len()).collect::<Vec<_>>(),
        vec![5, 5, 2]
    );
    assert!(requests.iter().all(|r| r.channel == "/orders/c1"));
    let order_seen: Vec<u64> = requests
        .iter()
        .flat_map(|r| r.events.iter())
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(order_seen, (0..12).collect::<Vec<u64>>());
    assert_eq!(server.accepted().len(), 12);
}

#[tokio::test]
async fn three_channels_get_their_own_requests() {
    let server = local_server().await;
    let app = app(&server, &[]);
    let batch = orders_for(&["a", "b", "c", "a", "b", "a", "c"]);
    let answer = run(&app, batch).await.unwrap();
    assert!(failed_items(&answer).is_empty());
    let mut per_channel: Vec<(String, usize)> = server
        .requests()
        .into_iter()
        .map(|r| (r.channel, r.events.len()))
        .collect();
    per_channel.sort();
    assert_eq!(
        per_channel,
        vec![
            ("/orders/a".into(), 3),
            ("/orders/b".into(), 2),
            ("/orders/c".into(), 2)
        ]
    );
}

#[tokio::test]
async fn failed_entries_fail_exactly_those_records() {
    let server = local_server().await;
    server.script([Scripted::FailEvents {
        indices: vec![1, 3],
        code: 400,
    }]);
    let app = app(&server, &[]);
    let answer = run(&app, orders_for(&["c1"; 5])).await.unwrap();
    assert_eq!(failed_items(&answer), vec!["m1", "m3"]);
    assert_eq!(server.requests().len(), 1, "400 entries are not retried");
    assert_eq!(server.accepted().len(), 3);
}

#[tokio::test]
async fn retryable_failed_entries_are_resent_alone_and_succeed() {
    let server = local_server().await;
    server.script([Scripted::FailEvents {
        indices: vec![2],
        code: 500,
    }]);
    let app = app(&server, &[]);
    let answer = run(&app, orders_for(&["c1"; 5])).await.unwrap();
    assert!(failed_items(&answer).is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].events, vec![order("c1", 2)]);
    assert_eq!(server.accepted().len(), 5);
}

#[tokio::test]
async fn throttled_then_accepted_is_delivered_once() {
    let server = local_server().await;
    server.script([Scripted::Status(429)]);
    let app = app(&server, &[]);
    let answer = run(&app, sqs_batch(&[("m0", order("c1", 0), None)]))
        .await
        .unwrap();
    assert!(failed_items(&answer).is_empty());
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    assert_eq!(server.accepted().len(), 1);
}

#[tokio::test]
async fn bad_request_and_unauthorized_are_not_retried() {
    for status in [400, 401] {
        let server = local_server().await;
        server.script([Scripted::Status(status)]);
        let app = app(&server, &[]);
        let answer = run(&app, sqs_batch(&[("m0", order("c1", 0), None)]))
            .await
            .unwrap();
        assert_eq!(failed_items(&answer), vec!["m0"], "{status}");
        assert_eq!(server.requests().len(), 1, "{status}");
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_reported_before_the_deadline() {
    let server = local_server().await;
    server.script(vec![Scripted::Hang; 20]);
    // The request timeout is longer than the whole budget: only the deadline (budget minus the
    // 1 s margin) can end the hanging requests. The 1 s margin leaves room for a loaded machine
    // while a handler that ignored the deadline would still take 10 s and fail the assertion.
    let app = app(
        &server,
        &[
            ("BRIDGE_REQUEST_TIMEOUT_MS", "10000"),
            ("BRIDGE_DEADLINE_MARGIN_MS", "1000"),
        ],
    );
    let batch = orders_for(&["a", "b", "a"]);
    let budget = Duration::from_secs(3);
    let started = Instant::now();
    let answer = answer(handle(invocation(batch, budget), &app).await).unwrap();
    let took = started.elapsed();
    assert!(took < budget, "answered after {took:?}");
    assert_eq!(failed_items(&answer), vec!["m0", "m1", "m2"]);
}

#[tokio::test]
async fn fifo_a_failure_stops_its_group_and_the_other_group_is_delivered() {
    let server = local_server().await;
    let app = app(&server, &[]);
    let ghost = serde_json::json!({"kind": "ghost", "customerId": "g"}).to_string();
    let records = vec![
        ("a1", order("a", 1), Some("A")),
        ("b1", order("b", 1), Some("B")),
        ("a2", ghost, Some("A")),
        ("b2", order("b", 2), Some("B")),
        ("a3", order("a", 3), Some("A")),
        ("b3", order("b", 3), Some("B")),
    ];
    let answer = run(&app, sqs_batch(&records)).await.unwrap();
    assert_eq!(failed_items(&answer), vec!["a2", "a3"]);
    let accepted: Vec<String> = server.accepted().into_iter().map(|e| e.event).collect();
    assert!(accepted.contains(&order("a", 1)));
    assert!(
        !accepted.contains(&order("a", 3)),
        "a3 must not be published"
    );
    for n in 1..=3 {
        assert!(accepted.contains(&order("b", n)), "b{n} delivered");
    }
}
