//! Invocation payload → records: one EventBridge event, a batch of SQS, Kinesis, DynamoDB
//! Streams or SNS records, or an EventBridge Pipes batch, each record turned into the event
//! document rules see (README, "The event document rules see"), with its identity for the
//! answer and its ordering key.
//!
//! One source per file: `sqs`, `kinesis`, `dynamodb` (with DynamoDB's attribute-value
//! unmarshalling), `sns`, `pipes`; `detect` tells the sources apart, `payload` keeps a batch as
//! one text per record, `fields` reads only the fields a source uses, `body` reads a message
//! body. A record that cannot be read keeps its identity and carries its error, so it
//! fails alone.

mod arn;
mod body;
mod detect;
mod dynamodb;
mod fields;
mod kinesis;
mod payload;
mod pipes;
mod sns;
mod sqs;
#[cfg(test)]
mod tests;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::json::kind;
use crate::ordering::OrderingKey;
use detect::Named;
use dynamodb::{Stream, StreamSeed, dynamodb_record};
use fields::{used_fields, used_fields_with};
use kinesis::kinesis_record;
pub use payload::Payload;
use payload::Shape;
use sns::sns_record;
use sqs::sqs_record;

/// Which trigger delivered the invocation; decides the shape of the Lambda response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An EventBridge rule target (asynchronous invoke): one event per invocation.
    EventBridge,
    /// An SQS event source mapping (synchronous invoke): a batch of records.
    Sqs,
    /// A Kinesis event source mapping (synchronous): a batch from one shard.
    Kinesis,
    /// A DynamoDB Streams event source mapping (synchronous): a batch from one shard.
    DynamoDb,
    /// An SNS subscription (asynchronous invoke): one notification per invocation.
    Sns,
    /// An EventBridge pipe with a Lambda target (synchronous): a JSON array of the pipe's
    /// source records, possibly reshaped.
    Pipes,
}

impl Source {
    /// The name `route` prints and logs show: `eventbridge`, `sqs`, `kinesis`, `dynamodb`,
    /// `sns`, `pipes`.
    pub fn name(self) -> &'static str {
        match self {
            Source::EventBridge => "eventbridge",
            Source::Sqs => "sqs",
            Source::Kinesis => "kinesis",
            Source::DynamoDb => "dynamodb",
            Source::Sns => "sns",
            Source::Pipes => "pipes",
        }
    }

    /// Whether the trigger takes a partial batch response (`batchItemFailures`); the others
    /// (EventBridge, SNS) invoke asynchronously and get a summary or a Lambda error.
    pub fn answers_with_batch_item_failures(self) -> bool {
        !matches!(self, Source::EventBridge | Source::Sns)
    }
}

/// One record of the invocation, with its origin kept for failure reporting.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Position in the invocation (0 for EventBridge).
    pub index: usize,
    /// What identifies the record in the answer: the `itemIdentifier` of `batchItemFailures`
    /// (SQS `messageId`; Kinesis and DynamoDB sequence number, or `eventID` in a pipe), or the
    /// id an error names (EventBridge `id`, SNS `MessageId`).
    pub id: String,
    /// What orders it among the invocation's records: an SQS FIFO message group, a Kinesis
    /// partition key, a DynamoDB item's keys; `None` for unordered records.
    pub key: Option<OrderingKey>,
    /// The event document rules see, or why this record could not be read.
    pub document: Result<Value, InputError>,
}

/// Why one record could not be turned into an event document. Never retryable: the record
/// fails, and the trigger's own retry (SQS redelivery, a stream's retries, Lambda's
/// asynchronous retries) decides what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The SQS record has no usable body.
    #[error("record has no body")]
    MissingBody,
    /// The record is not an SQS message (for example a field has the wrong type).
    #[error("record is not an sqs message: {0}")]
    Malformed(String),
    /// The record is not a Kinesis record.
    #[error("record is not a kinesis record: {0}")]
    NotKinesis(String),
    /// A Kinesis record's `data` is not valid base64.
    #[error("kinesis data is not valid base64: {0}")]
    BadBase64(String),
    /// The record is not a DynamoDB stream record (or an image holds something that is not an
    /// attribute value).
    #[error("record is not a dynamodb stream record: {0}")]
    NotDynamoDb(String),
    /// The record is not an SNS notification.
    #[error("record is not an sns notification: {0}")]
    NotSns(String),
    /// A pipe's element cannot be read as JSON (only a nesting deeper than serde_json's limit).
    #[error("record cannot be read as json: {0}")]
    Unparsable(String),
}

