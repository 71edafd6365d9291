//! Namespace handlers: the fixtures in `tests/handlers/` (the README's example among them) run
//! over HTTP and WebSocket publish and subscribe.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use appsync_local::{Config, Server, StartError};
use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;

const LIMIT: Duration = Duration::from_millis(300);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/handlers")
        .join(name)
}

fn handlers(pairs: &[(&str, PathBuf)]) -> BTreeMap<String, PathBuf> {
    pairs
        .iter()
        .map(|(ns, path)| ((*ns).to_owned(), path.clone()))
        .collect()
}

async fn handled() -> Server {
    with(Config {
        handlers: handlers(&[
            ("chat", fixture("chat.js")),
            ("broken", fixture("broken.js")),
            ("slow", fixture("slow.js")),
        ]),
        handler_timeout: LIMIT,
        ..Config::default()
    })
    .await
}

fn indices(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect()
}

/// A temporary handler file with this source, in a directory removed when the guard drops.
fn temp_handler(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

#[tokio::test]
async fn on_publish_transforms_filters_and_fails_single_events_over_http() {
    let server = handled().await;
    let mut ws = connect(&server, &json!({})).await;
    init(&mut ws).await;
    assert_eq!(
        subscribe(&mut ws, "s", "/chat/*", &json!({})).await["type"],
        "subscribe_success"
    );
    let events = [
        json!({"text": "hi"}),
        json!({"text": "skip me", "drop": true}),
        json!({"n": 1}),
        json!({"text": "yo"}),
    ];
    let (status, body) = post(&server, &publish_body("/chat/room", &events), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(indices(&body["successful"]), vec![0, 3]);
    assert_eq!(indices(&body["failed"]), vec![2]);
    assert_eq!(body["failed"][0]["message"], "text required");
    assert_eq!(body["failed"][0]["code"], 400);

    let first: Value =
        serde_json::from_str(next(&mut ws).await["event"].as_str().unwrap()).unwrap();
    assert_eq!(
        first,
        json!({"text": "HI", "channel": "/chat/room", "namespace": "chat", "by": null})
    );
    let second: Value =
        serde_json::from_str(next(&mut ws).await["event"].as_str().unwrap()).unwrap();
    assert_eq!(second["text"], "YO");
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0].identifier, body["successful"][0]["identifier"]);
    server.shutdown().await;
}

