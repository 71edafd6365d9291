//! One Kinesis record → a [`Record`]: its identity (the sequence number for Lambda's event
//! source mapping, the `eventID` in an EventBridge Pipes batch), its partition key as its
//! ordering key, and the event document rules see: `data` base64-decoded and read like an SQS
//! body (an EventBridge envelope, other JSON, or text), plus `kinesis` metadata.
//!
//! Lambda nests the record's own fields under `kinesis`; a pipe puts them at the top level of
//! each element. Both are read. Data that decodes to bytes that are not UTF-8 text (compressed
//! or binary records) stays base64 under `detail`; data that is not valid base64 fails its
//! record.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::body::{body_document, with_metadata, wrap_detail};
use super::fields::{required_string, string_field};
use super::{Delivery, InputError, Record, arn};
use crate::json::kind;
use crate::ordering::OrderingKey;

/// The keys of a Kinesis record that [`kinesis_record`] reads: Lambda's (`kinesis`, `eventID`,
/// `eventSourceARN`), a pipe's flattened fields, and the source it names (checked by the
/// reader).
pub(super) const USED_FIELDS: &[&str] = &[
    "kinesis",
    "eventID",
    "eventSourceARN",
    "partitionKey",
    "sequenceNumber",
    "data",
    "approximateArrivalTimestamp",
    "eventSource",
    "EventSource",
];

/// The fields of the record itself, under `kinesis` (Lambda) or at the top level (a pipe).
const RECORD_FIELDS: [&str; 4] = [
    "partitionKey",
    "sequenceNumber",
    "data",
    "approximateArrivalTimestamp",
];

/// One Kinesis record → a [`Record`]. Never fails the batch: whatever is wrong stays in this
/// record. A record without its identifier keeps an empty id; Lambda treats an empty
/// `itemIdentifier` as a failure of the whole batch, so nothing is skipped.
pub(super) fn kinesis_record(index: usize, record: Value, delivery: Delivery) -> Record {
    let fail = |id: String, key: Option<OrderingKey>, error: InputError| Record {
        index,
        id,
        key,
        document: Err(error),
    };
    let malformed = InputError::NotKinesis;
    let Value::Object(mut record) = record else {
        let problem = format!("record is {}, not an object", kind(&record));
        return fail(String::new(), None, malformed(problem));
    };
    let (mut fields, prefix) = match record.remove("kinesis") {
        Some(Value::Object(fields)) => (fields, "kinesis."),
        None | Some(Value::Null) => {
            let fields = RECORD_FIELDS
                .iter()
                .filter_map(|name| record.remove(*name).map(|v| ((*name).to_owned(), v)))
                .collect();
            (fields, "")
        }
        Some(other) => {
            let problem = format!("kinesis is {}, not an object", kind(&other));
            return fail(String::new(), None, malformed(problem));
        }
    };
    let take =
        |map: &mut Map<String, Value>, name: &str| required_string(map.remove(name), prefix, name);
    let sequence_number = take(&mut fields, "sequenceNumber");
    let id = match delivery {
        Delivery::EventSourceMapping => sequence_number.clone(),
        Delivery::Pipe => required_string(record.get("eventID").cloned(), "", "eventID"),
    };
    let event_id = string_field(&mut record, "eventID");
    let id = match id {
        Ok(id) => id,
        Err(problem) => return fail(String::new(), None, malformed(problem)),
    };
    let partition_key = match take(&mut fields, "partitionKey") {
        Ok(key) => key,
        Err(problem) => return fail(id, None, malformed(problem)),
    };
    let key = Some(OrderingKey::partition_key(partition_key.clone()));
    let data = match take(&mut fields, "data") {
        Ok(data) => data,
        Err(problem) => return fail(id, key, malformed(problem)),
    };
    let decoded = match STANDARD.decode(data.as_bytes()) {
        Ok(bytes) => bytes,
        Err(e) => return fail(id, key, InputError::BadBase64(describe(&e))),
    };
    let document = match String::from_utf8(decoded) {
        Ok(text) => body_document(text),
        Err(_) => wrap_detail(Value::String(data)),
    };

    let source_arn = string_field(&mut record, "eventSourceARN").ok().flatten();
    let event_id = event_id.ok().flatten();
    let mut metadata = Map::new();
    metadata.insert("partitionKey".into(), Value::String(partition_key));
    if let Ok(sequence_number) = sequence_number {
        metadata.insert("sequenceNumber".into(), Value::String(sequence_number));
    }
    if let Some(stream) = source_arn.as_deref().and_then(arn::stream_name) {
        metadata.insert("streamName".into(), Value::String(stream.to_owned()));
    }
    if let Some(shard) = event_id.as_deref().and_then(|id| id.split_once(':')) {
        metadata.insert("shardId".into(), Value::String(shard.0.to_owned()));
    }
    if let Some(id) = event_id {
        metadata.insert("eventID".into(), Value::String(id));
    }
    if let Some(arrival) = fields
        .remove("approximateArrivalTimestamp")
        .filter(|v| !v.is_null())
    {
        metadata.insert("approximateArrivalTimestamp".into(), arrival);
    }
    if let Some(arn) = source_arn {
        metadata.insert("eventSourceARN".into(), Value::String(arn));
    }
    Record {
        index,
        id,
        key,
        document: Ok(with_metadata(document, "kinesis", Value::Object(metadata))),
    }
}