/// The invocation payload is none of the shapes the bridge reads: says what was expected and
/// what arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{EXPECTED}; got {got}")]
pub struct UnrecognisedPayload {
    /// What arrived instead, e.g. `Records from aws:s3` or `an object with hello`.
    pub got: String,
}

impl UnrecognisedPayload {
    fn got(got: impl Into<String>) -> Self {
        Self { got: got.into() }
    }
}

/// What an unrecognised payload is told it should have been.
const EXPECTED: &str = "expected an EventBridge event (detail-type, source, detail), a batch of Records from aws:sqs, aws:kinesis, aws:dynamodb or aws:sns, or an EventBridge Pipes batch (a JSON array)";

/// How a record reaches the function, which decides what identifies it in the answer: Lambda's
/// event source mapping answers with a stream record's sequence number, a pipe with its
/// `eventID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    EventSourceMapping,
    Pipe,
}

/// How the records of a batch are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Sqs,
    Kinesis(Delivery),
    DynamoDb(Delivery),
    Sns,
    /// An EventBridge Pipes element: read as the source it names, or as it stands.
    Pipe,
}

impl Reader {
    fn for_source(source: Source) -> Reader {
        match source {
            Source::Kinesis => Reader::Kinesis(Delivery::EventSourceMapping),
            Source::DynamoDb => Reader::DynamoDb(Delivery::EventSourceMapping),
            Source::Sns => Reader::Sns,
            Source::Pipes => Reader::Pipe,
            Source::Sqs | Source::EventBridge => Reader::Sqs,
        }
    }

    /// The fields the source reads from a record's text.
    fn used_fields(self) -> &'static [&'static str] {
        match self {
            Reader::Sqs => sqs::USED_FIELDS,
            Reader::Kinesis(_) => kinesis::USED_FIELDS,
            Reader::DynamoDb(_) => dynamodb::USED_FIELDS,
            Reader::Sns => sns::USED_FIELDS,
            Reader::Pipe => pipes::USED_FIELDS,
        }
    }

    /// The service the source's records name in `eventSource` (`EventSource` for SNS).
    fn names(self) -> Option<Named> {
        match self {
            Reader::Sqs => Some(Named::Sqs),
            Reader::Kinesis(_) => Some(Named::Kinesis),
            Reader::DynamoDb(_) => Some(Named::DynamoDb),
            Reader::Sns => Some(Named::Sns),
            Reader::Pipe => None,
        }
    }

    /// Reads a record held whole as a `Value`.
    fn read_value(self, index: usize, record: Value) -> Record {
        self.read_fields(index, record, None)
    }

    /// Reads a record from its fields (whole, or those [`Reader::used_fields`] names, with a
    /// DynamoDB record's `dynamodb` object already read into `stream`). A record that names
    /// another service than its batch's fails alone, keeping its identity.
    fn read_fields(
        self,
        index: usize,
        record: Value,
        stream: Option<Result<Stream, String>>,
    ) -> Record {
        let named = detect::named_in_value(&record);
        let mut read = match self {
            Reader::Sqs => sqs_record(index, record),
            Reader::Kinesis(delivery) => kinesis_record(index, record, delivery),
            Reader::DynamoDb(delivery) => dynamodb_record(index, record, stream, delivery),
            Reader::Sns => sns_record(index, record),
            Reader::Pipe => {
                return match pipes::reader_for(named) {
                    Some(reader) => reader.read_fields(index, record, stream),
                    None => pipes::other_element(index, record),
                };
            }
        };
        if let (Some(named), Some(expected)) = (named, self.names())
            && named != expected
        {
            let field = if self == Reader::Sns {
                "EventSource"
            } else {
                "eventSource"
            };
            read.document = Err(self.unreadable(format!("{field} is {}", named.text())));
        }
        read
    }

    /// Reads a record from its text, in one pass. Fast path: only the fields the source reads
    /// become JSON values; the rest is skipped without being allocated (a DynamoDB record's
    /// `dynamodb` object is unmarshalled straight from its text). Anything that is not an
    /// object takes the general path and its error; a pipe's element that is no source's record
    /// is read again, whole.
    fn read_text(self, index: usize, text: &str) -> Record {
        let read = match self {
            Reader::DynamoDb(_) | Reader::Pipe => {
                let stream = Some((dynamodb::STREAM_FIELD, StreamSeed));
                used_fields_with(text, self.used_fields(), stream)
            }
            reader => used_fields(text, reader.used_fields()).map(|fields| (fields, None)),
        };
        if let Ok((fields, stream)) = read {
            let fields = Value::Object(fields);
            let reader = match self {
                Reader::Pipe => pipes::reader_for(detect::named_in_value(&fields)),
                reader => Some(reader),
            };
            if let Some(reader) = reader {
                return reader.read_fields(index, fields, stream);
            }
        }
        match serde_json::from_str::<Value>(text) {
            Ok(record) => self.read_value(index, record),
            // The runtime already read this text as JSON; only a nesting deeper than
            // serde_json's limit can fail here.
            Err(e) => Record {
                index,
                id: String::new(),
                key: None,
                document: Err(self.unreadable(e.to_string())),
            },
        }
    }

    fn unreadable(self, problem: String) -> InputError {
        match self {
            Reader::Sqs => InputError::Malformed(problem),
            Reader::Kinesis(_) => InputError::NotKinesis(problem),
            Reader::DynamoDb(_) => InputError::NotDynamoDb(problem),
            Reader::Sns => InputError::NotSns(problem),
            Reader::Pipe => InputError::Unparsable(problem),
        }
    }
}

