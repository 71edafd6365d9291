//! `route`: a dry run of one invocation payload — per record, the rules that matched with the
//! rendered channel and payload, or the record's error. Nothing is published.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use super::event_file::EventFile;
use super::{Exit, config_error, finish, load_rules, plural};
use crate::config::Lookup;
use crate::input::read_payload;
use crate::limits::MAX_EVENT_BYTES;
use crate::publish::EventError;
use crate::publish::batch::check_size;
use crate::relay::{outgoing, route_record};
use crate::report::{FailureReason, RecordFailure};

/// Payloads longer than this are shortened in `route` output unless `--full` is given.
const PREVIEW_CHARS: usize = 300;

/// Arguments of `route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// A Lambda invocation payload: an EventBridge event, an SQS, Kinesis, DynamoDB Streams or SNS
    /// batch, or an EventBridge Pipes array (`-` reads stdin)
    #[arg(value_name = "EVENT_FILE")]
    pub event_file: PathBuf,
    /// The rules document (YAML or JSON); default: BRIDGE_RULES or BRIDGE_RULES_FILE
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Print payloads in full instead of shortening long ones
    #[arg(long)]
    pub full: bool,
}

/// `route`: a dry run of one invocation payload.
pub fn route(
    args: &RouteArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (rules, origin) = match load_rules(args.rules.as_deref(), lookup) {
        Ok((rules, document)) => (rules, document.origin),
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
    // Routed all the same, so the dry run still shows what the rules do with it.
    let over_limit = file.over_limit();
    let records = match read_payload(file.payload) {
        Ok(records) => records,
        Err(e) => {
            let _ = writeln!(err, "error: {name}: {e}");
            return Exit::Failed;
        }
    };

    let mut tally = Tally::default();
    let written = (|| -> io::Result<()> {
        let source = records.source.name();
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
        if let Some(reason) = &over_limit {
            writeln!(
                out,
                "warning: {reason}; in AWS the function would never run"
            )?;
        }
        for (pos, record) in records.enumerate() {
            writeln!(out)?;
            let id = if record.id.is_empty() {
                "(none)"
            } else {
                &record.id
            };
            match &record.key {
                Some(key) => writeln!(
                    out,
                    "record {pos} id={id} {}={}",
                    key.kind.label(),
                    key.value
                )?,
                None => writeln!(out, "record {pos} id={id}")?,
            }
            // The relay's own routing and size check, so the dry run says what Lambda would do.
            match route_record(record, &rules).routed {
                Err(failure) => {
                    writeln!(out, "  error: {}", route_failure(&failure))?;
                    tally.failed += 1;
                }
                Ok(routed) if routed.is_empty() => {
                    writeln!(out, "  unmatched: dropped")?;
                    tally.unmatched += 1;
                }
                Ok(routed) => {
                    let mut oversized = false;
                    tally.events += routed.len();
                    for routed in routed {
                        let event = outgoing(pos, routed);
                        writeln!(out, "  {} -> {}", event.origin.rule, event.channel)?;
                        writeln!(out, "    {}", preview(&event.json, args.full))?;
                        if let Err(EventError::Oversized { bytes }) = check_size(&event) {
                            writeln!(
                                out,
                                "    error: event is {bytes} bytes, over AppSync's {MAX_EVENT_BYTES} byte limit; the record would fail at publish",
                            )?;
                            oversized = true;
                        }
                    }
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
    let exit = if tally.failed > 0 || over_limit.is_some() {
        Exit::Failed
    } else {
        Exit::Ok
    };
    finish(written, exit, err)
}

/// A record that fails before publishing, as the dry run prints it: what went wrong, led by the
/// rule for a channel that cannot be rendered.
fn route_failure(failure: &RecordFailure) -> String {
    match (&failure.reason, &failure.rule) {
        (FailureReason::Unreadable(e), _) => e.to_string(),
        (FailureReason::Render(e), Some(rule)) => format!("rule {rule}: {e}"),
        (FailureReason::Unmatched, _) => "no rule matched".to_owned(),
        (reason, _) => reason.to_string(),
    }
}

#[derive(Default)]
struct Tally {
    routed: usize,
    events: usize,
    unmatched: usize,
    failed: usize,
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

    #[test]
    fn long_payloads_are_previewed_unless_full() {
        let text = "x".repeat(PREVIEW_CHARS + 10);
        assert!(preview(&text, false).ends_with(&format!("… ({} bytes)", text.len())));
        assert_eq!(preview(&text, true), text);
    }
}
