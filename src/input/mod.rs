//! Invocation payload → records: one EventBridge event or an SQS batch, each record turned
//! into the event document rules see (README, "The event document rules see").
//!
//! A record that cannot be read keeps its identity and carries its error, so it fails alone.

mod payload;
mod sqs;

use serde::de::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::json::kind;
use crate::ordering::OrderingKey;
pub use payload::Payload;
use payload::Shape;
use sqs::{UsedFields, foreign_source, sqs_record};

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
    /// What orders it among the invocation's records: the FIFO `MessageGroupId`, when the queue
    /// is FIFO; `None` for unordered records.
    pub key: Option<OrderingKey>,
    /// The event document rules see, or why this record could not be read.
    pub document: Result<Value, InputError>,
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

/// The invocation payload is neither an EventBridge event nor an SQS batch: says what was
/// expected and what arrived.
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
const EXPECTED: &str = "expected an EventBridge event (detail-type, source, detail) or an SQS batch (Records with eventSource aws:sqs)";

/// A payload without a `Records` array: one EventBridge event, or what it should have been.
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
    Raw(std::iter::Enumerate<std::vec::IntoIter<Box<RawValue>>>),
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        match &mut self.inner {
            RecordsInner::Parsed(records) => records.next(),
            RecordsInner::Raw(raw) => raw.next().map(|(index, text)| {
                // Fast path: only the four fields `sqs_record` reads become JSON values; the rest
                // (receipt handle, md5, ARN, ...) is skipped without being allocated. Anything
                // that is not an object takes the general path and its error.
                if let Ok(UsedFields(record)) = serde_json::from_str::<UsedFields>(text.get()) {
                    return sqs_record(index, Value::Object(record));
                }
                match serde_json::from_str::<Value>(text.get()) {
                    Ok(record) => sqs_record(index, record),
                    // The runtime already read this text as JSON; only a nesting deeper than
                    // serde_json's limit can fail here.
                    Err(e) => Record {
                        index,
                        id: String::new(),
                        key: None,
                        document: Err(InputError::Malformed(e.to_string())),
                    },
                }
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            RecordsInner::Parsed(records) => records.size_hint(),
            RecordsInner::Raw(raw) => raw.size_hint(),
        }
    }
}

impl ExactSizeIterator for Records {}

/// What detecting another trigger needs from a record, read without building the record.
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

