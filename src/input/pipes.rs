//! One element of an EventBridge Pipes batch (a pipe with a Lambda target sends a JSON array of
//! its source's records) → a [`Record`]: an element that names `aws:sqs`, `aws:kinesis` or
//! `aws:dynamodb` as its `eventSource` is read as that source's record, answering with the
//! identifier the pipe matches (SQS `messageId`, Kinesis and DynamoDB `eventID`); any other
//! element (reshaped by the pipe's input transformer or enrichment) is an event document as it
//! stands, `{"detail": <element>}` when it is not an EventBridge envelope, identified by its own
//! `messageId` or `eventID` when it kept one.

use serde_json::Value;

use super::body::{is_envelope, wrap_detail};
use super::detect::Named;
use super::{Reader, Record};

/// What an element is read for in one pass over its text: the fields every source a pipe can
/// carry reads, and the source it names. An element that turns out to be no source's record is
/// read again, whole.
pub(super) const USED_FIELDS: &[&str] = &[
    "eventSource",
    "EventSource",
    // SQS
    "messageId",
    "attributes",
    "body",
    "messageAttributes",
    // Kinesis (Lambda's and a pipe's shape)
    "kinesis",
    "eventID",
    "eventSourceARN",
    "partitionKey",
    "sequenceNumber",
    "data",
    "approximateArrivalTimestamp",
    // DynamoDB
    "eventName",
    "awsRegion",
    "dynamodb",
    "userIdentity",
];

/// How an element is read, from the source it names.
pub(super) fn reader_for(named: Option<Named>) -> Option<Reader> {
    match named? {
        Named::Sqs => Some(Reader::Sqs),
        Named::Kinesis => Some(Reader::Kinesis(super::Delivery::Pipe)),
        Named::DynamoDb => Some(Reader::DynamoDb(super::Delivery::Pipe)),
        Named::Sns | Named::Other(_) => None,
    }
}

/// An element that is no source's record: the event document as it stands.
pub(super) fn other_element(index: usize, element: Value) -> Record {
    let id = ["messageId", "eventID"]
        .iter()
        .find_map(|name| element.get(*name).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let document = match element {
        Value::Object(map) if is_envelope(&map) => Value::Object(map),
        other => wrap_detail(other),
    };
    Record {
        index,
        id,
        key: None,
        document: Ok(document),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reshaped_element_is_a_document_identified_by_the_id_it_kept() {
        let record = other_element(2, json!({"messageId": "m-9", "order": "o-1"}));
        assert_eq!(record.id, "m-9");
        assert_eq!(
            record.document.unwrap(),
            json!({"detail": {"messageId": "m-9", "order": "o-1"}})
        );
        let envelope = json!({"eventID": "e-1", "source": "s", "detail-type": "t", "detail": {}});
        let record = other_element(0, envelope.clone());
        assert_eq!(record.id, "e-1");
        assert_eq!(record.document.unwrap(), envelope);
        let record = other_element(0, json!(42));
        assert_eq!(record.id, "");
        assert_eq!(record.document.unwrap(), json!({"detail": 42}));
    }
}
