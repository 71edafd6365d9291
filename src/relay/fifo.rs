//! SQS FIFO message groups: a group's records one step at a time, each only after the group's
//! earlier records succeeded; consecutive records for one channel share a request; after the
//! first failure the rest of the group is reported failed without publishing.

use super::attempts::send_with_retries;
use super::{Ctx, Prepared};
use crate::limits::MAX_EVENTS_PER_PUBLISH;
use crate::publish::batch;
use crate::publish::{EventError, NotSent, OutgoingEvent, Publisher};
use crate::report::{EventResult, FailureReason, LaneResult, RecordFailure};

/// One FIFO message group, record by record; stops at the first failure.
pub(super) async fn run_group<P: Publisher>(
    ctx: &Ctx<'_, P>,
    place: usize,
    group: String,
    members: Vec<(usize, Prepared)>,
) -> LaneResult {
    let mut lane = LaneResult {
        order: (2, place, 0),
        ..LaneResult::default()
    };
    let mut stopped_by: Option<usize> = None;
    let mut i = 0;
    while i < members.len() {
        if let Some(first) = stopped_by {
            for (index, _) in &members[i..] {
                lane.records.push((
                    *index,
                    RecordFailure::plain(FailureReason::GroupFailedEarlier {
                        first,
                        group: group.clone(),
                    }),
                ));
            }
            break;
        }
        let (index, prepared) = &members[i];
        let events = match prepared {
            Prepared::Unmatched => {
                lane.unmatched.push(*index);
                i += 1;
                continue;
            }
            Prepared::Failed(f) => {
                lane.records.push((*index, f.clone()));
                stopped_by = Some(*index);
                i += 1;
                continue;
            }
            Prepared::Events(events) => events,
        };
        if let Some((event, error)) = events
            .iter()
            .find_map(|e| batch::check_size(e).err().map(|r| (e, r)))
        {
            lane.records.push((
                *index,
                RecordFailure {
                    rule: Some(event.origin.rule.clone()),
                    channel: Some(event.channel.clone()),
                    reason: FailureReason::Event(error),
                },
            ));
            stopped_by = Some(*index);
            i += 1;
            continue;
        }

        // Extend to the following records of the group that go only to the same single channel,
        // while the request stays within five events.
        let mut end = i + 1;
        let mut segment: Vec<OutgoingEvent> = events.clone();
        if let Some(channel) = single_channel(events) {
            while end < members.len() {
                let Prepared::Events(next) = &members[end].1 else {
                    break;
                };
                let fits = segment.len() + next.len() <= MAX_EVENTS_PER_PUBLISH;
                let same = single_channel(next) == Some(channel);
                let sized = next.iter().all(|e| batch::check_size(e).is_ok());
                if !(fits && same && sized) {
                    break;
                }
                segment.extend(next.iter().cloned());
                end += 1;
            }
        }

        // The byte cap can split a segment into several requests. They go in order and stop at
        // the first one with a failure: a later request would publish group traffic after the
        // group has already failed.
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
        // Walk the segment's records in order: the first with a failure stops the group; later
        // records of the same request that were delivered are still reported failed, so SQS
        // redelivers them after the failed one (a duplicate for subscribers, at-least-once).
        for (index, _) in &members[i..end] {
            if let Some(first) = stopped_by {
                let delivered = results
                    .iter()
                    .any(|r| r.origin.record == *index && r.result.is_ok());
                if delivered {
                    lane.records.push((
                        *index,
                        RecordFailure::plain(FailureReason::DeliveredAfterGroupFailure {
                            first,
                            group: group.clone(),
                        }),
                    ));
                }
                continue;
            }
            let failed = results
                .iter()
                .any(|r| r.origin.record == *index && r.result.is_err());
            if failed {
                stopped_by = Some(*index);
            }
        }
        lane.events.extend(results);
        i = end;
    }
    lane
}

fn single_channel(events: &[OutgoingEvent]) -> Option<&str> {
    let first = events.first()?.channel.as_str();
    events.iter().all(|e| e.channel == first).then_some(first)
}
