//! Classification: one response (or transport error) → one outcome per event of the request.
//!
//! AppSync answers a 2xx with `{"successful":[..],"failed":[..]}` and can fail single events in
//! it (an `onPublish` handler marking them in error). Which keys a failed entry uses for its code
//! and message is UNVERIFIED (protocol notes §2.1: `code`/`message` per the Android client,
//! `errorCode`/`errorMessage` per the Swift client), so both are read and all are optional.
//! Non-2xx bodies are `{"errors":[{"errorType":..,"message":..}]}` (§2.2, shape from the
//! official clients; the status ↔ error mapping is UNVERIFIED).

use serde::Deserialize;
use serde_json::Value;

use crate::json::kind;
use crate::publish::{EventError, RawResponse, SendError};

/// The fate of one event in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// AppSync accepted it.
    Delivered,
    /// It was not accepted; whether a retry can help is [`EventError::is_retryable`].
    Failed(EventError),
}

/// A 2xx body; `successful` is skipped unread (every event not in `failed` is delivered).
#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    failed: Value,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorEntry {
    error_type: Option<String>,
    message: Option<String>,
}

/// One outcome per event of a request of `events` events.
pub fn classify(events: usize, result: &Result<RawResponse, SendError>) -> Vec<EventOutcome> {
    match result {
        Err(e) => all_failed(events, EventError::Send(e.clone())),
        Ok(response) if (200..300).contains(&response.status) => classify_success(events, response),
        Ok(response) => all_failed(events, status_error(response)),
    }
}

fn all_failed(events: usize, error: EventError) -> Vec<EventOutcome> {
    vec![EventOutcome::Failed(error); events]
}

fn classify_success(events: usize, response: &RawResponse) -> Vec<EventOutcome> {
    let delivered = vec![EventOutcome::Delivered; events];
    // A 2xx whose body we cannot read still means AppSync accepted the request: treat every event
    // as delivered rather than re-send (and duplicate) them.
    let Ok(body) = serde_json::from_slice::<Success>(&response.body) else {
        return delivered;
    };
    // Read `failed` leniently (its entries' field names and types are UNVERIFIED, see the module
    // comment): a strict schema would reject the whole body over one odd field and report a loss
    // as delivered. Only an absent, null or empty `failed` means every event was accepted.
    let entries = match body.failed {
        Value::Null => return delivered,
        Value::Array(entries) => entries,
        other => {
            return all_failed(
                events,
                EventError::FailedListNotArray {
                    found: kind(&other),
                },
            );
        }
    };
    let mut outcomes = delivered;
    for entry in &entries {
        let failure = EventOutcome::Failed(EventError::Rejected {
            code: either(entry, "code", "errorCode", code_of),
            message: either(entry, "message", "errorMessage", Value::as_str).map(str::to_owned),
        });
        match entry.get("index").and_then(index_of) {
            Some(i) if i < events => outcomes[i] = failure,
            // An entry we cannot place: fail every event rather than report a loss as delivered.
            _ => return vec![failure; events],
        }
    }
    outcomes
}

/// The first of a failed entry's two spellings that reads as a `T` (an entry that is not an
/// object has neither).
fn either<'a, T>(
    entry: &'a Value,
    name: &str,
    alternative: &str,
    read: impl Fn(&'a Value) -> Option<T>,
) -> Option<T> {
    entry
        .get(name)
        .and_then(&read)
        .or_else(|| entry.get(alternative).and_then(&read))
}

