//! The `appsync-bridge` binary: the Lambda function when `AWS_LAMBDA_RUNTIME_API` is set (the
//! Runtime API is there), otherwise the laptop CLI.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        run_lambda().await
    } else {
        appsync_bridge::cli::run().await
    }
}

/// Init once (tracing, configuration, HTTP client, credentials), then serve invocations.
async fn run_lambda() -> ExitCode {
    unimplemented!("issue 4: lambda entry")
}
