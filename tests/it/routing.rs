//! Routes every sample in `events/` with the sample `rules.yaml`, through the library: each
//! source's documents (DynamoDB's unmarshalled images and metadata, Kinesis and SNS metadata)
//! are what the rules match on.

use appsync_bridge::input::{Payload, Record, Source, read_payload};
use appsync_bridge::limits::{MAX_EVENT_BYTES, is_valid_channel};
use appsync_bridge::route::{RouteError, route};
use appsync_bridge::rules::RuleSet;
use serde_json::Value;

use crate::helpers::{repo_path, sample, sample_events};

/// What one record is expected to do: the channels it publishes to, in rule order, or an error
/// containing a fragment (a route error, or the record cannot be read at all).
#[derive(Debug)]
enum Want {
    Channels(&'static [&'static str]),
    Fails(&'static str),
    Unreadable(&'static str),
}
use Want::{Channels, Fails, Unreadable};

/// An invocation as the handler reads it: its trigger and every record.
struct Invocation {
    source: Source,
    records: Vec<Record>,
}

fn read_invocation(payload: Value) -> Invocation {
    let records = read_payload(Payload::from(payload)).expect("a payload the bridge reads");
    Invocation {
        source: records.source,
        records: records.collect(),
    }
}

const ORDER_7: &[&str] = &["/orders/cust-1042/ord-20261122-0007", "/orders/dashboard"];

fn expectations(file: &str) -> (Source, Vec<Want>) {
    match file {
        "eventbridge-order-status.json" => (Source::EventBridge, vec![Channels(ORDER_7)]),
        "eventbridge-agent-presence.json" => (
            Source::EventBridge,
            vec![Channels(&["/presence/agents/agent-maria-lopez-support"])],
        ),
        "eventbridge-unmatched.json" => (Source::EventBridge, vec![Channels(&[])]),
        "sqs-eventbridge-envelopes.json" => (
            Source::Sqs,
            vec![
                Channels(ORDER_7),
                Channels(&["/presence/agents/agent-17"]),
                Channels(&["/orders/cust-2077/ord-20261122-0011", "/orders/dashboard"]),
                Channels(&["/presence/agents/agent-maria-lopez-support"]),
            ],
        ),
        "sqs-raw-json.json" => (
            Source::Sqs,
            vec![
                Channels(&["/prices/aapl"]),
                Channels(&["/prices/brk-b"]),
                Channels(&["/prices/eurusd"]),
            ],
        ),
        "sqs-fifo-two-groups.json" => {
            let a = &["/orders/cust-A/ord-A-1", "/orders/dashboard"];
            let b = &["/orders/cust-B/ord-B-1", "/orders/dashboard"];
            (
                Source::Sqs,
                vec![
                    Channels(a),
                    Channels(b),
                    Channels(a),
                    Channels(b),
                    Channels(a),
                ],
            )
        }
        "sqs-poison.json" => (
            Source::Sqs,
            vec![
                Channels(&["/orders/cust-1042/ord-20261122-0019", "/orders/dashboard"]),
                Fails("rule price-ticks: channel placeholder detail.symbol is missing"),
                Fails(
                    "rule order-status: channel segment from {detail.customerId} renders \"../admin\"",
                ),
                Channels(&["/prices/aapl"]),
                Channels(&["/presence/agents/agent-17"]),
            ],
        ),
        "dynamodb-orders-stream.json" => {
            let new = &["/orders/cust-1042/ord-20261122-0031"];
            (
                Source::DynamoDb,
                vec![
                    Channels(new),
                    Channels(new),
                    Channels(&["/orders/cust-2077/ord-20261122-0017"]),
                    Channels(&["/orders/cust-1042/ord-20261122-0007"]),
                ],
            )
        }
        "kinesis-market-data.json" => (
            Source::Kinesis,
            vec![
                Channels(&["/prices/gme"]),
                Channels(&["/prices/aapl"]),
                Channels(&["/prices/feed-status"]),
                Unreadable("kinesis data is not valid base64"),
            ],
        ),
        "sns-order-notification.json" => (
            Source::Sns,
            vec![Channels(&["/orders/cust-1042/ord-20261122-0007"])],
        ),
        "pipes-kinesis-orders.json" => {
            let a = &["/orders/cust-3310/ord-20261122-0041", "/orders/dashboard"];
            (
                Source::Pipes,
                vec![
                    Channels(a),
                    Channels(&["/orders/cust-1042/ord-20261122-0042", "/orders/dashboard"]),
                    Channels(a),
                ],
            )
        }
        other => panic!("no expectations for events/{other}: add them here"),
    }
}

fn load_rules() -> RuleSet {
    let text = std::fs::read_to_string(repo_path("rules.yaml")).unwrap();
    RuleSet::parse(&text).unwrap()
}

#[test]
fn the_sample_rules_validate() {
    let rules = load_rules();
    assert_eq!(
        rules.names().collect::<Vec<_>>(),
        [
            "order-status",
            "order-dashboard",
            "agent-presence",
            "price-ticks",
            "order-row-changes",
            "stream-prices",
            "feed-status",
            "shipment-notices"
        ]
    );
    assert_eq!(rules.namespaces(), ["orders", "presence", "prices"]);
}

#[test]
fn every_sample_event_routes_as_documented() {
    let rules = load_rules();
    let files = sample_events();
    assert_eq!(files.len(), 11, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let payload: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let invocation = read_invocation(payload);
        let (source, wants) = expectations(&name);
        assert_eq!(invocation.source, source, "{name}");
        assert_eq!(invocation.records.len(), wants.len(), "{name}");
        for (record, want) in invocation.records.iter().zip(wants) {
            let document = match (&record.document, &want) {
                (Err(e), Unreadable(fragment)) => {
                    assert!(e.to_string().contains(fragment), "{name}: {e}");
                    continue;
                }
                (document, _) => document.as_ref().unwrap(),
            };
            let routed = route(&rules, document);
            match (want, routed) {
                (Channels(channels), Ok(routed)) => {
                    let got: Vec<&str> = routed.iter().map(|r| r.channel.as_str()).collect();
                    assert_eq!(got, channels, "{name} record {}", record.index);
                    assert!(got.iter().all(|c| is_valid_channel(c)));
                }
                (Fails(fragment), Err(e @ RouteError::Render { .. })) => {
                    assert!(e.to_string().contains(fragment), "{name}: {e}");
                }
                (want, got) => panic!("{name} record {}: want {want:?}, got {got:?}", record.index),
            }
        }
    }
}

#[test]
fn the_order_status_payload_is_a_typed_projection() {
    let rules = load_rules();
    let invocation = read_invocation(sample("eventbridge-order-status.json"));
    let routed = route(&rules, invocation.records[0].document.as_ref().unwrap()).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&routed[0].json).unwrap(),
        serde_json::json!({
            "orderId": "ord-20261122-0007",
            "status": "SHIPPED",
            "previousStatus": "PACKED",
            "total": 129.9,
            "currency": "EUR",
            "at": "2026-11-22T09:30:12Z",
            "message": "Order ord-20261122-0007 is now SHIPPED"
        })
    );
}

