//! One DynamoDB Streams record → a [`Record`]: its identity (the sequence number for Lambda's
//! event source mapping, the `eventID` in an EventBridge Pipes batch), the item's keys as its
//! ordering key, and the event document rules see:
//!
//! ```json
//! {"source": "aws.dynamodb", "detail-type": "MODIFY", "id": "<eventID>", "time": "<creation>",
//!  "region": "…", "account": "…", "resources": ["<stream ARN>"],
//!  "detail": {"keys": {…}, "newImage": {…}, "oldImage": {…}},
//!  "dynamodb": {"tableName": "orders", "eventID": "…", "eventName": "MODIFY", "sequenceNumber": "…",
//!               "streamViewType": "NEW_AND_OLD_IMAGES", "approximateCreationDateTime": 1763805600, …}}
//! ```
//!
//! Images are unmarshalled from attribute-value JSON ([`attribute_value`]); an image the stream
//! does not carry (`KEYS_ONLY`, `NEW_IMAGE` on a `REMOVE`) is absent, not null.

mod attribute_value;
mod number;

use std::collections::BTreeMap;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{required_string, string_field};
use super::{Delivery, InputError, Record, arn};
use crate::json::kind;
use crate::ordering::OrderingKey;
use attribute_value::{ItemSeed, Problem};

/// The keys of a DynamoDB stream record that [`dynamodb_record`] reads, and the source it names
/// (checked by the reader). The lazy reader reads `dynamodb` ([`STREAM_FIELD`]) with
/// [`StreamSeed`].
pub(super) const USED_FIELDS: &[&str] = &[
    "eventID",
    "eventName",
    "eventSourceARN",
    "awsRegion",
    "dynamodb",
    "userIdentity",
    "eventSource",
    "EventSource",
];

/// The field the lazy reader reads with [`StreamSeed`], for its attribute values to be
/// unmarshalled as they are read.
pub(super) const STREAM_FIELD: &str = "dynamodb";

/// One DynamoDB stream record → a [`Record`]. `record` holds the record's fields; the `dynamodb`
/// object is `stream` when the lazy reader already read it ([`StreamSeed`]), else the record's
/// own `dynamodb` field. Never fails the
/// batch: whatever is wrong stays in this record. A record without its identifier keeps an
/// empty id; Lambda treats an empty `itemIdentifier` as a failure of the whole batch, so
/// nothing is skipped.
pub(super) fn dynamodb_record(
    index: usize,
    record: Value,
    stream: Option<Result<Stream, String>>,
    delivery: Delivery,
) -> Record {
    let fail = |id: String, key: Option<OrderingKey>, problem: String| Record {
        index,
        id,
        key,
        document: Err(InputError::NotDynamoDb(problem)),
    };
    let Value::Object(mut record) = record else {
        return fail(
            String::new(),
            None,
            format!("record is {}, not an object", kind(&record)),
        );
    };
    let stream = match stream {
        Some(stream) => Some(stream),
        None => record.remove(STREAM_FIELD).map(read_held),
    };
    let stream = match stream.transpose() {
        Ok(stream) => stream.unwrap_or_default(),
        Err(problem) => {
            let id = identity(&mut record, &Map::new(), delivery).unwrap_or_default();
            return fail(id, None, problem);
        }
    };
    let Stream {
        keys,
        new_image,
        old_image,
        mut fields,
    } = stream;
    let id = match identity(&mut record, &fields, delivery) {
        Ok(id) => id,
        Err(problem) => return fail(String::new(), None, problem),
    };
    let keys = match keys {
        None => return fail(id, None, "dynamodb.Keys is missing".into()),
        Some(Err(problem)) => return fail(id, None, problem.under("dynamodb.Keys").to_string()),
        Some(Ok(keys)) => keys,
    };
    let key = OrderingKey::item(item_key(&keys));
    let mut detail = Map::new();
    detail.insert("keys".into(), Value::Object(keys));
    for (image, field, name) in [
        (new_image, "NewImage", "newImage"),
        (old_image, "OldImage", "oldImage"),
    ] {
        match image {
            None => {}
            Some(Ok(image)) => {
                detail.insert(name.into(), Value::Object(image));
            }
            Some(Err(problem)) => {
                let at = format!("dynamodb.{field}");
                return fail(id, Some(key), problem.under(&at).to_string());
            }
        }
    }
    match document(record, &mut fields, detail) {
        Ok(document) => Record {
            index,
            id,
            key: Some(key),
            document: Ok(document),
        },
        Err(problem) => fail(id, Some(key), problem),
    }
}

/// A record's `dynamodb` object, read: the item's keys and images unmarshalled (or what is
/// wrong with them), the other fields the document uses as they are.
#[derive(Default)]
pub(super) struct Stream {
    keys: Option<Result<Map<String, Value>, Problem>>,
    new_image: Option<Result<Map<String, Value>, Problem>>,
    old_image: Option<Result<Map<String, Value>, Problem>>,
    /// `SequenceNumber`, `StreamViewType`, `ApproximateCreationDateTime`, `SizeBytes`.
    fields: Map<String, Value>,
}

/// Reads a `dynamodb` object held as a `Value`; what is wrong with its shape, in words.
fn read_held(value: Value) -> Result<Stream, String> {
    // A `Value` always deserializes; only a nesting deeper than serde_json's limit fails.
    StreamSeed
        .deserialize(value)
        .unwrap_or_else(|e| Err(e.to_string()))
}

/// The `dynamodb` object, read as it is deserialized (from the record's text by the lazy
/// reader, or from a `Value`); `null` reads as an empty one.
#[derive(Clone, Copy)]
pub(super) struct StreamSeed;

