//! The laptop CLI (the same binary when `AWS_LAMBDA_RUNTIME_API` is unset): `check`, `route`, `invoke`.
//!
//! Commands are plain functions of their arguments, a configuration [`Lookup`] and writers, so
//! tests run them without a process; [`run`] wires them to the real environment and stdio.
//!
//! Exit codes: `0` success; `1` a record failed (could not be read, could not be rendered,
//! unmatched under `unmatched: fail`, over AppSync's 240 KB event limit) or the event file is
//! neither an EventBridge event nor an SQS batch; `2` usage or configuration error (bad
//! arguments, invalid rules, an unreadable or non-JSON event file).

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

use crate::config::{
    Config, ConfigError, Lookup, RULES_FILE_VAR, RULES_VAR, RulesDocument, env_lookup,
};
use crate::handler::{App, handle};
use crate::input::{Payload, Source, read_payload};
use crate::limits::MAX_EVENT_BYTES;
use crate::metrics::MetricsSink;
use crate::problem::Problem;
use crate::route::route as route_document;
use crate::rules::RuleSet;

/// Payloads longer than this are shortened in `route` output unless `--full` is given.
const PREVIEW_CHARS: usize = 300;

/// How a command ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything routed or was dropped as unmatched.
    Ok,
    /// 1: a record failed, or the event file is not an invocation payload.
    Failed,
    /// 2: bad arguments or configuration.
    Usage,
}

impl Exit {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// appsync-bridge: forwards EventBridge and SQS events to AWS AppSync Events channels.
///
/// In AWS Lambda (AWS_LAMBDA_RUNTIME_API set) this binary is the function. On a laptop it checks
/// rules, dry-runs routing, and invokes the real handler once against an endpoint. The rules document comes from --rules, else from BRIDGE_RULES
/// (inline YAML or JSON) or BRIDGE_RULES_FILE (a path).
///
/// Exit codes: 0 ok; 1 a record failed or the event file is neither an EventBridge event nor an
/// SQS batch; 2 usage or configuration error.
#[derive(Debug, Parser)]
#[command(name = "appsync-bridge", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the rules document and print a summary (rules, namespaces, channels, unmatched policy)
    Check(CheckArgs),
    /// Dry-run routing of an event file: per record, the rules that matched with the rendered
    /// channel and payload, or the record's error. Nothing is published.
    Route(RouteArgs),
    /// Run the real Lambda handler once on an event file against the configured AppSync
    /// endpoint (a real API with your AWS profile, or appsync-local) and print its response.
    /// Configuration comes from the environment contract (APPSYNC_HTTP_ENDPOINT,
    /// APPSYNC_AUTH_MODE, APPSYNC_API_KEY, ...); --endpoint and --rules override it.
    Invoke(InvokeArgs),
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rules document (YAML or JSON); default: BRIDGE_RULES or BRIDGE_RULES_FILE
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

/// Arguments of `route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// A Lambda invocation payload: one EventBridge event or an SQS batch (`-` reads stdin)
    #[arg(value_name = "EVENT_FILE")]
    pub event_file: PathBuf,
    /// The rules document (YAML or JSON); default: BRIDGE_RULES or BRIDGE_RULES_FILE
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Print payloads in full instead of shortening long ones
    #[arg(long)]
    pub full: bool,
}

/// Arguments of `invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// A Lambda invocation payload: one EventBridge event or an SQS batch (`-` reads stdin)
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

/// Parses the command line and runs the command.
pub async fn run() -> ExitCode {
    crate::logging::init_cli();
    let stdout = io::stdout();
    let stderr = io::stderr();
    run_with(
        std::env::args_os(),
        &env_lookup,
        &mut stdout.lock(),
        &mut stderr.lock(),
    )
    .await
    .into()
}