#[test]
fn the_oversized_poison_record_routes_but_exceeds_the_event_limit() {
    let rules = load_rules();
    let text = std::fs::read_to_string(repo_path("events/sqs-poison.json")).unwrap();
    assert!(text.len() < 300 * 1024, "keep the sample small");
    let invocation = read_invocation(serde_json::from_str(&text).unwrap());
    let routed = route(&rules, invocation.records[3].document.as_ref().unwrap()).unwrap();
    assert!(routed[0].json.len() > MAX_EVENT_BYTES);
}

#[test]
fn draft_orders_match_no_rule_through_anything_but() {
    let rules = load_rules();
    let mut payload = sample("eventbridge-order-status.json");
    payload["detail"]["status"] = Value::from("DRAFT");
    let invocation = read_invocation(payload);
    let routed = route(&rules, invocation.records[0].document.as_ref().unwrap()).unwrap();
    assert!(routed.is_empty(), "{routed:?}");
}

#[test]
fn dynamodb_rules_read_unmarshalled_images_keys_and_metadata() {
    let rules = load_rules();
    let invocation = read_invocation(sample("dynamodb-orders-stream.json"));
    let payloads: Vec<Value> = invocation
        .records
        .iter()
        .map(|r| {
            let routed = route(&rules, r.document.as_ref().unwrap()).unwrap();
            serde_json::from_str(&routed[0].json).unwrap()
        })
        .collect();
    // INSERT: the new image's values with their JSON types (74.50 is a number a double holds).
    assert_eq!(
        payloads[0],
        serde_json::json!({"change": "INSERT", "orderId": "ord-20261122-0031", "status": "CREATED",
            "previousStatus": null, "total": 74.5, "at": "2026-11-22T10:00:00Z"})
    );
    assert_eq!(payloads[1]["previousStatus"], "CREATED");
    // REMOVE: no new image, so its fields render null; KEYS_ONLY: only the keys.
    assert_eq!(payloads[2]["status"], Value::Null);
    assert_eq!(payloads[2]["previousStatus"], "CANCELLED");
    assert_eq!(payloads[3]["orderId"], "ord-20261122-0007");
    let detail = &invocation.records[0].document.as_ref().unwrap()["detail"];
    // A number a double would change stays its text; sets and lists are arrays.
    assert_eq!(
        detail["newImage"]["loyaltyCardNumber"],
        "12345678901234567891"
    );
    assert_eq!(
        detail["newImage"]["tags"],
        serde_json::json!(["new-customer", "web"])
    );
    assert_eq!(detail["newImage"]["items"][0]["price"], 24.95);
    let keys_only = invocation.records[3].document.as_ref().unwrap();
    assert!(keys_only["detail"].get("newImage").is_none());
    assert_eq!(keys_only["dynamodb"]["streamViewType"], "KEYS_ONLY");
}

