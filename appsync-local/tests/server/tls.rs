//! `--tls`: HTTPS and WSS on one port, with a generated certificate or the user's own.

use std::sync::Arc;

use appsync_local::{Config, Server, TlsConfig};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

async fn tls_server(tls: TlsConfig) -> Server {
    with(Config {
        api_keys: vec!["da2-tls".into()],
        tls: Some(tls),
        ..Config::default()
    })
    .await
}

/// A generated certificate, written into a directory removed when the guard drops.
fn self_signed() -> (tempfile::TempDir, TlsConfig) {
    let dir = tempfile::tempdir().unwrap();
    let cert_out = Some(dir.path().join("localhost.pem"));
    (dir, TlsConfig::SelfSigned { cert_out })
}

/// A client that trusts exactly this PEM (nothing else).
fn trusting(pem: &str) -> reqwest::Client {
    let _ = client();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

async fn publish(client: &reqwest::Client, url: &str, event: Value) -> (u16, Value) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-api-key", "da2-tls")
        .body(publish_body("/default/tls", &[event]).to_string())
        .timeout(TIMEOUT)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

type Wss = WebSocketStream<TlsStream<TcpStream>>;

/// Opens `wss://localhost:PORT/event/realtime` with a rustls client trusting `pem`.
async fn wss(server: &Server, pem: &str) -> Wss {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let auth =
        json!({"host": format!("localhost:{}", server.addr().port()), "x-api-key": "da2-tls"});
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth.to_string());
    let mut request = server.realtime_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("aws-appsync-event-ws,header-{header}")
            .parse()
            .unwrap(),
    );
    let (socket, _) = tokio_tungstenite::client_async(request, tls).await.unwrap();
    socket
}

async fn next_message(socket: &mut Wss) -> Value {
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

#[tokio::test]
async fn a_generated_certificate_serves_https_publish_and_wss_subscriptions_on_one_port() {
    let (_certs, tls) = self_signed();
    let server = tls_server(tls).await;
    let pem = server.tls_cert_pem().unwrap().to_owned();
    assert!(server.http_endpoint().starts_with("https://localhost:"));
    assert!(server.realtime_url().starts_with("wss://localhost:"));
    // The printed path holds the certificate a client is told to trust.
    let written = std::fs::read_to_string(server.tls_cert_path().unwrap()).unwrap();
    assert_eq!(written, pem);

    let mut socket = wss(&server, &pem).await;
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    let auth = json!({"x-api-key": "da2-tls"});
    let subscribe =
        json!({"type": "subscribe", "id": "s", "channel": "/default/*", "authorization": auth});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    assert_eq!(next_message(&mut socket).await["type"], "subscribe_success");

    let client = trusting(&pem);
    let (status, body) = publish(&client, &server.http_endpoint(), json!({"over": "tls"})).await;
    assert_eq!(status, 200, "{body}");
    let data = next_message(&mut socket).await;
    assert_eq!(data["event"], r#"{"over":"tls"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn the_certificate_is_valid_for_127_0_0_1_too_and_plain_http_is_not_served() {
    let (_certs, tls) = self_signed();
    let server = tls_server(tls).await;
    let trusted = trusting(server.tls_cert_pem().unwrap());
    let by_ip = format!("https://127.0.0.1:{}/event", server.addr().port());
    assert_eq!(publish(&trusted, &by_ip, json!(1)).await.0, 200);
    let plain = format!("http://127.0.0.1:{}/event", server.addr().port());
    let refused = client()
        .post(plain)
        .body("{}")
        .timeout(TIMEOUT)
        .send()
        .await;
    assert!(
        refused.is_err(),
        "plain http must not be answered: {refused:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused_by_its_own_tls_check() {
    let (_certs, tls) = self_signed();
    let server = tls_server(tls).await;
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let stranger = trusting(&other.cert.pem());
    let result = stranger
        .post(server.http_endpoint())
        .body("{}")
        .timeout(TIMEOUT)
        .send()
        .await;
    assert!(result.unwrap_err().is_connect());
    server.shutdown().await;
}

#[tokio::test]
async fn your_own_certificate_and_key_files_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.signing_key.serialize_pem()).unwrap();
    let server = tls_server(TlsConfig::Files {
        cert: cert.clone(),
        key,
    })
    .await;
    assert_eq!(server.tls_cert_path().unwrap(), cert);
    let client = trusting(&own.cert.pem());
    assert_eq!(
        publish(&client, &server.http_endpoint(), json!(1)).await.0,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_fails_the_start_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let one = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let two = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, one.cert.pem()).unwrap();
    std::fs::write(&key, two.signing_key.serialize_pem()).unwrap();
    let error = appsync_local::start(Config {
        tls: Some(TlsConfig::Files { cert, key }),
        ..Config::default()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("not usable"), "{error}");
}

#[tokio::test]
async fn a_handler_behind_tls_sees_the_callers_address_as_source_ip() {
    let tmp = tempfile::tempdir().unwrap();
    let handler = tmp.path().join("ip.js");
    std::fs::write(
        &handler,
        "export const onPublish = (ctx) => ctx.events.map(e => ({ id: e.id, payload: ctx.identity.sourceIp }))",
    )
    .unwrap();
    // A JWT's claims give the Cognito identity shape, which has `sourceIp` (an opaque token gives
    // the Lambda-authorizer shape, which has not).
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let jwt = format!(
        "{}.{}.sig",
        encode(&json!({"alg": "none"})),
        encode(&json!({"sub": "u-tls"}))
    );
    let (_certs, tls) = self_signed();
    let server = with(Config {
        auth_tokens: vec![jwt.clone()],
        tls: Some(tls),
        handlers: [("ip".to_owned(), handler)].into(),
        ..Config::default()
    })
    .await;
    let client = trusting(server.tls_cert_pem().unwrap());
    let response = client
        .post(server.http_endpoint())
        .header("content-type", "application/json")
        .header("authorization", &jwt)
        .body(publish_body("/ip/a", &[json!(0)]).to_string())
        .timeout(TIMEOUT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.accepted()[0].event, r#"["127.0.0.1"]"#);
    server.shutdown().await;
}
