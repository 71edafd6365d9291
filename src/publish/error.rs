//! Why one event was not accepted: one typed error carried from classification through the relay
//! into the report, whose `Display` is the reason users read (Lambda error messages, the
//! `reason=` of log lines), and which knows whether sending again can succeed.

use crate::limits::MAX_EVENT_BYTES;
use crate::ordering::KeyKind;
use crate::publish::SendError;

/// The fate of an event that AppSync did not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The request got no HTTP response (timeout, transport, credentials, signing).
    #[error(transparent)]
    Send(#[from] SendError),
    /// AppSync answered a status other than 2xx for the whole request.
    #[error("appsync answered http {status}{}", detail(error_type.as_deref(), message.as_deref()))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The first `errors[].errorType` of the body, if readable.
        error_type: Option<String>,
        /// The first `errors[].message` of the body, if readable.
        message: Option<String>,
    },
    /// A 2xx listed the event in `failed[]` (for example an `onPublish` handler rejected it).
    #[error("appsync failed the event{}", rejected(*code, message.as_deref()))]
    Rejected {
        /// The entry's `code` (or `errorCode`), if it reads as a number.
        code: Option<u16>,
        /// The entry's `message` (or `errorMessage`), if it is a string.
        message: Option<String>,
    },
    /// A 2xx whose body does not confirm the event (not AppSync's shape: a proxy, a truncated
    /// response, a changed API). The event may or may not have been taken, so it is sent again
    /// like one whose response was lost (at least once).
    #[error("appsync answered http {status} without confirming the event: {why}")]
    Unconfirmed {
        /// The 2xx status.
        status: u16,
        /// What is wrong with the body.
        why: Malformed,
    },
    /// The event's JSON text is over AppSync's limit; it is never sent.
    #[error("event is {bytes} bytes, over appsync's {MAX_EVENT_BYTES} byte limit")]
    Oversized {
        /// The size of the event's JSON text.
        bytes: usize,
    },
    /// The event was not sent.
    #[error(transparent)]
    NotSent(NotSent),
    /// The event failed and could have succeeded later, but is not sent again.
    #[error("{last} ({why})")]
    NotRetried {
        /// Its last failure.
        last: Box<EventError>,
        /// Why it is not sent again.
        why: NotRetried,
    },
}

/// Why a 2xx body confirms nothing: AppSync answers `{"successful":[..],"failed":[..]}`, every
/// event's index in exactly one of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The body is not JSON (or not all of it arrived).
    #[error("the body is not json")]
    NotJson,
    /// The body is JSON but not an object.
    #[error("the body is {found}, not an object")]
    NotAnObject {
        /// What it is (`an array`, `a string`, ...).
        found: &'static str,
    },
    /// The body has no `successful` list.
    #[error("the body has no successful list")]
    NoSuccessful,
    /// A list is not an array.
    #[error("{list} is {found}, not an array")]
    NotAnArray {
        /// `successful` or `failed`.
        list: &'static str,
        /// What it is instead.
        found: &'static str,
    },
    /// An entry has no index that reads as a whole number.
    #[error("{list}[{at}] has no usable index")]
    NoIndex {
        /// `successful` or `failed`.
        list: &'static str,
        /// The entry's place in its list.
        at: usize,
    },
    /// An index names no event of the request.
    #[error("index {index} is out of range for {events} events")]
    OutOfRange {
        /// The index.
        index: u64,
        /// The events sent.
        events: usize,
    },
    /// An index is listed twice (in one list or in both).
    #[error("index {index} is listed twice")]
    Repeated {
        /// The index.
        index: usize,
    },
}

/// Why an event was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotSent {
    /// The invocation's deadline (minus the margin) came before the request could start.
    #[error("deadline reached before the request was sent")]
    DeadlineReached,
    /// An earlier request of the same ordering key (an SQS FIFO message group, a partition key,
    /// an item) failed: sending would publish the key's traffic after its failure.
    #[error("not published: an earlier request {} failed", .0.same_phrase())]
    EarlierRequestFailed(KeyKind),
    /// The attempt loop ended without settling the event (a safety net; never expected).
    #[error("not sent")]
    Unsettled,
}

