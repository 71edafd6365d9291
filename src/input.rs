//! Invocation payload → records: one EventBridge event or an SQS batch, each record turned
//! into the event document rules see (`../shared/design.md`, "The event document rules see").
//!
//! A record that cannot be read keeps its identity and carries its error, so it fails alone.

use serde_json::{Map, Value};

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

/// What an unrecognised payload is told it should have been.
const EXPECTED: &str = "expected an EventBridge event (detail-type, source, detail) or an SQS batch (Records with eventSource aws:sqs)";

/// Parses an invocation payload into records.
///
/// Takes the payload by value and moves record bodies and envelopes out of it: a 6 MB batch is
/// parsed once, never copied.
pub fn parse_invocation(payload: Value) -> Result<Invocation, PayloadError> {
    let Value::Object(mut top) = payload else {
        return Err(PayloadError::Unrecognised(format!(
            "{EXPECTED}; got {}",
            describe(&payload)
        )));
    };
    if let Some(records) = top.remove("Records") {
        let Value::Array(records) = records else {
            return Err(PayloadError::Unrecognised(format!(
                "{EXPECTED}; got Records that is {}",
                describe(&records)
            )));
        };
        // Another trigger (SNS, S3, DynamoDB streams) also sends `Records`; answering it with
        // batchItemFailures would silently lose its events, so refuse the invocation instead.
        if let Some(other) = records.iter().find_map(foreign_event_source) {
            return Err(PayloadError::Unrecognised(format!(
                "{EXPECTED}; got Records from {other}"
            )));
        }
        let records = records
            .into_iter()
            .enumerate()
            .map(|(index, record)| sqs_record(index, record))
            .collect();
        return Ok(Invocation {
            source: Source::Sqs,
            records,
        });
    }
    if top.contains_key("detail-type") && top.contains_key("source") {
        let id = match top.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(other @ Value::Number(_)) => other.to_string(),
            _ => String::new(),
        };
        return Ok(Invocation {
            source: Source::EventBridge,
            records: vec![Record {
                index: 0,
                id,
                group: None,
                document: Ok(Value::Object(top)),
            }],
        });
    }
    let mut keys: Vec<&str> = top.keys().map(String::as_str).take(8).collect();
    if keys.is_empty() {
        keys.push("no keys");
    }
    Err(PayloadError::Unrecognised(format!(
        "{EXPECTED}; got an object with {}",
        keys.join(", ")
    )))
}

fn foreign_event_source(record: &Value) -> Option<String> {
    let source = record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))?
        .as_str()?;
    (source != "aws:sqs").then(|| source.to_owned())
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One SQS record → a [`Record`]. Never fails the batch: whatever is wrong stays in this record.
///
/// A record without a usable `messageId` keeps an empty id. The handler still lists it in
/// `batchItemFailures`; SQS treats an empty `itemIdentifier` as a failure of the whole batch, so
/// the batch is retried and nothing is deleted unprocessed. Real SQS always sends a messageId.
fn sqs_record(index: usize, record: Value) -> Record {
    let Value::Object(mut record) = record else {
        return Record {
            index,
            id: String::new(),
            group: None,
            document: Err(InputError::Malformed(format!(
                "record is {}, not an object",
                describe(&record)
            ))),
        };
    };
    let (id, id_problem) = match record.remove("messageId") {
        Some(Value::String(id)) if !id.is_empty() => (id, None),
        Some(Value::Number(n)) => (n.to_string(), Some("messageId is a number, not a string")),
        Some(Value::String(_)) => (String::new(), Some("messageId is empty")),
        Some(_) => (String::new(), Some("messageId is not a string")),
        None => (String::new(), Some("messageId is missing")),
    };
    let mut attributes = match record.remove("attributes") {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let group = match attributes.get("MessageGroupId") {
        Some(Value::String(g)) => Some(g.clone()),
        _ => None,
    };
    let document = match id_problem {
        Some(problem) => Err(InputError::Malformed(problem.to_owned())),
        None => match record.remove("body") {
            None | Some(Value::Null) => Err(InputError::MissingBody),
            Some(Value::String(body)) => {
                let mut document = body_document(body);
                let sqs = sqs_metadata(
                    &id,
                    group.as_deref(),
                    std::mem::take(&mut attributes),
                    record.remove("messageAttributes"),
                );
                if let Value::Object(map) = &mut document {
                    map.insert("sqs".to_owned(), sqs);
                }
                Ok(document)
            }
            Some(other) => Err(InputError::Malformed(format!(
                "body is {}, not a string",
                describe(&other)
            ))),
        },
    };
    Record {
        index,
        id,
        group,
        document,
    }
}

/// The body as the document rules see: an EventBridge envelope as itself, any other JSON under
/// `detail`, and text that is not JSON as a string under `detail`.
fn body_document(body: String) -> Value {
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(map))
            if map.contains_key("detail-type")
                && map.contains_key("source")
                && map.contains_key("detail") =>
        {
            Value::Object(map)
        }
        Ok(json) => wrap_detail(json),
        Err(_) => wrap_detail(Value::String(body)),
    }
}

fn wrap_detail(detail: Value) -> Value {
    let mut map = Map::new();
    map.insert("detail".to_owned(), detail);
    Value::Object(map)
}

/// `sqs`: what rules can route on. Message attributes are flattened to their string value (a
/// binary attribute gives its base64 text as SQS delivered it).
fn sqs_metadata(
    id: &str,
    group: Option<&str>,
    attributes: Map<String, Value>,
    message_attributes: Option<Value>,
) -> Value {
    let mut flat = Map::new();
    if let Some(Value::Object(map)) = message_attributes {
        for (name, attribute) in map {
            let value = match attribute {
                Value::Object(mut a) => match (a.remove("stringValue"), a.remove("binaryValue")) {
                    (Some(s @ Value::String(_)), _) => s,
                    (_, Some(b @ Value::String(_))) => b,
                    _ => Value::Null,
                },
                _ => Value::Null,
            };
            flat.insert(name, value);
        }
    }
    let mut sqs = Map::new();
    sqs.insert("messageId".to_owned(), Value::String(id.to_owned()));
    sqs.insert(
        "messageGroupId".to_owned(),
        group.map_or(Value::Null, |g| Value::String(g.to_owned())),
    );
    sqs.insert("attributes".to_owned(), Value::Object(attributes));
    sqs.insert("messageAttributes".to_owned(), Value::Object(flat));
    Value::Object(sqs)
}
