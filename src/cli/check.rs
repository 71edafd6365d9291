//! `check`: validates the rules document and prints what it does.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use super::{Exit, config_error, finish, load_document};
use crate::config::Lookup;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rules document (YAML or JSON); default: BRIDGE_RULES or BRIDGE_RULES_FILE
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Also write the valid document as compact JSON to this file (what `sam build` packages:
    /// read at init about twenty times faster than YAML)
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
}

/// `check`: validates the rules and prints what they do.
pub fn check(
    args: &CheckArgs,
    lookup: Lookup<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let document = match load_document(args.rules.as_deref(), lookup) {
        Ok(document) => document,
        Err(problems) => return config_error(problems, err),
    };
    let compiled = match &args.json_out {
        Some(_) => document
            .compile_with_json()
            .map(|(r, json)| (r, Some(json))),
        None => document.compile().map(|r| (r, None)),
    };
    let (rules, json) = match compiled {
        Ok(compiled) => compiled,
        Err(problems) => return config_error(problems, err),
    };
    let origin = &document.origin;
    if let (Some(path), Some(json)) = (&args.json_out, json)
        && let Err(e) = std::fs::write(path, json + "\n")
    {
        let _ = writeln!(err, "error: {}: cannot write: {e}", path.display());
        return Exit::Usage;
    }
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
        if let Some(path) = &args.json_out {
            writeln!(out, "compact json: {}", path.display())?;
        }
        writeln!(out, "ok")
    })();
    finish(written, Exit::Ok, err)
}
