use super::*;
use crate::config::{Faults, Malformed, Scripted};

fn channel() -> ChannelPath {
    ChannelPath::concrete("/default/a").unwrap()
}

#[test]
fn rolls_with_the_same_seed_repeat_exactly() {
    let faults = Faults {
        throttle: 0.3,
        server_error: 0.2,
        event_failure: 0.1,
        drop_response: 0.1,
        malformed_response: 0.2,
        latency_ms: 0,
    };
    let config = Config {
        faults,
        seed: 7,
        ..Config::default()
    };
    let a = AppState::new(config.clone());
    let b = AppState::new(config);
    let rolls_a: Vec<Roll> = (0..50).map(|_| a.roll(5)).collect();
    let rolls_b: Vec<Roll> = (0..50).map(|_| b.roll(5)).collect();
    assert_eq!(rolls_a, rolls_b);
    assert!(rolls_a.contains(&Roll::Fail(429)));
    assert!(rolls_a.iter().any(|r| matches!(
        r,
        Roll::Accept {
            malformed: Some(_),
            ..
        }
    )));
}

#[test]
fn dropped_responses_follow_the_configured_rate() {
    let state = AppState::new(Config {
        faults: Faults {
            drop_response: 0.3,
            ..Faults::default()
        },
        ..Config::default()
    });
    let dropped = (0..1000)
        .filter(|_| {
            matches!(
                state.roll(1),
                Roll::Accept {
                    drop_response: true,
                    ..
                }
            )
        })
        .count();
    // ±5 standard deviations around 300.
    assert!((228..=372).contains(&dropped), "dropped: {dropped}");
}

#[test]
fn without_faults_every_roll_accepts_everything() {
    let state = AppState::new(Config::default());
    for _ in 0..100 {
        assert_eq!(
            state.roll(5),
            Roll::Accept {
                failed: vec![],
                drop_response: false,
                malformed: None,
            }
        );
    }
}

#[test]
fn accept_reports_failed_indices_and_logs_only_the_others() {
    let state = AppState::new(Config::default());
    let result = state.accept(
        &channel(),
        Fate::plan(vec!["1".into(), "2".into(), "3".into()], &[1], 503, &[]),
    );
    assert_eq!(
        result
            .successful
            .iter()
            .map(|s| s.index)
            .collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert_eq!(result.failed.len(), 1);
    assert_eq!((result.failed[0].index, result.failed[0].code), (1, 503));
    let accepted = state.accepted();
    assert_eq!(
        accepted
            .iter()
            .map(|e| e.event.as_str())
            .collect::<Vec<_>>(),
        vec!["1", "3"]
    );
    assert_eq!(accepted[0].channel, "/default/a");
    assert_eq!(accepted[0].identifier, result.successful[0].identifier);
}

#[test]
fn unlisted_events_are_in_neither_list_and_not_delivered() {
    let state = AppState::new(Config::default());
    let events = vec!["1".into(), "2".into(), "3".into()];
    let result = state.accept(&channel(), Fate::plan(events, &[2], 500, &[1]));
    let indices: Vec<usize> = result.successful.iter().map(|s| s.index).collect();
    assert_eq!(indices, vec![0]);
    assert_eq!(result.failed.len(), 1);
    assert_eq!(result.failed[0].index, 2);
    let delivered: Vec<String> = state.accepted().into_iter().map(|e| e.event).collect();
    assert_eq!(delivered, vec!["1"]);
}

#[test]
fn malformed_responses_follow_the_configured_rate_and_draw_every_shape() {
    let state = AppState::new(Config {
        faults: Faults {
            malformed_response: 0.5,
            ..Faults::default()
        },
        ..Config::default()
    });
    let shapes: Vec<Malformed> = (0..1000)
        .filter_map(|_| match state.roll(1) {
            Roll::Accept { malformed, .. } => malformed,
            Roll::Fail(_) => None,
        })
        .collect();
    // ±5 standard deviations around 500.
    assert!((420..=580).contains(&shapes.len()), "{}", shapes.len());
    for shape in Malformed::ALL {
        assert!(shapes.contains(&shape), "{shape:?} never drawn");
    }
}

#[test]
fn history_is_bounded_but_the_total_keeps_counting() {
    let state = AppState::new(Config {
        history: 2,
        ..Config::default()
    });
    for i in 0..5 {
        state.accept(&channel(), Fate::plan(vec![i.to_string()], &[], 500, &[]));
    }
    assert_eq!(state.accepted_total(), 5);
    let kept: Vec<String> = state.accepted().into_iter().map(|e| e.event).collect();
    assert_eq!(kept, vec!["3", "4"]);
    assert_eq!(state.recent(1)[0].event, "4");
}

#[tokio::test]
async fn wait_for_accepted_resolves_when_the_count_is_reached() {
    let state = AppState::new(Config::default());
    let waiter = tokio::spawn({
        let state = state.clone();
        async move { state.wait_for_accepted(2).await }
    });
    state.accept(&channel(), vec![("i1".into(), Fate::Deliver("1".into()))]);
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    state.accept(&channel(), vec![("i2".into(), Fate::Deliver("2".into()))]);
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
}

fn request(channel: &str) -> PublishRequest {
    PublishRequest {
        channel: channel.to_owned(),
        events: vec![],
        status: 200,
        auth: AuthOutcome::Open,
    }
}

#[test]
fn requests_are_listed_in_arrival_order_whatever_order_they_finish_in() {
    let state = AppState::new(Config::default());
    let (first, second, third) = (state.arrival(), state.arrival(), state.arrival());
    state.record_request(second, request("b"));
    state.record_request(third, request("c"));
    state.record_request(first, request("a"));
    let channels: Vec<String> = state.requests().into_iter().map(|r| r.channel).collect();
    assert_eq!(channels, vec!["a", "b", "c"]);
}

#[test]
fn out_of_range_buffer_and_keepalive_settings_are_clamped_instead_of_panicking() {
    let state = AppState::new(Config {
        subscriber_buffer: 0,
        keepalive: Duration::ZERO,
        ..Config::default()
    });
    assert_eq!(state.keepalive(), MIN_KEEPALIVE);
    let huge = AppState::new(Config {
        subscriber_buffer: usize::MAX,
        keepalive: Duration::MAX,
        ..Config::default()
    });
    assert_eq!(huge.keepalive(), MAX_KEEPALIVE);
}

#[test]
fn scripted_outcomes_come_out_in_order() {
    let state = AppState::new(Config::default());
    state.script([Scripted::Status(429), Scripted::Hang]);
    assert_eq!(state.begin_request(), (0, Some(Scripted::Status(429))));
    assert_eq!(state.begin_request(), (1, Some(Scripted::Hang)));
    assert_eq!(state.begin_request(), (2, None));
}
