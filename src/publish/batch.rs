//! Batching: the invocation's events → per-channel queues of requests of at most
//! [`MAX_EVENTS_PER_PUBLISH`] events, source order kept within a channel. An event whose JSON
//! text is over [`MAX_EVENT_BYTES`] is rejected here, before any request: AppSync would refuse it
//! every time, so it fails its record and is never retried.

use std::collections::HashMap;

use crate::limits::{MAX_EVENT_BYTES, MAX_EVENTS_PER_PUBLISH, MAX_PUBLISH_REQUEST_BYTES};
use crate::publish::OutgoingEvent;

/// One request's worth of events for one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The channel all events go to.
    pub channel: String,
    /// One to five events, in source order.
    pub events: Vec<OutgoingEvent>,
}

/// An event that will not be sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The event.
    pub event: OutgoingEvent,
    /// Why, lowercase.
    pub reason: String,
}

/// The plan for an invocation: per channel (first appearance order), its requests in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One queue per channel; a channel's requests must go in this order.
    pub channels: Vec<Vec<Chunk>>,
    /// Events refused before sending.
    pub rejected: Vec<Rejected>,
}

/// Why an event cannot be sent at all, if it cannot.
pub fn check_size(event: &OutgoingEvent) -> Result<(), String> {
    if event.json.len() > MAX_EVENT_BYTES {
        Err(format!(
            "event is {} bytes, over appsync's {} byte limit",
            event.json.len(),
            MAX_EVENT_BYTES
        ))
    } else {
        Ok(())
    }
}

/// Bytes `text` takes inside the body once JSON-encoded as a string (quotes included), the way
/// `serde_json` escapes it.
pub fn encoded_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Groups events by channel (source order kept within each channel) and chunks each channel.
pub fn plan(events: Vec<OutgoingEvent>) -> Plan {
    let mut order: Vec<String> = Vec::new();
    // Channel → its place in `order`. A linear search of `order` made planning quadratic: a
    // 10,000-event batch over 500 channels compared ~2.5 million channel names (BENCHMARKS.md).
    let mut place: HashMap<String, usize> = HashMap::new();
    let mut by_channel: Vec<Vec<OutgoingEvent>> = Vec::new();
    let mut rejected = Vec::new();
    for event in events {
        if let Err(reason) = check_size(&event) {
            rejected.push(Rejected { event, reason });
            continue;
        }
        match place.get(event.channel.as_str()) {
            Some(&i) => by_channel[i].push(event),
            None => {
                place.insert(event.channel.clone(), order.len());
                order.push(event.channel.clone());
                by_channel.push(vec![event]);
            }
        }
    }
    let channels = order
        .into_iter()
        .zip(by_channel)
        .map(|(channel, events)| chunk(&channel, events))
        .collect();
    Plan { channels, rejected }
}

/// The fixed bytes of a publish body ([`build::body`](crate::publish::build::body)) around the
/// encoded channel and the events: `{"channel":` + `,"events":[` + `]}`.
const BODY_ENVELOPE_BYTES: usize = r#"{"channel":,"events":[]}"#.len();

