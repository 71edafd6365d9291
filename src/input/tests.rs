//! The input reader's tests: every source's records, what a bad record carries, and the lazy
//! reader (one text per record, only the used fields) against an eager reading of the whole
//! payload as one `Value`.

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
        .map(|r| {
            r.key.as_ref().map(|k| {
                assert_eq!(k.kind, crate::ordering::KeyKind::MessageGroup);
                k.value.as_str()
            })
        })
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
        json!({"Records": {}}),
        json!({"Records": [{"eventSource": "aws:s3", "s3": {}}]}),
        json!({"Records": [{"EventSource": "aws:ses"}]}),
        json!({"source": "only-source"}),
        json!("text"),
    ] {
        let err = parse_invocation(payload.clone()).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "expected an EventBridge event (detail-type, source, detail), a batch of Records from aws:sqs, aws:kinesis, aws:dynamodb or aws:sns, or an EventBridge Pipes batch (a JSON array); got "
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
/// duplicate keys wins, `null` is kept), every record through its source's reader whole, without
/// the reader's field skipping and record-by-record texts.
fn reference(text: &str) -> Result<Invocation, UnrecognisedPayload> {
    let value: Value = serde_json::from_str(text).unwrap();
    let whole = |value: Value| {
        other_payload(value).map(|records| Invocation {
            source: records.source,
            records: records.collect(),
        })
    };
    let (source, reader, records) = match value {
        Value::Array(elements) => (Source::Pipes, Reader::Pipe, elements),
        Value::Object(mut top) => match top.remove("Records") {
            Some(Value::Array(records)) => {
                let source = detect::batch_source_of_values(&records)?;
                (source, Reader::for_source(source), records)
            }
            Some(other) => {
                top.insert("Records".into(), other);
                return whole(Value::Object(top));
            }
            None => return whole(Value::Object(top)),
        },
        other => return whole(other),
    };
    Ok(Invocation {
        source,
        records: records
            .into_iter()
            .enumerate()
            .map(|(index, record)| reader.read_value(index, record))
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
    assert!(seen >= 11);
}

#[test]
fn the_lazy_reader_keeps_batches_and_arrays_as_record_texts_and_other_payloads_as_values() {
    let text = sqs_batch_text(&[sqs_record_json("m1", json!("{\"a\":1}"))]);
    let payload: Payload = serde_json::from_str(&text).unwrap();
    assert!(matches!(&payload.0, Shape::Records(list) if list.len() == 1));
    let payload: Payload =
        serde_json::from_str(r#"{"detail-type":"x","source":"y","detail":{}}"#).unwrap();
    assert!(matches!(payload.0, Shape::Other(Value::Object(_))));
    let payload: Payload = serde_json::from_str(r#"[{"a":1}, 2, "three"]"#).unwrap();
    assert!(matches!(&payload.0, Shape::Array(list) if list.len() == 3));
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

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn the_lazy_reader_agrees_on_odd_stream_sns_and_pipes_payloads() {
    let data = b64(r#"{"symbol":"AAPL"}"#);
    for text in [
        // Kinesis, as Lambda and as a pipe delivers it, and broken.
        format!(r#"{{"Records": [{{"eventSource": "aws:kinesis", "eventID": "s:1", "kinesis": {{"partitionKey": "k", "sequenceNumber": "1", "data": "{data}"}}}}]}}"#),
        format!(r#"[{{"eventSource": "aws:kinesis", "eventID": "s:1", "partitionKey": "k", "sequenceNumber": "1", "data": "{data}"}}]"#),
        r#"{"Records": [{"eventSource": "aws:kinesis", "kinesis": {"partitionKey": "k", "sequenceNumber": "2", "data": "@@"}}, {"eventSource": "aws:kinesis"}, 3]}"#.to_owned(),
        r#"{"Records": [{"eventSource": "aws:kinesis", "kinesis": {"partitionKey": 1, "sequenceNumber": "2", "data": "e30="}, "kinesis": {"partitionKey": "k", "sequenceNumber": "3", "data": "e30="}}]}"#.to_owned(),
        // DynamoDB.
        r#"{"Records": [{"eventSource": "aws:dynamodb", "eventID": "e1", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "a"}}, "NewImage": {"id": {"S": "a"}, "n": {"N": "1.50"}}, "SequenceNumber": "100", "StreamViewType": "NEW_IMAGE"}}]}"#.to_owned(),
        r#"{"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "1"}}, {"eventSource": "aws:dynamodb", "dynamodb": []}, {"eventSource": "aws:dynamodb", "eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"X": 1}}, "SequenceNumber": "2"}}]}"#.to_owned(),
        r#"[{"eventSource": "aws:dynamodb", "eventID": "e2", "eventName": "REMOVE", "dynamodb": {"Keys": {"id": {"N": "7"}}, "OldImage": {"id": {"N": "7"}}, "SequenceNumber": "3"}}]"#.to_owned(),
        // Repeated keys, read from text while unmarshalling: the last one wins, as in a `Value`.
        r#"{"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "1"}, "dynamodb": {"Keys": {"id": {"S": "b"}, "id": {"N": "2"}}, "NewImage": {"x": {"N": "bad"}, "x": {"S": "ok"}, "y": {"S": "v", "S": "w"}}, "NewImage": null, "OldImage": {"z": {"S": "1", "N": "2", "S": "3"}}, "SequenceNumber": "9"}}]}"#.to_owned(),
        r#"{"Records": [{"eventSource": "aws:dynamodb", "eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"S": "a"}}, "NewImage": {"b": {"L": [{"S": "x"}, {"Q": 1}, {"N": "nope"}]}, "a": {"M": {"k": {"SS": ["x", 1]}}}}, "SequenceNumber": "4"}}]}"#.to_owned(),
        r#"{"Records": [{"eventSource": "aws:dynamodb", "eventName": "MODIFY", "dynamodb": {"Keys": [], "SequenceNumber": "5"}}, {"eventSource": "aws:dynamodb", "dynamodb": null, "eventName": "X"}, {"eventSource": "aws:dynamodb", "dynamodb": 3}]}"#.to_owned(),
        // SNS.
        r#"{"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "m1", "Message": "{\"a\":1}", "TopicArn": "arn:aws:sns:eu-west-1:1:t", "MessageAttributes": {"k": {"Type": "String", "Value": "v"}}}}]}"#.to_owned(),
        r#"{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "x"}}, {"EventSource": "aws:sns", "Sns": null}]}"#.to_owned(),
        // Pipes: each element as the source it names, or as it stands.
        r#"[{"eventSource": "aws:sqs", "messageId": "m1", "body": "{}"}, {"messageId": "m2", "order": 1}, {"source": "s", "detail-type": "t", "detail": {}}, 4, null, []]"#.to_owned(),
        r#"[]"#.to_owned(),
        r#"[{"eventSource": "aws:sns", "Sns": {}}]"#.to_owned(),
        // Mixed and foreign batches.
        r#"{"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": "x"}, {"eventSource": "aws:kinesis"}]}"#.to_owned(),
        r#"{"Records": [{"eventSource": "aws:dynamodb"}, {"eventSource": "aws:s3"}]}"#.to_owned(),
    ] {
        assert_same(&text);
    }
}

#[test]
fn a_kinesis_batch_answers_with_sequence_numbers_and_orders_by_partition_key() {
    let record = |key: &str, sequence: &str, data: &str| {
        json!({
            "eventSource": "aws:kinesis",
            "eventID": format!("shardId-000000000000:{sequence}"),
            "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/market-data",
            "kinesis": {"partitionKey": key, "sequenceNumber": sequence, "data": data}
        })
    };
    let invocation = parse_invocation(json!({"Records": [
        record("AAPL", "101", &b64(r#"{"symbol":"AAPL"}"#)),
        record("MSFT", "102", "not base64!"),
    ]}))
    .unwrap();
    assert_eq!(invocation.source, Source::Kinesis);
    let ids: Vec<&str> = invocation.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["101", "102"]);
    let keys: Vec<String> = invocation
        .records
        .iter()
        .map(|r| r.key.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["partition key AAPL", "partition key MSFT"]);
    assert_eq!(
        invocation.records[0].document.as_ref().unwrap()["kinesis"]["streamName"],
        "market-data"
    );
    assert!(matches!(
        invocation.records[1].document,
        Err(InputError::BadBase64(_))
    ));
}

#[test]
fn a_pipes_batch_answers_with_the_identifier_the_pipe_matches() {
    let invocation = parse_invocation(json!([
        {"eventSource": "aws:sqs", "messageId": "m-1", "body": "{\"a\":1}", "attributes": {"MessageGroupId": "g"}},
        {"eventSource": "aws:kinesis", "eventID": "shardId-1:55", "partitionKey": "k", "sequenceNumber": "55", "data": b64("x")},
        {"eventSource": "aws:dynamodb", "eventID": "ddb-1", "eventName": "INSERT",
         "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "77"}},
        {"messageId": "m-4", "reshaped": true},
        {"nothing": "to identify it"}
    ]))
    .unwrap();
    assert_eq!(invocation.source, Source::Pipes);
    let ids: Vec<&str> = invocation.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["m-1", "shardId-1:55", "ddb-1", "m-4", ""]);
    let keys: Vec<Option<String>> = invocation
        .records
        .iter()
        .map(|r| r.key.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        keys,
        [
            Some("message group g".to_owned()),
            Some("partition key k".to_owned()),
            Some(r#"item {"id":"a"}"#.to_owned()),
            None,
            None
        ]
    );
    assert_eq!(
        invocation.records[3].document.as_ref().unwrap(),
        &json!({"detail": {"messageId": "m-4", "reshaped": true}})
    );
}

#[test]
fn an_sns_notification_is_one_record_named_by_its_message_id() {
    let invocation = parse_invocation(json!({"Records": [{
        "EventSource": "aws:sns",
        "Sns": {"MessageId": "n-1", "Message": "hello", "TopicArn": "arn:aws:sns:eu-west-1:1:topic"}
    }]}))
    .unwrap();
    assert_eq!(invocation.source, Source::Sns);
    assert!(!invocation.source.answers_with_batch_item_failures());
    assert_eq!(invocation.records[0].id, "n-1");
    let document = invocation.records[0].document.as_ref().unwrap();
    assert_eq!(document["detail"], "hello");
    assert_eq!(document["sns"]["topicName"], "topic");
}

#[test]
fn a_later_record_of_another_service_fails_alone_keeping_its_id() {
    let invocation = parse_invocation(json!({"Records": [
        sqs_record_json("m-1", json!("{}")),
        {"eventSource": "aws:s3", "messageId": "m-2", "body": "{}"},
        {"eventSource": "aws:kinesis", "messageId": "m-3", "body": "{}"},
        sqs_record_json("m-4", json!("{}")),
    ]}))
    .unwrap();
    assert_eq!(invocation.source, Source::Sqs);
    let summary: Vec<(&str, Option<String>)> = invocation
        .records
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.document.as_ref().err().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("m-1", None),
            (
                "m-2",
                Some("record is not an sqs message: eventSource is aws:s3".into())
            ),
            (
                "m-3",
                Some("record is not an sqs message: eventSource is aws:kinesis".into())
            ),
            ("m-4", None),
        ]
    );
}
