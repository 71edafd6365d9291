//! Authentication over HTTP and WebSocket: API keys, tokens and SigV4.

use std::time::SystemTime;

use appsync_local::{AuthOutcome, Config};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Value, json};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

const KEY: &str = "da2-local-key";
const TOKEN: &str = "eyJ.local.token";
const AKID: &str = "AKIDLOCAL";
const SECRET: &str = "local-secret-access-key";

fn secured() -> Config {
    Config {
        api_keys: vec![KEY.into()],
        auth_tokens: vec![TOKEN.into()],
        iam_credentials: vec![(AKID.into(), SECRET.into())],
        ..Config::default()
    }
}

fn body() -> Value {
    publish_body("/default/auth", &[json!({"x": 1})])
}

#[tokio::test]
async fn an_api_key_or_token_authenticates_an_http_publish() {
    let server = with(secured()).await;
    assert_eq!(post(&server, &body(), &[("x-api-key", KEY)]).await.0, 200);
    assert_eq!(
        post(&server, &body(), &[("authorization", TOKEN)]).await.0,
        200
    );
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        post(&server, &body(), &[("authorization", &bearer)])
            .await
            .0,
        200
    );
    let modes: Vec<AuthOutcome> = server.requests().into_iter().map(|r| r.auth).collect();
    assert_eq!(
        modes,
        vec![AuthOutcome::ApiKey, AuthOutcome::Token, AuthOutcome::Token]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_credentials_get_401_unauthorized_over_http() {
    let server = with(secured()).await;
    for headers in [
        vec![],
        vec![("x-api-key", "da2-wrong")],
        vec![("authorization", "wrong-token")],
    ] {
        let (status, response) = post(&server, &body(), &headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_eq!(response["errors"][0]["errorType"], "UnauthorizedException");
    }
    assert!(server.accepted().is_empty());
    for request in server.requests() {
        assert!(matches!(request.auth, AuthOutcome::Denied { .. }));
        assert!(!format!("{:?}", request.auth).contains("da2-wrong"));
    }
    server.shutdown().await;
}

/// Signs like the bridge does: `aws-sigv4` defaults, service `appsync`.
fn sign_headers(
    host: &str,
    body: &[u8],
    region: &str,
    service: &str,
    secret: &str,
    session_token: Option<&str>,
) -> Vec<(String, String)> {
    let identity: Identity =
        Credentials::new(AKID, secret, session_token.map(str::to_owned), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{host}/event");
    let headers = [("content-type", "application/json"), ("host", host)];
    let signable =
        SignableRequest::new("POST", &url, headers.into_iter(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    out.push(("host".into(), host.into()));
    out.push(("content-type".into(), "application/json".into()));
    out
}

async fn post_signed(
    server: &appsync_local::Server,
    sent: &[u8],
    signed: &[u8],
    region: &str,
    service: &str,
    secret: &str,
) -> u16 {
    let host = server.addr().to_string();
    let headers = sign_headers(
        &host,
        signed,
        region,
        service,
        secret,
        Some("session-token"),
    );
    let refs: Vec<(&str, &str)> = headers
        .iter()
        // reqwest sends Host and post_raw sends content-type itself.
        .filter(|(k, _)| k != "host" && k != "content-type")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_raw(server, String::from_utf8(sent.to_vec()).unwrap(), &refs)
        .await
        .0
}

#[tokio::test]
async fn a_sigv4_signed_publish_with_a_session_token_is_accepted() {
    let server = with(secured()).await;
    let b = body().to_string();
    let status = post_signed(
        &server,
        b.as_bytes(),
        b.as_bytes(),
        "us-east-1",
        "appsync",
        SECRET,
    )
    .await;
    assert_eq!(status, 200, "{:?}", server.requests()[0].auth);
    assert_eq!(
        server.requests()[0].auth,
        AuthOutcome::Iam {
            access_key_id: AKID.into()
        }
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_sigv4_publish_with_a_changed_body_region_service_or_secret_is_refused() {
    let server = with(secured()).await;
    let b = body().to_string();
    let other = publish_body("/default/auth", &[json!({"x": 2})]).to_string();
    let cases = [
        (other.as_str(), "us-east-1", "appsync", SECRET),
        (b.as_str(), "eu-west-1", "appsync", SECRET),
        (b.as_str(), "us-east-1", "execute-api", SECRET),
        (b.as_str(), "us-east-1", "appsync", "not-the-secret"),
    ];
    for (signed, region, service, secret) in cases {
        let status = post_signed(
            &server,
            b.as_bytes(),
            signed.as_bytes(),
            region,
            service,
            secret,
        )
        .await;
        assert_eq!(status, 401, "{region} {service}");
    }
    assert!(server.accepted().is_empty());
    server.shutdown().await;
}

fn key_auth(key: &str) -> Value {
    json!({"host": "localhost", "x-api-key": key})
}

#[tokio::test]
async fn a_refused_connection_answers_connection_init_with_a_connection_error_and_closes() {
    let server = with(secured()).await;
    let mut ws = connect(&server, &key_auth("da2-wrong")).await;
    let started = std::time::Instant::now();
    send(&mut ws, json!({"type": "connection_init"})).await;
    let reply = next(&mut ws).await;
    // The answer to connection_init, not the fallback after the wait.
    assert!(started.elapsed() < appsync_local::realtime::REFUSAL_WAIT);
    assert_eq!(reply["type"], "connection_error");
    assert_eq!(reply["errors"][0]["errorType"], "UnauthorizedException");
    assert_eq!(reply["errors"][0]["errorCode"], 401);
    let closed = tokio::time::timeout(TIMEOUT, ws.next()).await.unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(_))) | None),
        "{closed:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_client_that_never_sends_connection_init_still_gets_the_error_after_a_short_wait()
{
    let server = with(secured()).await;
    let started = std::time::Instant::now();
    let mut ws = connect(&server, &key_auth("da2-wrong")).await;
    let reply = next(&mut ws).await;
    assert!(started.elapsed() >= appsync_local::realtime::REFUSAL_WAIT);
    assert_eq!(reply["type"], "connection_error");
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_whose_auth_host_is_missing_or_names_another_server_is_refused() {
    let server = with(secured()).await;
    let port = server.addr().port();
    let cases = [
        json!({"x-api-key": KEY}),
        json!({"host": "abc.appsync-api.us-east-1.amazonaws.com", "x-api-key": KEY}),
        json!({"host": format!("localhost:{}", port.wrapping_add(1)), "x-api-key": KEY}),
    ];
    for auth in cases {
        let mut ws = connect(&server, &auth).await;
        send(&mut ws, json!({"type": "connection_init"})).await;
        assert_eq!(next(&mut ws).await["type"], "connection_error", "{auth}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let mut ws = connect(&server, &json!({"host": host, "x-api-key": KEY})).await;
        init(&mut ws).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn subscribe_and_publish_messages_carry_their_own_authorization() {
    let server = with(secured()).await;
    let mut ws = connect(&server, &key_auth(KEY)).await;
    init(&mut ws).await;
    let ok = subscribe(&mut ws, "good", "/default/a", &key_auth(KEY)).await;
    assert_eq!(ok["type"], "subscribe_success");
    let token = json!({"host": "localhost", "Authorization": TOKEN});
    assert_eq!(
        subscribe(&mut ws, "tok", "/default/b", &token).await["type"],
        "subscribe_success"
    );

    for (id, auth) in [("wrong", key_auth("da2-wrong")), ("none", Value::Null)] {
        let reply = subscribe(&mut ws, id, "/default/a", &auth).await;
        assert_eq!(reply["type"], "subscribe_error", "{id}");
        assert_eq!(reply["errors"][0]["errorType"], "UnauthorizedException");
    }

    let events = vec![json!(1).to_string()];
    send(
        &mut ws,
        json!({"type": "publish", "id": "p", "channel": "/default/a", "events": events, "authorization": key_auth("da2-wrong")}),
    )
    .await;
    let reply = next(&mut ws).await;
    assert_eq!(reply["type"], "publish_error");
    assert_eq!(reply["errors"][0]["errorType"], "UnauthorizedException");
    assert!(server.accepted().is_empty());

    send(
        &mut ws,
        json!({"type": "publish", "id": "p2", "channel": "/default/a", "events": events, "authorization": key_auth(KEY)}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "publish_success");
    let data = next(&mut ws).await;
    assert_eq!(
        (data["type"].as_str(), data["id"].as_str()),
        (Some("data"), Some("good"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn native_clients_may_authenticate_the_upgrade_with_plain_headers() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = with(secured()).await;
    let mut request = server.realtime_url().into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "aws-appsync-event-ws".parse().unwrap(),
    );
    headers.insert("authorization", TOKEN.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    server.shutdown().await;
}

/// The `authorization` object an IAM client sends over WebSocket for a signed `body`.
fn iam_auth(server: &appsync_local::Server, body: &str) -> Value {
    let host = server.addr().to_string();
    let mut object = serde_json::Map::new();
    for (k, v) in sign_headers(
        &host,
        body.as_bytes(),
        "us-east-1",
        "appsync",
        SECRET,
        Some("tok"),
    ) {
        object.insert(k, Value::String(v));
    }
    Value::Object(object)
}

#[tokio::test]
async fn iam_signed_websocket_connect_subscribe_and_publish_are_accepted() {
    let server = with(secured()).await;
    let mut ws = connect(&server, &iam_auth(&server, "{}")).await;
    init(&mut ws).await;
    let channel = "/default/iam";
    let sub_auth = iam_auth(&server, &json!({"channel": channel}).to_string());
    assert_eq!(
        subscribe(&mut ws, "s", channel, &sub_auth).await["type"],
        "subscribe_success"
    );

    let events = vec![json!({"x": 1}).to_string()];
    let pub_auth = iam_auth(
        &server,
        &json!({"channel": channel, "events": events}).to_string(),
    );
    send(
        &mut ws,
        json!({"type": "publish", "id": "p", "channel": channel, "events": events, "authorization": pub_auth}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "publish_success");
    assert_eq!(next(&mut ws).await["type"], "data");
    server.shutdown().await;
}

#[tokio::test]
async fn an_iam_subscribe_signed_for_another_channel_is_refused() {
    let server = with(secured()).await;
    let mut ws = connect(&server, &key_auth(KEY)).await;
    let wrong = iam_auth(&server, &json!({"channel": "/default/other"}).to_string());
    let reply = subscribe(&mut ws, "s", "/default/iam", &wrong).await;
    assert_eq!(reply["type"], "subscribe_error");
    assert_eq!(reply["errors"][0]["errorType"], "UnauthorizedException");
    server.shutdown().await;
}
