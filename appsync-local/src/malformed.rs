//! Malformed 200 bodies: what a publisher sees when something between it and AppSync (a proxy, a
//! truncated read) garbles the answer to a publish whose events were accepted. Each
//! [`Malformed`] shape is built from the real body, so the client under test can be checked to
//! confirm only what the body actually confirms.

use serde_json::Value;

use crate::config::Malformed;
use crate::publish::PublishResult;

/// What [`Malformed::NotJson`] answers.
pub const NOT_JSON_BODY: &str = "<html>ok</html>";

/// A garbled answer: its content type and its body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedBody {
    /// `text/html` for [`Malformed::NotJson`], else `application/json`.
    pub content_type: &'static str,
    /// The body as sent.
    pub text: String,
}

/// Builds the `shape` of the real `result` of a publish of `events` events.
///
/// [`Malformed::IndexOutOfRange`] and [`Malformed::RepeatedIndex`] alter the first
/// `successful[]` entry; when there is none (every event failed), they fall back to
/// [`Malformed::Truncated`], so the answer is still malformed.
pub fn body(shape: Malformed, result: &PublishResult, events: usize) -> MalformedBody {
    let json = |text: String| MalformedBody {
        content_type: "application/json",
        text,
    };
    // The text exactly as the real answer would be sent (the struct's field order).
    let real_text = serde_json::to_string(result).unwrap_or_default();
    match shape {
        Malformed::NotJson => MalformedBody {
            content_type: "text/html",
            text: NOT_JSON_BODY.to_owned(),
        },
        Malformed::EmptyObject => json("{}".to_owned()),
        Malformed::Truncated => json(truncated(&real_text)),
        Malformed::IndexOutOfRange | Malformed::RepeatedIndex => {
            let mut altered = serde_json::to_value(result).unwrap_or(Value::Null);
            let entries = altered.get_mut("successful").and_then(Value::as_array_mut);
            let Some(entries) = entries.filter(|e| !e.is_empty()) else {
                return json(truncated(&real_text));
            };
            if shape == Malformed::IndexOutOfRange {
                entries[0]["index"] = Value::from(events);
            } else {
                let first = entries[0].clone();
                entries.push(first);
            }
            json(altered.to_string())
        }
    }
}

/// The first half of the body's text: never valid JSON, since the closing brace is gone.
fn truncated(text: &str) -> String {
    text[..text.floor_char_boundary(text.len() / 2)].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::{Failed, Successful};

    fn result(successful: &[usize], failed: &[usize]) -> PublishResult {
        PublishResult {
            successful: successful
                .iter()
                .map(|&index| Successful {
                    identifier: format!("id-{index}"),
                    index,
                })
                .collect(),
            failed: failed
                .iter()
                .map(|&index| Failed::new(format!("id-{index}"), index, 500, "failed"))
                .collect(),
        }
    }

    fn indices(text: &str) -> Vec<u64> {
        let body: Value = serde_json::from_str(text).unwrap();
        body["successful"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn not_json_is_html() {
        let b = body(Malformed::NotJson, &result(&[0], &[]), 1);
        assert_eq!(b.content_type, "text/html");
        assert!(serde_json::from_str::<Value>(&b.text).is_err());
    }

    #[test]
    fn empty_object_has_no_successful_array() {
        assert_eq!(
            body(Malformed::EmptyObject, &result(&[0], &[]), 1).text,
            "{}"
        );
    }

    #[test]
    fn truncated_is_the_first_half_of_the_real_body_and_not_json() {
        let real = result(&[0, 1, 2], &[]);
        let full = serde_json::to_string(&real).unwrap();
        let b = body(Malformed::Truncated, &real, 3);
        assert!(full.starts_with(&b.text));
        assert_eq!(b.text.len(), full.len() / 2);
        assert!(serde_json::from_str::<Value>(&b.text).is_err());
    }

    #[test]
    fn index_out_of_range_replaces_the_first_index_with_the_event_count() {
        let b = body(Malformed::IndexOutOfRange, &result(&[0, 1], &[]), 2);
        assert_eq!(indices(&b.text), vec![2, 1]);
    }

    #[test]
    fn repeated_index_lists_the_first_entry_twice() {
        let b = body(Malformed::RepeatedIndex, &result(&[0, 1], &[]), 2);
        assert_eq!(indices(&b.text), vec![0, 1, 0]);
    }

    #[test]
    fn with_nothing_successful_the_index_shapes_fall_back_to_truncated() {
        for shape in [Malformed::IndexOutOfRange, Malformed::RepeatedIndex] {
            let b = body(shape, &result(&[], &[0]), 1);
            assert!(serde_json::from_str::<Value>(&b.text).is_err(), "{shape:?}");
        }
    }
}
