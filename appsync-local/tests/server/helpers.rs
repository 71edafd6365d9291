//! Shared test plumbing: starting servers, publishing, and a small WebSocket client.

use std::time::Duration;

use appsync_local::{Config, Server};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous bound so a broken server fails the test instead of hanging it.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One client for the whole test binary (reqwest needs a rustls provider installed first).
pub fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::new()
        })
        .clone()
}

pub async fn open() -> Server {
    appsync_local::start(Config::default()).await.unwrap()
}

pub async fn with(config: Config) -> Server {
    appsync_local::start(config).await.unwrap()
}

/// POSTs `body` to `/event` with extra headers; returns status and JSON body.
pub async fn post(server: &Server, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    post_raw(server, body.to_string(), headers).await
}

pub async fn post_raw(server: &Server, body: String, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = client()
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = tokio::time::timeout(TIMEOUT, request.send())
        .await
        .unwrap()
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// GETs a local URL path (e.g. `/_local/events`) as JSON.
pub async fn get_json(server: &Server, path: &str) -> Value {
    let url = format!("http://{}{path}", server.addr());
    let text = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// POSTs JSON to a local URL path; returns status and JSON body.
pub async fn post_json(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let url = format!("http://{}{path}", server.addr());
    let response = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn publish_body(channel: &str, events: &[Value]) -> Value {
    let events: Vec<String> = events.iter().map(Value::to_string).collect();
    json!({ "channel": channel, "events": events })
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects with the browser-style `header-<base64url>` subprotocol carrying `auth`.
pub async fn connect(server: &Server, auth: &Value) -> Socket {
    try_connect(server, auth).await.unwrap()
}

pub async fn try_connect(
    server: &Server,
    auth: &Value,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth.to_string());
    let mut request = server.realtime_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("aws-appsync-event-ws,header-{header}")
            .parse()
            .unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "aws-appsync-event-ws"
    );
    Ok(socket)
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next JSON text message, skipping `ka`.
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .expect("a message in time")
            .expect("an open socket")
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            if value["type"] != "ka" {
                return value;
            }
        }
    }
}

/// Sends `connection_init` and expects `connection_ack`.
pub async fn init(socket: &mut Socket) {
    send(socket, json!({"type": "connection_init"})).await;
    let ack = next(socket).await;
    assert_eq!(ack["type"], "connection_ack");
}

pub async fn subscribe(socket: &mut Socket, id: &str, channel: &str, auth: &Value) -> Value {
    send(
        socket,
        json!({"type": "subscribe", "id": id, "channel": channel, "authorization": auth}),
    )
    .await;
    next(socket).await
}