/// Why a failure that could succeed later is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotRetried {
    /// Every attempt allowed was used (the first included).
    #[error("gave up after {attempts} attempts")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
    },
    /// Ordered: a later event of the request (same ordering key) was accepted; a retry would
    /// land after it.
    #[error("not retried: a later event {} was accepted", .0.same_phrase())]
    LaterAccepted(KeyKind),
    /// Ordered: an earlier event of the request (same ordering key) failed for good; the key
    /// has failed.
    #[error("not retried: an earlier event {} failed", .0.same_phrase())]
    EarlierFailed(KeyKind),
    /// The backoff would end past the deadline.
    #[error("no time left before the deadline to retry")]
    NoTimeLeft,
}

impl EventError {
    /// Whether sending the event again can succeed: transport errors, throttling and server
    /// errors (also as a failed entry's code); never a client error, a signing error, an
    /// oversized event, or a failure already given up on.
    pub fn is_retryable(&self) -> bool {
        match self {
            EventError::Send(e) => e.is_retryable(),
            EventError::Status { status, .. } => is_retryable_status(*status),
            // A failed entry without a code is final for this invocation: it usually comes from
            // the namespace's onPublish handler rejecting the event. The record still fails, so
            // the trigger's own retry (SQS redelivery, Lambda async retry) applies.
            EventError::Rejected { code, .. } => code.is_some_and(is_retryable_status),
            // Lost like a dropped response: a retry can still be confirmed.
            EventError::Unconfirmed { .. } => true,
            EventError::Oversized { .. }
            | EventError::NotSent(_)
            | EventError::NotRetried { .. } => false,
        }
    }
}

/// Statuses worth retrying: throttling and server errors, except 501 (not implemented never
/// changes). 400/401/403/404/413 and every other 4xx are final.
fn is_retryable_status(status: u16) -> bool {
    status == 429 || ((500..=599).contains(&status) && status != 501)
}

/// ` (type: message)`, ` (type)`, ` (message)` or nothing.
fn detail(error_type: Option<&str>, message: Option<&str>) -> String {
    match (error_type, message) {
        (Some(t), Some(m)) => format!(" ({t}: {m})"),
        (Some(x), None) | (None, Some(x)) => format!(" ({x})"),
        (None, None) => String::new(),
    }
}

/// `: code message`, `: code`, `: message` or nothing.
fn rejected(code: Option<u16>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(": {c} {m}"),
        (Some(c), None) => format!(": {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_users_see_them() {
        let status = |error_type: Option<&str>, message: Option<&str>| EventError::Status {
            status: 401,
            error_type: error_type.map(str::to_owned),
            message: message.map(str::to_owned),
        };
        assert_eq!(
            status(Some("UnauthorizedException"), Some("no")).to_string(),
            "appsync answered http 401 (UnauthorizedException: no)"
        );
        assert_eq!(
            status(Some("T"), None).to_string(),
            "appsync answered http 401 (T)"
        );
        assert_eq!(
            status(None, Some("m")).to_string(),
            "appsync answered http 401 (m)"
        );
        assert_eq!(status(None, None).to_string(), "appsync answered http 401");
        let given_up = EventError::NotRetried {
            last: Box::new(EventError::Send(SendError::Timeout)),
            why: NotRetried::GaveUp { attempts: 3 },
        };
        assert_eq!(
            given_up.to_string(),
            "request timed out (gave up after 3 attempts)"
        );
        assert_eq!(
            EventError::Send(SendError::Credentials("expired".into())).to_string(),
            "no aws credentials: expired"
        );
        assert_eq!(
            EventError::Send(SendError::Signing("bad uri".into())).to_string(),
            "request could not be signed: bad uri"
        );
        assert_eq!(
            EventError::Rejected {
                code: None,
                message: None
            }
            .to_string(),
            "appsync failed the event"
        );
    }

    #[test]
    fn only_what_can_succeed_later_is_retryable() {
        assert!(EventError::Send(SendError::Timeout).is_retryable());
        assert!(!EventError::Send(SendError::Signing("x".into())).is_retryable());
        for (status, retryable) in [
            (400, false),
            (403, false),
            (429, true),
            (501, false),
            (503, true),
        ] {
            let e = EventError::Status {
                status,
                error_type: None,
                message: None,
            };
            assert_eq!(e.is_retryable(), retryable, "{status}");
        }
        assert!(!EventError::Oversized { bytes: 1 }.is_retryable());
        let unconfirmed = EventError::Unconfirmed {
            status: 200,
            why: Malformed::NotJson,
        };
        assert!(unconfirmed.is_retryable());
        assert_eq!(
            unconfirmed.to_string(),
            "appsync answered http 200 without confirming the event: the body is not json"
        );
        assert!(!EventError::NotSent(NotSent::DeadlineReached).is_retryable());
    }
}
