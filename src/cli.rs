//! The laptop CLI (the same binary when `AWS_LAMBDA_RUNTIME_API` is unset): `check`, `route`, `invoke`.

use std::process::ExitCode;

/// Parses the command line and runs the command.
pub async fn run() -> ExitCode {
    unimplemented!("issue 2: cli")
}
