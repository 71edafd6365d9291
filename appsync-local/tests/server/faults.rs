//! Fault injection: seeded random faults and scripted outcomes for HTTP publish.

use std::time::Duration;

use appsync_local::{Config, Faults, Scripted};
use serde_json::{Value, json};

use crate::helpers::*;

async fn statuses(server: &appsync_local::Server, n: usize) -> Vec<(u16, Value)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(post(server, &publish_body("/default/f", &[json!(i)]), &[]).await);
    }
    out
}

#[tokio::test]
async fn throttle_and_server_error_rates_match_the_configuration() {
    let server = with(Config {
        faults: Faults {
            throttle: 0.2,
            server_error: 0.1,
            ..Faults::default()
        },
        seed: 1234,
        ..Config::default()
    })
    .await;
    let results = statuses(&server, 1000).await;
    let count = |s: u16| results.iter().filter(|(st, _)| *st == s).count();
    // Binomial bounds: ±5 standard deviations around 200 and 100.
    assert!((140..=260).contains(&count(429)), "429s: {}", count(429));
    assert!((55..=145).contains(&count(500)), "500s: {}", count(500));
    assert_eq!(count(200) + count(429) + count(500), 1000);
    let throttled = results.iter().find(|(s, _)| *s == 429).unwrap();
    assert_eq!(throttled.1["errors"][0]["errorType"], "LimitExceededError");
    assert_eq!(server.accepted().len(), count(200));
    server.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fault_sequence() {
    let faults = Faults {
        throttle: 0.3,
        server_error: 0.2,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let server = with(Config {
            faults: faults.clone(),
            seed: 99,
            ..Config::default()
        })
        .await;
        let seq: Vec<u16> = statuses(&server, 50)
            .await
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        runs.push(seq);
        server.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&429) && runs[0].contains(&500) && runs[0].contains(&200));
}

#[tokio::test]
async fn event_failures_appear_in_failed_entries_at_the_configured_rate() {
    let server = with(Config {
        faults: Faults {
            event_failure: 0.25,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let mut failed = 0;
    for i in 0..200 {
        let events = vec![json!(i); 5];
        let (status, body) = post(&server, &publish_body("/default/f", &events), &[]).await;
        assert_eq!(status, 200);
        let f = body["failed"].as_array().unwrap();
        let s = body["successful"].as_array().unwrap();
        assert_eq!(f.len() + s.len(), 5);
        for entry in f {
            assert_eq!(entry["code"], 500);
            assert!(entry["identifier"].is_string() && entry["index"].is_u64());
        }
        failed += f.len();
    }
    // 1000 events at 25%: ±5 standard deviations around 250.
    assert!((180..=320).contains(&failed), "failed events: {failed}");
    assert_eq!(server.accepted().len(), 1000 - failed);
    server.shutdown().await;
}

#[tokio::test]
async fn scripted_outcomes_are_consumed_in_order_before_random_faults() {
    let server = open().await;
    server.script([
        Scripted::Status(429),
        Scripted::Status(500),
        Scripted::FailEvents {
            indices: vec![1],
            code: 503,
        },
        Scripted::Delay(Duration::from_millis(100)),
    ]);
    let body = publish_body("/default/s", &[json!(0), json!(1), json!(2)]);
    let (s1, b1) = post(&server, &body, &[]).await;
    let (s2, _) = post(&server, &body, &[]).await;
    let (s3, b3) = post(&server, &body, &[]).await;
    let delayed = std::time::Instant::now();
    let (s4, _) = post(&server, &body, &[]).await;
    assert!(delayed.elapsed() >= Duration::from_millis(100));
    let (s5, _) = post(&server, &body, &[]).await;
    assert_eq!((s1, s2, s3, s4, s5), (429, 500, 200, 200, 200));
    assert_eq!(b1["errors"][0]["errorType"], "LimitExceededError");
    assert_eq!(b3["failed"][0]["index"], 1);
    assert_eq!(b3["failed"][0]["code"], 503);
    assert_eq!(b3["successful"].as_array().unwrap().len(), 2);
    assert_eq!(server.accepted().len(), 2 + 3 + 3);
    server.shutdown().await;
}

#[tokio::test]
async fn a_dropped_response_accepts_the_events_but_never_answers() {
    let server = open().await;
    server.script([Scripted::DropResponse]);
    let request = client()
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .body(publish_body("/default/d", &[json!(1)]).to_string())
        .timeout(Duration::from_millis(300))
        .send();
    let (response, ()) = tokio::join!(request, server.wait_for_accepted(1));
    assert!(response.unwrap_err().is_timeout());
    assert_eq!(server.accepted().len(), 1);
    assert_eq!(server.requests()[0].status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_hung_request_accepts_nothing_and_never_answers() {
    let server = open().await;
    server.script([Scripted::Hang]);
    let result = client()
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .body(publish_body("/default/h", &[json!(1)]).to_string())
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(server.accepted().is_empty());
    assert_eq!(server.requests()[0].status, 0);
    // The next request is served normally.
    assert_eq!(
        post(&server, &publish_body("/default/h", &[json!(1)]), &[])
            .await
            .0,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_publish() {
    let server = with(Config {
        faults: Faults {
            latency_ms: 150,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        post(&server, &publish_body("/default/l", &[json!(1)]), &[])
            .await
            .0,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    server.shutdown().await;
}

#[tokio::test]
async fn faults_and_scripts_can_be_changed_at_run_time_over_http() {
    let server = open().await;
    let path = "/_local/faults";
    assert_eq!(
        post_json(&server, path, &json!({"throttle": 1.0})).await.0,
        200
    );
    assert_eq!(
        post(&server, &publish_body("/default/r", &[json!(1)]), &[])
            .await
            .0,
        429
    );
    let current: Faults = serde_json::from_value(get_json(&server, path).await).unwrap();
    assert_eq!(current.throttle, 1.0);

    assert_eq!(post_json(&server, path, &json!({})).await.0, 200);
    let script =
        json!({"script": [{"status": 503}, {"fail_events": {"indices": [0], "code": 500}}]});
    assert_eq!(post_json(&server, path, &script).await.0, 200);
    assert_eq!(
        post(&server, &publish_body("/default/r", &[json!(1)]), &[])
            .await
            .0,
        503
    );
    let (_, body) = post(&server, &publish_body("/default/r", &[json!(1)]), &[]).await;
    assert_eq!(body["failed"][0]["index"], 0);
    assert_eq!(
        post(&server, &publish_body("/default/r", &[json!(1)]), &[])
            .await
            .0,
        200
    );

    let (status, body) = post_json(&server, path, &json!({"throtle": 1})).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["errorType"], "BadRequestException");
    server.shutdown().await;
}