/// A base64 error in words.
fn describe(error: &base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(offset, byte) => {
            format!(
                "invalid character {:?} at offset {offset}",
                char::from(*byte)
            )
        }
        base64::DecodeError::InvalidLength(length) => {
            format!("{length} symbols is not a valid length")
        }
        base64::DecodeError::InvalidLastSymbol(offset, byte) => {
            format!(
                "invalid last character {:?} at offset {offset}",
                char::from(*byte)
            )
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lambda_record(key: &str, sequence: &str, data: &str) -> Value {
        json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": key,
                "sequenceNumber": sequence,
                "data": data,
                "approximateArrivalTimestamp": 1_763_805_600.5
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000003:{sequence}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/bridge",
            "awsRegion": "eu-west-1",
            "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/market-data"
        })
    }

    fn b64(text: &str) -> String {
        STANDARD.encode(text)
    }

    #[test]
    fn data_is_decoded_and_read_like_a_body_with_kinesis_metadata() {
        let record = kinesis_record(
            0,
            lambda_record(
                "AAPL",
                "4950001",
                &b64(r#"{"symbol":"AAPL","price":231.4}"#),
            ),
            Delivery::EventSourceMapping,
        );
        assert_eq!(record.id, "4950001");
        assert_eq!(record.key, Some(OrderingKey::partition_key("AAPL")));
        assert_eq!(
            record.document.unwrap(),
            json!({
                "detail": {"symbol": "AAPL", "price": 231.4},
                "kinesis": {
                    "partitionKey": "AAPL",
                    "sequenceNumber": "4950001",
                    "streamName": "market-data",
                    "shardId": "shardId-000000000003",
                    "eventID": "shardId-000000000003:4950001",
                    "approximateArrivalTimestamp": 1_763_805_600.5,
                    "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/market-data"
                }
            })
        );
    }

    #[test]
    fn envelopes_stay_text_is_a_string_and_binary_data_stays_base64() {
        let envelope = json!({"source": "s", "detail-type": "t", "detail": {"a": 1}});
        let read = |data: String| {
            kinesis_record(
                0,
                lambda_record("k", "1", &data),
                Delivery::EventSourceMapping,
            )
            .document
            .unwrap()
        };
        let document = read(b64(&envelope.to_string()));
        assert_eq!(document["detail-type"], "t");
        assert_eq!(document["kinesis"]["partitionKey"], "k");
        assert_eq!(read(b64("HEARTBEAT ok"))["detail"], "HEARTBEAT ok");
        let binary = STANDARD.encode([0x1f, 0x8b, 0x08, 0x00, 0xff]);
        assert_eq!(read(binary.clone())["detail"], json!(binary));
    }

    #[test]
    fn a_pipe_element_is_flat_and_answers_with_its_event_id() {
        let element = json!({
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "ord-1",
            "sequenceNumber": "4960002",
            "data": b64("{\"a\":1}"),
            "approximateArrivalTimestamp": 1_763_805_600.25,
            "eventSource": "aws:kinesis",
            "eventID": "shardId-000000000001:4960002",
            "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
        });
        let record = kinesis_record(4, element, Delivery::Pipe);
        assert_eq!(record.index, 4);
        assert_eq!(record.id, "shardId-000000000001:4960002");
        assert_eq!(record.key, Some(OrderingKey::partition_key("ord-1")));
        let document = record.document.unwrap();
        assert_eq!(document["detail"], json!({"a": 1}));
        assert_eq!(document["kinesis"]["streamName"], "orders");
        assert_eq!(document["kinesis"]["sequenceNumber"], "4960002");
    }

    #[test]
    fn a_bad_record_fails_alone_keeping_what_identifies_it() {
        let summary = |record: Value, delivery| {
            let r = kinesis_record(0, record, delivery);
            (
                r.id,
                r.key.map(|k| k.value),
                r.document.map_err(|e| e.to_string()).err(),
            )
        };
        let esm = Delivery::EventSourceMapping;
        assert_eq!(
            summary(lambda_record("k", "7", "!!not base64"), esm),
            (
                "7".into(),
                Some("k".into()),
                Some("kinesis data is not valid base64: invalid character '!' at offset 0".into())
            )
        );
        let mut no_key = lambda_record("k", "8", &b64("x"));
        no_key["kinesis"]["partitionKey"] = Value::Null;
        assert_eq!(
            summary(no_key, esm),
            (
                "8".into(),
                None,
                Some("record is not a kinesis record: kinesis.partitionKey is missing".into())
            )
        );
        let mut no_sequence = lambda_record("k", "9", &b64("x"));
        no_sequence["kinesis"]["sequenceNumber"] = json!(9);
        assert_eq!(
            summary(no_sequence, esm),
            (
                String::new(),
                None,
                Some(
                    "record is not a kinesis record: kinesis.sequenceNumber is a number, not a string"
                        .into()
                )
            )
        );
        assert_eq!(
            summary(json!("text"), esm),
            (
                String::new(),
                None,
                Some("record is not a kinesis record: record is a string, not an object".into())
            )
        );
        assert_eq!(
            summary(json!({"kinesis": []}), esm).2,
            Some("record is not a kinesis record: kinesis is an array, not an object".into())
        );
    }
}
