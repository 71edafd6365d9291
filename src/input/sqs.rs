//! One SQS record → a [`Record`]: its id, message group and the event document rules see (the
//! body as an EventBridge envelope, other JSON or text, plus `sqs` metadata). The lazy reader
//! takes only the fields used here from each record's text ([`UsedFields`]).

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{InputError, Record};
use crate::json::kind;
use crate::ordering::OrderingKey;

/// The event source, when it is a string naming another service than SQS.
pub(super) fn foreign_source(source: Option<&Value>) -> Option<String> {
    let source = source?.as_str()?;
    (source != "aws:sqs").then(|| source.to_owned())
}

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

/// The SQS record fields [`sqs_record`] reads, as they would be in the record's `Value` map (the
/// last of duplicate keys wins, `null` is kept); every other field is skipped unparsed.
pub(super) struct UsedFields(pub(super) Map<String, Value>);

/// The keys of an SQS record that [`sqs_record`] reads.
const USED_FIELDS: [&str; 4] = ["messageId", "attributes", "body", "messageAttributes"];

impl<'de> Deserialize<'de> for UsedFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UsedFieldsVisitor;
        impl<'de> Visitor<'de> for UsedFieldsVisitor {
            type Value = UsedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an sqs record object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UsedFields, A::Error> {
                let mut used = Map::new();
                while let Some(UsedKey(key)) = map.next_key::<UsedKey>()? {
                    match key {
                        Some(key) => {
                            used.insert(key.to_owned(), map.next_value::<Value>()?);
                        }
                        None => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(UsedFields(used))
            }
        }
        deserializer.deserialize_map(UsedFieldsVisitor)
    }
}

/// A key of an SQS record: one of [`USED_FIELDS`], or `None` for any other key (read without
/// allocating it).
struct UsedKey(Option<&'static str>);

impl<'de> Deserialize<'de> for UsedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UsedKeyVisitor;
        impl Visitor<'_> for UsedKeyVisitor {
            type Value = UsedKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<UsedKey, E> {
                Ok(UsedKey(
                    USED_FIELDS.iter().copied().find(|used| *used == key),
                ))
            }
        }
        deserializer.deserialize_str(UsedKeyVisitor)
    }
}