/// Reads an invocation payload: the one reader, whether the runtime or a test made the
/// [`Payload`]. An SQS batch's records are turned into documents lazily, as they are taken:
/// only one record's JSON tree exists at a time while the batch is routed.
pub fn read_payload(payload: Payload) -> Result<Records, UnrecognisedPayload> {
    match payload.0 {
        Shape::Other(value) => other_payload(value),
        Shape::Records(raw) => {
            // Another trigger (SNS, S3, DynamoDB streams) also sends `Records`; answering it with
            // batchItemFailures would silently lose its events, so refuse the invocation before
            // anything is published.
            let foreign = raw.iter().find_map(|text| {
                let probe = serde_json::from_str::<SourceProbe>(text.get()).ok()?;
                foreign_source(
                    probe
                        .event_source
                        .0
                        .as_ref()
                        .or(probe.event_source_capitalised.0.as_ref()),
                )
            });
            if let Some(other) = foreign {
                return Err(UnrecognisedPayload::got(format!("Records from {other}")));
            }
            Ok(Records {
                source: Source::Sqs,
                inner: RecordsInner::Raw(raw.into_iter().enumerate()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A whole invocation, read: its trigger and every record.
    #[derive(Debug)]
    struct Invocation {
        source: Source,
        records: Vec<Record>,
    }

    /// Reads a payload held as a `Value`, as tests hold them.
    fn parse_invocation(payload: Value) -> Result<Invocation, UnrecognisedPayload> {
        read_payload(Payload::from(payload)).map(|records| Invocation {
            source: records.source,
            records: records.collect(),
        })
    }

    fn sample(name: &str) -> Invocation {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        parse_invocation(serde_json::from_str(&text).unwrap()).unwrap()
    }

    fn sqs_record_json(id: &str, body: Value) -> Value {
        json!({
            "messageId": id,
            "receiptHandle": "AQEB...",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q"
        })
    }

    #[test]
    fn an_eventbridge_event_is_one_record_whose_document_is_the_envelope() {
        let invocation = sample("eventbridge-order-status.json");
        assert_eq!(invocation.source, Source::EventBridge);
        assert_eq!(invocation.records.len(), 1);
        let record = &invocation.records[0];
        assert_eq!(record.index, 0);
        assert_eq!(record.id, "7f6c2a4e-1b2d-4c8e-9a51-3d0e5b8f2c10");
        assert_eq!(record.key, None);
        let document = record.document.as_ref().unwrap();
        assert_eq!(document["detail-type"], "OrderStatusChanged");
        assert_eq!(document["detail"]["customerId"], "cust-1042");
        assert!(document.get("sqs").is_none());
    }

    #[test]
    fn eventbridge_samples_parse() {
        for name in [
            "eventbridge-agent-presence.json",
            "eventbridge-unmatched.json",
        ] {
            let invocation = sample(name);
            assert_eq!(invocation.source, Source::EventBridge, "{name}");
            assert!(invocation.records[0].document.is_ok(), "{name}");
        }
    }

    #[test]
    fn sqs_bodies_that_are_envelopes_become_the_envelope_with_sqs_metadata() {
        let invocation = sample("sqs-eventbridge-envelopes.json");
        assert_eq!(invocation.source, Source::Sqs);
        assert_eq!(invocation.records.len(), 4);
        for (i, record) in invocation.records.iter().enumerate() {
            assert_eq!(record.index, i);
            let document = record.document.as_ref().unwrap();
            assert!(document.get("detail-type").is_some());
            assert_eq!(document["sqs"]["messageId"], json!(record.id));
            assert_eq!(document["sqs"]["messageGroupId"], Value::Null);
            assert_eq!(
                document["sqs"]["attributes"]["ApproximateReceiveCount"],
                "1"
            );
        }
        assert_eq!(
            invocation.records[0].id,
            "5b1c9a7e-0d3f-4e21-9a8b-7c6d5e4f3000"
        );
    }

    #[test]
    fn raw_json_bodies_go_under_detail_and_message_attributes_are_flattened() {
        let invocation = sample("sqs-raw-json.json");
        let document = invocation.records[1].document.as_ref().unwrap();
        assert_eq!(document["detail"]["symbol"], "BRK.B");
        assert_eq!(document["sqs"]["messageAttributes"]["kind"], "price-tick");
        assert_eq!(document["sqs"]["messageAttributes"]["feed"], "consolidated");
    }

    #[test]
    fn fifo_records_keep_their_order_and_group() {
        let invocation = sample("sqs-fifo-two-groups.json");
        let groups: Vec<Option<&str>> = invocation
            .records
            .iter()
            .map(|r| r.key.as_ref().map(|k| k.value.as_str()))
            .collect();
        assert_eq!(
            groups,
            [Some("A"), Some("B"), Some("A"), Some("B"), Some("A")]
        );
        let document = invocation.records[2].document.as_ref().unwrap();
        assert_eq!(document["sqs"]["messageGroupId"], "A");
        assert_eq!(document["detail"]["status"], "PACKED");
    }

    #[test]
    fn a_non_json_body_becomes_a_string_detail() {
        let invocation = sample("sqs-poison.json");
        assert_eq!(invocation.records.len(), 5);
        let document = invocation.records[1].document.as_ref().unwrap();
        assert_eq!(
            document["detail"],
            "PRICE AAPL 231.40 <truncated by upstream>"
        );
        assert_eq!(document["sqs"]["messageAttributes"]["kind"], "price-tick");
    }

    #[test]
    fn json_that_is_not_an_envelope_is_wrapped_even_when_it_is_not_an_object() {
        let payload = json!({"Records": [
            sqs_record_json("m-1", json!("[1,2]")),
            sqs_record_json("m-2", json!("{\"source\":\"x\",\"detail-type\":\"y\"}")),
            sqs_record_json("m-3", json!("\"quoted\"")),
        ]});
        let invocation = parse_invocation(payload).unwrap();
        let docs: Vec<&Value> = invocation
            .records
            .iter()
            .map(|r| r.document.as_ref().unwrap())
            .collect();
        assert_eq!(docs[0]["detail"], json!([1, 2]));
        // Without `detail` it is not an envelope.
        assert_eq!(docs[1]["detail"]["source"], "x");
        assert_eq!(docs[2]["detail"], "quoted");
    }

    #[test]
    fn one_malformed_record_fails_alone() {
        let payload = json!({"Records": [
            sqs_record_json("m-1", json!("{}")),
            {"eventSource": "aws:sqs", "body": "{}"},
            sqs_record_json("m-3", json!(42)),
            sqs_record_json("m-4", Value::Null),
            "not a record",
            {"messageId": 17, "body": "{}"},
            sqs_record_json("m-7", json!("{}")),
        ]});
        let invocation = parse_invocation(payload).unwrap();
        let summary: Vec<(&str, Result<(), String>)> = invocation
            .records
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.document.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("m-1", Ok(())),
                (
                    "",
                    Err("record is not an sqs message: messageId is missing".into())
                ),
                (
                    "m-3",
                    Err("record is not an sqs message: body is a number, not a string".into())
                ),
                ("m-4", Err("record has no body".into())),
                (
                    "",
                    Err("record is not an sqs message: record is a string, not an object".into())
                ),
                (
                    "17",
                    Err("record is not an sqs message: messageId is a number, not a string".into())
                ),
                ("m-7", Ok(())),
            ]
        );
    }

    #[test]
    fn other_payloads_say_what_was_expected() {
        for payload in [
            json!({"hello": "world"}),
            json!([1, 2]),
            json!({"Records": {}}),
            json!({"Records": [{"eventSource": "aws:sns", "Sns": {}}]}),
            json!({"Records": [{"EventSource": "aws:sns"}]}),
            json!({"source": "only-source"}),
        ] {
            let err = parse_invocation(payload.clone()).unwrap_err();
            assert!(
                err.to_string().starts_with(
                    "expected an EventBridge event (detail-type, source, detail) or an SQS batch (Records"
                ),
                "{payload}: {err}"
            );
        }
        let err = parse_invocation(json!({"Records": [{"eventSource": "aws:s3"}]})).unwrap_err();
        assert!(
            err.to_string().ends_with("got Records from aws:s3"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_batch_has_no_records() {
        let invocation = parse_invocation(json!({"Records": []})).unwrap();
        assert_eq!(invocation.source, Source::Sqs);
        assert!(invocation.records.is_empty());
    }

    /// The reference the reader is held against: the whole text as one `Value` (the last of
    /// duplicate keys wins, `null` is kept), every record through `sqs_record` whole, without
    /// the reader's field skipping and record-by-record texts.
    fn reference(text: &str) -> Result<Invocation, UnrecognisedPayload> {
        let value: Value = serde_json::from_str(text).unwrap();
        let Some(Value::Array(records)) = value.get("Records") else {
            return other_payload(value).map(|records| Invocation {
                source: records.source,
                records: records.collect(),
            });
        };
        let foreign = records.iter().find_map(|record| {
            foreign_source(
                record
                    .get("eventSource")
                    .or_else(|| record.get("EventSource")),
            )
        });
        if let Some(other) = foreign {
            return Err(UnrecognisedPayload::got(format!("Records from {other}")));
        }
        Ok(Invocation {
            source: Source::Sqs,
            records: records
                .iter()
                .cloned()
                .enumerate()
                .map(|(index, record)| sqs_record(index, record))
                .collect(),
        })
    }

    /// Both readings of the same text: the reader (what the Lambda binary uses) and the
    /// reference.
    type Lazy = Result<(Source, Vec<Record>), UnrecognisedPayload>;

    fn both(text: &str) -> (Lazy, Result<Invocation, UnrecognisedPayload>) {
        let payload: Payload = serde_json::from_str(text).unwrap();
        let lazy = read_payload(payload).map(|r| (r.source, r.collect::<Vec<_>>()));
        (lazy, reference(text))
    }

    fn assert_same(text: &str) {
        match both(text) {
            (Ok((source, records)), Ok(invocation)) => {
                assert_eq!(source, invocation.source, "{text}");
                assert_eq!(records, invocation.records, "{text}");
            }
            (Err(lazy), Err(eager)) => assert_eq!(lazy, eager, "{text}"),
            (lazy, eager) => panic!("readings disagree on {text}: {lazy:?} vs {eager:?}"),
        }
        // A `Value` holding the same document reads the same.
        let held = parse_invocation(serde_json::from_str(text).unwrap());
        match (held, reference(text)) {
            (Ok(held), Ok(invocation)) => assert_eq!(held.records, invocation.records, "{text}"),
            (Err(held), Err(eager)) => assert_eq!(held, eager, "{text}"),
            (held, eager) => {
                panic!("a held Value reads otherwise on {text}: {held:?} vs {eager:?}")
            }
        }
    }

    #[test]
    fn the_lazy_reader_gives_the_same_records_as_the_eager_parse_for_every_sample() {
        let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert_same(&text);
            seen += 1;
        }
        assert!(seen >= 7);
    }

    #[test]
    fn the_lazy_reader_keeps_sqs_batches_as_record_texts_and_other_payloads_as_values() {
        let text = sqs_batch_text(&[sqs_record_json("m1", json!("{\"a\":1}"))]);
        let payload: Payload = serde_json::from_str(&text).unwrap();
        assert!(matches!(&payload.0, Shape::Records(list) if list.len() == 1));
        let payload: Payload =
            serde_json::from_str(r#"{"detail-type":"x","source":"y","detail":{}}"#).unwrap();
        assert!(matches!(payload.0, Shape::Other(Value::Object(_))));
    }

    fn sqs_batch_text(records: &[Value]) -> String {
        json!({ "Records": records }).to_string()
    }

    #[test]
    fn the_lazy_reader_agrees_on_odd_and_wrong_payloads() {
        for text in [
            r#"{"Records": []}"#,
            r#"{"Records": {"not": "a list"}}"#,
            r#"{"Records": "text"}"#,
            r#"{"Records": null}"#,
            r#"{"other": 1, "Records": [{"messageId": "m1", "body": "x", "eventSource": "aws:sqs"}]}"#,
            r#"{"Records": [1, "two", null, [3], {"messageId": "m5", "body": "{}"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "eventSource": "aws:sns"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "EventSource": "aws:sns"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "eventSource": null, "EventSource": "aws:sns"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "eventSource": 7}]}"#,
            r#"{"Records": [{"messageId": 12, "body": "x"}, {"body": "y"}, {"messageId": "m3"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x"}], "Records": [{"messageId": "m2", "body": "y"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x"}], "Records": "text"}"#,
            r#"{"Records": "text", "Records": [{"messageId": "m2", "body": "y"}]}"#,
            r#"[1, 2]"#,
            r#""text""#,
            r#"42"#,
            r#"-4.5"#,
            r#"true"#,
            r#"null"#,
            r#"{}"#,
        ] {
            assert_same(text);
        }
    }

    #[test]
    fn skipping_unused_record_fields_changes_no_record() {
        // The lazy reader reads only the fields it uses; duplicates (the last wins), escaped
        // keys, nulls and odd types must come out as from the whole record's `Value`.
        for text in [
            r#"{"Records": [{"messageId": "m1", "messageId": "m2", "body": "{\"a\":1}"}]}"#,
            r#"{"Records": [{"\u006dessageId": "m1", "b\u006fdy": "x", "receiptHandle": "r"}]}"#,
            r#"{"Records": [{"messageId": null, "body": "x"}, {"messageId": "m2", "body": null}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": 3}, {"messageId": "", "body": "x"}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "attributes": {"MessageGroupId": "g"}, "attributes": 4}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "x", "attributes": {"MessageGroupId": "g"}, "messageAttributes": {"k": {"stringValue": "v"}}, "md5OfBody": {"deep": [[{}]]}}]}"#,
            r#"{"Records": [{"messageId": "m1", "body": "{\"detail-type\":\"t\",\"source\":\"s\",\"detail\":{}}", "messageAttributes": null}]}"#,
        ] {
            assert_same(text);
        }
    }

    #[test]
    fn the_lazy_reader_reads_records_only_as_they_are_taken() {
        let records: Vec<Value> = (0..3)
            .map(|i| sqs_record_json(&format!("m{i}"), json!("{\"a\":1}")))
            .collect();
        let payload: Payload = serde_json::from_str(&sqs_batch_text(&records)).unwrap();
        let mut lazy = read_payload(payload).unwrap();
        assert_eq!(lazy.size_hint(), (3, Some(3)));
        assert_eq!(lazy.next().map(|r| r.id), Some("m0".to_owned()));
        assert_eq!(lazy.size_hint(), (2, Some(2)));
    }
}
