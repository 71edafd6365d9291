//! `GET /`: a short plain-text page saying what this server is, where its endpoints are, which
//! namespaces and handlers it serves and how it authenticates — what someone who opens the
//! server's address in a browser or with curl wants to know first.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /`.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let text = render(&state, host);
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// The page's text for a server reached as `host`.
fn render(state: &AppState, host: &str) -> String {
    let (http, ws) = if state.tls() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    let modes = state.auth().modes();
    let auth = if modes.is_empty() {
        "open: no credentials configured, every request is accepted".to_owned()
    } else {
        format!("required: {}", modes.join(", "))
    };
    let namespaces = state.namespaces();
    let example = namespaces.first().map_or("default", String::as_str);
    let key = if modes.contains(&"API_KEY") {
        " -H 'x-api-key: <your --api-key>'"
    } else {
        ""
    };
    let mut page = format!(
        "appsync-local {version}: a local AWS AppSync Events server (HTTP publish and the WebSocket \
real-time protocol on one port)

  HTTP publish:  POST {http}://{host}/event
  real-time:     {ws}://{host}/event/realtime (subprotocol aws-appsync-event-ws)
  namespaces:    {namespaces}
",
        version = env!("CARGO_PKG_VERSION"),
        namespaces = namespaces.join(", "),
    );
    for (namespace, file) in state.handlers().files() {
        page.push_str(&format!(
            "  handler:       {namespace} = {}\n",
            file.display()
        ));
    }
    page.push_str(&format!(
        "  auth:          {auth}

Inspect and control (never shows a key, token or signature):
  GET  /_local/events[?limit=N]  the last accepted events: channel, event, identifier
  GET  /_local/requests          the last HTTP publish requests: channel, events, status, auth mode
  GET  /_local/faults            the fault settings and the scripted outcomes still queued
  POST /_local/faults            change them: {{\"throttle\":0.2}} or {{\"script\":[{{\"status\":429}}]}}

Publish with curl:
  curl -s {http}://{host}/event -H 'content-type: application/json'{key} \\
    -d '{{\"channel\":\"/{example}/test\",\"events\":[\"{{\\\"hello\\\":1}}\"]}}'
"
    ));
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn the_page_names_the_endpoints_namespaces_handlers_and_auth_modes() {
        let state = AppState::new(Config {
            namespaces: vec!["orders".into(), "prices".into()],
            api_keys: vec!["da2-secret".into()],
            handlers: [("chat".into(), "chat.js".into())].into(),
            ..Config::default()
        });
        let page = render(&state, "127.0.0.1:8787");
        for line in [
            "POST http://127.0.0.1:8787/event",
            "ws://127.0.0.1:8787/event/realtime",
            "namespaces:    orders, prices, chat",
            "handler:       chat = chat.js",
            "auth:          required: API_KEY",
            "GET  /_local/faults",
            r#"-d '{"channel":"/orders/test","events":["{\"hello\":1}"]}'"#,
        ] {
            assert!(page.contains(line), "{line:?} missing from:\n{page}");
        }
        assert!(!page.contains("da2-secret"), "{page}");
        let open = render(&AppState::new(Config::default()), "localhost:1");
        assert!(open.contains("auth:          open"), "{open}");
        assert!(!open.contains("x-api-key"), "{open}");
    }
}
