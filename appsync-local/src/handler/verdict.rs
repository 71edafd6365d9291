//! What a handler's answer means, as AppSync's handler docs state it: the returned events are
//! broadcast; a returned event with an `error` goes to `failed[]` and is not broadcast; events
//! left out are dropped; `null` entries are ignored; an unknown or repeated id is an error;
//! `util.error` fails the request with 403, `util.unauthorized` with 401.

use std::collections::HashMap;

use serde_json::Value;

use super::engine::JsError;
use crate::publish::{ApiError, Fate, MAX_EVENT_BYTES};

/// `failed[]` code for an event the handler marked with `error`. AppSync's code for it is
/// UNVERIFIED; 400 says "this event is refused", which no client retries.
pub const HANDLER_EVENT_ERROR_CODE: u16 = 400;

/// Which handler ran, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `onPublish`.
    Publish,
    /// `onSubscribe`.
    Subscribe,
}

impl Operation {
    /// The export's name.
    pub fn export(self) -> &'static str {
        match self {
            Operation::Publish => "onPublish",
            Operation::Subscribe => "onSubscribe",
        }
    }
}

/// Turns `onPublish`'s answer into one [`Fate`] per incoming event (`events` are `(id, text)` in
/// request order). `null` drops every event (UNVERIFIED: the docs only say the handler returns
/// an array or `null`).
pub fn publish_fates(events: &[(String, String)], answer: &Value) -> Result<Vec<Fate>, String> {
    let mut fates = vec![Fate::Unlisted; events.len()];
    let returned = match answer {
        Value::Null => return Ok(fates),
        Value::Array(returned) => returned,
        other => {
            return Err(format!(
                "onPublish must return an array of events or null, not {}",
                kind(other)
            ));
        }
    };
    let positions: HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let mut seen = vec![false; events.len()];
    for (at, event) in returned.iter().enumerate() {
        if event.is_null() {
            continue;
        }
        let Some(id) = event.get("id").and_then(Value::as_str) else {
            return Err(format!(
                "the event returned at position {at} has no string id"
            ));
        };
        let Some(&index) = positions.get(id) else {
            return Err(format!("onPublish returned an unknown event id {id}"));
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!("onPublish returned event id {id} twice"));
        }
        fates[index] = match event.get("error").filter(|e| !e.is_null()) {
            Some(error) => Fate::Fail {
                code: HANDLER_EVENT_ERROR_CODE,
                message: match error {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            },
            None => {
                let text = event.get("payload").unwrap_or(&Value::Null).to_string();
                if text.len() > MAX_EVENT_BYTES {
                    Fate::Fail {
                        code: 413,
                        message: format!(
                            "the event onPublish returned is {} bytes, over the limit of {MAX_EVENT_BYTES}",
                            text.len()
                        ),
                    }
                } else {
                    Fate::Deliver(text)
                }
            }
        };
    }
    Ok(fates)
}

/// The error a failed handler answers with: 403 for `util.error` (errorType as given, else
/// `BadRequestException`), 401 for `util.unauthorized`, 500 `InternalFailure` for a handler that
/// threw, could not be loaded or ran out of time (never the server's failure).
pub fn api_error(operation: Operation, error: &JsError) -> ApiError {
    let export = operation.export();
    match error {
        JsError::UtilError {
            message,
            error_type,
        } => ApiError::new(
            403,
            error_type.as_deref().unwrap_or("BadRequestException"),
            message.clone(),
        ),
        JsError::Unauthorized => ApiError::unauthorized(),
        JsError::TimedOut(limit) => ApiError::new(
            500,
            "InternalFailure",
            format!(
                "{export} handler did not finish within its time limit of {} ms",
                limit.as_millis()
            ),
        ),
        other => ApiError::new(
            500,
            "InternalFailure",
            format!("{export} handler failed: {other}"),
        ),
    }
}

/// A JSON value's kind, as error texts name it. The same words as `appsync_bridge::json::kind`;
/// a copy, because appsync-local does not depend on the bridge (which would bring the Lambda
/// runtime and the AWS SDK into the local server).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn events() -> Vec<(String, String)> {
        ["a", "b", "c"]
            .iter()
            .map(|id| ((*id).to_owned(), format!("{{\"n\":\"{id}\"}}")))
            .collect()
    }

    #[test]
    fn returned_events_are_delivered_with_their_payloads_and_the_rest_dropped() {
        let answer = json!([{"id": "c", "payload": {"x": 1}}, null, {"id": "a", "payload": "hi"}]);
        assert_eq!(
            publish_fates(&events(), &answer).unwrap(),
            vec![
                Fate::Deliver("\"hi\"".into()),
                Fate::Unlisted,
                Fate::Deliver("{\"x\":1}".into())
            ]
        );
    }

    #[test]
    fn an_event_with_an_error_fails_with_that_message() {
        let answer = json!([{"id": "a", "payload": {}, "error": "Message required"}, {"id": "b"}]);
        let fates = publish_fates(&events(), &answer).unwrap();
        assert_eq!(
            fates[0],
            Fate::Fail {
                code: HANDLER_EVENT_ERROR_CODE,
                message: "Message required".into()
            }
        );
        assert_eq!(fates[1], Fate::Deliver("null".into()));
    }

    #[test]
    fn null_drops_everything_and_other_answers_are_errors() {
        assert_eq!(
            publish_fates(&events(), &Value::Null).unwrap(),
            vec![Fate::Unlisted; 3]
        );
        for (answer, says) in [
            (json!({"id": "a"}), "not an object"),
            (json!([{"payload": 1}]), "no string id"),
            (json!([{"id": "zzz"}]), "unknown event id zzz"),
            (json!([{"id": "a"}, {"id": "a"}]), "event id a twice"),
        ] {
            let error = publish_fates(&events(), &answer).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn handler_errors_map_to_appsyncs_statuses() {
        let util_error = JsError::UtilError {
            message: "Operation not allowed".into(),
            error_type: None,
        };
        let e = api_error(Operation::Publish, &util_error);
        assert_eq!(
            (e.status, e.error_type.as_str()),
            (403, "BadRequestException")
        );
        assert_eq!(e.message, "Operation not allowed");
        assert_eq!(
            api_error(Operation::Subscribe, &JsError::Unauthorized).status,
            401
        );
        let late = api_error(
            Operation::Publish,
            &JsError::TimedOut(std::time::Duration::from_millis(250)),
        );
        assert_eq!(late.status, 500);
        assert!(late.message.contains("250 ms"), "{}", late.message);
        let threw = api_error(
            Operation::Publish,
            &JsError::Threw("x.js: Error: boom".into()),
        );
        assert_eq!(threw.message, "onPublish handler failed: x.js: Error: boom");
    }
}
