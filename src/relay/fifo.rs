//! SQS FIFO message groups: a group's records one step at a time, each only after the group's
//! earlier records succeeded; after the first failure the rest of the group is reported failed
//! without publishing. Other groups go on.
//!
//! A group is first cut into [`Step`]s ([`steps`], pure): consecutive records whose events all go
//! to one channel share a request while it stays within five events. [`run_group`] then sends
//! the steps in order until one fails.

use futures_util::future::join_all;

use super::attempts::send_with_retries;
use super::{Ctx, Prepared};
use crate::limits::MAX_EVENTS_PER_PUBLISH;
use crate::publish::batch;
use crate::publish::{EventError, NotSent, OutgoingEvent, Publisher};
use crate::report::{EventResult, FailureReason, LaneKey, LaneResult, RecordFailure};

/// The records of each message group, in first-appearance order of the groups.
#[derive(Default)]
pub(super) struct Groups {
    groups: Vec<(String, Vec<(usize, Prepared)>)>,
}

impl Groups {
    /// Adds the record at `pos` to its group.
    pub(super) fn push(&mut self, group: String, pos: usize, prepared: Prepared) {
        match self.groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push((pos, prepared)),
            None => self.groups.push((group, vec![(pos, prepared)])),
        }
    }

    /// Publishes every group, groups concurrently, each in order.
    pub(super) async fn run<P: Publisher>(self, ctx: &Ctx<'_, P>) -> Vec<LaneResult> {
        join_all(
            self.groups
                .into_iter()
                .enumerate()
                .map(|(place, (group, members))| run_group(ctx, place, group, members)),
        )
        .await
    }
}

/// One step of a message group.
#[derive(Debug, PartialEq)]
pub(super) enum Step {
    /// A record no rule matched: it does not stop the group.
    Unmatched(usize),
    /// A record that fails before publishing (unreadable, unroutable, an oversized event): it
    /// stops the group.
    Failed(usize, RecordFailure),
    /// Consecutive records sent together, in order: their positions and their events.
    Send(Vec<usize>, Vec<OutgoingEvent>),
}

/// Cuts a group's records into steps, moving their events: a record's events form a request,
/// extended by the following records while every event goes to the one channel, the request
/// stays within five events and no event is oversized.
pub(super) fn steps(members: Vec<(usize, Prepared)>) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut members = members.into_iter().peekable();
    while let Some((pos, prepared)) = members.next() {
        let events = match prepared {
            Prepared::Unmatched => {
                steps.push(Step::Unmatched(pos));
                continue;
            }
            Prepared::Failed(f) => {
                steps.push(Step::Failed(pos, f));
                continue;
            }
            Prepared::Events(events) => events,
        };
        if let Some((event, error)) = events
            .iter()
            .find_map(|e| batch::check_size(e).err().map(|r| (e, r)))
        {
            let failure = RecordFailure {
                rule: Some(event.origin.rule.clone()),
                channel: Some(event.channel.clone()),
                reason: FailureReason::Event(error),
            };
            steps.push(Step::Failed(pos, failure));
            continue;
        }
        let mut records = vec![pos];
        let mut segment = events;
        if let Some(channel) = single_channel(&segment).map(str::to_owned) {
            while let Some((_, Prepared::Events(next))) = members.peek() {
                let fits = segment.len() + next.len() <= MAX_EVENTS_PER_PUBLISH;
                let same = single_channel(next) == Some(channel.as_str());
                let sized = next.iter().all(|e| batch::check_size(e).is_ok());
                if !(fits && same && sized) {
                    break;
                }
                let Some((next_pos, Prepared::Events(next))) = members.next() else {
                    break;
                };
                records.push(next_pos);
                segment.extend(next);
            }
        }
        steps.push(Step::Send(records, segment));
    }
    steps
}

/// One FIFO message group, step by step; stops at the first failure.
async fn run_group<P: Publisher>(
    ctx: &Ctx<'_, P>,
    place: usize,
    group: String,
    members: Vec<(usize, Prepared)>,
) -> LaneResult {
    let mut lane = LaneResult {
        key: LaneKey::Group(place),
        ..LaneResult::default()
    };
    let mut stopped_by: Option<usize> = None;
    for step in steps(members) {
        if let Some(first) = stopped_by {
            let records = match step {
                Step::Unmatched(pos) | Step::Failed(pos, _) => vec![pos],
                Step::Send(records, _) => records,
            };
            for pos in records {
                let reason = FailureReason::GroupFailedEarlier {
                    first,
                    group: group.clone(),
                };
                lane.records.push((pos, RecordFailure::plain(reason)));
            }
            continue;
        }
        let (records, segment) = match step {
            Step::Unmatched(pos) => {
                lane.unmatched.push(pos);
                continue;
            }
            Step::Failed(pos, failure) => {
                lane.records.push((pos, failure));
                stopped_by = Some(pos);
                continue;
            }
            Step::Send(records, segment) => (records, segment),
        };
        let results = send_segment(ctx, segment).await;
        // Walk the segment's records in order: the first with a failure stops the group; later
        // records of the same request that were delivered are still reported failed, so SQS
        // redelivers them after the failed one (a duplicate for subscribers, at-least-once).
        for pos in records {
            let mine = || results.iter().filter(|r| r.origin.record == pos);
            match stopped_by {
                Some(first) if mine().any(|r| r.result.is_ok()) => {
                    let reason = FailureReason::AcceptedAfterGroupFailure {
                        first,
                        group: group.clone(),
                    };
                    lane.records.push((pos, RecordFailure::plain(reason)));
                }
                Some(_) => {}
                None if mine().any(|r| r.result.is_err()) => stopped_by = Some(pos),
                None => {}
            }
        }
        lane.events.extend(results);
    }
    lane
}

