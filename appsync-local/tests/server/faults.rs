//! Fault injection: seeded random faults and scripted outcomes for HTTP publish.

use std::time::Duration;

use appsync_local::{Config, Faults, Malformed, Scripted};
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
    let mut current = get_json(&server, path).await;
    assert_eq!(current["script"], json!([]), "nothing queued: {current}");
    current.as_object_mut().unwrap().remove("script");
    let current: Faults = serde_json::from_value(current).unwrap();
    assert_eq!(current.throttle, 1.0);

    assert_eq!(post_json(&server, path, &json!({})).await.0, 200);
    let script =
        json!({"script": [{"status": 503}, {"fail_events": {"indices": [0], "code": 500}}]});
    assert_eq!(post_json(&server, path, &script).await.0, 200);
    assert_eq!(
        get_json(&server, path).await["script"],
        script["script"],
        "the queued script is shown as it was set"
    );
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

    assert_eq!(
        get_json(&server, path).await["script"],
        json!([]),
        "each publish took one outcome"
    );
    let (status, body) = post_json(&server, path, &json!({"throtle": 1})).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["errorType"], "BadRequestException");
    server.shutdown().await;
}

/// POSTs a publish; returns status, content type and the body's text as sent.
async fn post_text(server: &appsync_local::Server, body: &Value) -> (u16, String, String) {
    let response = client()
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .body(body.to_string())
        .timeout(TIMEOUT)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

fn indices(body: &Value, list: &str) -> Vec<u64> {
    body[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn every_malformed_shape_accepts_and_fans_out_the_events_but_garbles_the_200() {
    let server = open().await;
    let mut socket = connect(&server, &json!({})).await;
    init(&mut socket).await;
    let subscribed = subscribe(&mut socket, "m", "/default/*", &json!({})).await;
    assert_eq!(subscribed["type"], "subscribe_success");
    server.script(Malformed::ALL.map(Scripted::Malformed));
    let events = [json!({"n": 0}), json!({"n": 1}), json!({"n": 2})];
    let body = publish_body("/default/m", &events);
    let mut answers = Vec::new();
    for _ in Malformed::ALL {
        let (status, content_type, text) = post_text(&server, &body).await;
        assert_eq!(status, 200, "{text}");
        answers.push((content_type, text));
    }

    let (html_type, html) = &answers[0];
    assert!(html_type.starts_with("text/html"));
    assert_eq!(html, "<html>ok</html>");
    assert_eq!(answers[1].1, "{}");
    let truncated = &answers[2].1;
    assert!(truncated.starts_with("{\"successful\":[{\"identifier\":"));
    assert!(serde_json::from_str::<Value>(truncated).is_err());
    let out_of_range: Value = serde_json::from_str(&answers[3].1).unwrap();
    assert_eq!(indices(&out_of_range, "successful"), vec![3, 1, 2]);
    let repeated: Value = serde_json::from_str(&answers[4].1).unwrap();
    assert_eq!(indices(&repeated, "successful"), vec![0, 1, 2, 0]);
    assert_eq!(repeated["successful"][0], repeated["successful"][3]);

    // Accepted and fanned out all the same: 5 requests × 3 events, in order.
    assert_eq!(server.accepted().len(), 15);
    for i in 0..15 {
        let data = next(&mut socket).await;
        assert_eq!(data["type"], "data");
        assert_eq!(data["event"], events[i % 3].to_string());
    }
    assert!(server.requests().iter().all(|r| r.status == 200));
    server.shutdown().await;
}

#[tokio::test]
async fn unlisted_events_are_in_neither_list_and_not_fanned_out() {
    let server = open().await;
    server.script([Scripted::Unlisted(vec![1, 3])]);
    let events = [json!(0), json!(1), json!(2), json!(3)];
    let (status, body) = post(&server, &publish_body("/default/u", &events), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(indices(&body, "successful"), vec![0, 2]);
    assert_eq!(body["failed"], json!([]));
    let delivered: Vec<String> = server.accepted().into_iter().map(|e| e.event).collect();
    assert_eq!(delivered, vec!["0", "2"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_scripted_error_answers_its_status_and_body_and_accepts_nothing() {
    let server = open().await;
    server.script([
        Scripted::Error {
            status: 403,
            error_type: "BadRequestException".into(),
            message: "rejected by handler".into(),
        },
        Scripted::Error {
            status: 401,
            error_type: "UnauthorizedException".into(),
            message: "You are not authorized to make this call".into(),
        },
    ]);
    let body = publish_body("/default/e", &[json!(1)]);
    let (status, answer) = post(&server, &body, &[]).await;
    assert_eq!(status, 403);
    assert_eq!(
        answer,
        json!({"errors":[{"errorType":"BadRequestException","message":"rejected by handler"}]})
    );
    let (status, answer) = post(&server, &body, &[]).await;
    assert_eq!(status, 401);
    assert_eq!(answer["errors"][0]["errorType"], "UnauthorizedException");
    assert!(server.accepted().is_empty());
    assert_eq!(
        server
            .requests()
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        vec![403, 401]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_new_outcomes_can_be_scripted_over_http_and_bad_ones_are_refused() {
    let server = open().await;
    let path = "/_local/faults";
    let script = json!({"script": [
        {"malformed": "empty_object"},
        {"unlisted": [0]},
        {"error": {"status": 403, "error_type": "BadRequestException", "message": "rejected by handler"}},
    ]});
    let (status, answer) = post_json(&server, path, &script).await;
    assert_eq!((status, answer), (200, json!({"script": 3})));
    let body = publish_body("/default/h", &[json!(1), json!(2)]);
    assert_eq!(post(&server, &body, &[]).await, (200, json!({})));
    let (_, unlisted) = post(&server, &body, &[]).await;
    assert_eq!(indices(&unlisted, "successful"), vec![1]);
    let (status, error) = post(&server, &body, &[]).await;
    assert_eq!(status, 403);
    assert_eq!(error["errors"][0]["message"], "rejected by handler");

    for bad in [
        json!({"script": [{"malformed": "garbled"}]}),
        json!({"script": [{"error": {"status": 42, "error_type": "X", "message": "m"}}]}),
        json!({"script": [{"error": {"status": 403}}]}),
    ] {
        let (status, answer) = post_json(&server, path, &bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid script"),
            "{answer}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_responses_follow_the_configured_rate_and_every_one_still_accepts() {
    let server = with(Config {
        faults: Faults {
            malformed_response: 0.5,
            ..Faults::default()
        },
        seed: 5,
        ..Config::default()
    })
    .await;
    let mut garbled = 0;
    for i in 0..200 {
        let (status, _, text) = post_text(&server, &publish_body("/default/r", &[json!(i)])).await;
        assert_eq!(status, 200);
        let confirmed = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|b| b["successful"].as_array().cloned())
            .is_some_and(|s| s.len() == 1 && s[0]["index"] == 0);
        if !confirmed {
            garbled += 1;
        }
    }
    // 200 requests at 50%: ±5 standard deviations around 100.
    assert!((65..=135).contains(&garbled), "garbled: {garbled}");
    assert_eq!(server.accepted().len(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_response_is_set_and_shown_at_run_time() {
    let server = open().await;
    let path = "/_local/faults";
    let (status, set) = post_json(&server, path, &json!({"malformed_response": 1.0})).await;
    assert_eq!(status, 200);
    assert_eq!(set["malformed_response"], 1.0);
    let shown = get_json(&server, path).await;
    assert_eq!(shown["malformed_response"], 1.0, "{shown}");
    let (status, _, text) = post_text(&server, &publish_body("/default/r", &[json!(1)])).await;
    assert_eq!(status, 200);
    let confirmed = serde_json::from_str::<Value>(&text).ok().is_some_and(|b| {
        b["successful"][0]["index"] == 0 && b["successful"].as_array().unwrap().len() == 1
    });
    assert!(!confirmed, "a malformed body was expected: {text}");
    assert_eq!(server.accepted().len(), 1);
    server.shutdown().await;
}