/// Runs the CLI with explicit arguments (program name first), configuration and output.
pub async fn run_with<I, T>(
    args: I,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that go to stdout with exit code 0.
            let text = e.render().to_string();
            return if e.use_stderr() {
                let _ = write!(err, "{text}");
                Exit::Usage
            } else {
                let _ = write!(out, "{text}");
                Exit::Ok
            };
        }
    };
    match cli.command {
        Command::Check(args) => check(&args, lookup, out, err),
        Command::Route(args) => route(&args, lookup, out, err),
        Command::Invoke(args) => invoke(&args, lookup, out, err).await,
    }
}

/// `check`: validates the rules and prints what they do.
pub fn check(
    args: &CheckArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (rules, origin) = match load_rules(args.rules.as_deref(), lookup) {
        Ok(loaded) => loaded,
        Err(problems) => return config_error(problems, err),
    };
    let written = (|| -> io::Result<()> {
        writeln!(out, "rules document: {origin}")?;
        let names: Vec<&str> = rules.names().collect();
        writeln!(out, "rules: {} ({})", rules.len(), names.join(", "))?;
        writeln!(out, "namespaces: {}", rules.namespaces().join(", "))?;
        writeln!(out, "channels:")?;
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        for rule in rules.rules() {
            let pattern = if rule.pattern.is_some() {
                ""
            } else {
                "  (no pattern: every event)"
            };
            writeln!(
                out,
                "  {:width$}  {}{pattern}",
                rule.name,
                rule.channel.source()
            )?;
        }
        writeln!(out, "unmatched: {}", rules.unmatched.as_str())?;
        writeln!(out, "ok")
    })();
    finish(written, Exit::Ok, err)
}

/// `route`: a dry run of one invocation payload.
pub fn route(
    args: &RouteArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (rules, origin) = match load_rules(args.rules.as_deref(), lookup) {
        Ok(loaded) => loaded,
        Err(problems) => return config_error(problems, err),
    };
    let name = args.event_file.display().to_string();
    let payload = match read_event_file(&args.event_file) {
        Ok(payload) => payload,
        Err(message) => {
            let _ = writeln!(err, "error: {name}: {message}");
            return Exit::Usage;
        }
    };
    let records = match read_payload(payload) {
        Ok(records) => records,
        Err(e) => {
            let _ = writeln!(err, "error: {name}: {e}");
            return Exit::Failed;
        }
    };

    let mut tally = Tally::default();
    let written = (|| -> io::Result<()> {
        let source = match records.source {
            Source::EventBridge => "eventbridge",
            Source::Sqs => "sqs",
        };
        writeln!(
            out,
            "rules document: {origin} ({} rules, unmatched: {})",
            rules.len(),
            rules.unmatched.as_str()
        )?;
        let count = records.len();
        writeln!(
            out,
            "event file: {name} ({source}, {count} record{})",
            plural(count)
        )?;
        for record in records {
            writeln!(out)?;
            let id = if record.id.is_empty() {
                "(none)"
            } else {
                &record.id
            };
            match &record.group {
                Some(group) => writeln!(out, "record {} id={id} group={group}", record.index)?,
                None => writeln!(out, "record {} id={id}", record.index)?,
            }
            let document = match &record.document {
                Ok(document) => document,
                Err(e) => {
                    writeln!(out, "  error: {e}")?;
                    tally.failed += 1;
                    continue;
                }
            };
            match route_document(&rules, document) {
                Err(e) => {
                    writeln!(out, "  error: {e}")?;
                    tally.failed += 1;
                }
                Ok(routed) if routed.is_empty() => {
                    writeln!(out, "  unmatched: dropped")?;
                    tally.unmatched += 1;
                }
                Ok(routed) => {
                    let mut oversized = false;
                    for event in &routed {
                        let text = event.payload.to_string();
                        writeln!(out, "  {} -> {}", event.rule, event.channel)?;
                        writeln!(out, "    {}", preview(&text, args.full))?;
                        if text.len() > MAX_EVENT_BYTES {
                            writeln!(
                                out,
                                "    error: event is {} bytes, over AppSync's {} byte limit; the record would fail at publish",
                                text.len(),
                                MAX_EVENT_BYTES
                            )?;
                            oversized = true;
                        }
                    }
                    tally.events += routed.len();
                    if oversized {
                        tally.failed += 1;
                    } else {
                        tally.routed += 1;
                    }
                }
            }
        }
        writeln!(out)?;
        writeln!(
            out,
            "summary: {count} record{}, {} routed ({} event{}), {} unmatched, {} failed",
            plural(count),
            tally.routed,
            tally.events,
            plural(tally.events),
            tally.unmatched,
            tally.failed
        )
    })();
    let exit = if tally.failed > 0 {
        Exit::Failed
    } else {
        Exit::Ok
    };
    finish(written, exit, err)
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
            let failed = response
                .get("batchItemFailures")
                .and_then(Value::as_array)
                .is_some_and(|failures| !failures.is_empty());
            let text = serde_json::to_string_pretty(&response).unwrap_or_default();
            let exit = if failed { Exit::Failed } else { Exit::Ok };
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

#[derive(Default)]
struct Tally {
    routed: usize,
    events: usize,
    unmatched: usize,
    failed: usize,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn finish(written: io::Result<()>, exit: Exit, err: &mut dyn Write) -> Exit {
    match written {
        Ok(()) => exit,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            Exit::Failed
        }
    }
}

fn config_error(problems: Vec<Problem>, err: &mut dyn Write) -> Exit {
    let _ = writeln!(err, "error: {}", ConfigError { problems });
    Exit::Usage
}

/// The rules from `--rules`, else from the environment contract, with a description of where
/// they came from.
fn load_rules(flag: Option<&Path>, lookup: Lookup<'_>) -> Result<(RuleSet, String), Vec<Problem>> {
    let document = match flag {
        Some(path) => RulesDocument::from_file(path)?,
        None => RulesDocument::from_lookup(lookup)?,
    };
    let rules = document.compile()?;
    Ok((rules, document.origin.to_string()))
}

/// The event file as a [`Payload`], read as the Lambda runtime reads an invocation.
fn read_event_file(path: &Path) -> Result<Payload, String> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?
    };
    serde_json::from_str(&text).map_err(|e| format!("is not JSON: {e}"))
}

