//! Tracing set-up: plain text on a laptop, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`.
