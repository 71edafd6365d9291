//! Batching: the invocation's events → per-channel queues of requests of at most
//! [`MAX_EVENTS_PER_PUBLISH`] events, source order kept within a channel. An event whose JSON
//! text is over [`MAX_EVENT_BYTES`] is rejected here, before any request: AppSync would refuse it
//! every time, so it fails its record and is never retried.

use std::collections::HashMap;

use crate::limits::{MAX_EVENT_BYTES, MAX_EVENTS_PER_PUBLISH, MAX_PUBLISH_REQUEST_BYTES};
use crate::publish::{EventError, OutgoingEvent};

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
    /// Why ([`EventError::Oversized`]).
    pub reason: EventError,
}

/// The plan for an invocation: per channel (first appearance order), its requests in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One queue per channel; a channel's requests must go in this order.
    pub channels: Vec<Vec<Chunk>>,
    /// Events refused before sending.
    pub rejected: Vec<Rejected>,
}

/// Why an event cannot be sent at all, if it cannot: its JSON text is over AppSync's limit.
pub fn check_size(event: &OutgoingEvent) -> Result<(), EventError> {
    let bytes = event.json.len();
    if bytes > MAX_EVENT_BYTES {
        Err(EventError::Oversized { bytes })
    } else {
        Ok(())
    }
}

/// Bytes `text` takes inside the body once JSON-encoded as a string (quotes included), the way
/// `serde_json` escapes it.
pub(crate) fn encoded_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Groups events by channel (source order kept within each channel) and chunks each channel: a
/// whole list planned at once with a [`Planner`].
pub fn plan(events: Vec<OutgoingEvent>) -> Plan {
    let mut planner = Planner::default();
    let mut channels: Vec<Vec<Chunk>> = Vec::new();
    let mut rejected = Vec::new();
    let mut put = |lane: usize, chunk: Chunk| {
        if lane >= channels.len() {
            channels.resize_with(lane + 1, Vec::new);
        }
        channels[lane].push(chunk);
    };
    for event in events {
        if let Err(r) = planner.push(event, &mut put) {
            rejected.push(*r);
        }
    }
    for (lane, chunk) in planner.finish() {
        put(lane, chunk);
    }
    Plan { channels, rejected }
}

/// The fixed bytes of a publish body ([`build::body`](crate::publish::build::body)) around the
/// encoded channel and the events: `{"channel":` + `,"events":[` + `]}`.
const BODY_ENVELOPE_BYTES: usize = r#"{"channel":,"events":[]}"#.len();

/// Batching as events arrive, so requests can go out while later records are still read.
///
/// Channels are numbered (lanes) in first-appearance order. Each channel has one open request; an
/// event joins it unless that would pass [`MAX_PUBLISH_REQUEST_BYTES`] of body (an empty request
/// always takes it), and a request is handed out as soon as it can no longer change: when it
/// holds [`MAX_EVENTS_PER_PUBLISH`] events, or when the next event of its channel does not fit. [`finish`](Planner::finish) hands out the
/// rest. Chunking is greedy and in source order, so the requests are the ones a plan of the whole
/// list gives ([`plan`] is built on this).
#[derive(Debug, Default)]
pub struct Planner {
    /// Channel → lane.
    place: HashMap<String, usize>,
    /// Per lane, its open request.
    open: Vec<Open>,
}

#[derive(Debug)]
struct Open {
    channel: String,
    /// Body bytes of the channel's envelope alone.
    envelope: usize,
    /// Body bytes with the events so far.
    size: usize,
    events: Vec<OutgoingEvent>,
}

impl Open {
    fn take(&mut self) -> Chunk {
        self.size = self.envelope;
        Chunk {
            channel: self.channel.clone(),
            events: std::mem::take(&mut self.events),
        }
    }
}