/// Sends one step's events. The byte cap can split them into several requests: they go in order
/// and stop at the first one with a failure, since a later request would publish group traffic
/// after the group has already failed.
async fn send_segment<P: Publisher>(
    ctx: &Ctx<'_, P>,
    segment: Vec<OutgoingEvent>,
) -> Vec<EventResult> {
    let mut results: Vec<EventResult> = Vec::with_capacity(segment.len());
    let mut request_failed = false;
    for chunk in batch::plan(segment).channels.into_iter().flatten() {
        if request_failed {
            results.extend(chunk.events.into_iter().map(|e| EventResult {
                origin: e.origin,
                channel: e.channel,
                result: Err(EventError::NotSent(NotSent::EarlierRequestFailed)),
            }));
            continue;
        }
        let sent = send_with_retries(ctx, &chunk.channel, &chunk.events, true).await;
        request_failed = sent.iter().any(Result::is_err);
        results.extend(
            chunk
                .events
                .into_iter()
                .zip(sent)
                .map(|(e, result)| EventResult {
                    origin: e.origin,
                    channel: e.channel,
                    result,
                }),
        );
    }
    results
}

fn single_channel(events: &[OutgoingEvent]) -> Option<&str> {
    let first = events.first()?.channel.as_str();
    events.iter().all(|e| e.channel == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::publish::Origin;

    fn event(pos: usize, channel: &str, bytes: usize) -> OutgoingEvent {
        OutgoingEvent {
            origin: Origin {
                record: pos,
                rule: Arc::from("r"),
            },
            channel: channel.to_owned(),
            json: "x".repeat(bytes),
        }
    }

    fn events(pos: usize, channels: &[&str]) -> Prepared {
        Prepared::Events(channels.iter().map(|c| event(pos, c, 3)).collect())
    }

    fn shape(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Unmatched(p) => format!("unmatched {p}"),
                Step::Failed(p, _) => format!("failed {p}"),
                Step::Send(records, events) => {
                    format!("send {records:?} ({} events)", events.len())
                }
            })
            .collect()
    }

    #[test]
    fn consecutive_records_for_one_channel_share_a_request_of_at_most_five_events() {
        let members = (0..7).map(|p| (p, events(p, &["/o/1"]))).collect();
        assert_eq!(
            shape(&steps(members)),
            ["send [0, 1, 2, 3, 4] (5 events)", "send [5, 6] (2 events)"]
        );
    }

    #[test]
    fn another_channel_a_fan_out_or_a_non_event_step_ends_a_request() {
        let members = vec![
            (0, events(0, &["/o/1"])),
            (1, events(1, &["/o/2"])),
            (2, events(2, &["/o/2", "/o/3"])),
            (3, events(3, &["/o/3"])),
            (4, Prepared::Unmatched),
            (5, events(5, &["/o/3"])),
            (6, events(6, &["/o/3"])),
        ];
        assert_eq!(
            shape(&steps(members)),
            [
                "send [0] (1 events)",
                "send [1] (1 events)",
                "send [2] (2 events)",
                "send [3] (1 events)",
                "unmatched 4",
                "send [5, 6] (2 events)",
            ]
        );
    }

    #[test]
    fn a_record_with_an_oversized_event_is_a_failed_step_and_is_not_joined() {
        let big = crate::limits::MAX_EVENT_BYTES + 1;
        let members = vec![
            (0, events(0, &["/o/1"])),
            (1, Prepared::Events(vec![event(1, "/o/1", big)])),
            (2, events(2, &["/o/1"])),
        ];
        let steps = steps(members);
        assert_eq!(
            shape(&steps),
            ["send [0] (1 events)", "failed 1", "send [2] (1 events)"]
        );
        let Step::Failed(_, failure) = &steps[1] else {
            unreachable!()
        };
        assert!(matches!(
            failure.reason,
            FailureReason::Event(EventError::Oversized { bytes }) if bytes == big
        ));
    }
}
