//! The stream sources, SNS and EventBridge Pipes through the real handler against a local
//! AppSync Events server: routing on DynamoDB's unmarshalled images and on each source's
//! metadata, per-key order under injected failures, the answer naming exactly the failed
//! records (sequence numbers; `eventID`s in a pipe), a bad record failing alone, and SNS
//! failures as Lambda errors.

use std::collections::BTreeMap;

use appsync_bridge::handler::HandlerError;
use appsync_local::Scripted;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::helpers::{app, failed_items, local_server, order, repo_path, run, sample};

fn sample_rules() -> [(&'static str, String); 2] {
    [
        ("BRIDGE_RULES", String::new()),
        (
            "BRIDGE_RULES_FILE",
            repo_path("rules.yaml").display().to_string(),
        ),
    ]
}

fn with<'a>(extra: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    extra.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A Kinesis batch as Lambda delivers it: `(partition key, sequence number, data text)`.
fn kinesis_batch(records: &[(&str, String, String)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(key, sequence, data)| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": sequence,
                    "data": STANDARD.encode(data),
                    "approximateArrivalTimestamp": 1_795_342_200.5
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{sequence}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/bridge",
                "awsRegion": "eu-west-1",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// A DynamoDB stream record: `(event name, sequence number, keys, new image)`, all attribute
/// values.
fn dynamodb_record(event: &str, sequence: &str, keys: Value, new_image: Option<Value>) -> Value {
    let mut stream = json!({
        "ApproximateCreationDateTime": 1_795_341_600,
        "Keys": keys,
        "SequenceNumber": sequence,
        "SizeBytes": 64,
        "StreamViewType": "NEW_IMAGE"
    });
    if let Some(image) = new_image {
        stream["NewImage"] = image;
    }
    json!({
        "eventID": format!("ev-{sequence}"),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": stream,
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-11-01T00:00:00.000"
    })
}

/// Rules for the hand-made DynamoDB records: a cart row → `/orders/<cart>`; a row whose new
/// image says `ghost` → a namespace the server does not have (a 404, never retried).
const CART_RULES: &str = r#"
rules:
  - name: carts
    pattern:
      source: [aws.dynamodb]
      dynamodb: { tableName: [carts] }
      detail: { newImage: { ghost: [{ exists: false }] } }
    channel: /orders/{detail.keys.cart}
    payload: { cart: "{detail.keys.cart}", n: "{detail.newImage.n}", change: "{detail-type}" }
  - name: ghost-carts
    pattern:
      detail: { newImage: { ghost: [true] } }
    channel: /ghost/{detail.keys.cart}
"#;

fn cart(cart: &str, n: usize) -> (Value, Value) {
    (
        json!({"cart": {"S": cart}}),
        json!({"cart": {"S": cart}, "n": {"N": n.to_string()}, "total": {"N": "19.90"}}),
    )
}

#[tokio::test]
async fn the_dynamodb_sample_publishes_each_row_change_on_its_order_channel() {
    let server = local_server().await;
    let rules = sample_rules();
    let app = app(&server, &with(&rules));
    let answer = run(&app, sample("dynamodb-orders-stream.json"))
        .await
        .unwrap();
    assert!(failed_items(&answer).is_empty(), "{answer}");
    let accepted: Vec<(String, Value)> = server
        .accepted()
        .into_iter()
        .map(|e| (e.channel, serde_json::from_str(&e.event).unwrap()))
        .collect();
    assert_eq!(accepted.len(), 4);
    let on = |channel: &str| -> Vec<&Value> {
        accepted
            .iter()
            .filter(|(c, _)| c == channel)
            .map(|(_, e)| e)
            .collect()
    };
    // The INSERT and the MODIFY of one item, in stream order.
    let item = on("/orders/cust-1042/ord-20261122-0031");
    assert_eq!(item.len(), 2);
    assert_eq!(
        (&item[0]["change"], &item[0]["status"], &item[0]["total"]),
        (&json!("INSERT"), &json!("CREATED"), &json!(74.5))
    );
    assert_eq!(
        (&item[1]["change"], &item[1]["previousStatus"]),
        (&json!("MODIFY"), &json!("CREATED"))
    );
    assert_eq!(
        on("/orders/cust-2077/ord-20261122-0017")[0]["change"],
        "REMOVE"
    );
    assert_eq!(
        on("/orders/cust-1042/ord-20261122-0007")[0]["status"],
        Value::Null
    );
}

#[tokio::test]
async fn a_dynamodb_failure_stops_its_item_and_the_answer_lists_exactly_the_failed_sequence_numbers()
 {
    let server = local_server().await;
    let app = app(&server, &[("BRIDGE_RULES", CART_RULES)]);
    let (keys_a, _) = cart("a", 0);
    let (keys_b, _) = cart("b", 0);
    let image = |c: &str, n: usize| cart(c, n).1;
    let mut ghost = image("a", 2);
    ghost["ghost"] = json!({"BOOL": true});
    let records = vec![
        dynamodb_record("INSERT", "101", keys_a.clone(), Some(image("a", 1))),
        dynamodb_record("INSERT", "102", keys_b.clone(), Some(image("b", 1))),
        dynamodb_record("MODIFY", "103", keys_a.clone(), Some(ghost)),
        dynamodb_record("MODIFY", "104", keys_b.clone(), Some(image("b", 2))),
        dynamodb_record("MODIFY", "105", keys_a.clone(), Some(image("a", 3))),
        // A record that cannot be read fails alone: its own item, nothing else stops.
        dynamodb_record(
            "MODIFY",
            "106",
            json!({"cart": {"S": "c"}}),
            Some(json!({"n": {"N": "x"}})),
        ),
        dynamodb_record("MODIFY", "107", keys_b, Some(image("b", 3))),
    ];
    let answer = run(&app, json!({ "Records": records })).await.unwrap();
    assert_eq!(failed_items(&answer), ["103", "105", "106"]);
    let published: Vec<(String, u64)> = server
        .accepted()
        .into_iter()
        .map(|e| {
            let event: Value = serde_json::from_str(&e.event).unwrap();
            (e.channel, event["n"].as_u64().unwrap())
        })
        .collect();
    assert!(published.contains(&("/orders/a".into(), 1)));
    assert!(
        !published.iter().any(|(c, n)| c == "/orders/a" && *n == 3),
        "a later change of the failed item was published: {published:?}"
    );
    let b: Vec<u64> = published
        .iter()
        .filter(|(c, _)| c == "/orders/b")
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(b, [1, 2, 3], "the other item goes on, in order");
}

#[tokio::test]
async fn the_kinesis_sample_fails_exactly_its_bad_base64_record_by_sequence_number() {
    let server = local_server().await;
    let rules = sample_rules();
    let app = app(&server, &with(&rules));
    let answer = run(&app, sample("kinesis-market-data.json")).await.unwrap();
    assert_eq!(
        failed_items(&answer),
        ["49658310117012435120935682719382563051113521658612940805"]
    );
    let mut channels: Vec<String> = server.accepted().into_iter().map(|e| e.channel).collect();
    channels.sort();
    assert_eq!(
        channels,
        ["/prices/aapl", "/prices/feed-status", "/prices/gme"]
    );
    let heartbeat = server
        .accepted()
        .into_iter()
        .find(|e| e.channel == "/prices/feed-status")
        .unwrap();
    // Routed on the partition key, the text itself published.
    assert!(
        heartbeat.event.contains("HEARTBEAT feed=consolidated"),
        "{}",
        heartbeat.event
    );
}

/// Per partition key: the records before the key's first reported failure were accepted, in
/// order; every record from it on is reported failed; nothing of the key was accepted out of
/// order.
fn assert_key_rule(
    keys: &BTreeMap<String, Vec<(String, usize)>>,
    failed: &[String],
    accepted: &[Value],
) {
    for (key, records) in keys {
        let first_failed = records.iter().position(|(seq, _)| failed.contains(seq));
        let cut = first_failed.unwrap_or(records.len());
        for (seq, _) in &records[cut..] {
            assert!(
                failed.contains(seq),
                "{key}: {seq} after a failure is not reported failed"
            );
        }
        let mine: Vec<usize> = accepted
            .iter()
            .filter(|e| e["customerId"] == *key)
            .map(|e| e["n"].as_u64().unwrap() as usize)
            .collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "{key}: accepted out of order: {mine:?}"
        );
        for (_, n) in &records[..cut] {
            assert!(
                mine.contains(n),
                "{key}: {n} before the failure was not accepted"
            );
        }
    }
}

#[tokio::test]
async fn kinesis_keeps_each_partition_keys_order_under_injected_failures() {
    let server = local_server().await;
    // One request at a time, so the script below meets the requests in a known order.
    let app = app(&server, &[("BRIDGE_CONCURRENCY", "1")]);
    // Throttled once; then a failed entry that cannot be retried without reordering (the
    // events after it were accepted); then a server error that is retried.
    server.script([
        Scripted::Status(429),
        Scripted::FailEvents {
            indices: vec![2],
            code: 500,
        },
        Scripted::Status(503),
    ]);
    let mut records = Vec::new();
    let mut keys: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for n in 0..24 {
        let key = format!("k{}", n % 3);
        let sequence = format!("{}", 1000 + n);
        keys.entry(key.clone())
            .or_default()
            .push((sequence.clone(), n));
        records.push((key.as_str().to_owned(), sequence, order(&key, n)));
    }
    let batch: Vec<(&str, String, String)> = records
        .iter()
        .map(|(k, s, d)| (k.as_str(), s.clone(), d.clone()))
        .collect();
    let answer = run(&app, kinesis_batch(&batch)).await.unwrap();
    let failed = failed_items(&answer);
    assert!(
        !failed.is_empty(),
        "the failed entry fails its record: {answer}"
    );
    let accepted: Vec<Value> = server
        .accepted()
        .into_iter()
        .map(|e| serde_json::from_str(&e.event).unwrap())
        .collect();
    assert_key_rule(&keys, &failed, &accepted);
    // Only one key met the failed entry; the other two were published whole.
    let whole = keys
        .values()
        .filter(|records| records.iter().all(|(seq, _)| !failed.contains(seq)))
        .count();
    assert_eq!(whole, 2, "{failed:?}");
}

#[tokio::test]
async fn kinesis_a_failure_stops_its_partition_key_and_other_keys_go_on() {
    let server = local_server().await;
    let app = app(&server, &[]);
    let ghost = json!({"kind": "ghost", "customerId": "a"}).to_string();
    let batch = kinesis_batch(&[
        ("A", "1".into(), order("a", 1)),
        ("B", "2".into(), order("b", 2)),
        ("A", "3".into(), ghost),
        ("B", "4".into(), order("b", 4)),
        ("A", "5".into(), order("a", 5)),
        ("B", "6".into(), order("b", 6)),
    ]);
    let answer = run(&app, batch).await.unwrap();
    assert_eq!(failed_items(&answer), ["3", "5"]);
    let accepted: Vec<String> = server.accepted().into_iter().map(|e| e.event).collect();
    assert!(accepted.contains(&order("a", 1)));
    assert!(
        !accepted.contains(&order("a", 5)),
        "a5 must not be published"
    );
    for n in [2, 4, 6] {
        assert!(accepted.contains(&order("b", n)), "b{n} delivered");
    }
}

#[tokio::test]
async fn an_sns_notification_is_published_and_answered_with_a_summary() {
    let server = local_server().await;
    let rules = sample_rules();
    let app = app(&server, &with(&rules));
    let answer = run(&app, sample("sns-order-notification.json"))
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"records": 1, "eventsPublished": 1, "unmatched": 0, "failed": 0})
    );
    let accepted = server.accepted();
    assert_eq!(accepted[0].channel, "/orders/cust-1042/ord-20261122-0007");
    let event: Value = serde_json::from_str(&accepted[0].event).unwrap();
    // Routed on a message attribute; the subject comes from the `sns` metadata.
    assert_eq!(event["notice"], "Your order has shipped");
}

