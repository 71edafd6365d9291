//! The Lambda handler: the application built once at init, and one plain `async fn` per invocation
//! that answers the synchronous triggers (SQS, Kinesis, DynamoDB Streams, EventBridge Pipes) with
//! `batchItemFailures` and the asynchronous ones (EventBridge, SNS) with a summary or an error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_lambda_events::sqs::SqsBatchResponse;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use tokio::time::Instant;
use tracing::{Instrument, info, info_span, warn};

use crate::config::Config;
use crate::input::{Payload, Source, UnrecognisedPayload, read_payload};
use crate::metrics::{MetricsSink, emf_lines};
use crate::publish::send::HttpPublisher;
use crate::relay::{RelaySettings, relay};
use crate::report::{RecordFailure, RecordOutcome, Report};
use crate::rules::RuleSet;

/// Lambda's longest timeout; used when the context carries no deadline (a local run).
const NO_DEADLINE_BUDGET: Duration = Duration::from_secs(900);

/// 2001-09-09 in Unix milliseconds: a `deadline` below it is a relative timeout from a local
/// emulator, not a point in time.
const EPOCH_FLOOR_MS: u64 = 1_000_000_000_000;

/// Everything built once at init and borrowed by every invocation: rules, the pooled HTTP
/// client inside the publisher, and the (lazily loaded) credential provider.
#[derive(Debug)]
pub struct App {
    rules: RuleSet,
    publisher: HttpPublisher,
    settings: RelaySettings,
    deadline_margin: Duration,
    metrics: Metrics,
}

/// Where an invocation's EMF metrics go: the CloudWatch namespace and the sink (stdout in
/// Lambda).
#[derive(Debug)]
struct Metrics {
    namespace: String,
    sink: MetricsSink,
}

impl App {
    /// Builds the application from validated configuration. No network calls and no TLS roots
    /// loaded: the HTTP client and IAM credentials are built on the first publish that needs
    /// them, so init stays close to a bare runtime's (BENCHMARKS.md).
    pub fn new(config: Config) -> App {
        let publisher = HttpPublisher::lazy(&config.publish);
        App {
            rules: config.rules,
            publisher,
            settings: RelaySettings::from_tuning(&config.publish.tuning),
            deadline_margin: config.publish.tuning.deadline_margin,
            metrics: Metrics {
                namespace: config.publish.metrics_namespace,
                sink: MetricsSink::Stdout,
            },
        }
    }

    /// Signs with `provider` instead of the default AWS chain (tests, custom chains).
    pub fn with_credentials_provider(mut self, provider: SharedCredentialsProvider) -> App {
        self.publisher = self.publisher.with_credentials_provider(provider);
        self
    }

    /// A missing IAM credential says which sources the default chain tried and how to provide
    /// one (the CLI's `invoke`; in Lambda the execution role is the source).
    pub fn with_credentials_explained(mut self) -> App {
        self.publisher = self.publisher.with_credentials_explained();
        self
    }

    /// Sends the per-invocation EMF metrics lines elsewhere than stdout (off for the CLI's
    /// `invoke` and the demo, in memory for tests).
    pub fn with_metrics(mut self, sink: MetricsSink) -> App {
        self.metrics.sink = sink;
        self
    }
}

/// What an invocation answers its trigger; the runtime serialises it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// SQS, Kinesis, DynamoDB Streams and EventBridge Pipes:
    /// `{"batchItemFailures":[{"itemIdentifier":"<id>"}, ...]}`, exactly the failed records (the
    /// SQS `messageId`; a stream record's sequence number, or its `eventID` in a pipe).
    Batch(SqsBatchResponse),
    /// EventBridge and SNS, when everything was accepted: a small summary.
    Summary(Summary),
}

impl Answer {
    /// The `itemIdentifier`s of the records the trigger is told failed (none for a summary).
    pub fn failed_items(&self) -> Vec<&str> {
        match self {
            Answer::Batch(response) => response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect(),
            Answer::Summary(_) => Vec::new(),
        }
    }
}

impl std::fmt::Display for Answer {
    /// Compact JSON, as the trigger receives it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

/// The answer to an EventBridge or SNS invocation whose records were accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Records in the invocation (1 for EventBridge and SNS).
    pub records: u64,
    /// Events AppSync accepted.
    pub events_published: u64,
    /// Records no rule matched.
    pub unmatched: u64,
    /// Records that failed (0: a failure is a Lambda error instead).
    pub failed: u64,
}

