//! Invocation payload → records: one EventBridge event or an SQS batch, each record turned
//! into the event document rules see (`../shared/design.md`, "The event document rules see").
//!
//! A record that cannot be read keeps its identity and carries its error, so it fails alone.

use serde_json::Value;

/// Which trigger delivered the invocation; decides the shape of the Lambda response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An EventBridge rule target (asynchronous invoke): one event per invocation.
    EventBridge,
    /// An SQS event source mapping (synchronous invoke): a batch of records.
    Sqs,
}

/// One record of the invocation, with its origin kept for failure reporting.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Position in the invocation (0 for EventBridge).
    pub index: usize,
    /// The SQS `messageId` (the `itemIdentifier` of `batchItemFailures`) or the EventBridge `id`.
    pub id: String,
    /// The FIFO `MessageGroupId`, when the queue is FIFO.
    pub group: Option<String>,
    /// The event document rules see, or why this record could not be read.
    pub document: Result<Value, InputError>,
}

/// The whole invocation, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The trigger.
    pub source: Source,
    /// Records in delivery order.
    pub records: Vec<Record>,
}

/// Why one record could not be turned into an event document. Never retryable: the record
/// fails and SQS redrives it to the dead-letter queue after `maxReceiveCount`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The SQS record has no usable body.
    #[error("record has no body")]
    MissingBody,
    /// The record is not an SQS message (for example a field has the wrong type).
    #[error("record is not an sqs message: {0}")]
    Malformed(String),
}

/// The invocation payload is neither an EventBridge event nor an SQS batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Says what was expected and what arrived.
    #[error("{0}")]
    Unrecognised(String),
}

/// Parses an invocation payload into records.
pub fn parse_invocation(_payload: Value) -> Result<Invocation, PayloadError> {
    unimplemented!("issue 2: input parsing")
}
