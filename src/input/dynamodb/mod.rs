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

use serde_json::{Map, Value};

use super::fields::string_field;
use super::{Delivery, InputError, Record, arn};
use crate::json::kind;
use crate::ordering::OrderingKey;

/// The keys of a DynamoDB stream record that [`dynamodb_record`] reads, and the source it names
/// (checked by the reader).
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

/// One DynamoDB stream record → a [`Record`]. Never fails the batch: whatever is wrong stays
/// in this record. A record without its identifier keeps an empty id; Lambda treats an empty
/// `itemIdentifier` as a failure of the whole batch, so nothing is skipped.
pub(super) fn dynamodb_record(index: usize, record: Value, delivery: Delivery) -> Record {
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
    let mut stream = match record.remove("dynamodb") {
        Some(Value::Object(stream)) => stream,
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            let id = identity(&mut record, &mut Map::new(), delivery).unwrap_or_default();
            return fail(
                id,
                None,
                format!("dynamodb is {}, not an object", kind(&other)),
            );
        }
    };
    let id = match identity(&mut record, &mut stream, delivery) {
        Ok(id) => id,
        Err(problem) => return fail(String::new(), None, problem),
    };
    let keys = match stream.remove("Keys") {
        None | Some(Value::Null) => return fail(id, None, "dynamodb.Keys is missing".into()),
        Some(keys) => match attribute_value::unmarshal_item(keys, "dynamodb.Keys") {
            Ok(keys) => keys,
            Err(e) => return fail(id, None, e.to_string()),
        },
    };
    let key = OrderingKey::item(item_key(&keys));
    match document(record, stream, keys) {
        Ok(document) => Record {
            index,
            id,
            key: Some(key),
            document: Ok(document),
        },
        Err(problem) => fail(id, Some(key), problem),
    }
}

/// The record's identifier for the answer: `dynamodb.SequenceNumber` for Lambda, `eventID` for
/// a pipe. Leaves `eventID` and `SequenceNumber` in place for the metadata.
fn identity(
    record: &mut Map<String, Value>,
    stream: &mut Map<String, Value>,
    delivery: Delivery,
) -> Result<String, String> {
    let (map, name, path) = match delivery {
        Delivery::EventSourceMapping => (stream, "SequenceNumber", "dynamodb.SequenceNumber"),
        Delivery::Pipe => (record, "eventID", "eventID"),
    };
    match map.get(name) {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        Some(Value::String(_)) => Err(format!("{path} is empty")),
        None | Some(Value::Null) => Err(format!("{path} is missing")),
        Some(other) => Err(format!("{path} is {}, not a string", kind(other))),
    }
}

/// The item's keys as one text: compact JSON with the attribute names sorted, so the same item
/// always has the same key.
fn item_key(keys: &Map<String, Value>) -> String {
    let sorted: BTreeMap<&String, &Value> = keys.iter().collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// The event document, from the record's fields, the `dynamodb` object and the unmarshalled
/// keys.
fn document(
    mut record: Map<String, Value>,
    mut stream: Map<String, Value>,
    keys: Map<String, Value>,
) -> Result<Value, String> {
    let Some(event_name) = string_field(&mut record, "eventName")? else {
        return Err("eventName is missing".into());
    };
    let mut detail = Map::new();
    detail.insert("keys".into(), Value::Object(keys));
    for (field, name) in [("NewImage", "newImage"), ("OldImage", "oldImage")] {
        match stream.remove(field) {
            None | Some(Value::Null) => {}
            Some(image) => {
                let path = format!("dynamodb.{field}");
                let image =
                    attribute_value::unmarshal_item(image, &path).map_err(|e| e.to_string())?;
                detail.insert(name.into(), Value::Object(image));
            }
        }
    }
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
