//! A bare `lambda_runtime` hello-world: the baseline the bridge's init time is compared with
//! (`scripts/bench.sh`, BENCHMARKS.md). Built with the same release profile as the bridge.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

async fn hello(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(serde_json::json!({ "hello": event.payload.get("name").cloned().unwrap_or(Value::Null) }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(hello)).await
}
