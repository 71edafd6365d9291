//! Tracing set-up, one subscriber per way the binary runs.
//!
//! - In Lambda ([`init_lambda`]): plain text, or JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`; level
//!   from `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG` (default `INFO`). These are Lambda's advanced
//!   logging controls, exactly what the runtime's own default subscriber reads, so we reuse it.
//! - On a laptop ([`init_cli`]): to stderr, `warn` unless `RUST_LOG` says otherwise, so stdout
//!   keeps the command's own output.

/// Installs the Lambda subscriber. Call once, first thing in the Lambda entry.
pub fn init_lambda() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Installs the CLI subscriber: `invoke` logs one warn line per failed record, as in Lambda;
/// on a laptop they go to stderr.
pub fn init_cli() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}