/// An event index written as a number or a numeric string.
fn index_of(value: &Value) -> Option<usize> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn code_of(value: &Value) -> Option<u16> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-2xx answer, with AppSync's first `errorType` and `message` when the body has them.
fn status_error(response: &RawResponse) -> EventError {
    let first = serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .and_then(|b| b.errors.into_iter().next());
    let (error_type, message) = first.map_or((None, None), |e| (e.error_type, e.message));
    let present = |s: Option<String>| s.filter(|s| !s.is_empty());
    EventError::Status {
        status: response.status,
        error_type: present(error_type),
        message: present(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Result<RawResponse, SendError> {
        Ok(RawResponse {
            status,
            body: body.as_bytes().to_vec(),
        })
    }

    /// A failed outcome as users see it: the reason text and whether it is retried.
    struct Failure {
        reason: String,
        retryable: bool,
    }

    fn failed(outcome: &EventOutcome) -> Option<Failure> {
        match outcome {
            EventOutcome::Failed(e) => Some(Failure {
                reason: e.to_string(),
                retryable: e.is_retryable(),
            }),
            EventOutcome::Delivered => None,
        }
    }

    #[test]
    fn a_clean_200_delivers_every_event() {
        let r = response(
            200,
            r#"{"failed":[],"successful":[{"identifier":"a","index":0},{"identifier":"b","index":1}]}"#,
        );
        assert_eq!(classify(2, &r), vec![EventOutcome::Delivered; 2]);
    }

    #[test]
    fn a_200_can_fail_single_events_with_either_key_spelling() {
        let r = response(
            200,
            r#"{"successful":[{"identifier":"a","index":0}],"failed":[
                {"identifier":"b","index":1,"code":500,"message":"boom"},
                {"identifier":"c","index":2,"errorCode":"400","errorMessage":"bad"},
                {"identifier":"d","index":3}]}"#,
        );
        let out = classify(4, &r);
        assert_eq!(out[0], EventOutcome::Delivered);
        let f1 = failed(&out[1]).unwrap();
        assert!(f1.retryable);
        assert_eq!(f1.reason, "appsync failed the event: 500 boom");
        assert_eq!(
            out[1],
            EventOutcome::Failed(EventError::Rejected {
                code: Some(500),
                message: Some("boom".into())
            })
        );
        let f2 = failed(&out[2]).unwrap();
        assert!(!f2.retryable);
        assert_eq!(f2.reason, "appsync failed the event: 400 bad");
        let f3 = failed(&out[3]).unwrap();
        assert!(!f3.retryable, "no code: not retried in this invocation");
    }

    #[test]
    fn a_failed_entry_without_a_usable_index_fails_every_event() {
        let r = response(200, r#"{"failed":[{"code":429}]}"#);
        let out = classify(3, &r);
        assert!(out.iter().all(|o| failed(o).is_some_and(|f| f.retryable)));
        let r = response(200, r#"{"failed":[{"index":7,"code":400}]}"#);
        assert!(classify(2, &r).iter().all(|o| failed(o).is_some()));
    }

    #[test]
    fn failed_entries_with_numeric_strings_and_odd_field_types_are_still_read() {
        let r = response(
            200,
            r#"{"failed":[
                {"index":"1","code":"429","message":{"nested":true},"errorMessage":"slow"},
                {"index":2,"code":[1],"message":7}]}"#,
        );
        let out = classify(3, &r);
        assert_eq!(out[0], EventOutcome::Delivered);
        let f1 = failed(&out[1]).unwrap();
        assert_eq!(f1.reason, "appsync failed the event: 429 slow");
        assert!(f1.retryable);
        let f2 = failed(&out[2]).unwrap();
        assert_eq!(f2.reason, "appsync failed the event");
        assert!(!f2.retryable);
    }

    #[test]
    fn a_failed_entry_that_cannot_be_placed_fails_every_event_whatever_its_shape() {
        for entry in [
            r#""boom""#,
            "42",
            "null",
            "[0]",
            "{}",
            r#"{"index":-1}"#,
            r#"{"index":1.5}"#,
            r#"{"index":"one"}"#,
            r#"{"index":true}"#,
            r#"{"index":null,"code":400}"#,
        ] {
            let body = format!(r#"{{"successful":[{{"index":0}}],"failed":[{entry}]}}"#);
            let out = classify(2, &response(200, &body));
            assert!(out.iter().all(|o| failed(o).is_some()), "{entry}: {out:?}");
        }
    }

    #[test]
    fn a_failed_list_that_is_not_an_array_fails_every_event() {
        for failed_value in [r#"{"0":{"code":400}}"#, r#""all""#, "1", "true"] {
            let body = format!(r#"{{"failed":{failed_value}}}"#);
            let out = classify(2, &response(200, &body));
            assert!(
                out.iter().all(|o| failed(o).is_some_and(|f| !f.retryable)),
                "{failed_value}: {out:?}"
            );
        }
    }

    #[test]
    fn only_a_missing_null_or_empty_failed_list_delivers_everything() {
        for body in [
            r#"{"successful":[{"index":0},{"index":1}]}"#,
            r#"{"failed":null}"#,
            r#"{"failed":[],"successful":"odd"}"#,
        ] {
            assert_eq!(
                classify(2, &response(200, body)),
                vec![EventOutcome::Delivered; 2],
                "{body}"
            );
        }
    }

    #[test]
    fn an_unreadable_200_body_counts_as_delivered() {
        assert_eq!(
            classify(2, &response(200, "ok")),
            vec![EventOutcome::Delivered; 2]
        );
    }

    #[test]
    fn error_statuses_fail_every_event_and_only_throttling_and_5xx_retry() {
        for (status, retryable) in [
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (413, false),
            (429, true),
            (500, true),
            (501, false),
            (502, true),
            (503, true),
        ] {
            let out = classify(2, &response(status, ""));
            assert!(
                out.iter()
                    .all(|o| failed(o).is_some_and(|f| f.retryable == retryable)),
                "{status}"
            );
        }
    }

    #[test]
    fn error_bodies_give_the_reason() {
        let r = response(
            401,
            r#"{"errors":[{"errorType":"UnauthorizedException","message":"You are not authorized to make this call."}]}"#,
        );
        let out = classify(1, &r);
        assert_eq!(
            failed(&out[0]).unwrap().reason,
            "appsync answered http 401 (UnauthorizedException: You are not authorized to make this call.)"
        );
        assert_eq!(
            failed(&classify(1, &response(503, "<html>")).remove(0))
                .unwrap()
                .reason,
            "appsync answered http 503"
        );
    }

    #[test]
    fn transport_errors_and_timeouts_are_retryable_signing_errors_are_not() {
        let out = classify(1, &Err(SendError::Timeout));
        assert!(failed(&out[0]).unwrap().retryable);
        let out = classify(1, &Err(SendError::Transport("connection reset".into())));
        assert!(failed(&out[0]).unwrap().retryable);
        let out = classify(1, &Err(SendError::Signing("bad uri".into())));
        assert!(!failed(&out[0]).unwrap().retryable);
    }
}
