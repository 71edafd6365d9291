//! Which trigger sent a `Records` batch, and which source an EventBridge Pipes element came
//! from: each record's `eventSource` (SNS spells it `EventSource`), read from its text without
//! building the record. A batch that names a service the bridge does not serve (S3, for
//! example) is refused before anything is published: answering it with `batchItemFailures`
//! would silently lose its events.

use serde::de::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

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

    fn text(&self) -> &str {
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

/// What detecting the source needs from a record, read without building the record.
#[derive(serde::Deserialize)]
struct SourceProbe {
    #[serde(rename = "eventSource", default)]
    event_source: Present,
    #[serde(rename = "EventSource", default)]
    event_source_capitalised: Present,
}

/// A field that is present (even as `null`), unlike `Option`, which reads `null` as absent.
#[derive(Default)]
struct Present(Option<Value>);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|v| Present(Some(v)))
    }
}

/// The service a record's text names: its `eventSource` when present (even `null`), else its
/// `EventSource`, when that is a string.
pub(super) fn named(text: &str) -> Option<Named> {
    let probe = serde_json::from_str::<SourceProbe>(text).ok()?;
    Named::from_value(
        probe
            .event_source
            .0
            .as_ref()
            .or(probe.event_source_capitalised.0.as_ref()),
    )
}

/// [`named`] for a record held as a `Value`.
pub(super) fn named_in_value(record: &Value) -> Option<Named> {
    Named::from_value(
        record
            .get("eventSource")
            .or_else(|| record.get("EventSource")),
    )
}

/// The trigger of a `Records` batch: the service its records name (records that name none are
/// read as that service's), SQS when no record names one. A service the bridge does not serve,
/// or two services in one batch, refuse the invocation.
pub(super) fn batch_source(records: &[Box<RawValue>]) -> Result<Source, UnrecognisedPayload> {
    source_of(records.iter().map(|text| named(text.get())))
}

/// [`batch_source`] for records held as `Value`s.
#[cfg(test)]
pub(super) fn batch_source_of_values(records: &[Value]) -> Result<Source, UnrecognisedPayload> {
    source_of(records.iter().map(named_in_value))
}

fn source_of(names: impl Iterator<Item = Option<Named>>) -> Result<Source, UnrecognisedPayload> {
    let mut first: Option<Named> = None;
    for name in names.flatten() {
        if name.source().is_none() {
            return Err(UnrecognisedPayload::got(format!(
                "Records from {}",
                name.text()
            )));
        }
        match &first {
            None => first = Some(name),
            Some(seen) if *seen != name => {
                return Err(UnrecognisedPayload::got(format!(
                    "Records from both {} and {}",
                    seen.text(),
                    name.text()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(first.and_then(|n| n.source()).unwrap_or(Source::Sqs))
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
    fn a_batch_is_the_service_its_records_name() {
        assert_eq!(both(&[]), Ok(Source::Sqs));
        assert_eq!(both(&[json!({"body": "x"})]), Ok(Source::Sqs));
        assert_eq!(
            both(&[json!({"eventSource": "aws:kinesis"})]),
            Ok(Source::Kinesis)
        );
        assert_eq!(
            both(&[
                json!({}),
                json!({"eventSource": "aws:dynamodb"}),
                json!({"eventSource": 7})
            ]),
            Ok(Source::DynamoDb)
        );
        assert_eq!(both(&[json!({"EventSource": "aws:sns"})]), Ok(Source::Sns));
        // `eventSource` wins when present, even as null.
        assert_eq!(
            both(&[json!({"eventSource": null, "EventSource": "aws:sns"})]),
            Ok(Source::Sqs)
        );
    }

    #[test]
    fn another_service_or_two_services_refuse_the_batch() {
        assert_eq!(
            both(&[
                json!({"eventSource": "aws:sqs"}),
                json!({"eventSource": "aws:s3"})
            ]),
            Err("Records from aws:s3".into())
        );
        assert_eq!(
            both(&[
                json!({"eventSource": "aws:sqs"}),
                json!({"eventSource": "aws:kinesis"})
            ]),
            Err("Records from both aws:sqs and aws:kinesis".into())
        );
    }
}