#[tokio::test]
async fn an_sns_failure_is_a_lambda_error_naming_the_message() {
    let server = local_server().await;
    server.script([Scripted::Status(400)]);
    let rules = sample_rules();
    let app = app(&server, &with(&rules));
    let Err(HandlerError::EventFailed { id, reasons }) =
        run(&app, sample("sns-order-notification.json")).await
    else {
        panic!("a failed SNS notification must fail the invocation");
    };
    assert_eq!(id, "95df01b4-ee98-5cb9-9903-4c221d41eb5e");
    assert_eq!(
        reasons,
        "rule shipment-notices channel /orders/cust-1042/ord-20261122-0007: appsync answered http 400 (BadRequestException: Bad request)"
    );
}

#[tokio::test]
async fn a_pipes_batch_answers_with_the_identifier_the_pipe_matches_for_exactly_the_failed_elements()
 {
    let server = local_server().await;
    let app = app(&server, &[]);
    let ghost = |c: &str| json!({"kind": "ghost", "customerId": c}).to_string();
    let kinesis = |seq: &str, key: &str, data: String| {
        json!({
            "kinesisSchemaVersion": "1.0", "partitionKey": key, "sequenceNumber": seq,
            "data": STANDARD.encode(data), "approximateArrivalTimestamp": 1_795_343_200.0,
            "eventSource": "aws:kinesis", "eventID": format!("shardId-000000000000:{seq}"),
            "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
        })
    };
    let batch = json!([
        kinesis("11", "K", order("k", 1)),
        kinesis("12", "K", ghost("k")),
        kinesis("13", "K", order("k", 3)),
        kinesis("14", "L", order("l", 4)),
        {"eventSource": "aws:sqs", "messageId": "m-5", "body": ghost("s"), "attributes": {}},
        // Reshaped by the pipe's input transformer: read as it stands, named by the id it kept.
        {"messageId": "m-6", "kind": "ghost", "customerId": "t"},
        {"messageId": "m-7", "kind": "order", "customerId": "t", "n": 7}
    ]);
    // The reshaped elements are the document's `detail` themselves: route them.
    let answer = run(&app, batch).await.unwrap();
    assert_eq!(
        failed_items(&answer),
        [
            "shardId-000000000000:12",
            "shardId-000000000000:13",
            "m-5",
            "m-6"
        ]
    );
    let accepted: Vec<String> = server.accepted().into_iter().map(|e| e.channel).collect();
    assert!(accepted.contains(&"/orders/l".to_owned()));
    assert!(accepted.contains(&"/orders/t".to_owned()));
}