impl Planner {
    /// Adds one event; `ready(lane, chunk)` receives each request that is now complete, in the
    /// order its channel must send them. An event over [`MAX_EVENT_BYTES`] is refused.
    pub fn push(
        &mut self,
        event: OutgoingEvent,
        mut ready: impl FnMut(usize, Chunk),
    ) -> Result<(), Box<Rejected>> {
        if let Err(reason) = check_size(&event) {
            return Err(Box::new(Rejected { event, reason }));
        }
        let lane = match self.place.get(event.channel.as_str()) {
            Some(&lane) => lane,
            None => {
                let lane = self.open.len();
                let envelope = BODY_ENVELOPE_BYTES + encoded_len(&event.channel);
                self.place.insert(event.channel.clone(), lane);
                self.open.push(Open {
                    channel: event.channel.clone(),
                    envelope,
                    size: envelope,
                    events: Vec::new(),
                });
                lane
            }
        };
        let open = &mut self.open[lane];
        let add = encoded_len(&event.json) + 1;
        if !open.events.is_empty() && open.size + add > MAX_PUBLISH_REQUEST_BYTES {
            ready(lane, open.take());
        }
        open.size += add;
        open.events.push(event);
        if open.events.len() >= MAX_EVENTS_PER_PUBLISH {
            ready(lane, open.take());
        }
        Ok(())
    }

