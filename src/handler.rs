//! The Lambda handler: the application built once at init, and one plain `async fn` per invocation
//! that answers SQS with `batchItemFailures` and EventBridge with a summary or an error.
