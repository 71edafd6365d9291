//! Classification: one response (or transport error) → one outcome per event of the request.
//!
//! AppSync answers a 2xx with `{"successful":[..],"failed":[..]}` and can fail single events in
//! it (an `onPublish` handler marking them in error). Which keys a failed entry uses for its code
//! and message is UNVERIFIED (protocol notes §2.1: `code`/`message` per the Android client,
//! `errorCode`/`errorMessage` per the Swift client), so both are read and all are optional.
//! Non-2xx bodies are `{"errors":[{"errorType":..,"message":..}]}` (§2.2, shape from the
//! official clients; the status ↔ error mapping is UNVERIFIED).

use serde::Deserialize;

use crate::publish::{RawResponse, SendError};

/// Why one event was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, for logs and the EventBridge error message.
    pub reason: String,
    /// Whether sending it again can succeed.
    pub retryable: bool,
}

/// The fate of one event in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// AppSync accepted it.
    Delivered,
    /// It was not accepted.
    Failed(Failure),
}

/// Statuses worth retrying: throttling and server errors, except 501 (not implemented never
/// changes). 400/401/403/404/413 and every other 4xx are final.
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || ((500..=599).contains(&status) && status != 501)
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    failed: Vec<FailedEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailedEntry {
    index: Option<usize>,
    code: Option<serde_json::Value>,
    error_code: Option<serde_json::Value>,
    message: Option<String>,
    error_message: Option<String>,
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
        Err(e) => all_failed(events, e.to_string(), e.is_retryable()),
        Ok(response) if (200..300).contains(&response.status) => classify_success(events, response),
        Ok(response) => {
            let reason = error_reason(response);
            all_failed(events, reason, is_retryable_status(response.status))
        }
    }
}

fn all_failed(events: usize, reason: String, retryable: bool) -> Vec<EventOutcome> {
    vec![EventOutcome::Failed(Failure { reason, retryable }); events]
}

fn classify_success(events: usize, response: &RawResponse) -> Vec<EventOutcome> {
    let mut outcomes = vec![EventOutcome::Delivered; events];
    // A 2xx whose body we cannot read still means AppSync accepted the request: treat every event
    // as delivered rather than re-send (and duplicate) them.
    let Ok(body) = serde_json::from_slice::<Success>(&response.body) else {
        return outcomes;
    };
    for entry in body.failed {
        let code = entry
            .code
            .as_ref()
            .or(entry.error_code.as_ref())
            .and_then(code_of);
        let message = entry.message.or(entry.error_message);
        let reason = match (code, &message) {
            (Some(c), Some(m)) => format!("appsync failed the event: {c} {m}"),
            (Some(c), None) => format!("appsync failed the event: {c}"),
            (None, Some(m)) => format!("appsync failed the event: {m}"),
            (None, None) => "appsync failed the event".to_owned(),
        };
        // A failed entry without a code is final for this invocation: it usually comes from the
        // namespace's onPublish handler rejecting the event. The record still fails, so the
        // trigger's own retry (SQS redelivery, Lambda async retry) applies.
        let retryable = code.is_some_and(is_retryable_status);
        let failure = EventOutcome::Failed(Failure { reason, retryable });
        match entry.index {
            Some(i) if i < events => outcomes[i] = failure,
            // An entry we cannot place: fail every event rather than report a loss as delivered.
            _ => return vec![failure; events],
        }
    }
    outcomes
}

fn code_of(value: &serde_json::Value) -> Option<u16> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn error_reason(response: &RawResponse) -> String {
    let detail = serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .and_then(|b| b.errors.into_iter().next())
        .map(|e| match (e.error_type, e.message) {
            (Some(t), Some(m)) => format!("{t}: {m}"),
            (Some(t), None) => t,
            (None, Some(m)) => m,
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    if detail.is_empty() {
        format!("appsync answered http {}", response.status)
    } else {
        format!("appsync answered http {} ({detail})", response.status)
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

    fn failed(outcome: &EventOutcome) -> Option<&Failure> {
        match outcome {
            EventOutcome::Failed(f) => Some(f),
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
