//! `invoke`: the real Lambda handler, once, on an event file, against the configured endpoint.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use lambda_runtime::{Context, LambdaEvent};

use super::{Exit, finish, read_event_file};
use crate::config::{Config, Lookup, RULES_FILE_VAR, RULES_VAR};
use crate::handler::{App, handle};
use crate::metrics::MetricsSink;

/// Arguments of `invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// A Lambda invocation payload: an EventBridge event, an SQS, Kinesis, DynamoDB Streams or SNS
    /// batch, or an EventBridge Pipes array (`-` reads stdin)
    #[arg(value_name = "EVENT_FILE")]
    pub event_file: PathBuf,
    /// The rules document (YAML or JSON); default: BRIDGE_RULES or BRIDGE_RULES_FILE
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// The AppSync Events HTTP endpoint; default: APPSYNC_HTTP_ENDPOINT
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The invocation's time budget, as a Lambda timeout would give it
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

/// `invoke`: the real handler, once, against the configured endpoint. Exit 0 when every record
/// was published (or dropped as unmatched), 1 when the response reports failures, 2 for
/// configuration errors.
pub async fn invoke(
    args: &InvokeArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let rules_file = args.rules.as_ref().map(|p| p.display().to_string());
    // Flags override the environment contract; everything else is read exactly as in Lambda.
    let overlay = |name: &str| -> Option<String> {
        match name {
            "APPSYNC_HTTP_ENDPOINT" if args.endpoint.is_some() => args.endpoint.clone(),
            RULES_FILE_VAR if rules_file.is_some() => rules_file.clone(),
            RULES_VAR if rules_file.is_some() => None,
            _ => lookup(name),
        }
    };
    let config = match Config::from_lookup(&overlay) {
        Ok(config) => config,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Exit::Usage;
        }
    };
    let app = App::new(config).with_metrics(MetricsSink::Off);
    let name = args.event_file.display().to_string();
    let payload = match read_event_file(&args.event_file) {
        Ok(payload) => payload,
        Err(message) => {
            let _ = writeln!(err, "error: {name}: {message}");
            return Exit::Usage;
        }
    };
    let mut context = Context::default();
    context.request_id = "cli-invoke".to_owned();
    context.deadline = SystemTime::now()
        .checked_add(Duration::from_secs(args.timeout))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let (written, exit) = match handle(LambdaEvent::new(payload, context), &app).await {
        Ok(response) => {
            let text = serde_json::to_string_pretty(&response).unwrap_or_default();
            let exit = if response.failed_items().is_empty() {
                Exit::Ok
            } else {
                Exit::Failed
            };
            (writeln!(out, "{text}"), exit)
        }
        Err(e) => {
            let text =
                serde_json::json!({ "errorType": e.error_type(), "errorMessage": e.to_string() });
            (writeln!(out, "{text:#}"), Exit::Failed)
        }
    };
    finish(written, exit, err)
}
