//! The `appsync-bridge` binary: the Lambda function when `AWS_LAMBDA_RUNTIME_API` is set (the
//! Runtime API is there), otherwise the laptop CLI.

use std::process::ExitCode;

// mimalloc instead of glibc's malloc: reading a batch builds and drops a JSON tree per record,
// and glibc's allocator was a fifth of the function's CPU (BENCHMARKS.md, "CPU per event").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread runs the runtime, the relay and every request. A function at Lambda's smaller memory
// sizes gets a slice of one vCPU (a whole one only at 1,769 MB), and an invocation is handled
// alone, so a second worker thread adds nothing but cross-thread wake-ups: the whole-process CPU
// per event drops by a fifth (BENCHMARKS.md, "CPU per event"). Requests still overlap: they are
// I/O. The handler's future stays `Send` (checked in `handler.rs`) for callers on other runtimes.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        run_lambda().await
    } else {
        appsync_bridge::cli::run().await
    }
}

/// Init once (tracing, configuration, rules; the HTTP client and credentials wait for the first
/// publish), then serve invocations.
async fn run_lambda() -> ExitCode {
    use appsync_bridge::config::{Config, env_lookup};
    use appsync_bridge::handler::{App, handle};

    appsync_bridge::logging::init_lambda();
    // An init error (non-zero exit before the first invocation) makes Lambda report the message.
    let config = match Config::from_lookup(&env_lookup) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    let app = &App::new(config);
    // `Payload` reads an SQS batch record by record instead of as one JSON tree (memory).
    let service = lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<appsync_bridge::input::Payload>| {
            handle(event, app)
        },
    );
    match lambda_runtime::run(service).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
