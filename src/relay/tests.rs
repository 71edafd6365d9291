//! The relay's tests: whole invocations through a scripted fake publisher, under a paused clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::senders::RECORDS_BETWEEN_POLLS;
use super::*;
use crate::ordering::KeyKind;
use crate::publish::batch;
use crate::publish::fake::{FakePublisher, Scripted};
use crate::publish::{EventError, NotRetried, NotSent, RawResponse, SendError};
use crate::report::RecordOutcome;

/// The failure of an event, as the report holds it.
fn event(error: &FailureReason) -> &EventError {
    match error {
        FailureReason::Event(e) => e,
        other => panic!("not an event failure: {other:?}"),
    }
}

/// The last failure of an event that was given up, and why.
fn given_up(error: &FailureReason) -> (&EventError, NotRetried) {
    match event(error) {
        EventError::NotRetried { last, why } => (last, *why),
        other => panic!("not given up: {other:?}"),
    }
}

fn settings() -> RelaySettings {
    RelaySettings {
        concurrency: 4,
        max_attempts: 3,
        request_timeout: Duration::from_secs(2),
        backoff: Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
            jitter: Jitter::None,
        },
    }
}

fn routed(rule: &str, channel: &str, payload: serde_json::Value) -> Routed {
    Routed {
        rule: Arc::from(rule),
        channel: channel.to_owned(),
        json: payload.to_string(),
    }
}

/// A routed record; `group` names its SQS FIFO message group.
fn record(index: usize, group: Option<&str>, routed: Vec<Routed>) -> RoutedRecord {
    RoutedRecord {
        id: format!("m{index}"),
        key: group.map(OrderingKey::message_group),
        routed: Ok(routed),
    }
}

fn one(index: usize, channel: &str) -> RoutedRecord {
    record(index, None, vec![routed("r", channel, json!({"n": index}))])
}

fn failed_ids(report: &Report) -> Vec<&str> {
    report.failed().map(|r| r.id.as_str()).collect()
}

fn reasons(report: &Report, index: usize) -> Vec<FailureReason> {
    match &report.records[index].outcome {
        RecordOutcome::Failed(f) => f.iter().map(|f| f.reason.clone()).collect(),
        other => panic!("record {index} did not fail: {other:?}"),
    }
}

async fn run(records: Vec<RoutedRecord>, fake: &FakePublisher) -> Report {
    let deadline = Instant::now() + Duration::from_secs(10);
    publish_records(records, fake, &settings(), deadline).await
}

#[tokio::test(start_paused = true)]
async fn twelve_events_for_one_channel_go_in_three_ordered_requests() {
    let fake = FakePublisher::new();
    let report = run((0..12).map(|i| one(i, "/orders/a")).collect(), &fake).await;
    let sizes: Vec<usize> = fake.requests().iter().map(|r| r.events.len()).collect();
    assert_eq!(sizes, vec![5, 5, 2]);
    let order: Vec<String> = fake.requests().into_iter().flat_map(|r| r.events).collect();
    let expected: Vec<String> = (0..12).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
    assert_eq!(order, expected);
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.events_published, 12);
    assert_eq!(report.stats.latencies_ms.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn failed_entries_fail_exactly_their_records_and_retryable_ones_are_resent_alone() {
    let fake = FakePublisher::new().script([Scripted::FailEvents {
        indices: vec![1, 3],
        code: 500,
    }]);
    let report = run((0..5).map(|i| one(i, "/a/b")).collect(), &fake).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].events, vec![r#"{"n":1}"#, r#"{"n":3}"#]);
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.retries, 2);

    let fake = FakePublisher::new().script([Scripted::FailEvents {
        indices: vec![1, 3],
        code: 400,
    }]);
    let report = run((0..5).map(|i| one(i, "/a/b")).collect(), &fake).await;
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(failed_ids(&report), vec!["m1", "m3"]);
    assert_eq!(report.stats.per_rule["r"].failed, 2);
    assert_eq!(report.stats.per_rule["r"].published, 3);
}

