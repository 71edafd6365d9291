//! Classification: one response (or transport error) → one outcome per event of the request.
//!
//! A 2xx confirms only what it lists. AppSync answers `{"successful":[..],"failed":[..]}`, each
//! entry naming an event by its `index` in the request
//! (<https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html>), and can fail single
//! events (an `onPublish` handler marking them in error). A body of another shape (not JSON, no
//! `successful` array, an index out of range or listed twice: a proxy, a truncated response, a
//! changed API) confirms nothing: its events are [`Malformed`] and sent again like those of a
//! lost response. An event in neither list of a well-formed body is [`EventOutcome::Unlisted`]:
//! accepted, as a namespace handler that drops events may answer (UNVERIFIED).
//!
//! Which keys a failed entry uses for its code and message is UNVERIFIED (`code`/`message` per
//! the Android client, `errorCode`/`errorMessage` per the Swift client), so both are read and
//! all are optional; an index or code may be a number or a numeric string. Non-2xx bodies are
//! `{"errors":[{"errorType":..,"message":..}]}` (the shape the official clients read; which
//! status AppSync uses for which error is UNVERIFIED).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::json::kind;
use crate::publish::{EventError, Malformed, RawResponse, SendError};

/// The fate of one event in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// AppSync accepted it: listed in `successful[]`.
    Delivered,
    /// A well-formed 2xx listed it neither as successful nor as failed: counted accepted (a
    /// filtering handler may drop events), not sent again, and reported.
    Unlisted,
    /// It was not accepted; whether a retry can help is [`EventError::is_retryable`].
    Failed(EventError),
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
    match read_success(events, &response.body) {
        Ok(outcomes) => outcomes,
        Err(why) => all_failed(
            events,
            EventError::Unconfirmed {
                status: response.status,
                why,
            },
        ),
    }
}

/// AppSync's 2xx answer as it usually comes: read without building a tree, the identifiers
/// skipped unread. Anything this does not take (a list that is not an array, an entry that is not
/// an object, a repeated key) is read again as a `Value` by [`explain`], which says what is wrong
/// or, for odd but valid shapes, reads it.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(default)]
    successful: Option<Vec<Listed>>,
    #[serde(default, borrow)]
    failed: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// A `successful[]` entry: only its index is read (a number costs no allocation).
#[derive(Deserialize)]
struct Listed {
    #[serde(default)]
    index: Option<Value>,
}

/// The outcomes a well-formed 2xx body gives, or what is wrong with it.
fn read_success(events: usize, body: &[u8]) -> Result<Vec<EventOutcome>, Malformed> {
    // A derived struct also reads from an array; AppSync's answer is an object.
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let Some(answer) = object
        .then(|| serde_json::from_slice::<Answer>(body).ok())
        .flatten()
    else {
        return explain(events, body);
    };
    let successful = answer.successful.ok_or(Malformed::NoSuccessful)?;
    let failed = answer.failed.into_iter().flatten().map(|raw| {
        serde_json::from_str::<Value>(raw.get())
            .map(Cow::Owned)
            .map_err(|_| Malformed::NotJson)
    });
    settle(
        events,
        successful
            .iter()
            .map(|e| e.index.as_ref().and_then(index_of)),
        failed,
    )
}

/// Reads a 2xx body that the fast reader did not take, as a whole `Value`: what is wrong with
/// it, or its outcomes when only its form was odd (a repeated key, the last of which wins).
fn explain(events: usize, body: &[u8]) -> Result<Vec<EventOutcome>, Malformed> {
    let body: Value = serde_json::from_slice(body).map_err(|_| Malformed::NotJson)?;
    let Value::Object(body) = body else {
        return Err(Malformed::NotAnObject { found: kind(&body) });
    };
    let list = |name: &'static str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(entries)) => Ok(Some(entries)),
        Some(other) => Err(Malformed::NotAnArray {
            list: name,
            found: kind(other),
        }),
    };
    let successful = list("successful")?.ok_or(Malformed::NoSuccessful)?;
    let failed = list("failed")?;
    settle(
        events,
        successful.iter().map(|e| e.get("index").and_then(index_of)),
        failed.into_iter().flatten().map(|e| Ok(Cow::Borrowed(e))),
    )
}

