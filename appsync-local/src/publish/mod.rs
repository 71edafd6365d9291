//! The publish contract shared by HTTP and WebSocket: validating `{channel, events}` against
//! AppSync's rules, and the success and error response shapes.
//!
//! Status codes for errors are UNVERIFIED (the protocol notes source only the body shapes and
//! `errorType` names); the choices here are documented in the README section "appsync-local".

use serde::Serialize;
use serde_json::Value;

use crate::channel::{ChannelError, ChannelPath};

mod fate;
pub use fate::EVENT_FAILURE_CODE;
pub(crate) use fate::{EVENT_FAILURE_MESSAGE, Fate, event_ids};

/// AppSync accepts at most five events in one publish (HTTP and WebSocket).
pub const MAX_EVENTS_PER_PUBLISH: usize = 5;

/// AppSync rejects an event whose JSON text exceeds 240 KB (taken as 240 × 1024 bytes of UTF-8;
/// whether AWS counts 1000 or 1024 is UNVERIFIED).
pub const MAX_EVENT_BYTES: usize = 240 * 1024;

/// An error answered to a client: an HTTP status and AppSync's `{errorType, message}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct ApiError {
    /// HTTP status for HTTP publish; unused over WebSocket.
    pub status: u16,
    /// AppSync's `errorType`, e.g. `BadRequestException`.
    pub error_type: String,
    /// Human-readable detail.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, error_type: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type: error_type.to_owned(),
            message: message.into(),
        }
    }

    /// 400 `BadRequestException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequestException", message)
    }

    /// 401 `UnauthorizedException` with the message AWS clients show.
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "UnauthorizedException",
            "You are not authorized to make this call",
        )
    }

    /// 404 `ResourceNotFound` for a namespace that is not configured.
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::new(
            404,
            "ResourceNotFound",
            format!("Namespace not found: {namespace}"),
        )
    }

    /// 413 for an event over [`MAX_EVENT_BYTES`] (or a body over the server's limit).
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "BadRequestException", message)
    }

    /// The error answered for a bare status (scripted outcomes and random faults).
    pub fn for_status(status: u16) -> Self {
        match status {
            400 => Self::bad_request("Bad request"),
            401 => Self::unauthorized(),
            403 => Self::new(403, "UnauthorizedException", "Forbidden"),
            404 => Self::new(404, "ResourceNotFound", "Namespace not found"),
            413 => Self::too_large("Request too large"),
            429 => Self::new(429, "LimitExceededError", "Rate limit exceeded"),
            s if s >= 500 => Self::new(s, "InternalFailure", "Internal server error"),
            s => Self::new(s, "BadRequestException", format!("Error {s}")),
        }
    }

    /// The body AppSync sends: `{"errors":[{"errorType","message"}]}`.
    pub fn body(&self) -> Value {
        serde_json::json!({ "errors": [self.entry()] })
    }

    /// One `{"errorType","message"}` entry, as WebSocket error messages carry them.
    pub fn entry(&self) -> Value {
        serde_json::json!({ "errorType": self.error_type, "message": self.message })
    }

    /// The entry with the status as `errorCode` too: Amplify JS reads `errorCode` from a
    /// `connection_error` to decide that 401/403 is not worth retrying.
    pub fn entry_with_code(&self) -> Value {
        serde_json::json!({
            "errorType": self.error_type,
            "message": self.message,
            "errorCode": self.status,
        })
    }
}

/// A publish that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPublish {
    /// The normalised channel.
    pub channel: ChannelPath,
    /// The events' JSON texts, in request order.
    pub events: Vec<String>,
}

/// What a publish request carried, as far as it could be read (for the request log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawPublish {
    /// The channel as sent, or empty.
    pub channel: String,
    /// Each event's text: the string's content, or the JSON text of a non-string element.
    pub events: Vec<String>,
}