/// A payload without a `Records` array that is not an array either: one EventBridge event, or
/// what it should have been.
fn other_payload(payload: Value) -> Result<Records, UnrecognisedPayload> {
    let Value::Object(top) = payload else {
        return Err(UnrecognisedPayload::got(kind(&payload)));
    };
    if let Some(records) = top.get("Records") {
        // An array would have been read as a batch ([`Payload`]).
        return Err(UnrecognisedPayload::got(format!(
            "Records that is {}",
            kind(records)
        )));
    }
    if top.contains_key("detail-type") && top.contains_key("source") {
        let id = match top.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(other @ Value::Number(_)) => other.to_string(),
            _ => String::new(),
        };
        let record = Record {
            index: 0,
            id,
            key: None,
            document: Ok(Value::Object(top)),
        };
        return Ok(Records {
            source: Source::EventBridge,
            inner: RecordsInner::Parsed(vec![record].into_iter()),
        });
    }
    let mut keys: Vec<&str> = top.keys().map(String::as_str).take(8).collect();
    if keys.is_empty() {
        keys.push("no keys");
    }
    Err(UnrecognisedPayload::got(format!(
        "an object with {}",
        keys.join(", ")
    )))
}

/// An invocation whose records are read one at a time, as they are routed.
pub struct Records {
    /// The trigger.
    pub source: Source,
    inner: RecordsInner,
}

enum RecordsInner {
    Parsed(std::vec::IntoIter<Record>),
    Raw {
        reader: Reader,
        texts: std::iter::Enumerate<std::vec::IntoIter<Box<RawValue>>>,
    },
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        match &mut self.inner {
            RecordsInner::Parsed(records) => records.next(),
            RecordsInner::Raw { reader, texts } => texts
                .next()
                .map(|(index, text)| reader.read_text(index, text.get())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            RecordsInner::Parsed(records) => records.size_hint(),
            RecordsInner::Raw { texts, .. } => texts.size_hint(),
        }
    }
}

impl ExactSizeIterator for Records {}

/// Reads an invocation payload: the one reader, whether the runtime or a test made the
/// [`Payload`]. A batch's records are turned into documents lazily, as they are taken: only one
/// record's JSON tree exists at a time while the batch is routed.
pub fn read_payload(payload: Payload) -> Result<Records, UnrecognisedPayload> {
    match payload.0 {
        Shape::Other(value) => other_payload(value),
        Shape::Records(texts) => {
            let source = detect::batch_source(&texts)?;
            Ok(Records {
                source,
                inner: RecordsInner::Raw {
                    reader: Reader::for_source(source),
                    texts: texts.into_iter().enumerate(),
                },
            })
        }
        Shape::Array(texts) => Ok(Records {
            source: Source::Pipes,
            inner: RecordsInner::Raw {
                reader: Reader::Pipe,
                texts: texts.into_iter().enumerate(),
            },
        }),
    }
}