/// The outcomes from a body's lists, whichever reader took them: the indices of its
/// `successful[]` entries and its `failed[]` entries. An event in neither is unlisted.
fn settle<'v>(
    events: usize,
    successful: impl Iterator<Item = Option<u64>>,
    failed: impl Iterator<Item = Result<Cow<'v, Value>, Malformed>>,
) -> Result<Vec<EventOutcome>, Malformed> {
    let mut outcomes: Vec<Option<EventOutcome>> = vec![None; events];
    for (at, index) in successful.enumerate() {
        place(
            &mut outcomes,
            "successful",
            at,
            index,
            EventOutcome::Delivered,
        )?;
    }
    for (at, entry) in failed.enumerate() {
        let entry = entry?;
        let index = entry.get("index").and_then(index_of);
        place(&mut outcomes, "failed", at, index, rejected(&entry))?;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(EventOutcome::Unlisted))
        .collect())
}

/// Puts an entry's outcome at its index: one that is missing, out of range or already taken
/// makes the body malformed.
fn place(
    outcomes: &mut [Option<EventOutcome>],
    list: &'static str,
    at: usize,
    index: Option<u64>,
    outcome: EventOutcome,
) -> Result<(), Malformed> {
    let index = index.ok_or(Malformed::NoIndex { list, at })?;
    let events = outcomes.len();
    let (at_event, slot) = usize::try_from(index)
        .ok()
        .and_then(|i| Some(i).zip(outcomes.get_mut(i)))
        .ok_or(Malformed::OutOfRange { index, events })?;
    if slot.is_some() {
        return Err(Malformed::Repeated { index: at_event });
    }
    *slot = Some(outcome);
    Ok(())
}

