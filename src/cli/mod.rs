//! The laptop CLI (the same binary when `AWS_LAMBDA_RUNTIME_API` is unset): `check`, `route`, `invoke`.
//!
//! Commands are plain functions of their arguments, a configuration [`Lookup`] and writers, so
//! tests run them without a process; [`run`] wires them to the real environment and stdio.
//!
//! Exit codes: `0` success; `1` a record failed (could not be read, could not be rendered,
//! unmatched under `unmatched: fail`, over AppSync's 240 KB event limit), the event file is
//! none of the payloads the bridge reads, or it is over a limit AWS enforces before the
//! function runs (Lambda's 6 MB payload, EventBridge's 256 KB event); `2` usage or configuration
//! error (bad arguments, invalid rules, an unreadable, non-UTF-8 or non-JSON event file).

mod check;
mod event_file;
mod invoke;
mod route;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Lookup, RulesDocument, env_lookup};
use crate::problem::Problem;
use crate::rules::RuleSet;
pub use check::{CheckArgs, check};
pub use invoke::{InvokeArgs, LOCAL_API_KEY, invoke};
pub use route::{RouteArgs, route};

/// How a command ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything routed or was dropped as unmatched.
    Ok,
    /// 1: a record failed, or the event file is not an invocation payload AWS would deliver.
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

/// appsync-bridge: forwards EventBridge, SQS, SNS, Kinesis, DynamoDB Streams and EventBridge Pipes
/// events to AWS AppSync Events channels.
///
/// In AWS Lambda (AWS_LAMBDA_RUNTIME_API set) this binary is the function. On a laptop it checks
/// rules, dry-runs routing, and invokes the real handler once against an endpoint. The rules
/// document comes from --rules, else from BRIDGE_RULES (inline YAML or JSON) or
/// BRIDGE_RULES_FILE (a path).
///
/// Exit codes: 0 ok; 1 a record failed, or the event file is none of the payloads the bridge
/// reads, or it is over Lambda's 6 MB payload or EventBridge's 256 KB event limit; 2 usage or
/// configuration error.
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
fn load_rules(
    flag: Option<&Path>,
    lookup: Lookup<'_>,
) -> Result<(RuleSet, RulesDocument), Vec<Problem>> {
    let document = load_document(flag, lookup)?;
    let rules = document.compile()?;
    Ok((rules, document))
}

/// The rules document from `--rules`, else from the environment contract, not yet compiled.
fn load_document(flag: Option<&Path>, lookup: Lookup<'_>) -> Result<RulesDocument, Vec<Problem>> {
    Ok(match flag {
        Some(path) => RulesDocument::from_file(path)?,
        // On a laptop the flag is what a user types; the variables are the Lambda's way.
        None if RulesDocument::none_given(lookup) => {
            return Err(vec![Problem::new(
                "--rules",
                "is required: give the rules document with --rules FILE (or set BRIDGE_RULES to the document, or BRIDGE_RULES_FILE to its path)",
            )]);
        }
        None => RulesDocument::from_lookup(lookup)?,
    })
}

#[cfg(test)]
mod tests;