impl RawPublish {
    /// Reads what it can from a parsed body.
    pub fn from_value(body: &Value) -> Self {
        let channel = body
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let events = body
            .get("events")
            .and_then(Value::as_array)
            .map(|events| {
                events
                    .iter()
                    .map(|e| match e {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { channel, events }
    }
}

/// 404 unless the channel's namespace is one of the configured ones (publish and subscribe).
pub(crate) fn check_namespace(
    channel: &ChannelPath,
    namespaces: &[String],
) -> Result<(), ApiError> {
    if namespaces.iter().any(|n| n == channel.namespace()) {
        Ok(())
    } else {
        Err(ApiError::namespace_not_found(channel.namespace()))
    }
}

/// Validates a publish body against AppSync's contract and the configured namespaces.
pub fn validate(body: &Value, namespaces: &[String]) -> Result<ValidPublish, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    let Some(channel) = object.get("channel").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "channel is required and must be a string",
        ));
    };
    let channel = ChannelPath::concrete(channel).map_err(|e| match e {
        ChannelError::Wildcard => {
            ApiError::bad_request("Invalid Channel Format: wildcards cannot be published to")
        }
        ChannelError::Format => ApiError::bad_request("Invalid Channel Format"),
    })?;
    check_namespace(&channel, namespaces)?;
    let Some(events) = object.get("events").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(
            "events is required and must be an array",
        ));
    };
    if events.is_empty() || events.len() > MAX_EVENTS_PER_PUBLISH {
        return Err(ApiError::bad_request(format!(
            "events must contain between 1 and {MAX_EVENTS_PER_PUBLISH} items, got {}",
            events.len()
        )));
    }
    let mut texts = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let Some(text) = event.as_str() else {
            return Err(ApiError::bad_request(format!(
                "event at index {index} must be a JSON-encoded string"
            )));
        };
        if text.len() > MAX_EVENT_BYTES {
            return Err(ApiError::too_large(format!(
                "event at index {index} is {} bytes, over the limit of {MAX_EVENT_BYTES}",
                text.len()
            )));
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            return Err(ApiError::bad_request(format!(
                "event at index {index} is not valid JSON"
            )));
        }
        texts.push(text.to_owned());
    }
    Ok(ValidPublish {
        channel,
        events: texts,
    })
}

/// One `successful[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Successful {
    pub identifier: String,
    pub index: usize,
}

/// One `failed[]` entry. AWS clients disagree on the key names (Android reads `code`/`message`,
/// Swift `errorCode`/`errorMessage`; UNVERIFIED), so both pairs are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub identifier: String,
    pub index: usize,
    pub code: u16,
    pub message: String,
    pub error_code: u16,
    pub error_message: String,
}

impl Failed {
    /// A failed entry with the same code and message under both key spellings.
    pub fn new(identifier: String, index: usize, code: u16, message: &str) -> Self {
        Self {
            identifier,
            index,
            code,
            message: message.to_owned(),
            error_code: code,
            error_message: message.to_owned(),
        }
    }
}

/// The success body: `{"successful":[...],"failed":[...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishResult {
    pub successful: Vec<Successful>,
    pub failed: Vec<Failed>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns() -> Vec<String> {
        vec!["default".into()]
    }

    fn err(body: Value) -> ApiError {
        validate(&body, &ns()).unwrap_err()
    }

    #[test]
    fn a_valid_publish_keeps_event_texts_in_order_and_normalises_the_channel() {
        let ok = validate(
            &json!({"channel":"default/a","events":["{\"x\":1}","\"hi\"","3"]}),
            &ns(),
        )
        .unwrap();
        assert_eq!(ok.channel.to_string(), "/default/a");
        assert_eq!(ok.events, vec!["{\"x\":1}", "\"hi\"", "3"]);
    }

    #[test]
    fn contract_violations_map_to_documented_statuses() {
        let cases = [
            (json!([]), 400),
            (json!({"events":["1"]}), 400),
            (json!({"channel":"/default/*","events":["1"]}), 400),
            (json!({"channel":"/default/a b","events":["1"]}), 400),
            (json!({"channel":"/nope/a","events":["1"]}), 404),
            (json!({"channel":"/default/a"}), 400),
            (json!({"channel":"/default/a","events":[]}), 400),
            (
                json!({"channel":"/default/a","events":["1","1","1","1","1","1"]}),
                400,
            ),
            (json!({"channel":"/default/a","events":[{"x":1}]}), 400),
            (json!({"channel":"/default/a","events":["{nope"]}), 400),
        ];
        for (body, status) in cases {
            assert_eq!(err(body.clone()).status, status, "{body}");
        }
    }

    #[test]
    fn an_event_of_exactly_240_kb_passes_and_one_byte_more_is_413() {
        let at_limit = format!("\"{}\"", "a".repeat(MAX_EVENT_BYTES - 2));
        let over = format!("\"{}\"", "a".repeat(MAX_EVENT_BYTES - 1));
        assert!(validate(&json!({"channel":"/default/a","events":[at_limit]}), &ns()).is_ok());
        assert_eq!(
            err(json!({"channel":"/default/a","events":[over]})).status,
            413
        );
    }

    #[test]
    fn error_bodies_have_appsyncs_shape() {
        assert_eq!(
            ApiError::for_status(429).body(),
            json!({"errors":[{"errorType":"LimitExceededError","message":"Rate limit exceeded"}]})
        );
        assert_eq!(ApiError::for_status(503).error_type, "InternalFailure");
    }

    #[test]
    fn raw_publish_reads_what_it_can_from_any_body() {
        let raw = RawPublish::from_value(&json!({"channel":"/x","events":["a",{"b":1}]}));
        assert_eq!(raw.channel, "/x");
        assert_eq!(raw.events, vec!["a".to_owned(), "{\"b\":1}".to_owned()]);
        assert_eq!(RawPublish::from_value(&json!(null)), RawPublish::default());
    }
}
