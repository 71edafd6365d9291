//! Tracing set-up, one subscriber per way the binary runs.
//!
//! - In Lambda ([`init_lambda`]): plain text, or JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`; level
//!   from `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG` (default `INFO`). These are Lambda's advanced
//!   logging controls, exactly what the runtime's own default subscriber reads, so we reuse it.
//! - On a laptop ([`init_cli`]): to stderr, the bridge's `warn` lines and other crates' errors
//!   unless `RUST_LOG` says otherwise, so stdout keeps the command's own output; colour only on
//!   a terminal.

/// Installs the Lambda subscriber. Call once, first thing in the Lambda entry.
pub fn init_lambda() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Installs the CLI subscriber: `invoke` logs one warn line per failed record, as in Lambda;
/// on a laptop they go to stderr. Other crates log at `error` only unless `RUST_LOG` says
/// otherwise: aws-config's credential chain warns once per provider and attempt with a
/// ~900-character dump, which the bridge's own message sums up (which sources were tried and
/// how to provide one). Colour only on a terminal, and never with `NO_COLOR` set.
pub fn init_cli() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(CLI_DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

/// The CLI's log filter when `RUST_LOG` is unset.
const CLI_DEFAULT_FILTER: &str = "error,appsync_bridge=warn";

/// Whether to colour what goes to `stream`: a terminal, and `NO_COLOR` unset
/// (<https://no-color.org>).
pub fn colour(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
