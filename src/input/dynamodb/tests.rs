//! DynamoDB stream records read as rules see them, and the unmarshalling held against boto3's
//! `TypeDeserializer` on a generated corpus (`tests/fixtures/dynamodb/`, made by
//! `scripts/dynamodb-fixture.py`).

use serde_json::{Value, json};

use super::*;

const ARN: &str =
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-22T09:00:00.000";

fn stream_record(event: &str, stream: Value) -> Value {
    json!({
        "eventID": "c81e728d9d4c2f636f067f89cc14862c",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": stream,
        "eventSourceARN": ARN
    })
}

#[test]
fn a_modify_record_becomes_a_document_with_unmarshalled_images_and_metadata() {
    let record = stream_record(
        "MODIFY",
        json!({
            "ApproximateCreationDateTime": 1_763_805_600,
            "Keys": {"orderId": {"S": "o-1"}, "customerId": {"S": "c-1"}},
            "NewImage": {"orderId": {"S": "o-1"}, "customerId": {"S": "c-1"}, "status": {"S": "PACKED"}, "total": {"N": "129.90"}},
            "OldImage": {"orderId": {"S": "o-1"}, "customerId": {"S": "c-1"}, "status": {"S": "PAID"}, "total": {"N": "129.90"}},
            "SequenceNumber": "4421584500000000017450439091",
            "SizeBytes": 171,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }),
    );
    let record = dynamodb_record(3, record, None, Delivery::EventSourceMapping);
    assert_eq!(record.index, 3);
    assert_eq!(record.id, "4421584500000000017450439091");
    assert_eq!(
        record.key,
        Some(OrderingKey::item(r#"{"customerId":"c-1","orderId":"o-1"}"#))
    );
    assert_eq!(
        record.document.unwrap(),
        json!({
            "source": "aws.dynamodb",
            "detail-type": "MODIFY",
            "id": "c81e728d9d4c2f636f067f89cc14862c",
            "time": "2025-11-22T10:00:00Z",
            "region": "eu-west-1",
            "account": "123456789012",
            "resources": [ARN],
            "detail": {
                "keys": {"orderId": "o-1", "customerId": "c-1"},
                "newImage": {"orderId": "o-1", "customerId": "c-1", "status": "PACKED", "total": 129.9},
                "oldImage": {"orderId": "o-1", "customerId": "c-1", "status": "PAID", "total": 129.9}
            },
            "dynamodb": {
                "tableName": "orders",
                "eventID": "c81e728d9d4c2f636f067f89cc14862c",
                "eventName": "MODIFY",
                "sequenceNumber": "4421584500000000017450439091",
                "streamViewType": "NEW_AND_OLD_IMAGES",
                "sizeBytes": 171,
                "approximateCreationDateTime": 1_763_805_600,
                "eventSourceARN": ARN
            }
        })
    );
}

#[test]
fn an_image_the_stream_does_not_carry_is_absent_not_null() {
    let keys_only = stream_record(
        "REMOVE",
        json!({"Keys": {"id": {"N": "7"}}, "SequenceNumber": "9", "StreamViewType": "KEYS_ONLY"}),
    );
    let document = dynamodb_record(0, keys_only, None, Delivery::EventSourceMapping)
        .document
        .unwrap();
    assert_eq!(document["detail"], json!({"keys": {"id": 7}}));
    let remove = stream_record(
        "REMOVE",
        json!({"Keys": {"id": {"N": "7"}}, "OldImage": {"id": {"N": "7"}}, "NewImage": null, "SequenceNumber": "10"}),
    );
    let document = dynamodb_record(0, remove, None, Delivery::EventSourceMapping)
        .document
        .unwrap();
    let detail = document["detail"].as_object().unwrap();
    assert!(!detail.contains_key("newImage"));
    assert_eq!(detail["oldImage"], json!({"id": 7}));
}

#[test]
fn in_a_pipe_a_record_answers_with_its_event_id() {
    let record = stream_record(
        "INSERT",
        json!({"Keys": {"id": {"S": "a"}}, "SequenceNumber": "12"}),
    );
    let record = dynamodb_record(0, record, None, Delivery::Pipe);
    assert_eq!(record.id, "c81e728d9d4c2f636f067f89cc14862c");
}

#[test]
fn a_ttl_deletion_keeps_its_user_identity_for_rules() {
    let mut record = stream_record(
        "REMOVE",
        json!({"Keys": {"id": {"S": "a"}}, "SequenceNumber": "12"}),
    );
    record["userIdentity"] = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
    let document = dynamodb_record(0, record, None, Delivery::EventSourceMapping)
        .document
        .unwrap();
    assert_eq!(document["dynamodb"]["userIdentity"]["type"], "Service");
}

#[test]
fn a_bad_record_fails_alone_keeping_its_identity_and_when_known_its_key() {
    let summary = |record: Value| {
        let r = dynamodb_record(0, record, None, Delivery::EventSourceMapping);
        (
            r.id,
            r.key.map(|k| k.value),
            r.document.map(|_| ()).map_err(|e| e.to_string()),
        )
    };
    let bad_image = stream_record(
        "MODIFY",
        json!({"Keys": {"id": {"S": "a"}}, "NewImage": {"n": {"N": "1,5"}}, "SequenceNumber": "5"}),
    );
    assert_eq!(
        summary(bad_image),
        (
            "5".into(),
            Some(r#"{"id":"a"}"#.into()),
            Err("record is not a dynamodb stream record: dynamodb.NewImage.n: \"1,5\" is not a number".into())
        )
    );
    let no_keys = stream_record("INSERT", json!({"SequenceNumber": "6"}));
    assert_eq!(
        summary(no_keys),
        (
            "6".into(),
            None,
            Err("record is not a dynamodb stream record: dynamodb.Keys is missing".into())
        )
    );
    let no_sequence = stream_record("INSERT", json!({"Keys": {"id": {"S": "a"}}}));
    assert_eq!(
        summary(no_sequence),
        (
            String::new(),
            None,
            Err(
                "record is not a dynamodb stream record: dynamodb.SequenceNumber is missing".into()
            )
        )
    );
    let mut no_name = stream_record(
        "INSERT",
        json!({"Keys": {"id": {"S": "a"}}, "SequenceNumber": "8"}),
    );
    no_name["eventName"] = json!(1);
    assert_eq!(
        summary(no_name).2,
        Err("record is not a dynamodb stream record: eventName is a number, not a string".into())
    );
    assert_eq!(
        summary(json!([1])).2,
        Err("record is not a dynamodb stream record: record is an array, not an object".into())
    );
    assert_eq!(
        summary(stream_record("INSERT", json!("x"))).2,
        Err("record is not a dynamodb stream record: dynamodb is a string, not an object".into())
    );
}

#[test]
fn the_item_key_is_the_same_whatever_the_order_of_the_keys() {
    let read = |keys: Value| {
        let record = stream_record("INSERT", json!({"Keys": keys, "SequenceNumber": "1"}));
        dynamodb_record(0, record, None, Delivery::EventSourceMapping).key
    };
    assert_eq!(
        read(json!({"b": {"S": "2"}, "a": {"N": "1"}})),
        read(json!({"a": {"N": "1"}, "b": {"S": "2"}}))
    );
}

/// The boto3 corpus: its cases (and, for people, the boto3 version and seed that made it).
#[derive(serde::Deserialize)]
struct Corpus {
    cases: Vec<Case>,
}

/// One case of the boto3 corpus: an item as the stream sends it, and what boto3's
/// `TypeDeserializer` made of it, written as JSON by the rule the README states.
#[derive(serde::Deserialize)]
struct Case {
    name: String,
    item: Value,
    expected: Value,
}

/// Compares our plain JSON with boto3's, walking the attribute value alongside: sets (`SS`,
/// `NS`, `BS`) compare as sets (boto3 returns Python sets, which keep no order).
fn same(av: &Value, ours: &Value, theirs: &Value, at: &str) -> Result<(), String> {
    let Some((tag, inner)) = av.as_object().and_then(|m| m.iter().next()) else {
        return Err(format!("{at}: the corpus holds a non attribute value"));
    };
    match (tag.as_str(), ours, theirs) {
        ("M", Value::Object(o), Value::Object(t)) => {
            let Some(inner) = inner.as_object() else {
                return Err(format!("{at}: M without a map"));
            };
            if o.len() != t.len() {
                return Err(format!("{at}: {} keys against {}", o.len(), t.len()));
            }
            for (name, value) in inner {
                let (Some(o), Some(t)) = (o.get(name), t.get(name)) else {
                    return Err(format!("{at}.{name}: missing"));
                };
                same(value, o, t, &format!("{at}.{name}"))?;
            }
            Ok(())
        }
        ("L", Value::Array(o), Value::Array(t)) if o.len() == t.len() => {
            let Some(inner) = inner.as_array() else {
                return Err(format!("{at}: L without a list"));
            };
            for (i, value) in inner.iter().enumerate() {
                same(value, &o[i], &t[i], &format!("{at}.{i}"))?;
            }
            Ok(())
        }
        ("SS" | "NS" | "BS", Value::Array(o), Value::Array(t)) if o.len() == t.len() => {
            let mut left: Vec<&Value> = t.iter().collect();
            for element in o {
                let matching = left.iter().position(|t| match (element, t) {
                    (Value::Number(n), Value::String(tagged)) => same_number(n, tagged).is_ok(),
                    _ => element == *t,
                });
                match matching {
                    Some(at) => {
                        left.remove(at);
                    }
                    None => return Err(format!("{at}: {ours} is not the set {theirs}")),
                }
            }
            Ok(())
        }
        (_, Value::Number(n), Value::String(tagged)) if tagged.starts_with('#') => {
            same_number(n, tagged).map_err(|e| format!("{at}: {e}"))
        }
        _ => (ours == theirs)
            .then_some(())
            .ok_or_else(|| format!("{at}: {ours} but boto3 reads {theirs}")),
    }
}

/// Our number against the corpus's tagged one (`#i:<integer>`, `#f:<Python repr>`): the same
/// kind, and for doubles the same value as decimals (two shortest texts of doubles are the same
/// decimal exactly when they are the same double).
fn same_number(ours: &serde_json::Number, tagged: &str) -> Result<(), String> {
    let value = |text: &str| {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i64>().unwrap_or(0)),
            None => (text, 0),
        };
        let negative = mantissa.starts_with('-');
        let mantissa = mantissa.trim_start_matches('-');
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{whole}{fraction}");
        let trimmed = digits.trim_start_matches('0');
        let significant = trimmed.trim_end_matches('0').to_owned();
        let scale = exponent - fraction.len() as i64 + (trimmed.len() - significant.len()) as i64;
        if significant.is_empty() {
            (false, String::new(), 0)
        } else {
            (negative, significant, scale)
        }
    };
    let text = ours.to_string();
    match tagged.split_at(3) {
        ("#i:", integer) if ours.is_i64() || ours.is_u64() => (text == integer)
            .then_some(())
            .ok_or_else(|| format!("{text} but boto3 reads {integer}")),
        ("#f:", double) if ours.is_f64() => (value(&text) == value(double))
            .then_some(())
            .ok_or_else(|| format!("{text} but boto3 reads {double}")),
        _ => Err(format!(
            "{text} is not the kind of number boto3 reads: {tagged}"
        )),
    }
}

#[test]
fn unmarshalling_agrees_with_boto3s_type_deserializer_on_the_generated_corpus() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dynamodb/corpus.json"
    );
    let corpus: Corpus = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = corpus.cases;
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut numbers = (0, 0);
    for case in &cases {
        let ours = attribute_value::unmarshal_item(case.item.clone(), "item")
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let av = json!({"M": case.item});
        if let Err(e) = same(&av, &Value::Object(ours), &case.expected, &case.name) {
            panic!("{e}");
        }
        count_numbers(&case.expected, &mut numbers);
    }
    // The corpus exercises both sides of the number rule.
    assert!(numbers.0 >= 100 && numbers.1 >= 50, "{numbers:?}");
}

/// (JSON numbers, strings that hold numbers) in boto3's reading of the corpus.
fn count_numbers(value: &Value, counts: &mut (usize, usize)) {
    match value {
        Value::String(s) if s.starts_with('#') => counts.0 += 1,
        Value::String(s) if s.parse::<f64>().is_ok() => counts.1 += 1,
        Value::Array(list) => list.iter().for_each(|v| count_numbers(v, counts)),
        Value::Object(map) => map.values().for_each(|v| count_numbers(v, counts)),
        _ => {}
    }
}
