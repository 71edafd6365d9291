//! `POST /event`: AppSync's publish contract.

use appsync_local::{AuthOutcome, Config};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_valid_publish_is_answered_with_one_successful_entry_per_event() {
    let server = open().await;
    let body = publish_body("/default/orders", &[json!({"a": 1}), json!("hi")]);
    let (status, response) = post(&server, &body, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(response["failed"], json!([]));
    let successful = response["successful"].as_array().unwrap();
    assert_eq!(successful.len(), 2);
    assert_eq!(successful[1]["index"], 1);

    let accepted = server.accepted();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0].channel, "/default/orders");
    assert_eq!(accepted[0].event, r#"{"a":1}"#);
    assert_eq!(accepted[1].event, r#""hi""#);
    assert_eq!(accepted[0].identifier, successful[0]["identifier"]);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[0].auth, AuthOutcome::Open);
    assert_eq!(requests[0].events, vec![r#"{"a":1}"#, r#""hi""#]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_channel_without_a_leading_slash_is_accepted_and_normalised() {
    let server = open().await;
    let (status, _) = post(&server, &publish_body("default/channel", &[json!(1)]), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(server.accepted()[0].channel, "/default/channel");
    assert_eq!(server.requests()[0].channel, "default/channel");
    server.shutdown().await;
}

async fn expect_error(server: &appsync_local::Server, body: String, status: u16, error_type: &str) {
    let (got, response) = post_raw(server, body.clone(), &[]).await;
    assert_eq!(got, status, "{body:.200}: {response}");
    assert_eq!(
        response["errors"][0]["errorType"], error_type,
        "{body:.200}"
    );
    assert!(response["errors"][0]["message"].is_string());
}

#[tokio::test]
async fn contract_violations_are_refused_with_appsync_error_bodies() {
    let server = open().await;
    let bad = "BadRequestException";
    let one = [json!(1)];
    expect_error(
        &server,
        publish_body("/default/a b", &one).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        publish_body("/default/-a", &one).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        publish_body("/a/b/c/d/e/f", &one).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        publish_body("/default/*", &one).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        publish_body("/default/a", &[]).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        publish_body("/default/a", &vec![json!(1); 6]).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        json!({"channel":"/default/a","events":[{"a":1}]}).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(
        &server,
        json!({"channel":"/default/a","events":["{not json"]}).to_string(),
        400,
        bad,
    )
    .await;
    expect_error(&server, "{not json".to_owned(), 400, bad).await;
    expect_error(
        &server,
        publish_body("/nope/a", &one).to_string(),
        404,
        "ResourceNotFound",
    )
    .await;
    assert!(server.accepted().is_empty());
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![400, 400, 400, 400, 400, 400, 400, 400, 400, 404]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_event_of_240_kb_is_accepted_and_one_byte_more_is_413() {
    let server = open().await;
    let limit = 240 * 1024;
    let at_limit = Value::String("a".repeat(limit - 2)).to_string();
    assert_eq!(at_limit.len(), limit);
    let over = Value::String("a".repeat(limit - 1)).to_string();
    let ok = json!({"channel": "/default/big", "events": [at_limit]});
    let (status, _) = post(&server, &ok, &[]).await;
    assert_eq!(status, 200);
    let too_big = json!({"channel": "/default/big", "events": [over]});
    expect_error(&server, too_big.to_string(), 413, "BadRequestException").await;
    assert_eq!(server.accepted().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn five_maximal_events_fit_in_one_request() {
    let server = open().await;
    let event = Value::String("\"".repeat(120 * 1024 - 1)).to_string();
    assert_eq!(event.len(), 240 * 1024);
    let body = json!({"channel": "/default/big", "events": vec![event; 5]});
    let (status, response) = post(&server, &body, &[]).await;
    assert_eq!(status, 200, "{response:.200}");
    server.shutdown().await;
}

#[tokio::test]
async fn only_configured_namespaces_accept_publishes() {
    let server = with(Config {
        namespaces: vec!["orders".into(), "prices".into()],
        ..Config::default()
    })
    .await;
    assert_eq!(
        post(&server, &publish_body("/orders/1", &[json!(1)]), &[])
            .await
            .0,
        200
    );
    assert_eq!(
        post(&server, &publish_body("/prices/x", &[json!(1)]), &[])
            .await
            .0,
        200
    );
    assert_eq!(
        post(&server, &publish_body("/default/x", &[json!(1)]), &[])
            .await
            .0,
        404
    );
    server.shutdown().await;
}

#[tokio::test]
async fn wait_for_accepted_resolves_once_enough_events_arrived() {
    let server = open().await;
    {
        let waiting = server.wait_for_accepted(3);
        tokio::pin!(waiting);
        post(
            &server,
            &publish_body("/default/a", &[json!(1), json!(2)]),
            &[],
        )
        .await;
        assert!(
            futures_util::FutureExt::now_or_never(waiting.as_mut()).is_none(),
            "two events must not satisfy a wait for three"
        );
        post(&server, &publish_body("/default/a", &[json!(3)]), &[]).await;
        tokio::time::timeout(TIMEOUT, waiting).await.unwrap();
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_local_events_endpoint_lists_recent_accepted_events() {
    let server = open().await;
    post(
        &server,
        &publish_body("/default/a", &[json!({"n": 1})]),
        &[],
    )
    .await;
    let listed = get_json(&server, "/_local/events").await;
    assert_eq!(listed[0]["channel"], "/default/a");
    assert_eq!(listed[0]["event"], r#"{"n":1}"#);
    assert!(listed[0]["identifier"].is_string());
    server.shutdown().await;
}

#[tokio::test]
async fn browsers_on_another_origin_may_publish() {
    let server = open().await;
    let preflight = client()
        .request(reqwest::Method::OPTIONS, server.http_endpoint())
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("x-api-key") && allowed.contains("content-type"));
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    server.shutdown().await;
}

#[tokio::test]
async fn a_preflight_allows_exactly_the_headers_the_browser_asks_for() {
    let server = open().await;
    let asked = "content-type, x-api-key, x-amz-user-agent, animal";
    let preflight = client()
        .request(reqwest::Method::OPTIONS, server.http_endpoint())
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", asked)
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-headers"], asked);
    server.shutdown().await;
}

#[tokio::test]
async fn errors_name_their_type_in_x_amzn_errortype_and_every_answer_has_an_exposed_request_id() {
    let server = with(Config {
        api_keys: vec!["da2-good".into()],
        ..Config::default()
    })
    .await;
    let send = |key: &'static str, body: Value| {
        client()
            .post(server.http_endpoint())
            .header("content-type", "application/json")
            .header("x-api-key", key)
            .body(body.to_string())
            .send()
    };
    let good = publish_body("/default/h", &[json!(1)]);
    let cases = [
        (
            send("da2-bad", good.clone()).await.unwrap(),
            401,
            Some("UnauthorizedException"),
        ),
        (
            send("da2-good", json!({"channel": "/default/h"}))
                .await
                .unwrap(),
            400,
            Some("BadRequestException"),
        ),
        (
            send("da2-good", publish_body("/nope/h", &[json!(1)]))
                .await
                .unwrap(),
            404,
            Some("ResourceNotFound"),
        ),
        (send("da2-good", good).await.unwrap(), 200, None),
    ];
    let mut ids = Vec::new();
    for (response, status, error_type) in cases {
        assert_eq!(response.status(), status);
        let headers = response.headers();
        assert_eq!(
            headers.get("x-amzn-errortype").map(|v| v.to_str().unwrap()),
            error_type
        );
        let id = headers["x-amzn-requestid"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "{id}");
        ids.push(id);
        let exposed = headers["access-control-expose-headers"].to_str().unwrap();
        assert!(exposed.contains("x-amzn-ErrorType") && exposed.contains("x-amzn-RequestId"));
        if let Some(error_type) = error_type {
            let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            assert_eq!(body["errors"][0]["errorType"], error_type);
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "request ids are unique");
    server.shutdown().await;
}