#[test]
fn a_pattern_on_a_dynamodb_image_field_picks_the_records_it_names() {
    let rules = RuleSet::parse(
        "rules:\n  - name: paid\n    pattern:\n      detail-type: [MODIFY]\n      detail:\n        newImage: { status: [PAID] }\n        oldImage: { status: [{ anything-but: PAID }] }\n    channel: /orders/{detail.keys.customerId}/paid\n",
    )
    .unwrap();
    let invocation = read_invocation(sample("dynamodb-orders-stream.json"));
    let matched: Vec<usize> = invocation
        .records
        .iter()
        .filter(|r| {
            !route(&rules, r.document.as_ref().unwrap())
                .unwrap()
                .is_empty()
        })
        .map(|r| r.index)
        .collect();
    assert_eq!(matched, [1]);
}

#[test]
fn numbers_in_an_event_reach_the_payload_digit_for_digit() {
    // Doubles printed in their shortest form need all 17 digits; a parser that is not correctly
    // rounded changes the last one for about one in seven of them.
    let rules = RuleSet::parse("rules: [{name: all, channel: /prices/feed}]").unwrap();
    for text in [
        "182.78745657865406",
        "0.30000000000000004",
        "1e-7",
        "-2.2250738585072014e-308",
    ] {
        let body = format!(r#"{{"price":{text}}}"#);
        let payload = serde_json::json!({"Records": [{
            "messageId": "m0", "body": body, "attributes": {}, "messageAttributes": {},
            "eventSource": "aws:sqs"
        }]});
        let invocation = read_invocation(payload);
        let routed = route(&rules, invocation.records[0].document.as_ref().unwrap()).unwrap();
        assert_eq!(routed[0].json, body, "{text}");
        let published: f64 = serde_json::from_str::<Value>(&routed[0].json).unwrap()["price"]
            .as_f64()
            .unwrap();
        assert_eq!(published, text.parse::<f64>().unwrap(), "{text}");
    }
}