impl<'de> DeserializeSeed<'de> for StreamSeed {
    type Value = Result<Stream, String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StreamSeed {
    fn wrong(found: &str) -> Result<Stream, String> {
        Err(format!("dynamodb is {found}, not an object"))
    }
}

impl<'de> Visitor<'de> for StreamSeed {
    type Value = Result<Stream, String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the dynamodb object of a stream record")
    }

    /// A repeated field keeps its last value, as in a `Value` map.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut stream = Stream::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Keys" => stream.keys = map.next_value_seed(OptionalItem)?,
                "NewImage" => stream.new_image = map.next_value_seed(OptionalItem)?,
                "OldImage" => stream.old_image = map.next_value_seed(OptionalItem)?,
                "SequenceNumber"
                | "StreamViewType"
                | "ApproximateCreationDateTime"
                | "SizeBytes" => {
                    stream.fields.insert(key, map.next_value::<Value>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Ok(stream))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(Stream::default()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::wrong("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::wrong("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Self::wrong("a string"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::wrong("an array"))
    }
}

/// An item that may be `null` (absent, as an image the record does not carry).
struct OptionalItem;

impl<'de> DeserializeSeed<'de> for OptionalItem {
    type Value = Option<Result<Map<String, Value>, Problem>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptionalItem {
    type Value = Option<Result<Map<String, Value>, Problem>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of attribute values or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        ItemSeed.deserialize(deserializer).map(Some)
    }
}

/// The record's identifier for the answer: `dynamodb.SequenceNumber` for Lambda, `eventID` for
/// a pipe. Leaves `eventID` and `SequenceNumber` in place for the metadata.
fn identity(
    record: &mut Map<String, Value>,
    stream: &Map<String, Value>,
    delivery: Delivery,
) -> Result<String, String> {
    let (map, prefix, name): (&Map<String, Value>, _, _) = match delivery {
        Delivery::EventSourceMapping => (stream, "dynamodb.", "SequenceNumber"),
        Delivery::Pipe => (record, "", "eventID"),
    };
    required_string(map.get(name).cloned(), prefix, name)
}

/// The item's keys as one text: compact JSON with the attribute names sorted, so the same item
/// always has the same key.
fn item_key(keys: &Map<String, Value>) -> String {
    let sorted: BTreeMap<&String, &Value> = keys.iter().collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// The event document, from the record's fields, the `dynamodb` object's other fields and the
/// unmarshalled keys and images (`detail`).
fn document(
    mut record: Map<String, Value>,
    stream: &mut Map<String, Value>,
    detail: Map<String, Value>,
) -> Result<Value, String> {
    let Some(event_name) = string_field(&mut record, "eventName")? else {
        return Err("eventName is missing".into());
    };
    let event_id = string_field(&mut record, "eventID")?;
    let source_arn = string_field(&mut record, "eventSourceARN")?;
    let region = string_field(&mut record, "awsRegion")?;
    let created = stream.remove("ApproximateCreationDateTime");

    let mut metadata = Map::new();
    if let Some(table) = source_arn.as_deref().and_then(arn::table_name) {
        metadata.insert("tableName".into(), Value::String(table.to_owned()));
    }
    if let Some(id) = &event_id {
        metadata.insert("eventID".into(), Value::String(id.clone()));
    }
    metadata.insert("eventName".into(), Value::String(event_name.clone()));
    for (field, name) in [
        ("SequenceNumber", "sequenceNumber"),
        ("StreamViewType", "streamViewType"),
        ("SizeBytes", "sizeBytes"),
    ] {
        if let Some(value) = stream.remove(field).filter(|v| !v.is_null()) {
            metadata.insert(name.into(), value);
        }
    }
    if let Some(created) = created.clone().filter(|v| !v.is_null()) {
        metadata.insert("approximateCreationDateTime".into(), created);
    }
    if let Some(arn) = &source_arn {
        metadata.insert("eventSourceARN".into(), Value::String(arn.clone()));
    }
    if let Some(identity) = record.remove("userIdentity").filter(|v| !v.is_null()) {
        // Time to Live deletions: {"type": "Service", "principalId": "dynamodb.amazonaws.com"}.
        metadata.insert("userIdentity".into(), identity);
    }

    let mut document = Map::new();
    document.insert("source".into(), Value::String("aws.dynamodb".into()));
    document.insert("detail-type".into(), Value::String(event_name));
    if let Some(id) = event_id {
        document.insert("id".into(), Value::String(id));
    }
    if let Some(time) = created.as_ref().and_then(creation_time) {
        document.insert("time".into(), Value::String(time));
    }
    if let Some(region) = region {
        document.insert("region".into(), Value::String(region));
    }
    if let Some(account) = source_arn.as_deref().and_then(arn::account) {
        document.insert("account".into(), Value::String(account.to_owned()));
    }
    if let Some(arn) = source_arn {
        document.insert("resources".into(), Value::Array(vec![Value::String(arn)]));
    }
    document.insert("detail".into(), Value::Object(detail));
    document.insert("dynamodb".into(), Value::Object(metadata));
    Ok(Value::Object(document))
}

/// `ApproximateCreationDateTime` (seconds since the epoch, as Lambda delivers it) as an RFC 3339
/// time, like an EventBridge envelope's `time`; nothing for a value that is not a time.
fn creation_time(value: &Value) -> Option<String> {
    let seconds = value.as_f64().filter(|s| s.is_finite() && s.abs() < 1e12)?;
    let time = if seconds.fract() == 0.0 {
        aws_smithy_types::DateTime::from_secs(seconds as i64)
    } else {
        aws_smithy_types::DateTime::from_millis((seconds * 1000.0).round() as i64)
    };
    time.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

#[cfg(test)]
mod tests;