#[tokio::test]
async fn util_error_rejects_the_whole_http_publish_with_403() {
    let server = handled().await;
    let response = client()
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .body(publish_body("/chat/locked", &[json!({"text": "hi"})]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "BadRequestException"
    );
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"errors": [{"errorType": "BadRequestException", "message": "channel is locked"}]})
    );
    assert!(server.accepted().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn over_websocket_failed_events_are_in_publish_success_and_util_error_is_a_publish_error() {
    let server = handled().await;
    let mut ws = connect(&server, &json!({})).await;
    init(&mut ws).await;
    let events: Vec<String> = [json!({"text": "a"}), json!({"n": 2})]
        .iter()
        .map(Value::to_string)
        .collect();
    send(
        &mut ws,
        json!({"type": "publish", "id": "p1", "channel": "/chat/room", "events": events, "authorization": {}}),
    )
    .await;
    let reply = next(&mut ws).await;
    assert_eq!(reply["type"], "publish_success", "{reply}");
    assert_eq!(indices(&reply["successful"]), vec![0]);
    assert_eq!(indices(&reply["failed"]), vec![1]);
    assert_eq!(reply["failed"][0]["message"], "text required");

    send(
        &mut ws,
        json!({"type": "publish", "id": "p2", "channel": "/chat/locked", "events": ["{\"text\":\"x\"}"], "authorization": {}}),
    )
    .await;
    let reply = next(&mut ws).await;
    assert_eq!(reply["type"], "publish_error");
    assert_eq!(reply["id"], "p2");
    assert_eq!(reply["errors"][0]["message"], "channel is locked");
    assert_eq!(server.accepted().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn on_subscribe_refuses_with_util_unauthorized() {
    let server = handled().await;
    let mut ws = connect(&server, &json!({})).await;
    init(&mut ws).await;
    let refused = subscribe(&mut ws, "p", "/chat/private", &json!({})).await;
    assert_eq!(refused["type"], "subscribe_error");
    assert_eq!(refused["id"], "p");
    assert_eq!(refused["errors"][0]["errorType"], "UnauthorizedException");
    let allowed = subscribe(&mut ws, "r", "/chat/room/*", &json!({})).await;
    assert_eq!(allowed["type"], "subscribe_success");
    server.shutdown().await;
}

#[tokio::test]
async fn a_throwing_handler_fails_its_request_with_the_error_and_the_server_goes_on() {
    let server = handled().await;
    let (status, body) = post(&server, &publish_body("/broken/a", &[json!({"x": 1})]), &[]).await;
    assert_eq!(status, 500);
    assert_eq!(body["errors"][0]["errorType"], "InternalFailure");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("onPublish handler failed:")
            && message.contains("broken.js")
            && message.contains("TypeError"),
        "{message}"
    );
    let (status, _) = post(
        &server,
        &publish_body("/chat/a", &[json!({"text": "ok"})]),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_endless_loop_is_cut_off_by_the_time_limit() {
    let server = handled().await;
    let started = Instant::now();
    let (status, body) = post(&server, &publish_body("/slow/a", &[json!(1)]), &[]).await;
    let took = started.elapsed();
    assert_eq!(status, 500);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("time limit of 300 ms"), "{message}");
    assert!(took >= LIMIT && took < LIMIT * 10, "{took:?}");
    assert!(server.accepted().is_empty());
    let (status, _) = post(&server, &publish_body("/default/a", &[json!(1)]), &[]).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_edited_handler_file_takes_effect_with_the_next_request() {
    let (_dir, path) = temp_handler(
        "reload.js",
        "export const onPublish = (ctx) => ctx.events.map(e => ({ id: e.id, payload: { v: 1 } }))",
    );
    let server = with(Config {
        handlers: handlers(&[("live", path.clone())]),
        ..Config::default()
    })
    .await;
    let body = publish_body("/live/a", &[json!(0)]);
    let publish = || post(&server, &body, &[]);
    assert_eq!(publish().await.0, 200);
    std::fs::write(
        &path,
        "export const onPublish = (ctx) => ctx.events.map(e => ({ id: e.id, payload: { v: 2 } }))",
    )
    .unwrap();
    assert_eq!(publish().await.0, 200);
    std::fs::write(&path, "export const onPublish = (ctx => {").unwrap();
    let (status, body) = publish().await;
    assert_eq!(status, 500);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SyntaxError")
    );
    std::fs::write(&path, "export const onPublish = () => null").unwrap();
    let (status, body) = publish().await;
    assert_eq!((status, body["successful"].clone()), (200, json!([])));
    let payloads: Vec<String> = server.accepted().into_iter().map(|e| e.event).collect();
    assert_eq!(payloads, vec![r#"{"v":1}"#, r#"{"v":2}"#]);
    server.shutdown().await;
}

#[tokio::test]
async fn handlers_see_the_callers_identity_and_request_headers() {
    let (_dir, path) = temp_handler(
        "whoami.js",
        "export const onPublish = (ctx) => ctx.events.map(e => ({ id: e.id, payload: { user: ctx.identity.username, groups: ctx.identity.groups, ip: ctx.identity.sourceIp, animal: ctx.request.headers.animal } }))",
    );
    let claims = json!({"sub": "u-1", "cognito:username": "alice", "cognito:groups": ["admin"]});
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let jwt = format!(
        "{}.{}.sig",
        encode(&json!({"alg": "none"})),
        encode(&claims)
    );
    let server = with(Config {
        auth_tokens: vec![jwt.clone()],
        handlers: handlers(&[("who", path)]),
        ..Config::default()
    })
    .await;
    let (status, body) = post(
        &server,
        &publish_body("/who/a", &[json!(0)]),
        &[("authorization", &jwt), ("animal", "duck")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        server.accepted()[0].event,
        r#"{"animal":"duck","groups":["admin"],"ip":["127.0.0.1"],"user":"alice"}"#
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_broken_handler_file_stops_the_start_with_a_clear_error() {
    let missing = appsync_local::start(Config {
        handlers: handlers(&[("chat", fixture("nope.js"))]),
        ..Config::default()
    })
    .await
    .unwrap_err();
    let text = missing.to_string();
    assert!(matches!(missing, StartError::Handler(_)));
    assert!(
        text.contains("namespace chat") && text.contains("nope.js"),
        "{text}"
    );

    let (_dir, broken) = temp_handler("syntax.js", "export function onPublish( {");
    let error = appsync_local::start(Config {
        handlers: handlers(&[("chat", broken)]),
        ..Config::default()
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("SyntaxError"), "{error}");
}
