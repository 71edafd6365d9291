//! `route`: a dry run of one invocation payload — per record, the rules that matched with the
//! rendered channel and payload, or the record's error. Nothing is published.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use super::{Exit, config_error, finish, load_rules, plural, read_event_file};
use crate::config::Lookup;
use crate::input::{Source, read_payload};
use crate::limits::MAX_EVENT_BYTES;
use crate::route::route as route_document;

/// Payloads longer than this are shortened in `route` output unless `--full` is given.
const PREVIEW_CHARS: usize = 300;

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
