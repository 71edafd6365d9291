//! `invoke`: the real Lambda handler, once, on an event file, against the configured endpoint —
//! or, with `--local`, against appsync-local as the README starts it.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use lambda_runtime::{Context, LambdaEvent};

use super::event_file::EventFile;
use super::{Exit, config_error, finish, load_rules};
use crate::config::{Auth, Config, Endpoint, Lookup, PublishSettings};
use crate::handler::{App, handle};
use crate::metrics::MetricsSink;
use crate::problem::Problem;

/// The endpoint variable, which `--endpoint` and `--local` stand in for.
const ENDPOINT_VAR: &str = "APPSYNC_HTTP_ENDPOINT";

/// appsync-local's default endpoint (its default port, plain HTTP).
pub const LOCAL_ENDPOINT: &str = "http://127.0.0.1:8787/event";

/// The API key the README starts appsync-local with (a local development key, not a secret).
pub const LOCAL_API_KEY: &str = "da2-local";

/// The command that starts the local server `--local` talks to, for the hint when nothing
/// answers.
const LOCAL_SERVER_COMMAND: &str =
    "cargo run -p appsync-local -- --api-key da2-local --namespaces-from rules.yaml";

/// How long the check that something listens on a loopback endpoint waits.
const LOOPBACK_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

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
    /// The AppSync Events HTTP endpoint; default: APPSYNC_HTTP_ENDPOINT (with --local:
    /// http://127.0.0.1:8787/event)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Publish to appsync-local as the README starts it: API_KEY auth with the key da2-local, at
    /// http://127.0.0.1:8787/event unless --endpoint says otherwise (these win over APPSYNC_*
    /// variables)
    #[arg(long)]
    pub local: bool,
    /// The invocation's time budget, as a Lambda timeout would give it
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

/// `invoke`: the real handler, once, against the configured endpoint. Exit 0 when every record
/// was published (or dropped as unmatched), 1 when the response reports failures (or the
/// payload could never reach a Lambda function, or nothing listens on a loopback endpoint), 2
/// for configuration errors.
pub async fn invoke(
    args: &InvokeArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (config, origin) = match configure(args, lookup) {
        Ok(configured) => configured,
        Err(problems) => return config_error(problems, err),
    };
    let name = args.event_file.display().to_string();
    let file = match EventFile::read(&args.event_file) {
        Ok(file) => file,
        Err(message) => {
            let _ = writeln!(err, "error: {name}: {message}");
            return Exit::Usage;
        }
    };
    if let Some(reason) = file.over_limit() {
        let _ = writeln!(
            err,
            "error: {name}: {reason}; not invoked (`route` shows what the rules would do with it)"
        );
        return Exit::Failed;
    }
    let endpoint = &config.publish.endpoint;
    let _ = writeln!(
        err,
        "invoke: {name} with the rules in {origin} ({} rules), publishing to {} ({})",
        config.rules.len(),
        endpoint.url,
        auth_name(&config.publish.auth)
    );
    if let Err(message) = probe_loopback(endpoint).await {
        let _ = writeln!(err, "error: {message}");
        return Exit::Failed;
    }

    let app = App::new(config)
        .with_metrics(MetricsSink::Off)
        .with_credentials_explained();
    let mut context = Context::default();
    context.request_id = "cli-invoke".to_owned();
    context.deadline = SystemTime::now()
        .checked_add(Duration::from_secs(args.timeout))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let (written, exit) = match handle(LambdaEvent::new(file.payload, context), &app).await {
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

/// The configuration Lambda would read, with the flags standing in for the variables they
/// replace, and where the rules came from. Every problem is reported together, each naming
/// what the user typed: the flag when a flag supplied the value, else the variable.
fn configure(args: &InvokeArgs, lookup: Lookup<'_>) -> Result<(Config, String), Vec<Problem>> {
    let overlay = |name: &str| -> Option<String> {
        match name {
            ENDPOINT_VAR if args.endpoint.is_some() => args.endpoint.clone(),
            ENDPOINT_VAR if args.local => Some(LOCAL_ENDPOINT.to_owned()),
            "APPSYNC_AUTH_MODE" if args.local => Some("API_KEY".to_owned()),
            "APPSYNC_API_KEY" if args.local => Some(LOCAL_API_KEY.to_owned()),
            _ => lookup(name),
        }
    };
    let publish = PublishSettings::from_lookup(&overlay).map_err(|problems| {
        problems
            .into_iter()
            .map(|p| match p.location.as_str() {
                ENDPOINT_VAR if args.endpoint.is_some() => Problem::new("--endpoint", p.message),
                _ => p,
            })
            .collect::<Vec<_>>()
    });
    let rules = load_rules(args.rules.as_deref(), lookup);
    match (publish, rules) {
        (Ok(publish), Ok((rules, document))) => {
            Ok((Config { publish, rules }, document.origin.to_string()))
        }
        (publish, rules) => {
            let mut problems = publish.err().unwrap_or_default();
            problems.extend(rules.err().unwrap_or_default());
            Err(problems)
        }
    }
}

/// The auth mode as the configuration names it (never the secret).
fn auth_name(auth: &Auth) -> String {
    match auth {
        Auth::AwsIam { region } => format!("AWS_IAM, signing for {region}"),
        Auth::ApiKey(_) => "API_KEY".to_owned(),
        Auth::Token { mode, .. } => mode.name().to_owned(),
    }
}

/// For a loopback endpoint, whether anything listens there: a local server that is not running
/// would otherwise show up as every record failing after its retries, with a transport error.
async fn probe_loopback(endpoint: &Endpoint) -> Result<(), String> {
    if !endpoint.is_loopback() {
        return Ok(());
    }
    let target = endpoint.socket_authority();
    let connect = tokio::net::TcpStream::connect(target.as_str());
    match tokio::time::timeout(LOOPBACK_PROBE_TIMEOUT, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "nothing answers at {target} ({e}); start the local server first, in another terminal: {LOCAL_SERVER_COMMAND}"
        )),
        Err(_) => Err(format!(
            "{target} did not accept a connection within {} s; is the local server running? {LOCAL_SERVER_COMMAND}",
            LOOPBACK_PROBE_TIMEOUT.as_secs()
        )),
    }
}