/// Splits one channel's events (already size-checked) into requests of at most five events and
/// at most [`MAX_PUBLISH_REQUEST_BYTES`] of body.
pub fn chunk(channel: &str, events: Vec<OutgoingEvent>) -> Vec<Chunk> {
    let envelope = BODY_ENVELOPE_BYTES + encoded_len(channel);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current: Vec<OutgoingEvent> = Vec::new();
    let mut size = envelope;
    for event in events {
        let add = encoded_len(&event.json) + 1;
        if !current.is_empty()
            && (current.len() == MAX_EVENTS_PER_PUBLISH || size + add > MAX_PUBLISH_REQUEST_BYTES)
        {
            chunks.push(Chunk {
                channel: channel.to_owned(),
                events: std::mem::take(&mut current),
            });
            size = envelope;
        }
        size += add;
        current.push(event);
    }
    if !current.is_empty() {
        chunks.push(Chunk {
            channel: channel.to_owned(),
            events: current,
        });
    }
    chunks
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::publish::{Origin, build};

    fn event(record: usize, channel: &str, json: &str) -> OutgoingEvent {
        OutgoingEvent {
            origin: Origin {
                record,
                rule: Arc::from("r"),
            },
            channel: channel.to_owned(),
            json: json.to_owned(),
        }
    }

    fn records(chunk: &Chunk) -> Vec<usize> {
        chunk.events.iter().map(|e| e.origin.record).collect()
    }

    #[test]
    fn twelve_events_for_one_channel_make_three_requests_in_source_order() {
        let events = (0..12).map(|i| event(i, "/orders/a", "{}")).collect();
        let plan = plan(events);
        assert_eq!(plan.channels.len(), 1);
        let chunks = &plan.channels[0];
        assert_eq!(
            chunks.iter().map(records).collect::<Vec<_>>(),
            vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9], vec![10, 11]]
        );
    }

    #[test]
    fn channels_are_grouped_in_first_appearance_order() {
        let events = vec![
            event(0, "/a/x", "1"),
            event(1, "/b/x", "2"),
            event(2, "/a/x", "3"),
            event(3, "/c/x", "4"),
            event(4, "/b/x", "5"),
        ];
        let plan = plan(events);
        let summary: Vec<(String, Vec<usize>)> = plan
            .channels
            .iter()
            .map(|q| (q[0].channel.clone(), records(&q[0])))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("/a/x".into(), vec![0, 2]),
                ("/b/x".into(), vec![1, 4]),
                ("/c/x".into(), vec![3])
            ]
        );
    }

    #[test]
    fn an_oversized_event_is_rejected_and_the_rest_still_planned() {
        let big = format!("\"{}\"", "x".repeat(MAX_EVENT_BYTES));
        let plan = plan(vec![event(0, "/a/x", "1"), event(1, "/a/x", &big)]);
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].event.origin.record, 1);
        assert!(plan.rejected[0].reason.contains("over appsync's"));
        assert_eq!(records(&plan.channels[0][0]), vec![0]);
    }

    #[test]
    fn an_event_of_exactly_the_limit_is_accepted() {
        let exact = format!("\"{}\"", "x".repeat(MAX_EVENT_BYTES - 2));
        assert!(check_size(&event(0, "/a", &exact)).is_ok());
    }

    #[test]
    fn escaping_heavy_events_split_on_the_request_size_cap() {
        // Quotes double in the body, so five near-limit events would exceed the request cap.
        let quotes = format!("\"{}\"", "\\\"".repeat((MAX_EVENT_BYTES - 2) / 2));
        let events = (0..5).map(|i| event(i, "/a", &quotes)).collect();
        let plan = plan(events);
        let chunks = &plan.channels[0];
        assert!(chunks.len() > 1);
        for c in chunks {
            let texts: Vec<&str> = c.events.iter().map(|e| e.json.as_str()).collect();
            assert!(build::body(&c.channel, &texts).len() <= MAX_PUBLISH_REQUEST_BYTES);
        }
        assert_eq!(chunks.iter().map(|c| c.events.len()).sum::<usize>(), 5);
    }

    #[test]
    fn the_envelope_size_matches_the_built_body() {
        for channel in ["/a", "/orders/c-1"] {
            let empty = build::body(channel, &[]);
            assert_eq!(empty.len(), BODY_ENVELOPE_BYTES + encoded_len(channel));
        }
    }

    #[test]
    fn encoded_len_matches_serde_json() {
        for text in ["", "abc", "a\"b\\c\nd\u{1}e\u{7f}é", "\t\r\u{8}\u{c}"] {
            assert_eq!(
                encoded_len(text),
                serde_json::to_string(text).unwrap().len(),
                "{text:?}"
            );
        }
    }
}