    /// The requests still open, lanes in first-appearance order.
    pub fn finish(self) -> impl Iterator<Item = (usize, Chunk)> {
        self.open
            .into_iter()
            .enumerate()
            .filter(|(_, open)| !open.events.is_empty())
            .map(|(lane, open)| {
                (
                    lane,
                    Chunk {
                        channel: open.channel,
                        events: open.events,
                    },
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

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

    /// The reference the planner must agree with: one channel's events split in one pass, a
    /// request closed when it holds five events or the next event would pass the byte cap.
    fn chunk_reference(channel: &str, events: Vec<OutgoingEvent>) -> Vec<Chunk> {
        let envelope = BODY_ENVELOPE_BYTES + encoded_len(channel);
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut current: Vec<OutgoingEvent> = Vec::new();
        let mut size = envelope;
        for event in events {
            let add = encoded_len(&event.json) + 1;
            if !current.is_empty()
                && (current.len() == MAX_EVENTS_PER_PUBLISH
                    || size + add > MAX_PUBLISH_REQUEST_BYTES)
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

    #[test]
    fn a_full_request_is_handed_out_at_its_fifth_event_and_the_rest_at_finish() {
        let mut planner = Planner::default();
        let mut ready: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, channel) in ["/a", "/b", "/a", "/a", "/a"].into_iter().enumerate() {
            planner
                .push(event(i, channel, "{}"), |lane, c| {
                    ready.push((lane, records(&c)))
                })
                .unwrap();
            assert!(ready.is_empty(), "nothing is complete before event 5");
        }
        planner
            .push(event(5, "/a", "{}"), |lane, c| {
                ready.push((lane, records(&c)))
            })
            .unwrap();
        assert_eq!(ready, vec![(0, vec![0, 2, 3, 4, 5])]);
        let rest: Vec<(usize, Vec<usize>)> = planner
            .finish()
            .map(|(lane, c)| (lane, records(&c)))
            .collect();
        assert_eq!(rest, vec![(1, vec![1])]);
    }

    #[test]
    fn a_request_is_handed_out_when_the_next_event_would_pass_the_byte_cap() {
        // Escaped quotes double in the body: two such events fit one request, a third does not.
        let quotes = format!("\"{}\"", "\\\"".repeat((MAX_EVENT_BYTES - 2) / 2));
        let mut planner = Planner::default();
        let mut ready = Vec::new();
        for i in 0..2 {
            planner
                .push(event(i, "/a", &quotes), |_, c| ready.push(records(&c)))
                .unwrap();
        }
        assert!(ready.is_empty());
        planner
            .push(event(2, "/a", &quotes), |_, c| ready.push(records(&c)))
            .unwrap();
        assert_eq!(ready, vec![vec![0, 1]]);
        let rest: Vec<Vec<usize>> = planner.finish().map(|(_, c)| records(&c)).collect();
        assert_eq!(rest, vec![vec![2]]);
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
        assert!(
            plan.rejected[0]
                .reason
                .to_string()
                .contains("over appsync's")
        );
        assert!(matches!(
            plan.rejected[0].reason,
            EventError::Oversized { bytes } if bytes > MAX_EVENT_BYTES
        ));
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

    fn arb_events() -> impl Strategy<Value = Vec<OutgoingEvent>> {
        // A few channels, and texts from tiny to over the event limit, some escaping-heavy, so
        // the byte cap and the rejection both come up.
        let text = prop_oneof![
            8 => (0usize..40).prop_map(|n| format!("{{\"n\":{n}}}")),
            1 => (MAX_EVENT_BYTES / 4..MAX_EVENT_BYTES + 10).prop_map(|n| "x".repeat(n)),
            1 => (MAX_EVENT_BYTES / 2..=MAX_EVENT_BYTES).prop_map(|n| "\"".repeat(n)),
        ];
        proptest::collection::vec((0usize..3, text), 0..40).prop_map(|items| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (c, json))| event(i, &format!("/c/{c}"), &json))
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn streamed_requests_are_the_whole_list_chunked_per_channel(events in arb_events()) {
            // Reference: group by channel in first-appearance order, chunk each in one pass.
            let mut order: Vec<String> = Vec::new();
            let mut by_channel: Vec<Vec<OutgoingEvent>> = Vec::new();
            let mut rejected = Vec::new();
            for e in events.clone() {
                if check_size(&e).is_err() {
                    rejected.push(e.origin.record);
                    continue;
                }
                match order.iter().position(|c| *c == e.channel) {
                    Some(i) => by_channel[i].push(e),
                    None => {
                        order.push(e.channel.clone());
                        by_channel.push(vec![e]);
                    }
                }
            }
            let expected: Vec<Vec<Chunk>> = order
                .iter()
                .zip(by_channel)
                .map(|(c, events)| chunk_reference(c, events))
                .collect();

            // When the planner hands each request out: a full one at the push of its fifth
            // event, one closed by the byte cap at the push of its channel's next event, and
            // only partly filled ones at `finish`.
            let mut planner = Planner::default();
            let mut handed: Vec<(usize, Chunk)> = Vec::new();
            for e in events.clone() {
                let at = e.origin.record;
                let _ = planner.push(e, |_, c| handed.push((at, c)));
            }
            for (at, chunk) in &handed {
                let last = chunk.events.last().map(|e| e.origin.record);
                if chunk.events.len() == MAX_EVENTS_PER_PUBLISH {
                    prop_assert_eq!(Some(*at), last);
                } else {
                    let next = events
                        .iter()
                        .filter(|e| check_size(e).is_ok())
                        .find(|e| e.channel == chunk.channel && Some(e.origin.record) > last)
                        .map(|e| e.origin.record);
                    prop_assert_eq!(Some(*at), next);
                }
            }
            prop_assert!(planner.finish().all(|(_, c)| c.events.len() < MAX_EVENTS_PER_PUBLISH));

            let plan = plan(events);
            prop_assert_eq!(&plan.channels, &expected);
            let planned_rejects: Vec<usize> =
                plan.rejected.iter().map(|r| r.event.origin.record).collect();
            prop_assert_eq!(planned_rejects, rejected);
            for chunk in plan.channels.iter().flatten() {
                prop_assert!(chunk.events.len() <= MAX_EVENTS_PER_PUBLISH);
                let texts: Vec<&str> = chunk.events.iter().map(|e| e.json.as_str()).collect();
                prop_assert!(
                    chunk.events.len() == 1
                        || build::body(&chunk.channel, &texts).len() <= MAX_PUBLISH_REQUEST_BYTES
                );
            }
        }
    }
}