/// Compact JSON, shortened to a preview unless `full`.
fn preview(text: &str, full: bool) -> String {
    if full || text.len() <= PREVIEW_CHARS {
        return text.to_owned();
    }
    let end = text.floor_char_boundary(PREVIEW_CHARS);
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "rules:\n  - name: orders\n    pattern: { source: [shop.orders] }\n    channel: /orders/{detail.customerId}\n";

    fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run_args(args: &[&str], lookup: Lookup<'_>) -> (Exit, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let exit = runtime.block_on(run_with(
            std::iter::once("appsync-bridge").chain(args.iter().copied()),
            lookup,
            &mut out,
            &mut err,
        ));
        (
            exit,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// `route <event> --rules <RULES>` with both written to a temporary directory.
    fn route_event(event_json: &str) -> (Exit, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let rules = write_file(dir.path(), "rules.yaml", RULES);
        let event = write_file(dir.path(), "event.json", event_json);
        run_args(
            &[
                "route",
                event.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
            ],
            &no_env,
        )
    }

    #[test]
    fn check_summarises_rules_from_the_environment() {
        let env = |name: &str| (name == RULES_VAR).then(|| RULES.to_owned());
        let (exit, out, _) = run_args(&["check"], &env);
        assert_eq!(exit, Exit::Ok);
        assert!(out.contains("rules document: BRIDGE_RULES"), "{out}");
        assert!(out.contains("rules: 1 (orders)"), "{out}");
        assert!(out.contains("namespaces: orders"), "{out}");
        assert!(out.contains("/orders/{detail.customerId}"), "{out}");
        assert!(out.contains("unmatched: drop"), "{out}");
    }

    #[test]
    fn check_reports_every_problem_and_exits_two() {
        let dir = tempfile::tempdir().unwrap();
        let rules = write_file(
            dir.path(),
            "bad.yaml",
            "rules:\n  - name: a\n    channel: /{x}/y\n  - name: a\n    channel: /n/z\n    extra: 1\n",
        );
        let (exit, _, err) = run_args(&["check", "--rules", rules.to_str().unwrap()], &no_env);
        assert_eq!(exit, Exit::Usage);
        assert!(err.contains("3 problems"), "{err}");
        assert!(err.contains("rules[0] (a).channel"), "{err}");
        assert!(err.contains("rules[1] (a).name"), "{err}");
        assert!(err.contains("rules[1] (a).extra"), "{err}");
    }

    #[test]
    fn check_without_rules_is_a_configuration_error() {
        let (exit, _, err) = run_args(&["check"], &no_env);
        assert_eq!(exit, Exit::Usage);
        assert!(err.contains("neither is set"), "{err}");
    }

    #[test]
    fn route_prints_channels_and_payloads_per_record() {
        let (exit, out, _) = route_event(
            r#"{"id":"e-1","source":"shop.orders","detail-type":"X","detail":{"customerId":"c-9"}}"#,
        );
        assert_eq!(exit, Exit::Ok, "{out}");
        assert!(out.contains("record 0 id=e-1"), "{out}");
        assert!(out.contains("orders -> /orders/c-9"), "{out}");
        assert!(out.contains(r#"{"customerId":"c-9"}"#), "{out}");
        assert!(
            out.contains("summary: 1 record, 1 routed (1 event), 0 unmatched, 0 failed"),
            "{out}"
        );
    }

    #[test]
    fn route_exits_one_when_a_record_fails() {
        let (exit, out, _) = route_event(
            r#"{"Records":[
                {"messageId":"m-1","eventSource":"aws:sqs","body":"{\"source\":\"shop.orders\",\"detail-type\":\"X\",\"detail\":{\"customerId\":\"a/b\"}}"},
                {"messageId":"m-2","eventSource":"aws:sqs","body":"hello"},
                {"eventSource":"aws:sqs","body":"{}"}
            ]}"#,
        );
        assert_eq!(exit, Exit::Failed, "{out}");
        assert!(out.contains("error: rule orders: channel segment"), "{out}");
        assert!(
            out.contains("record 1 id=m-2\n  unmatched: dropped"),
            "{out}"
        );
        assert!(
            out.contains(
                "record 2 id=(none)\n  error: record is not an sqs message: messageId is missing"
            ),
            "{out}"
        );
        assert!(
            out.contains("3 records, 0 routed (0 events), 1 unmatched, 2 failed"),
            "{out}"
        );
    }

    #[test]
    fn route_refuses_a_payload_of_another_shape_with_exit_one() {
        let (exit, _, err) = route_event(r#"{"hello":"world"}"#);
        assert_eq!(exit, Exit::Failed);
        assert!(err.contains("expected an EventBridge event"), "{err}");
    }

    #[test]
    fn route_with_an_unreadable_event_file_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let rules = write_file(dir.path(), "rules.yaml", RULES);
        let not_json = write_file(dir.path(), "event.json", "nope");
        for event in [not_json, dir.path().join("missing.json")] {
            let (exit, _, err) = run_args(
                &[
                    "route",
                    event.to_str().unwrap(),
                    "--rules",
                    rules.to_str().unwrap(),
                ],
                &no_env,
            );
            assert_eq!(exit, Exit::Usage, "{err}");
        }
    }

    #[test]
    fn help_goes_to_stdout_and_bad_arguments_exit_two() {
        let (exit, out, _) = run_args(&["--help"], &no_env);
        assert_eq!(exit, Exit::Ok);
        assert!(out.contains("check") && out.contains("route"), "{out}");
        let (exit, _, err) = run_args(&["route"], &no_env);
        assert_eq!(exit, Exit::Usage);
        assert!(err.contains("EVENT_FILE"), "{err}");
        let (exit, _, _) = run_args(&["frobnicate"], &no_env);
        assert_eq!(exit, Exit::Usage);
    }

    #[test]
    fn long_payloads_are_previewed_unless_full() {
        let text = "x".repeat(PREVIEW_CHARS + 10);
        assert!(preview(&text, false).ends_with(&format!("… ({} bytes)", text.len())));
        assert_eq!(preview(&text, true), text);
    }
}
