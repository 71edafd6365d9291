//! Tracing set-up: plain text on a laptop, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, level from
//! `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG` (default `INFO`) — Lambda's advanced logging controls,
//! exactly what the runtime's own default subscriber reads, so we reuse it.

/// Installs the process-wide subscriber. Call once, first thing in the Lambda entry.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
