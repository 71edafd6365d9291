//! Which trigger sent a `Records` batch, and which source an EventBridge Pipes element came
//! from: a record's `eventSource` (SNS spells it `EventSource`).
//!
//! A batch is told apart by its first record alone, read from its text without building the
//! record (Lambda never mixes sources in one invocation; probing every record would be a whole
//! extra pass over a 6 MB batch). A batch whose first record names a service the bridge does not
//! serve (S3, for example) is refused before anything is published: answering it with
//! `batchItemFailures` would silently lose its events. Every later record's source is checked
//! while the record is read anyway ([`named_in_value`]): one that names another service fails
//! alone.

use serde_json::Value;
use serde_json::value::RawValue;

use super::fields::used_fields;
use super::{Source, UnrecognisedPayload};

/// The service a record names in its `eventSource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Named {
    /// `aws:sqs`
    Sqs,
    /// `aws:kinesis`
    Kinesis,
    /// `aws:dynamodb`
    DynamoDb,
    /// `aws:sns`
    Sns,
    /// Anything else, as written.
    Other(String),
}

impl Named {
    fn from_value(source: Option<&Value>) -> Option<Named> {
        Some(match source?.as_str()? {
            "aws:sqs" => Named::Sqs,
            "aws:kinesis" => Named::Kinesis,
            "aws:dynamodb" => Named::DynamoDb,
            "aws:sns" => Named::Sns,
            other => Named::Other(other.to_owned()),
        })
    }

    pub(super) fn text(&self) -> &str {
        match self {
            Named::Sqs => "aws:sqs",
            Named::Kinesis => "aws:kinesis",
            Named::DynamoDb => "aws:dynamodb",
            Named::Sns => "aws:sns",
            Named::Other(other) => other,
        }
    }

    fn source(&self) -> Option<Source> {
        match self {
            Named::Sqs => Some(Source::Sqs),
            Named::Kinesis => Some(Source::Kinesis),
            Named::DynamoDb => Some(Source::DynamoDb),
            Named::Sns => Some(Source::Sns),
            Named::Other(_) => None,
        }
    }
}

/// The service a record's text names: its `eventSource` when present (even `null`), else its
/// `EventSource`, when that is a string. Read with the records' own field reader (the last of
/// repeated keys wins, as when the record is read), without building the record.
pub(super) fn named(text: &str) -> Option<Named> {
    let fields = used_fields(text, &["eventSource", "EventSource"]).ok()?;
    named_in_value(&Value::Object(fields))
}

/// [`named`] for a record held as a `Value` (whole, or the fields a reader took from its text).
pub(super) fn named_in_value(record: &Value) -> Option<Named> {
    Named::from_value(
        record
            .get("eventSource")
            .or_else(|| record.get("EventSource")),
    )
}

/// The trigger of a `Records` batch: the service its first record names, SQS when it names
/// none. A first record that names a service the bridge does not serve refuses the invocation.
pub(super) fn batch_source(records: &[Box<RawValue>]) -> Result<Source, UnrecognisedPayload> {
    source_of(records.first().and_then(|text| named(text.get())))
}

/// [`batch_source`] for records held as `Value`s.
#[cfg(test)]
pub(super) fn batch_source_of_values(records: &[Value]) -> Result<Source, UnrecognisedPayload> {
    source_of(records.first().and_then(named_in_value))
}

fn source_of(first: Option<Named>) -> Result<Source, UnrecognisedPayload> {
    match first {
        None => Ok(Source::Sqs),
        Some(name) => name
            .source()
            .ok_or_else(|| UnrecognisedPayload::got(format!("Records from {}", name.text()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(records: &[Value]) -> Vec<Box<RawValue>> {
        records
            .iter()
            .map(|r| RawValue::from_string(r.to_string()).unwrap())
            .collect()
    }

    fn both(records: &[Value]) -> Result<Source, String> {
        let lazy = batch_source(&texts(records)).map_err(|e| e.got);
        let held = batch_source_of_values(records).map_err(|e| e.got);
        assert_eq!(lazy, held, "{records:?}");
        lazy
    }

    #[test]
    fn a_batch_is_the_service_its_first_record_names() {
        assert_eq!(both(&[]), Ok(Source::Sqs));
        assert_eq!(both(&[json!({"body": "x"})]), Ok(Source::Sqs));
        assert_eq!(
            both(&[json!({"eventSource": "aws:kinesis"})]),
            Ok(Source::Kinesis)
        );
        assert_eq!(
            both(&[
                json!({"eventSource": "aws:dynamodb"}),
                json!({"eventSource": "aws:s3"})
            ]),
            Ok(Source::DynamoDb)
        );
        // A first record that names nothing is read as SQS; the later ones as SQS too.
        assert_eq!(
            both(&[json!({}), json!({"eventSource": "aws:dynamodb"})]),
            Ok(Source::Sqs)
        );
        assert_eq!(both(&[json!({"EventSource": "aws:sns"})]), Ok(Source::Sns));
        // `eventSource` wins when present, even as null.
        assert_eq!(
            both(&[json!({"eventSource": null, "EventSource": "aws:sns"})]),
            Ok(Source::Sqs)
        );
    }

    #[test]
    fn repeated_source_keys_are_read_as_the_record_reader_reads_them() {
        // `json!` cannot hold a repeated key, so the text is written out: the last one wins, for
        // the batch as for the record.
        let text = r#"{"eventSource":"aws:sqs","body":"x","eventSource":"aws:s3"}"#;
        let records = [RawValue::from_string(text.to_owned()).unwrap()];
        assert_eq!(
            batch_source(&records).map_err(|e| e.got),
            Err("Records from aws:s3".into())
        );
        let record: Value = serde_json::from_str(text).unwrap();
        assert_eq!(named_in_value(&record), named(text));
    }

    #[test]
    fn a_first_record_of_another_service_refuses_the_batch() {
        assert_eq!(
            both(&[
                json!({"eventSource": "aws:s3"}),
                json!({"eventSource": "aws:sqs"})
            ]),
            Err("Records from aws:s3".into())
        );
    }
}