#[tokio::test(start_paused = true)]
async fn throttling_then_success_delivers_once() {
    let fake = FakePublisher::new().script([Scripted::Status(429)]);
    let report = run(vec![one(0, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 2);
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.events_published, 1);
    assert_eq!(report.stats.retries, 1);
}

#[tokio::test(start_paused = true)]
async fn transport_errors_are_retried() {
    let fake = FakePublisher::new().script([Scripted::Transport, Scripted::Transport]);
    let report = run(vec![one(0, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 3);
    assert!(failed_ids(&report).is_empty());
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 413] {
        let fake = FakePublisher::new().script([Scripted::Status(status)]);
        let report = run(vec![one(0, "/a")], &fake).await;
        assert_eq!(fake.requests().len(), 1, "{status}");
        assert_eq!(failed_ids(&report), vec!["m0"]);
        assert!(
            matches!(event(&reasons(&report, 0)[0]), EventError::Status { status: s, .. } if *s == status)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn server_errors_stop_after_the_configured_attempts() {
    let fake = FakePublisher::new().script(vec![Scripted::Status(503); 10]);
    let report = run(vec![one(0, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 3);
    let reason = &reasons(&report, 0)[0];
    assert_eq!(given_up(reason).1, NotRetried::GaveUp { attempts: 3 });
    assert!(matches!(
        given_up(reason).0,
        EventError::Status { status: 503, .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_is_given_up_before_the_deadline() {
    let fake = FakePublisher::new().script(vec![Scripted::Hang; 10]);
    let deadline = Instant::now() + Duration::from_millis(3500);
    let records = vec![one(0, "/a"), one(1, "/b"), one(2, "/a")];
    let report = publish_records(records, &fake, &settings(), deadline).await;
    assert!(Instant::now() <= deadline);
    assert_eq!(failed_ids(&report), vec!["m0", "m1", "m2"]);
    assert_eq!(
        given_up(&reasons(&report, 0)[0]).0,
        &EventError::Send(SendError::Timeout)
    );
}

#[tokio::test(start_paused = true)]
async fn no_request_starts_once_the_deadline_has_passed() {
    let fake = FakePublisher::new();
    let deadline = Instant::now();
    let report = publish_records(vec![one(0, "/a")], &fake, &settings(), deadline).await;
    assert!(fake.requests().is_empty());
    assert_eq!(
        event(&reasons(&report, 0)[0]),
        &EventError::NotSent(NotSent::DeadlineReached)
    );
}

#[tokio::test(start_paused = true)]
async fn no_first_request_starts_with_less_than_the_send_window_left() {
    // 20 ms left: too short a window for a request, first send or retry alike.
    let fake = FakePublisher::new();
    let deadline = Instant::now() + Duration::from_millis(20);
    let report = publish_records(vec![one(0, "/a")], &fake, &settings(), deadline).await;
    assert!(fake.requests().is_empty());
    assert_eq!(
        event(&reasons(&report, 0)[0]),
        &EventError::NotSent(NotSent::DeadlineReached)
    );
}

#[tokio::test(start_paused = true)]
async fn route_failures_unmatched_and_oversized_records_are_reported_without_requests() {
    let big = "x".repeat(crate::limits::MAX_EVENT_BYTES);
    let records = vec![
        one(0, "/a"),
        RoutedRecord {
            id: "m1".into(),
            key: None,
            routed: Err(RecordFailure::plain(FailureReason::Unmatched)),
        },
        record(2, None, vec![]),
        record(3, None, vec![routed("big", "/a", json!(big))]),
    ];
    let fake = FakePublisher::new();
    let report = run(records, &fake).await;
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].events.len(), 1);
    assert_eq!(failed_ids(&report), vec!["m1", "m3"]);
    assert_eq!(report.records[2].outcome, RecordOutcome::Unmatched);
    assert!(matches!(
        event(&reasons(&report, 3)[0]),
        EventError::Oversized { bytes } if *bytes > crate::limits::MAX_EVENT_BYTES
    ));
    assert_eq!(report.stats.unmatched, 1);
    assert_eq!(report.stats.records_failed, 2);
    assert_eq!(report.stats.records, 4);
}

#[tokio::test(start_paused = true)]
async fn a_fan_out_record_fails_when_any_of_its_events_fails() {
    let records = vec![record(
        0,
        None,
        vec![
            routed("a", "/x/1", json!("ok")),
            routed("b", "/y/1", json!("poison")),
        ],
    )];
    let fake = FakePublisher::new().fail_matching("poison", 400);
    let report = run(records, &fake).await;
    assert_eq!(fake.requests().len(), 2);
    let RecordOutcome::Failed(f) = &report.records[0].outcome else {
        panic!("expected failure");
    };
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule.as_deref(), Some("b"));
    assert_eq!(f[0].channel.as_deref(), Some("/y/1"));
}

#[tokio::test(start_paused = true)]
async fn fifo_a_failure_stops_the_rest_of_its_group_and_other_groups_go_on() {
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
        record(1, Some("B"), vec![routed("r", "/o/2", json!("b1"))]),
        record(2, Some("A"), vec![routed("r", "/o/3", json!("a2 poison"))]),
        record(3, Some("A"), vec![routed("r", "/o/1", json!("a3"))]),
        record(4, Some("B"), vec![routed("r", "/o/2", json!("b4"))]),
    ];
    let fake = FakePublisher::new().fail_matching("poison", 400);
    let report = run(records, &fake).await;
    assert_eq!(failed_ids(&report), vec!["m2", "m3"]);
    let sent: Vec<String> = fake.requests().into_iter().flat_map(|r| r.events).collect();
    assert!(!sent.iter().any(|e| e.contains("a3")), "{sent:?}");
    assert!(sent.iter().any(|e| e.contains("b4")));
    assert_eq!(
        reasons(&report, 3),
        vec![FailureReason::KeyFailedEarlier {
            first: 2,
            key: OrderingKey::message_group("A")
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_records_for_one_channel_share_a_request_and_a_partial_failure_fails_the_tail() {
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
        record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
        record(2, Some("A"), vec![routed("r", "/o/1", json!("a2"))]),
    ];
    // The middle event fails retryably while the last is delivered: re-sending it would put
    // it after a2, so it is not retried here; a1 and a2 are redelivered by SQS.
    let fake = FakePublisher::new().script([Scripted::FailEvents {
        indices: vec![1],
        code: 500,
    }]);
    let report = run(records, &fake).await;
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].events.len(), 3);
    assert_eq!(failed_ids(&report), vec!["m1", "m2"]);
    assert_eq!(
        reasons(&report, 2),
        vec![FailureReason::AcceptedAfterKeyFailure {
            first: 1,
            key: OrderingKey::message_group("A")
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_a_segment_split_by_the_byte_cap_stops_at_its_first_failed_request() {
    // Each event text is ~240 KB of `\"`, which doubles when escaped into the body: ~480 KB
    // per event, so the byte cap splits the group's segment into requests of two and one.
    let big = |tag: &str| json!(format!("{tag}{}", "\"".repeat(120_000)));
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", big("a0"))]),
        record(1, Some("A"), vec![routed("r", "/o/1", big("a1"))]),
        record(2, Some("A"), vec![routed("r", "/o/1", big("a2"))]),
    ];
    let fake = FakePublisher::new().script([Scripted::Status(400)]);
    let report = run(records, &fake).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "only the first request is sent");
    assert_eq!(requests[0].events.len(), 2);
    assert_eq!(failed_ids(&report), vec!["m0", "m1", "m2"]);
    assert!(matches!(
        event(&reasons(&report, 1)[0]),
        EventError::Status { status: 400, .. }
    ));
    assert_eq!(
        reasons(&report, 2),
        vec![FailureReason::Event(EventError::NotSent(
            NotSent::EarlierRequestFailed(KeyKind::MessageGroup)
        ))]
    );
}

#[tokio::test(start_paused = true)]
async fn fifo_an_event_after_a_final_failure_is_not_retried() {
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
        record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
    ];
    let fake = FakePublisher::new().script([Scripted::FailEach(vec![(0, 400), (1, 429)])]);
    let report = run(records, &fake).await;
    assert_eq!(fake.requests().len(), 1, "no retry request");
    assert_eq!(failed_ids(&report), vec!["m0", "m1"]);
    assert!(matches!(
        event(&reasons(&report, 0)[0]),
        EventError::Rejected {
            code: Some(400),
            ..
        }
    ));
    let reason = &reasons(&report, 1)[0];
    let (last, why) = given_up(reason);
    assert_eq!(why, NotRetried::EarlierFailed(KeyKind::MessageGroup));
    assert!(matches!(
        last,
        EventError::Rejected {
            code: Some(429),
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn unordered_events_are_retried_whatever_failed_before_them() {
    let fake = FakePublisher::new().script([Scripted::FailEach(vec![(0, 400), (1, 429)])]);
    let report = run(vec![one(0, "/a"), one(1, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[1].events, vec![r#"{"n":1}"#]);
    assert_eq!(failed_ids(&report), vec!["m0"]);
}

#[tokio::test(start_paused = true)]
async fn fifo_a_failing_tail_is_retried_in_order() {
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
        record(1, Some("A"), vec![routed("r", "/o/1", json!("a1"))]),
    ];
    let fake = FakePublisher::new().script([Scripted::FailEvents {
        indices: vec![1],
        code: 429,
    }]);
    let report = run(records, &fake).await;
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[1].events, vec![r#""a1""#]);
    assert!(failed_ids(&report).is_empty());
}

/// Wraps the fake to see what the relay does while records are still arriving: how many
/// records had been read when each request went out, and whether a channel ever had two
/// requests in flight. Every request takes `delay` (paused clock).
struct Probe {
    fake: FakePublisher,
    pulled: Arc<AtomicUsize>,
    delay: Duration,
    read_at_publish: Mutex<Vec<usize>>,
    in_flight: Mutex<BTreeMap<String, usize>>,
    overlapped: Mutex<Vec<String>>,
}

impl Publisher for Probe {
    async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        self.read_at_publish
            .lock()
            .unwrap()
            .push(self.pulled.load(Ordering::SeqCst));
        {
            let mut in_flight = self.in_flight.lock().unwrap();
            let n = in_flight.entry(channel.to_owned()).or_default();
            if *n > 0 {
                self.overlapped.lock().unwrap().push(channel.to_owned());
            }
            *n += 1;
        }
        tokio::time::sleep(self.delay).await;
        let answer = self.fake.publish(channel, events).await;
        *self.in_flight.lock().unwrap().get_mut(channel).unwrap() -= 1;
        answer
    }
}

fn probe(delay: Duration) -> Probe {
    Probe {
        fake: FakePublisher::new(),
        pulled: Arc::new(AtomicUsize::new(0)),
        delay,
        read_at_publish: Mutex::new(Vec::new()),
        in_flight: Mutex::new(BTreeMap::new()),
        overlapped: Mutex::new(Vec::new()),
    }
}

/// Publishes `n` records, record `i` to channel `/c/{i % channels}`, through a probe whose
/// requests take 20 ms; the probe counts records as the relay takes them.
async fn run_counted(n: usize, channels: usize) -> (Probe, Report) {
    let probe = probe(Duration::from_millis(20));
    let pulled = Arc::clone(&probe.pulled);
    let records = (0..n).map(move |i| {
        pulled.fetch_add(1, Ordering::SeqCst);
        one(i, &format!("/c/{}", i % channels))
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let report = publish_records(records, &probe, &settings(), deadline).await;
    (probe, report)
}

#[tokio::test(start_paused = true)]
async fn requests_go_out_while_later_records_are_still_being_read() {
    // Ten channels: each has its first full request at its fifth event, records 40–49.
    let (probe, report) = run_counted(200, 10).await;

    let read = probe.read_at_publish.lock().unwrap().clone();
    assert_eq!(read.len(), 40);
    // The paused clock stands still while records are routed, so the requests that went out
    // early are those the concurrency allows before any response: four.
    let early = read.iter().filter(|&&r| r < 200).count();
    assert_eq!(early, settings().concurrency, "{read:?}");
    assert!(
        read[0] >= 41 && read[0] < 41 + RECORDS_BETWEEN_POLLS,
        "{read:?}"
    );
    // Still one request at a time per channel, in source order.
    assert!(probe.overlapped.lock().unwrap().is_empty());
    let order: Vec<String> = probe
        .fake
        .requests()
        .into_iter()
        .flat_map(|r| r.events)
        .collect();
    for channel in 0..10 {
        let mine: Vec<&String> = order
            .iter()
            .filter(|e| {
                let n: usize = e[5..e.len() - 1].parse().unwrap();
                n % 10 == channel
            })
            .collect();
        let expected: Vec<String> = (0..200)
            .filter(|i| i % 10 == channel)
            .map(|i| format!(r#"{{"n":{i}}}"#))
            .collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.events_published, 200);
}

#[tokio::test(start_paused = true)]
async fn streamed_requests_are_those_of_the_whole_batch_and_channels_never_overlap() {
    let (probe, report) = run_counted(1_003, 7).await;

    assert!(probe.overlapped.lock().unwrap().is_empty());
    // Per channel, the requests are the whole batch's plan: same events, same split.
    let events: Vec<OutgoingEvent> = (0..1_003)
        .map(|i| OutgoingEvent {
            origin: Origin {
                record: i,
                rule: Arc::from("r"),
            },
            channel: format!("/c/{}", i % 7),
            json: format!(r#"{{"n":{i}}}"#),
        })
        .collect();
    let mut expected: Vec<(String, Vec<String>)> = batch::plan(events)
        .channels
        .into_iter()
        .flatten()
        .map(|c| (c.channel, c.events.into_iter().map(|e| e.json).collect()))
        .collect();
    let mut sent: Vec<(String, Vec<String>)> = probe
        .fake
        .requests()
        .into_iter()
        .map(|r| (r.channel, r.events))
        .collect();
    // Across channels the order depends on timing; within one, it must be the plan's.
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(sent, expected);
    assert_eq!(report.stats.events_published, 1_003);
    assert_eq!(report.records.len(), 1_003);
    assert!(report.records.iter().enumerate().all(|(i, r)| r.index == i));
}

/// Answers `/a` late and `/b` at once; every event fails for good.
struct SlowA(FakePublisher);

impl Publisher for SlowA {
    async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        if channel == "/a" {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.0.publish(channel, events).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_record_lists_its_failures_in_channel_order_whichever_answer_comes_first() {
    let fake = SlowA(FakePublisher::new().fail_matching("n", 400));
    let records = vec![record(
        0,
        None,
        vec![
            routed("r", "/a", json!({"n": 0})),
            routed("r", "/b", json!({"n": 1})),
        ],
    )];
    let deadline = Instant::now() + Duration::from_secs(10);
    let report = publish_records(records, &fake, &settings(), deadline).await;
    // The fake notes a request when it answers: `/b` first. The report still follows the
    // channels' first appearance.
    let answered: Vec<String> = fake.0.requests().into_iter().map(|r| r.channel).collect();
    assert_eq!(answered, vec!["/b", "/a"]);
    let channels: Vec<Option<String>> = match &report.records[0].outcome {
        RecordOutcome::Failed(f) => f.iter().map(|f| f.channel.clone()).collect(),
        other => panic!("not failed: {other:?}"),
    };
    assert_eq!(channels, vec![Some("/a".to_owned()), Some("/b".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn fifo_an_unmatched_record_is_reported_unmatched_and_does_not_stop_its_group() {
    let records = vec![
        record(0, Some("A"), vec![routed("r", "/o/1", json!("a0"))]),
        record(1, Some("A"), vec![]),
        record(2, Some("A"), vec![routed("r", "/o/1", json!("a2"))]),
    ];
    let fake = FakePublisher::new();
    let report = run(records, &fake).await;
    let outcomes: Vec<&RecordOutcome> = report.records.iter().map(|r| &r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            &RecordOutcome::Delivered { events: 1 },
            &RecordOutcome::Unmatched,
            &RecordOutcome::Delivered { events: 1 },
        ]
    );
    assert_eq!(report.stats.unmatched, 1);
}

#[tokio::test(start_paused = true)]
async fn a_2xx_that_confirms_nothing_is_sent_again_and_a_later_good_answer_accepts_it() {
    let fake = FakePublisher::new().script([Scripted::Raw {
        status: 200,
        body: "{}",
    }]);
    let report = run(vec![one(0, "/a"), one(1, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[1].events.len(), 2);
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.retries, 2);
    assert_eq!(report.stats.events_published, 2);

    // Never confirmed: the records fail once the attempts are used.
    let fake = FakePublisher::new().script(vec![
        Scripted::Raw {
            status: 200,
            body: "<html>ok</html>",
        };
        3
    ]);
    let report = run(vec![one(0, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(failed_ids(&report), vec!["m0"]);
    let reason = &reasons(&report, 0)[0];
    let (last, why) = given_up(reason);
    assert_eq!(why, NotRetried::GaveUp { attempts: 3 });
    assert!(matches!(
        last,
        EventError::Unconfirmed {
            status: 200,
            why: crate::publish::Malformed::NotJson
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn an_unlisted_event_is_accepted_counted_and_not_sent_again() {
    let fake = FakePublisher::new().script([Scripted::Raw {
        status: 200,
        body: r#"{"successful":[{"index":0}],"failed":[]}"#,
    }]);
    let report = run(vec![one(0, "/a"), one(1, "/a")], &fake).await;
    assert_eq!(fake.requests().len(), 1);
    assert!(failed_ids(&report).is_empty());
    assert_eq!(
        report.records[1].outcome,
        RecordOutcome::Delivered { events: 1 }
    );
    assert_eq!(report.stats.events_published, 2);
    assert_eq!(report.stats.unlisted, 1);
    assert_eq!(report.stats.retries, 0);
}

/// Every reason text a failed record can carry, produced through the code that makes it. They
/// are API: Lambda error messages, the `reason=` of log lines, the README and the CLI quote them.
#[tokio::test(start_paused = true)]
async fn failure_texts_are_the_ones_users_see() {
    use crate::input::{InputError, Record};

    // A record's failures as the EventBridge error message and the `reason=` of the log line
    // write them.
    fn texts(report: &Report, index: usize) -> Vec<String> {
        match &report.records[index].outcome {
            RecordOutcome::Failed(f) => f.iter().map(|f| f.to_string()).collect(),
            other => panic!("record {index} did not fail: {other:?}"),
        }
    }

    let mut table: Vec<(String, Vec<String>)> = Vec::new();

    // Input and routing, through `relay`.
    let rules = RuleSet::parse(
        "rules:\n  - name: r\n    pattern: { source: [s] }\n    channel: /a/{detail.x}\nunmatched: fail\n",
    )
    .unwrap();
    let records = vec![
        Record {
            index: 0,
            id: "m0".into(),
            key: None,
            document: Err(InputError::MissingBody),
        },
        Record {
            index: 1,
            id: "m1".into(),
            key: None,
            document: Ok(json!({"source": "s", "detail": {}})),
        },
        Record {
            index: 2,
            id: "m2".into(),
            key: None,
            document: Ok(json!({"source": "other", "detail": {}})),
        },
    ];
    let fake = FakePublisher::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let report = relay(records, &rules, &fake, &settings(), deadline).await;
    table.push(("unreadable".into(), texts(&report, 0)));
    table.push(("render".into(), texts(&report, 1)));
    table.push(("unmatched".into(), texts(&report, 2)));

    // Sizes and answers, through `publish_records` and the fake.
    let big = "x".repeat(crate::limits::MAX_EVENT_BYTES);
    let report = run(
        vec![record(0, None, vec![routed("r", "/a", json!(big))])],
        &FakePublisher::new(),
    )
    .await;
    table.push(("oversized".into(), texts(&report, 0)));
    for (name, script) in [
        ("status", vec![Scripted::Status(400)]),
        ("retried status", vec![Scripted::Status(503); 3]),
        ("transport", vec![Scripted::Transport; 3]),
        (
            "failed entry",
            vec![Scripted::FailEvents {
                indices: vec![0],
                code: 400,
            }],
        ),
    ] {
        let report = run(vec![one(0, "/a")], &FakePublisher::new().script(script)).await;
        table.push((name.into(), texts(&report, 0)));
    }
    let deadline = Instant::now() + Duration::from_millis(3500);
    let fake = FakePublisher::new().script(vec![Scripted::Hang; 3]);
    let report = publish_records(vec![one(0, "/a")], &fake, &settings(), deadline).await;
    table.push(("timeout".into(), texts(&report, 0)));
    let report = publish_records(
        vec![one(0, "/a")],
        &FakePublisher::new(),
        &settings(),
        Instant::now(),
    )
    .await;
    table.push(("deadline".into(), texts(&report, 0)));

    // Ordered records: SQS FIFO message groups, Kinesis partition keys, DynamoDB items.
    for (label, key) in [
        ("fifo", OrderingKey::message_group("A")),
        ("partition key", OrderingKey::partition_key("AAPL")),
        ("item", OrderingKey::item(r#"{"id":"a"}"#)),
    ] {
        let keyed = |i: usize, channel: &str, payload: serde_json::Value| RoutedRecord {
            key: Some(key.clone()),
            ..record(i, None, vec![routed("r", channel, payload)])
        };
        let group = |events: &[&str]| -> Vec<RoutedRecord> {
            events
                .iter()
                .enumerate()
                .map(|(i, e)| keyed(i, "/o/1", json!(e)))
                .collect()
        };
        let fake = FakePublisher::new().script([Scripted::FailEach(vec![(0, 400), (1, 429)])]);
        let report = run(group(&["a0", "a1", "a2"]), &fake).await;
        table.push((format!("{label} earlier failed"), texts(&report, 1)));
        let fake = FakePublisher::new()
            .script([Scripted::Status(200), Scripted::FailEach(vec![(0, 400)])]);
        let mut records = group(&["a0"]);
        records.push(keyed(1, "/o/2", json!("a1")));
        records.push(keyed(2, "/o/1", json!("a2")));
        let report = run(records, &fake).await;
        table.push((format!("{label} stopped"), texts(&report, 2)));
        let fake = FakePublisher::new().script([Scripted::FailEvents {
            indices: vec![1],
            code: 500,
        }]);
        let report = run(group(&["a0", "a1", "a2"]), &fake).await;
        table.push((format!("{label} later delivered"), texts(&report, 1)));
        table.push((format!("{label} delivered after"), texts(&report, 2)));
        let big = |tag: &str| json!(format!("{tag}{}", "\"".repeat(120_000)));
        let records = (0..3).map(|i| keyed(i, "/o/1", big("a"))).collect();
        let report = run(
            records,
            &FakePublisher::new().script([Scripted::Status(400)]),
        )
        .await;
        table.push((format!("{label} earlier request"), texts(&report, 2)));
    }

    // Records of the other sources that cannot be read, through `relay`.
    let unreadable = [
        InputError::NotKinesis("kinesis.partitionKey is missing".into()),
        InputError::BadBase64("invalid character '!' at offset 0".into()),
        InputError::NotDynamoDb("dynamodb.NewImage.total: \"1,5\" is not a number".into()),
        InputError::NotSns("Sns.Message is missing".into()),
        InputError::Unparsable("recursion limit exceeded".into()),
    ];
    let records = unreadable
        .into_iter()
        .enumerate()
        .map(|(index, error)| Record {
            index,
            id: format!("s{index}"),
            key: None,
            document: Err(error),
        });
    let deadline = Instant::now() + Duration::from_secs(10);
    let report = relay(
        records,
        &rules,
        &FakePublisher::new(),
        &settings(),
        deadline,
    )
    .await;
    for index in 0..5 {
        table.push((format!("unreadable {index}"), texts(&report, index)));
    }

    let expected: Vec<(&str, Vec<&str>)> = vec![
        ("unreadable", vec!["unreadable record: record has no body"]),
        (
            "render",
            vec!["rule r: route failed: channel placeholder detail.x is missing from the event"],
        ),
        ("unmatched", vec!["route failed: no rule matched"]),
        (
            "oversized",
            vec!["rule r channel /a: event is 245762 bytes, over appsync's 245760 byte limit"],
        ),
        (
            "status",
            vec!["rule r channel /a: appsync answered http 400 (Scripted: scripted)"],
        ),
        (
            "retried status",
            vec![
                "rule r channel /a: appsync answered http 503 (Scripted: scripted) (gave up after 3 attempts)",
            ],
        ),
        (
            "transport",
            vec!["rule r channel /a: transport error: connection reset (gave up after 3 attempts)"],
        ),
        (
            "failed entry",
            vec!["rule r channel /a: appsync failed the event: 400 scripted"],
        ),
        (
            "timeout",
            vec![
                "rule r channel /a: request timed out (no time left before the deadline to retry)",
            ],
        ),
        (
            "deadline",
            vec!["rule r channel /a: deadline reached before the request was sent"],
        ),
        (
            "fifo earlier failed",
            vec![
                "rule r channel /o/1: appsync failed the event: 429 scripted (not retried: an earlier event of the message group failed)",
            ],
        ),
        (
            "fifo stopped",
            vec!["not published: record 1 of message group A failed earlier"],
        ),
        (
            "fifo later delivered",
            vec![
                "rule r channel /o/1: appsync failed the event: 500 scripted (not retried: a later event of the message group was accepted)",
            ],
        ),
        (
            "fifo delivered after",
            vec![
                "accepted by appsync, but reported failed because record 1 of message group A failed before it",
            ],
        ),
        (
            "fifo earlier request",
            vec![
                "rule r channel /o/1: not published: an earlier request of the message group failed",
            ],
        ),
        (
            "partition key earlier failed",
            vec![
                "rule r channel /o/1: appsync failed the event: 429 scripted (not retried: an earlier event with the same partition key failed)",
            ],
        ),
        (
            "partition key stopped",
            vec!["not published: record 1 with partition key AAPL failed earlier"],
        ),
        (
            "partition key later delivered",
            vec![
                "rule r channel /o/1: appsync failed the event: 500 scripted (not retried: a later event with the same partition key was accepted)",
            ],
        ),
        (
            "partition key delivered after",
            vec![
                "accepted by appsync, but reported failed because record 1 with partition key AAPL failed before it",
            ],
        ),
        (
            "partition key earlier request",
            vec![
                "rule r channel /o/1: not published: an earlier request with the same partition key failed",
            ],
        ),
        (
            "item earlier failed",
            vec![
                "rule r channel /o/1: appsync failed the event: 429 scripted (not retried: an earlier event of the same item failed)",
            ],
        ),
        (
            "item stopped",
            vec![r#"not published: record 1 of item {"id":"a"} failed earlier"#],
        ),
        (
            "item later delivered",
            vec![
                "rule r channel /o/1: appsync failed the event: 500 scripted (not retried: a later event of the same item was accepted)",
            ],
        ),
        (
            "item delivered after",
            vec![
                r#"accepted by appsync, but reported failed because record 1 of item {"id":"a"} failed before it"#,
            ],
        ),
        (
            "item earlier request",
            vec!["rule r channel /o/1: not published: an earlier request of the same item failed"],
        ),
        (
            "unreadable 0",
            vec![
                "unreadable record: record is not a kinesis record: kinesis.partitionKey is missing",
            ],
        ),
        (
            "unreadable 1",
            vec![
                "unreadable record: kinesis data is not valid base64: invalid character '!' at offset 0",
            ],
        ),
        (
            "unreadable 2",
            vec![
                r#"unreadable record: record is not a dynamodb stream record: dynamodb.NewImage.total: "1,5" is not a number"#,
            ],
        ),
        (
            "unreadable 3",
            vec!["unreadable record: record is not an sns notification: Sns.Message is missing"],
        ),
        (
            "unreadable 4",
            vec!["unreadable record: record cannot be read as json: recursion limit exceeded"],
        ),
    ];
    let got: Vec<(&str, Vec<&str>)> = table
        .iter()
        .map(|(name, reasons)| (name.as_str(), reasons.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(got, expected);
}

/// A record with a Kinesis partition key, publishing `{"n": index}` to `channel`.
fn keyed(index: usize, key: &str, channel: &str) -> RoutedRecord {
    RoutedRecord {
        key: Some(OrderingKey::partition_key(key)),
        ..one(index, channel)
    }
}

#[tokio::test(start_paused = true)]
async fn ordered_records_go_out_while_later_records_are_read_and_each_key_keeps_its_order() {
    // 2,000 records over 100 partition keys, each key publishing to its own channel: four
    // requests of five per key, one after another.
    let probe = probe(Duration::from_millis(20));
    let pulled = Arc::clone(&probe.pulled);
    let records = (0..2_000).map(move |i| {
        pulled.fetch_add(1, Ordering::SeqCst);
        keyed(i, &format!("k{}", i % 100), &format!("/c/{}", i % 100))
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let report = publish_records(records, &probe, &settings(), deadline).await;

    let read = probe.read_at_publish.lock().unwrap().clone();
    assert_eq!(read.len(), 400);
    assert!(
        read.iter().filter(|&&r| r < 2_000).count() >= settings().concurrency,
        "requests waited for the last record: {read:?}"
    );
    assert!(probe.overlapped.lock().unwrap().is_empty());
    let sent: Vec<(String, Vec<String>)> = probe
        .fake
        .requests()
        .into_iter()
        .map(|r| (r.channel, r.events))
        .collect();
    for key in 0..100 {
        let mine: Vec<&String> = sent
            .iter()
            .filter(|(c, _)| *c == format!("/c/{key}"))
            .flat_map(|(_, events)| events)
            .collect();
        let expected: Vec<String> = (0..2_000)
            .filter(|i| i % 100 == key)
            .map(|i| format!(r#"{{"n":{i}}}"#))
            .collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "key {key}");
    }
    assert!(failed_ids(&report).is_empty());
    assert_eq!(report.stats.events_published, 2_000);
}

#[tokio::test(start_paused = true)]
async fn in_a_large_batch_a_failure_stops_only_its_key() {
    // 1,000 records over 50 keys; one record of key k7 fails for good. k7's records go five to a
    // request: 507, 557, ... 707 share one, so 557 is accepted but reported failed; from 757 on
    // nothing of k7 is sent.
    let records: Vec<RoutedRecord> = (0..1_000)
        .map(|i| {
            let mut r = keyed(i, &format!("k{}", i % 50), &format!("/c/{}", i % 50));
            if i == 507 {
                r.routed = Ok(vec![routed("r", "/c/7", json!("poison"))]);
            }
            r
        })
        .collect();
    let fake = FakePublisher::new().fail_matching("poison", 400);
    let report = run(records, &fake).await;
    let expected: Vec<String> = (507..1_000).step_by(50).map(|i| format!("m{i}")).collect();
    assert_eq!(failed_ids(&report), expected);
    let key = || OrderingKey::partition_key("k7");
    assert_eq!(
        reasons(&report, 557),
        vec![FailureReason::AcceptedAfterKeyFailure {
            first: 507,
            key: key()
        }]
    );
    assert_eq!(
        reasons(&report, 757),
        vec![FailureReason::KeyFailedEarlier {
            first: 507,
            key: key()
        }]
    );
    let sent: Vec<String> = fake.requests().into_iter().flat_map(|r| r.events).collect();
    assert!(
        !sent.contains(&r#"{"n":757}"#.to_owned()),
        "a later request of k7 was sent"
    );
    assert!(
        sent.contains(&r#"{"n":999}"#.to_owned()),
        "other keys go on"
    );
    assert_eq!(report.stats.records_failed, 10);
}

/// `/a` answers 503 at once, `/b` never answers.
struct BusyB;

impl Publisher for BusyB {
    async fn publish(&self, channel: &str, _: &[&str]) -> Result<RawResponse, SendError> {
        if channel == "/b" {
            std::future::pending::<()>().await;
        }
        Ok(RawResponse {
            status: 503,
            body: br#"{"errors":[{"errorType":"Busy","message":"busy"}]}"#.to_vec(),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_the_deadline_cuts_off_keeps_its_failure_and_is_not_counted() {
    let settings = RelaySettings {
        concurrency: 1,
        ..settings()
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    let records = vec![one(0, "/a"), one(1, "/b")];
    let report = publish_records(records, &BusyB, &settings, deadline).await;
    assert_eq!(failed_ids(&report), vec!["m0", "m1"]);
    // m0 was sent and answered 503; its retry waited for the one permit until the deadline.
    let reason = &reasons(&report, 0)[0];
    let (last, why) = given_up(reason);
    assert_eq!(why, NotRetried::NoTimeLeft);
    assert!(
        matches!(last, EventError::Status { status: 503, .. }),
        "{last:?}"
    );
    assert_eq!(report.stats.latencies_ms.len(), 2, "two requests were sent");
    assert_eq!(report.stats.retries, 0, "the retry never started");
}

#[tokio::test(start_paused = true)]
async fn no_retry_starts_that_could_not_run_before_the_deadline() {
    // The backoff ends 20 ms before the deadline: too short a window for a request.
    let deadline = Instant::now() + Duration::from_millis(120);
    let fake = FakePublisher::new().script([Scripted::Status(503)]);
    let report = publish_records(vec![one(0, "/a")], &fake, &settings(), deadline).await;
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(given_up(&reasons(&report, 0)[0]).1, NotRetried::NoTimeLeft);
}