/// Why an invocation is answered with a Lambda error.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is none of the shapes the bridge reads.
    #[error(transparent)]
    Payload(#[from] UnrecognisedPayload),
    /// The EventBridge event or SNS notification (or part of it) was not published; Lambda's
    /// async retries and the on-failure destination take over.
    #[error("event {id} failed: {reasons}")]
    EventFailed {
        /// The EventBridge event id, or the SNS `MessageId`.
        id: String,
        /// Every failure, `rule r channel c: reason; ...`.
        reasons: String,
    },
}

impl HandlerError {
    /// Stable error type names, shown by Lambda as `errorType` and matched by alarms.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Payload(_) => "UnrecognisedPayload",
            HandlerError::EventFailed { .. } => "EventFailed",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one invocation: parse, relay, log, emit metrics, answer per trigger.
///
/// The Lambda binary receives a [`Payload`] (a batch's records are read lazily, see
/// [`read_payload`]); tests and the CLI may pass a `serde_json::Value`.
pub async fn handle<T: Into<Payload>>(
    event: LambdaEvent<T>,
    app: &App,
) -> Result<Answer, HandlerError> {
    let (payload, context) = event.into_parts();
    let span = info_span!("invocation", request_id = %context.request_id);
    async move {
        let invocation = match read_payload(payload.into()) {
            Ok(invocation) => invocation,
            Err(e) => {
                let error = HandlerError::from(e);
                log_rejected(&error);
                return Err(error);
            }
        };
        let source = invocation.source;
        let deadline = deadline(context.deadline, app.deadline_margin);
        tracing::debug!(
            deadline_ms = context.deadline,
            budget_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis(),
            "invocation budget"
        );
        let report = relay(
            invocation,
            &app.rules,
            &app.publisher,
            &app.settings,
            deadline,
        )
        .await;
        log_report(source, &report);
        if app.metrics.sink.is_on() {
            emit_metrics(&app.metrics, &report);
        }
        answer(source, &report)
    }
    .instrument(span)
    .await
}

// The handler's future must stay `Send` (a runtime may move it between threads); the relay
// holds the batch's record iterator across awaits, so this depends on the input types too.
// A compile-time check: this block stops compiling if the future is not `Send`.
const _: () = {
    fn send<T: Send>(_: &T) {}
    #[allow(dead_code)]
    fn handler_future_is_send(event: LambdaEvent<Payload>, app: &App) {
        send(&handle(event, app));
    }
};

/// Lambda's deadline (ms since the epoch; 0 when unknown) minus the margin, as a tokio instant.
fn deadline(deadline_ms: u64, margin: Duration) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let budget = if deadline_ms == 0 {
        NO_DEADLINE_BUDGET
    } else if deadline_ms < EPOCH_FLOOR_MS {
        // Lambda sends an absolute time; `cargo lambda watch` sends the timeout itself
        // (`Lambda-Runtime-Deadline-Ms: 600000`). No real deadline lies before 2001.
        Duration::from_millis(deadline_ms).min(NO_DEADLINE_BUDGET)
    } else {
        Duration::from_millis(deadline_ms.saturating_sub(now_ms))
    };
    Instant::now() + budget.saturating_sub(margin)
}

