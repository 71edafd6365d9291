//! The step cutter's tests: shapes of steps, and the same steps as cutting a whole key at once
//! (the cutter before it handed steps out as records arrived, kept here as the reference).

use std::sync::Arc;

use super::*;
use crate::publish::Origin;
use proptest::prelude::*;

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

/// How a key's records were cut before steps were handed out as records arrive: the whole key
/// at once. The cutter must give exactly these steps.
fn reference_steps(members: Vec<(usize, Prepared)>) -> Vec<Step> {
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

fn shape_of(pos: usize, channels: &[u8], oversized: bool) -> Prepared {
    let big = crate::limits::MAX_EVENT_BYTES + 1;
    Prepared::Events(
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                event(
                    pos,
                    &format!("/o/{c}"),
                    if oversized && i == 0 { big } else { 3 },
                )
            })
            .collect(),
    )
}

fn member() -> impl Strategy<Value = (u8, Vec<u8>, bool)> {
    (
        0u8..10,
        proptest::collection::vec(0u8..3, 1..7),
        any::<bool>(),
    )
}

fn prepared((kind, channels, oversized): &(u8, Vec<u8>, bool), pos: usize) -> Prepared {
    match kind {
        0 => Prepared::Unmatched,
        1 => Prepared::Failed(RecordFailure::plain(FailureReason::Unmatched)),
        2 => shape_of(pos, channels, *oversized),
        _ => shape_of(pos, &channels[..1], false),
    }
}

proptest! {
    #[test]
    fn steps_handed_out_as_records_arrive_are_those_of_cutting_the_whole_key(
        members in proptest::collection::vec(member(), 0..40)
    ) {
        let build = || members.iter().enumerate().map(|(pos, m)| (pos, prepared(m, pos))).collect::<Vec<_>>();
        prop_assert_eq!(steps(build()), reference_steps(build()));
    }
}

#[test]
fn a_step_is_handed_out_as_soon_as_no_later_record_can_change_it() {
    let mut cutter = StepCutter::default();
    let got: Vec<Vec<String>> = (0..7)
        .map(|p| {
            let prepared = if p == 6 {
                events(p, &["/o/2"])
            } else {
                events(p, &["/o/1"])
            };
            shape(
                &cutter
                    .push(p, prepared)
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let none: Vec<String> = Vec::new();
    assert_eq!(
        got,
        vec![
            none.clone(),
            none.clone(),
            none.clone(),
            none.clone(),
            vec!["send [0, 1, 2, 3, 4] (5 events)".to_owned()],
            none.clone(),
            vec!["send [5] (1 events)".to_owned()],
        ]
    );
    assert_eq!(
        shape(&cutter.finish().into_iter().collect::<Vec<_>>()),
        ["send [6] (1 events)"]
    );
    // A fan-out record cannot be joined: it is a step at once.
    let mut cutter = StepCutter::default();
    assert_eq!(
        shape(
            &cutter
                .push(0, events(0, &["/o/1", "/o/2"]))
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
        ),
        ["send [0] (2 events)"]
    );
    assert!(cutter.finish().is_none());
}