/// A failed entry's outcome, its code and message read leniently.
fn rejected(entry: &Value) -> EventOutcome {
    EventOutcome::Failed(EventError::Rejected {
        code: either(entry, "code", "errorCode", code_of),
        message: either(entry, "message", "errorMessage", Value::as_str).map(str::to_owned),
    })
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

/// An event index written as a whole number or a numeric string.
fn index_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
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
            EventOutcome::Delivered | EventOutcome::Unlisted => None,
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
        let r = response(200, r#"{"successful":[],"failed":[{"code":429}]}"#);
        let out = classify(3, &r);
        assert!(out.iter().all(|o| failed(o).is_some_and(|f| f.retryable)));
        assert!(out.iter().all(|o| matches!(
            o,
            EventOutcome::Failed(EventError::Unconfirmed {
                why: Malformed::NoIndex {
                    list: "failed",
                    at: 0
                },
                ..
            })
        )));
        let r = response(
            200,
            r#"{"successful":[],"failed":[{"index":7,"code":400}]}"#,
        );
        let out = classify(2, &r);
        assert!(out.iter().all(|o| failed(o).is_some()));
        assert!(out.iter().all(|o| matches!(
            o,
            EventOutcome::Failed(EventError::Unconfirmed {
                why: Malformed::OutOfRange {
                    index: 7,
                    events: 2
                },
                ..
            })
        )));
    }

    #[test]
    fn failed_entries_with_numeric_strings_and_odd_field_types_are_still_read() {
        let r = response(
            200,
            r#"{"successful":[{"index":"0"}],"failed":[
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
            assert!(
                out.iter()
                    .all(|o| matches!(o, EventOutcome::Failed(EventError::Unconfirmed { .. }))),
                "{entry}: {out:?}"
            );
        }
    }

    #[test]
    fn a_failed_list_that_is_not_an_array_fails_every_event() {
        // Such a body confirms nothing: every event is unconfirmed, sent again like those of a
        // lost response.
        for failed_value in [r#"{"0":{"code":400}}"#, r#""all""#, "1", "true"] {
            let body = format!(r#"{{"successful":[],"failed":{failed_value}}}"#);
            let out = classify(2, &response(200, &body));
            assert!(
                out.iter().all(|o| failed(o).is_some_and(|f| f.retryable)),
                "{failed_value}: {out:?}"
            );
            assert!(
                matches!(
                    &out[0],
                    EventOutcome::Failed(EventError::Unconfirmed {
                        why: Malformed::NotAnArray { list: "failed", .. },
                        ..
                    })
                ),
                "{out:?}"
            );
        }
    }

    #[test]
    fn only_a_missing_null_or_empty_failed_list_delivers_everything() {
        for body in [
            r#"{"successful":[{"index":0},{"index":1}]}"#,
            r#"{"successful":[{"index":1},{"index":0}],"failed":null}"#,
            r#"{"failed":[],"successful":[{"index":0},{"index":1}]}"#,
        ] {
            assert_eq!(
                classify(2, &response(200, body)),
                vec![EventOutcome::Delivered; 2],
                "{body}"
            );
        }
    }

    #[test]
    fn an_unreadable_200_body_confirms_nothing() {
        let out = classify(2, &response(200, "ok"));
        assert_eq!(
            out,
            vec![
                EventOutcome::Failed(EventError::Unconfirmed {
                    status: 200,
                    why: Malformed::NotJson
                });
                2
            ]
        );
        assert!(failed(&out[0]).unwrap().retryable);
    }

    /// What a 2xx body is found to be wrong with (the same for every event of the request).
    fn malformed(events: usize, body: &str) -> Option<Malformed> {
        let out = classify(events, &response(200, body));
        match &out[..] {
            [
                EventOutcome::Failed(EventError::Unconfirmed { why, .. }),
                rest @ ..,
            ] if rest.iter().all(|o| o == &out[0]) => Some(why.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_2xx_confirms_only_a_body_of_appsyncs_shape() {
        let full = r#"{"successful":[{"identifier":"a","index":0},{"identifier":"b","index":1}],"failed":[]}"#;
        for (body, why) in [
            ("", Malformed::NotJson),
            (&full[..full.len() / 2], Malformed::NotJson),
            ("[]", Malformed::NotAnObject { found: "an array" }),
            ("{}", Malformed::NoSuccessful),
            (r#"{"failed":[]}"#, Malformed::NoSuccessful),
            (
                r#"{"successful":{"index":0}}"#,
                Malformed::NotAnArray {
                    list: "successful",
                    found: "an object",
                },
            ),
            (
                r#"{"successful":[{"identifier":"a"}]}"#,
                Malformed::NoIndex {
                    list: "successful",
                    at: 0,
                },
            ),
            (
                r#"{"successful":[{"index":0},{"index":2}]}"#,
                Malformed::OutOfRange {
                    index: 2,
                    events: 2,
                },
            ),
            (
                r#"{"successful":[{"index":0},{"index":0}]}"#,
                Malformed::Repeated { index: 0 },
            ),
            (
                r#"{"successful":[{"index":1}],"failed":[{"index":1,"code":500}]}"#,
                Malformed::Repeated { index: 1 },
            ),
        ] {
            assert_eq!(malformed(2, body), Some(why), "{body:?}");
        }
        assert_eq!(malformed(2, full), None);
    }

    #[test]
    fn an_event_in_neither_list_of_a_well_formed_body_is_unlisted() {
        let r = response(
            200,
            r#"{"successful":[{"index":2}],"failed":[{"index":0,"code":400}]}"#,
        );
        let out = classify(3, &r);
        assert!(matches!(
            out[0],
            EventOutcome::Failed(EventError::Rejected {
                code: Some(400),
                ..
            })
        ));
        assert_eq!(out[1], EventOutcome::Unlisted);
        assert_eq!(out[2], EventOutcome::Delivered);
        assert_eq!(
            classify(2, &response(200, r#"{"successful":[]}"#)),
            vec![EventOutcome::Unlisted; 2]
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
