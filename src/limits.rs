//! AWS limits that shape what the bridge sends, named once so configuration and
//! request building validate against the same numbers.
//!
//! Sources: AppSync Events' publish and concepts pages
//! (<https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html>,
//! <https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-concepts.html>,
//! <https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-websocket-protocol.html>),
//! Lambda's SQS page (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>) and
//! EventBridge's `PutEvents` entry size page (linked below).

/// AppSync Events accepts at most five events in one publish (HTTP and WebSocket).
pub const MAX_EVENTS_PER_PUBLISH: usize = 5;

/// AppSync Events rejects an event whose JSON text exceeds 240 KB.
pub const MAX_EVENT_BYTES: usize = 240 * 1024;

/// A channel path has one to five segments; the first is the namespace.
pub const MAX_CHANNEL_SEGMENTS: usize = 5;

/// Each channel segment is 1–50 characters of `[A-Za-z0-9-]`, starting and ending alphanumeric.
pub const MAX_SEGMENT_CHARS: usize = 50;

/// Lambda caps a synchronous invocation payload (an SQS, Kinesis or DynamoDB Streams batch, a
/// pipe's array) at 6 MB: a larger one never reaches the function, so the CLI refuses to predict
/// a run with it.
pub const MAX_INVOCATION_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// EventBridge refuses a `PutEvents` entry over 256 KB, so no rule ever delivers a larger event
/// to the function (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html>
/// says how the entry is measured).
pub const MAX_EVENTBRIDGE_EVENT_BYTES: usize = 256 * 1024;

/// The whole publish request size limit is not documented (UNVERIFIED); five events of at most
/// 240 KB each plus the envelope bounds what we ever send.
pub const MAX_PUBLISH_REQUEST_BYTES: usize = MAX_EVENTS_PER_PUBLISH * (MAX_EVENT_BYTES + 16) + 1024;

/// CloudWatch Embedded Metric Format accepts at most 100 values in one metric's array; a document
/// with more is rejected whole, so longer series are split across documents.
pub const MAX_EMF_VALUES: usize = 100;

/// Returns true when `segment` satisfies AppSync's channel segment rule.
pub fn is_valid_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_SEGMENT_CHARS
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// Returns true when `channel` (`/ns/a/b`, leading slash required) is a valid publish channel:
/// 1–5 valid segments, no wildcard.
pub fn is_valid_channel(channel: &str) -> bool {
    let Some(rest) = channel.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    !segments.is_empty()
        && segments.len() <= MAX_CHANNEL_SEGMENTS
        && segments.iter().all(|s| is_valid_segment(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_appsync_rule() {
        assert!(is_valid_segment("a"));
        assert!(is_valid_segment("order-42"));
        assert!(is_valid_segment(&"a".repeat(50)));
        assert!(!is_valid_segment(&"a".repeat(51)));
        assert!(!is_valid_segment(""));
        assert!(!is_valid_segment("-a"));
        assert!(!is_valid_segment("a-"));
        assert!(!is_valid_segment("a_b"));
        assert!(!is_valid_segment("a.b"));
        assert!(!is_valid_segment("é"));
    }

    #[test]
    fn channels_have_one_to_five_segments() {
        assert!(is_valid_channel("/default"));
        assert!(is_valid_channel("/a/b/c/d/e"));
        assert!(!is_valid_channel("/a/b/c/d/e/f"));
        assert!(!is_valid_channel("a/b"));
        assert!(!is_valid_channel("/a//b"));
        assert!(!is_valid_channel("/a/*"));
        assert!(!is_valid_channel("/"));
    }
}