/// A record's failures as one line: `rule r channel c: reason; ...`.
fn describe(failures: &[RecordFailure]) -> String {
    failures
        .iter()
        .map(RecordFailure::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn answer(source: Source, report: &Report) -> Result<Answer, HandlerError> {
    if source.answers_with_batch_item_failures() {
        let mut response = SqsBatchResponse::default();
        for record in report.failed() {
            response.add_failure(record.id.clone());
        }
        return Ok(Answer::Batch(response));
    }
    let failed = report.records.iter().find_map(|r| match &r.outcome {
        RecordOutcome::Failed(failures) => Some((r, failures)),
        _ => None,
    });
    match failed {
        Some((record, failures)) => Err(HandlerError::EventFailed {
            id: record.id.clone(),
            reasons: describe(failures),
        }),
        None => Ok(Answer::Summary(Summary {
            records: report.stats.records,
            events_published: report.stats.events_published,
            unmatched: report.stats.unmatched,
            failed: report.stats.records_failed,
        })),
    }
}

fn log_report(source: Source, report: &Report) {
    for record in &report.records {
        if let RecordOutcome::Failed(failures) = &record.outcome {
            let first = failures.first();
            warn!(
                record = %record.id,
                rule = first.and_then(|f| f.rule.as_deref()).unwrap_or("-"),
                channel = first.and_then(|f| f.channel.as_deref()).unwrap_or("-"),
                reason = %describe(failures),
                "record failed"
            );
        }
    }
    let s = &report.stats;
    if s.unlisted > 0 {
        // Accepted and counted, but nothing says AppSync broadcast them: a namespace handler that
        // drops events answers so (UNVERIFIED), and so might a change of AppSync's answer.
        warn!(
            unlisted = s.unlisted,
            "appsync accepted events without listing them as successful or failed"
        );
    }
    info!(
        source = ?source,
        records = s.records,
        events_published = s.events_published,
        unlisted = s.unlisted,
        records_failed = s.records_failed,
        retries = s.retries,
        unmatched = s.unmatched,
        "invocation done"
    );
}

/// The summary line of an invocation refused before any record was read: still one per
/// invocation, with the error type alarms match and what was expected.
fn log_rejected(error: &HandlerError) {
    warn!(
        error_type = error.error_type(),
        error = %error,
        "invocation rejected"
    );
}

fn emit_metrics(metrics: &Metrics, report: &Report) {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0);
    metrics
        .sink
        .write(emf_lines(&metrics.namespace, &report.stats, now_ms));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    use crate::publish::EventError;
    use crate::report::{FailureReason, RecordFailure, RecordReport};

    /// The answer as the runtime sends it.
    fn json(answer: Answer) -> Value {
        serde_json::to_value(answer).unwrap()
    }

    fn report(outcomes: Vec<RecordOutcome>) -> Report {
        Report {
            records: outcomes
                .into_iter()
                .enumerate()
                .map(|(i, outcome)| RecordReport {
                    index: i,
                    id: format!("m{i}"),
                    outcome,
                })
                .collect(),
            ..Report::default()
        }
    }

    /// A record failed by AppSync answering `status`.
    fn failure(status: u16) -> RecordOutcome {
        RecordOutcome::Failed(vec![RecordFailure {
            rule: Some("r".into()),
            channel: Some("/a/b".into()),
            reason: FailureReason::Event(EventError::Status {
                status,
                error_type: None,
                message: None,
            }),
        }])
    }

    #[test]
    fn sqs_lists_exactly_the_failed_records() {
        let r = report(vec![
            RecordOutcome::Delivered { events: 1 },
            failure(500),
            RecordOutcome::Unmatched,
            failure(503),
        ]);
        assert_eq!(
            json(answer(Source::Sqs, &r).unwrap()),
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        );
        let r = report(vec![RecordOutcome::Delivered { events: 1 }]);
        assert_eq!(
            json(answer(Source::Sqs, &r).unwrap()),
            json!({"batchItemFailures": []})
        );
    }

    #[test]
    fn an_eventbridge_failure_is_an_error_naming_rule_channel_and_reason() {
        let err = answer(Source::EventBridge, &report(vec![failure(400)])).unwrap_err();
        assert_eq!(err.error_type(), "EventFailed");
        let d: Diagnostic = err.into();
        assert_eq!(d.error_type, "EventFailed");
        assert_eq!(
            d.error_message,
            "event m0 failed: rule r channel /a/b: appsync answered http 400"
        );
    }

    #[test]
    fn eventbridge_success_is_a_summary() {
        let mut r = report(vec![RecordOutcome::Delivered { events: 2 }]);
        r.stats.records = 1;
        r.stats.events_published = 2;
        assert_eq!(
            json(answer(Source::EventBridge, &r).unwrap()),
            json!({"records": 1, "eventsPublished": 2, "unmatched": 0, "failed": 0})
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_keeps_the_margin_back_and_an_unknown_deadline_gets_a_budget() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let d = deadline(now_ms + 10_000, Duration::from_secs(1));
        let left = d - Instant::now();
        assert!(
            left <= Duration::from_secs(9) && left > Duration::from_secs(8),
            "{left:?}"
        );
        let d = deadline(0, Duration::from_secs(1));
        assert_eq!(d - Instant::now(), Duration::from_secs(899));
        let d = deadline(now_ms.saturating_sub(5), Duration::from_secs(1));
        assert_eq!(d, Instant::now());
    }

    #[tokio::test(start_paused = true)]
    async fn a_relative_deadline_from_cargo_lambda_watch_is_a_timeout_not_a_past_time() {
        let d = deadline(600_000, Duration::from_secs(1));
        assert_eq!(d - Instant::now(), Duration::from_secs(599));
    }
}
