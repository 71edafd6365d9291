//! The `ctx` a handler receives, built as AppSync documents it: `events`, `channel`, `identity`,
//! `info.{channel.{path, segments}, channelNamespace.name, operation}`, `request.headers`,
//! `stash`.

use std::net::IpAddr;

use base64::Engine;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::auth::AuthOutcome;
use crate::channel::ChannelPath;

/// Who is calling, as far as a handler can see it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// `ctx.identity`: `null` for API keys and an open server, as AppSync leaves it unpopulated.
    pub identity: Value,
    /// `ctx.request.headers`.
    pub headers: Value,
}

impl Caller {
    /// The caller of a request authenticated as `auth` with `auth_headers` (the HTTP request's
    /// headers, or a WebSocket message's `authorization` object), sending `request_headers`
    /// from `peer` (the connection's remote address, when the server knows it).
    pub fn new(
        auth: &AuthOutcome,
        auth_headers: &HeaderMap,
        request_headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Self {
        Self {
            identity: identity(auth, auth_headers, peer),
            headers: headers_object(request_headers),
        }
    }
}

/// `ctx` for `onPublish`: `events` are `{id, payload}` with the payload parsed from its JSON text.
pub fn publish_context(
    channel: &ChannelPath,
    events: &[(String, String)],
    caller: &Caller,
) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|(id, text)| {
            let payload = serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
            json!({ "id": id, "payload": payload })
        })
        .collect();
    let mut ctx = base(channel, "PUBLISH", caller);
    ctx.insert("events".to_owned(), Value::Array(events));
    Value::Object(ctx)
}

/// `ctx` for `onSubscribe`: the channel may end in a wildcard (`/ns/*`).
pub fn subscribe_context(channel: &ChannelPath, caller: &Caller) -> Value {
    Value::Object(base(channel, "SUBSCRIBE", caller))
}

fn base(channel: &ChannelPath, operation: &str, caller: &Caller) -> Map<String, Value> {
    let path = channel.to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let namespace = json!({ "name": channel.namespace() });
    let info = json!({
        "channel": { "path": path, "segments": segments },
        "channelNamespace": namespace,
        "operation": operation,
    });
    let mut ctx = Map::new();
    ctx.insert("channel".to_owned(), Value::from(path.clone()));
    ctx.insert("identity".to_owned(), caller.identity.clone());
    ctx.insert("info".to_owned(), info);
    // The handler docs also show these at the top level.
    ctx.insert("channelNamespace".to_owned(), namespace);
    ctx.insert("operation".to_owned(), Value::from(operation));
    ctx.insert(
        "request".to_owned(),
        json!({ "headers": caller.headers, "domainName": null }),
    );
    ctx.insert("stash".to_owned(), json!({}));
    ctx
}

/// Request headers as AppSync gives them to handlers: lower-case names, a repeated header as an
/// array of its values, and never the cookie.
pub fn headers_object(headers: &HeaderMap) -> Value {
    let mut object = Map::new();
    for name in headers.keys() {
        if name == http::header::COOKIE || name.as_str().starts_with("sec-websocket-") {
            continue;
        }
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(Value::from)
            .collect();
        let value = match <[Value; 1]>::try_from(values) {
            Ok([one]) => one,
            Err(many) => Value::Array(many),
        };
        object.insert(name.as_str().to_owned(), value);
    }
    Value::Object(object)
}

/// `ctx.identity` for the mode that authenticated the caller.
///
/// AppSync fills it from IAM or the token's issuer; here there is no account, no identity pool
/// and no verified token, so: IAM gives the access key id as `username` (other IAM fields
/// `null`); a token that is a JWT gives its (unverified) claims in the Cognito shape; any other
/// token gives the Lambda-authorizer shape with an empty `handlerContext`. UNVERIFIED beyond the
/// shapes AppSync's context reference documents. `sourceIp` is the connection's remote address
/// (AppSync lists the caller's addresses; here there is no proxy in front, so one), or empty when
/// the server was started without connection info (`router` served by hand).
pub fn identity(auth: &AuthOutcome, auth_headers: &HeaderMap, peer: Option<IpAddr>) -> Value {
    let source_ip: Vec<Value> = peer
        .map(|ip| Value::from(ip.to_string()))
        .into_iter()
        .collect();
    match auth {
        AuthOutcome::Open | AuthOutcome::ApiKey | AuthOutcome::Denied { .. } => Value::Null,
        AuthOutcome::Iam { access_key_id } => json!({
            "accountId": null,
            "cognitoIdentityPoolId": null,
            "cognitoIdentityId": null,
            "sourceIp": source_ip,
            "username": access_key_id,
            "userArn": null,
            "cognitoIdentityAuthType": null,
            "cognitoIdentityAuthProvider": null,
        }),
        AuthOutcome::Token => {
            let token = auth_headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let token = token.strip_prefix("Bearer ").unwrap_or(token);
            match jwt_claims(token) {
                Some(claims) => cognito_identity(claims, source_ip),
                None => json!({ "handlerContext": {} }),
            }
        }
    }
}

/// The claims of a JWT, decoded but not verified (the token was matched as an opaque string).
fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, claims, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

fn cognito_identity(claims: Map<String, Value>, source_ip: Vec<Value>) -> Value {
    let claim = |name: &str| claims.get(name).cloned().unwrap_or(Value::Null);
    let username = match claim("cognito:username") {
        Value::Null => claim("username"),
        name => name,
    };
    json!({
        "sub": claim("sub"),
        "issuer": claim("iss"),
        "username": username,
        "groups": claim("cognito:groups"),
        "sourceIp": source_ip,
        "defaultAuthStrategy": "ALLOW",
        "claims": Value::Object(claims),
    })
}
