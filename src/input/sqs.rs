//! One SQS record → a [`Record`]: its id, message group and the event document rules see (the
//! body as an EventBridge envelope, other JSON or text, plus `sqs` metadata). The lazy reader
//! takes only [`USED_FIELDS`] from each record's text.

use serde_json::{Map, Value};

use super::body::{body_document, with_metadata};
use super::{InputError, Record};
use crate::json::kind;
use crate::ordering::OrderingKey;

/// The keys of an SQS record that [`sqs_record`] reads, and the source it names (checked by the
/// reader).
pub(super) const USED_FIELDS: &[&str] = &[
    "messageId",
    "attributes",
    "body",
    "messageAttributes",
    "eventSource",
    "EventSource",
];

/// One SQS record → a [`Record`]. Never fails the batch: whatever is wrong stays in this record.
///
/// A record without a usable `messageId` keeps an empty id. The handler still lists it in
/// `batchItemFailures`; SQS treats an empty `itemIdentifier` as a failure of the whole batch, so
/// the batch is retried and nothing is deleted unprocessed. Real SQS always sends a messageId.
pub(super) fn sqs_record(index: usize, record: Value) -> Record {
    let Value::Object(mut record) = record else {
        return Record {
            index,
            id: String::new(),
            key: None,
            document: Err(InputError::Malformed(format!(
                "record is {}, not an object",
                kind(&record)
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
    let key = group.clone().map(OrderingKey::message_group);
    let document = match id_problem {
        Some(problem) => Err(InputError::Malformed(problem.to_owned())),
        None => match record.remove("body") {
            None | Some(Value::Null) => Err(InputError::MissingBody),
            Some(Value::String(body)) => {
                let sqs = sqs_metadata(
                    &id,
                    group.as_deref(),
                    std::mem::take(&mut attributes),
                    record.remove("messageAttributes"),
                );
                Ok(with_metadata(body_document(body), "sqs", sqs))
            }
            Some(other) => Err(InputError::Malformed(format!(
                "body is {}, not a string",
                kind(&other)
            ))),
        },
    };
    Record {
        index,
        id,
        key,
        document,
    }
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
