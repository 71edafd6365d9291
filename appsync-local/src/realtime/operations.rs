//! One client message's operation on a connection: parse, authorise (the message's own
//! `authorization` object), then `subscribe`, `unsubscribe` or `publish`, each answered with its
//! success or typed error message.

use std::time::SystemTime;

use axum::http::Uri;
use serde_json::{Map, Value, json};
use tracing::{info, warn};

use super::{CONNECTION_TIMEOUT_MS, Connection, Subscription};
use crate::auth::{AuthOutcome, headers_from_object};
use crate::channel::{ChannelError, ChannelPath};
use crate::handler::{Caller, Handled};
use crate::publish::{self, ApiError};
use crate::state::Fate;

/// True for ids AppSync accepts: `^[a-zA-Z0-9-_+]{1,128}$`.
pub(super) fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
}

impl Connection {
    /// Handles one client message and returns its reply.
    pub(super) async fn handle(&mut self, text: &str) -> Value {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return error_message(
                None,
                &ApiError::bad_request("Message is not a valid JSON object"),
            );
        };
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        match kind {
            "connection_init" => json!({
                "type": "connection_ack",
                "connectionTimeoutMs": CONNECTION_TIMEOUT_MS,
            }),
            "subscribe" => self.subscribe(&message).await,
            "unsubscribe" => self.unsubscribe(&message),
            "publish" => self.publish(&message).await,
            other => error_message(
                message.get("id").and_then(Value::as_str),
                &ApiError::new(
                    400,
                    "UnsupportedOperation",
                    format!("{other} not supported through the realtime channel"),
                ),
            ),
        }
    }

    /// Checks a message's `authorization` object. For IAM the client signed `POST /event` with
    /// `signed_body` (protocol notes §4.4).
    fn authorize(
        &self,
        message: &Map<String, Value>,
        signed_body: &Value,
    ) -> (AuthOutcome, Caller) {
        let headers = message
            .get("authorization")
            .and_then(Value::as_object)
            .map(headers_from_object)
            .unwrap_or_default();
        let outcome = self.state.auth().check(
            "POST",
            &Uri::from_static("/event"),
            &headers,
            signed_body.to_string().as_bytes(),
            SystemTime::now(),
        );
        let caller = Caller::new(&outcome, &headers, &self.headers, self.peer);
        (outcome, caller)
    }

    async fn subscribe(&mut self, message: &Map<String, Value>) -> Value {
        const KIND: &str = "subscribe_error";
        let raw_id = message.get("id").and_then(Value::as_str);
        let Some(id) = raw_id.filter(|id| is_valid_id(id)) else {
            return typed_error(KIND, raw_id, &ApiError::bad_request("Invalid operation id"));
        };
        if self.subscriptions.iter().any(|s| s.id == id) {
            // Error type UNVERIFIED; the message is the one AppSync documents.
            let error = ApiError::new(
                400,
                "DuplicatedOperationError",
                "subscription message is duplicated",
            );
            return typed_error(KIND, Some(id), &error);
        }
        let channel_text = message
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (auth, caller) = self.authorize(message, &json!({ "channel": channel_text }));
        if let AuthOutcome::Denied { reason } = &auth {
            warn!(connection = self.id, id, channel = %channel_text, reason = %reason, "subscribe refused");
            return typed_error(KIND, Some(id), &ApiError::unauthorized());
        }
        let pattern = match ChannelPath::pattern(channel_text) {
            Ok(pattern) => pattern,
            Err(ChannelError::Format | ChannelError::Wildcard) => {
                return typed_error(
                    KIND,
                    Some(id),
                    &ApiError::bad_request("Invalid Channel Format"),
                );
            }
        };
        if let Err(error) = publish::check_namespace(&pattern, self.state.namespaces()) {
            return typed_error(KIND, Some(id), &error);
        }
        if let Some(Err(error)) = self.state.handlers().on_subscribe(&pattern, &caller).await {
            info!(connection = self.id, id, channel = %pattern, error = %error, "subscribe refused by onSubscribe");
            return typed_error(KIND, Some(id), &error);
        }
        info!(connection = self.id, id, channel = %pattern, auth = %auth.mode(), "subscribe");
        self.subscriptions.push(Subscription {
            id: id.to_owned(),
            pattern,
            since: self.state.current_seq(),
        });
        json!({"type": "subscribe_success", "id": id})
    }

    fn unsubscribe(&mut self, message: &Map<String, Value>) -> Value {
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(position) = self.subscriptions.iter().position(|s| s.id == id) else {
            let error = ApiError::new(
                400,
                "UnknownOperationError",
                format!("Unknown operation id {id}"),
            );
            return typed_error("unsubscribe_error", Some(id), &error);
        };
        let removed = self.subscriptions.remove(position);
        info!(connection = self.id, id, channel = %removed.pattern, "unsubscribe");
        json!({"type": "unsubscribe_success", "id": id})
    }

    async fn publish(&mut self, message: &Map<String, Value>) -> Value {
        const KIND: &str = "publish_error";
        let raw_id = message.get("id").and_then(Value::as_str);
        let Some(id) = raw_id.filter(|id| is_valid_id(id)) else {
            return typed_error(KIND, raw_id, &ApiError::bad_request("Invalid operation id"));
        };
        let signed = json!({
            "channel": message.get("channel").cloned().unwrap_or(Value::Null),
            "events": message.get("events").cloned().unwrap_or(Value::Null),
        });
        let (auth, caller) = self.authorize(message, &signed);
        let channel_text = message
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let AuthOutcome::Denied { reason } = &auth {
            warn!(connection = self.id, id, channel = %channel_text, reason = %reason, "websocket publish refused");
            return typed_error(KIND, Some(id), &ApiError::unauthorized());
        }
        let valid =
            match publish::validate(&Value::Object(message.clone()), self.state.namespaces()) {
                Ok(valid) => valid,
                Err(error) => return typed_error(KIND, Some(id), &error),
            };
        let events = valid.events.len();
        // Faults and scripted outcomes apply to HTTP publish only; the namespace's handler to both.
        let fates = match self
            .state
            .handlers()
            .on_publish_events(&valid.channel, valid.events, &caller)
            .await
        {
            Handled::NoHandler(events) => Fate::plan(events, &[], 0, &[]),
            Handled::Fates(fates) => fates,
            Handled::Rejected(error) => return typed_error(KIND, Some(id), &error),
        };
        let result = self.state.accept(&valid.channel, fates);
        info!(connection = self.id, id, channel = %valid.channel, events, auth = %auth.mode(), "websocket publish");
        json!({
            "type": "publish_success",
            "id": id,
            "successful": result.successful,
            "failed": result.failed,
        })
    }
}

pub(super) fn typed_error(kind: &str, id: Option<&str>, error: &ApiError) -> Value {
    let mut message = json!({"type": kind, "errors": [error.entry()]});
    if let (Some(id), Some(object)) = (id, message.as_object_mut()) {
        object.insert("id".to_owned(), Value::from(id));
    }
    message
}

pub(super) fn error_message(id: Option<&str>, error: &ApiError) -> Value {
    typed_error("error", id, error)
}
