//! The event file a user hands to `route` and `invoke`: read as bytes, refused with the byte
//! offset of the first byte that is not UTF-8, parsed as the Lambda runtime parses a payload,
//! and measured against the limits AWS enforces before the function ever runs.
//!
//! A dry run has to predict production: a 7 MB SQS batch or a 7 MB EventBridge event routes
//! fine on a laptop, but Lambda refuses an invocation over 6 MB and EventBridge an event over
//! 256 KB, so in AWS the function would never see it.

use std::io::{self, Read};
use std::path::Path;

use serde_json::Value;

use crate::input::Payload;
use crate::limits::{MAX_EVENTBRIDGE_EVENT_BYTES, MAX_INVOCATION_PAYLOAD_BYTES};

/// An event file, read and parsed.
pub(super) struct EventFile {
    /// The payload, as the runtime would hand it to the handler.
    pub payload: Payload,
    /// The file's text: kept to measure an EventBridge event's entry size when it is large.
    text: String,
}

impl EventFile {
    /// Reads `path` (`-` is stdin). The error says what is wrong, without the path.
    pub fn read(path: &Path) -> Result<EventFile, String> {
        let bytes = if path == Path::new("-") {
            let mut bytes = Vec::new();
            io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            bytes
        } else {
            std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?
        };
        let text = String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error()))?;
        let payload = serde_json::from_str(&text).map_err(|e| format!("is not JSON: {e}"))?;
        Ok(EventFile { payload, text })
    }

    /// Why AWS would never invoke the function with this payload, if it would not: the limit
    /// it breaks, with both sizes. A batch (`Records`, or a pipe's array) is held to Lambda's
    /// 6 MB invocation payload; anything else is measured as the EventBridge event it would be.
    pub fn over_limit(&self) -> Option<String> {
        let bytes = self.text.len();
        if self.payload.is_batch() {
            return (bytes > MAX_INVOCATION_PAYLOAD_BYTES).then(|| format!(
                "the payload is {bytes} bytes, over Lambda's {MAX_INVOCATION_PAYLOAD_BYTES} byte (6 MB) invocation limit: no event source delivers a batch this large"
            ));
        }
        // The entry is never larger than the file's text, so small files need no second parse.
        if bytes <= MAX_EVENTBRIDGE_EVENT_BYTES {
            return None;
        }
        let event = serde_json::from_str::<Value>(&self.text).ok()?;
        let entry = eventbridge_entry_bytes(&event);
        (entry > MAX_EVENTBRIDGE_EVENT_BYTES).then(|| format!(
            "the event's entry is {entry} bytes, over EventBridge's {MAX_EVENTBRIDGE_EVENT_BYTES} byte (256 KB) event limit: PutEvents refuses it, so no rule ever delivers it"
        ))
    }
}

/// The size EventBridge counts for an event's `PutEvents` entry: 14 bytes for `time` when
/// present, then the UTF-8 bytes of `source`, `detail-type`, `detail` (its JSON text) and each
/// of `resources`. The formula is AWS's
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html>); the
/// `detail` text here is the compact JSON of the parsed value, which can differ from what the
/// producer sent by whitespace and escapes (UNVERIFIED against EventBridge for those).
pub(super) fn eventbridge_entry_bytes(event: &Value) -> usize {
    let text = |key: &str| event.get(key).and_then(Value::as_str).map_or(0, str::len);
    let time = if event.get("time").is_some() { 14 } else { 0 };
    let detail = event.get("detail").map_or(0, |d| d.to_string().len());
    let resources = event
        .get("resources")
        .and_then(Value::as_array)
        .map_or(0, |r| {
            r.iter().filter_map(Value::as_str).map(str::len).sum()
        });
    time + text("source") + text("detail-type") + detail + resources
}

/// Where the first byte that is not UTF-8 is: its offset, line and column.
fn not_utf8(bytes: &[u8], error: std::str::Utf8Error) -> String {
    let offset = error.valid_up_to();
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    // Columns count characters; the prefix is valid UTF-8 by definition.
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!(
        "is not valid UTF-8: byte 0x{:02x} at offset {offset} (line {line}, column {column}); Lambda payloads are JSON text, which must be UTF-8",
        bytes[offset]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_that_is_not_utf8_is_reported_with_its_offset_line_and_column() {
        let bytes = b"{\n  \"a\": \"\xc3\xa9\xff\"\n}";
        let error = String::from_utf8(bytes.to_vec()).unwrap_err();
        assert_eq!(
            not_utf8(bytes, error.utf8_error()),
            "is not valid UTF-8: byte 0xff at offset 12 (line 2, column 10); Lambda payloads are JSON text, which must be UTF-8"
        );
    }

    #[test]
    fn the_entry_size_counts_what_eventbridge_counts() {
        let event = serde_json::json!({
            "id": "not counted", "account": "not counted",
            "time": "2026-11-22T09:30:12Z", "source": "shop", "detail-type": "X",
            "resources": ["arn:a", 7], "detail": {"a": 1},
        });
        assert_eq!(eventbridge_entry_bytes(&event), 14 + 4 + 1 + 7 + 5);
    }

    fn file(text: String) -> EventFile {
        EventFile {
            payload: serde_json::from_str(&text).unwrap(),
            text,
        }
    }

    #[test]
    fn payloads_over_the_limits_aws_enforces_are_named_with_the_limit() {
        let big = "x".repeat(MAX_INVOCATION_PAYLOAD_BYTES);
        let batch = file(format!(r#"{{"Records":[{{"body":"{big}"}}]}}"#));
        let reason = batch.over_limit().unwrap();
        assert!(
            reason.contains("over Lambda's 6291456 byte (6 MB)"),
            "{reason}"
        );

        let detail = "x".repeat(MAX_EVENTBRIDGE_EVENT_BYTES);
        let event = file(format!(
            r#"{{"source":"s","detail-type":"d","detail":{{"t":"{detail}"}}}}"#
        ));
        let reason = event.over_limit().unwrap();
        assert!(
            reason.contains("over EventBridge's 262144 byte"),
            "{reason}"
        );

        // Whitespace is not part of the entry: a padded small event is not over.
        let padded = file(format!(
            r#"{{"source":"s","detail-type":"d","detail":{{"t":1}}{}}}"#,
            " ".repeat(MAX_EVENTBRIDGE_EVENT_BYTES)
        ));
        assert_eq!(padded.over_limit(), None);
        let small = file(r#"{"Records":[]}"#.to_owned());
        assert_eq!(small.over_limit(), None);
    }

    #[test]
    fn a_pipes_array_is_a_batch_held_to_the_invocation_limit() {
        let big = "x".repeat(MAX_INVOCATION_PAYLOAD_BYTES);
        let array = file(format!(r#"[{{"messageId":"m1","body":"{big}"}}]"#));
        let reason = array.over_limit().unwrap();
        assert!(
            reason.contains("over Lambda's 6291456 byte (6 MB) invocation limit"),
            "{reason}"
        );
        let small = file(r#"[{"messageId":"m1","body":"hi"}]"#.to_owned());
        assert_eq!(small.over_limit(), None);
    }
}
