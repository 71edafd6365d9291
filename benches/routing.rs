//! Routing cost per record (10 rules, a ~1 KB event, parsing excluded), input parsing
//! throughput of a 10,000-record SQS batch as the handler reads it (bytes → `Payload` → one
//! document per record), and reading plus routing one record of a DynamoDB stream against an SQS
//! record of the same size (the unmarshalling's cost).
//!
//! `cargo bench --bench routing -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use appsync_bridge::input::{Payload, read_payload};
use appsync_bridge::route::route;
use appsync_bridge::rules::RuleSet;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

/// Ten rules of the kinds users write: two match the benchmark event (fan-out), eight do not.
const RULES: &str = r#"
rules:
  - name: order-status
    pattern: { source: [shop.orders], detail-type: [OrderStatusChanged] }
    channel: /orders/{detail.customerId}/{detail.orderId}
    payload:
      orderId: "{detail.orderId}"
      status: "{detail.status}"
      total: "{detail.total}"
      at: "{time}"
      message: "Order {detail.orderId} is now {detail.status}"
  - name: order-dashboard
    pattern: { source: [shop.orders] }
    channel: /orders/dashboard
    payload: { order: "{detail.orderId}", status: "{detail.status}", eventId: "{id}" }
  - name: order-created
    pattern: { source: [shop.orders], detail-type: [OrderCreated] }
    channel: /orders/{detail.customerId}/new
  - name: agent-presence
    pattern: { source: [support.agents], detail-type: [AgentPresenceChanged] }
    channel: /presence/agents/{detail.agentId|slug}
  - name: agent-team
    pattern: { source: [support.agents], detail: { team: [tier-1] } }
    channel: /presence/teams/{detail.team}
  - name: price-ticks
    pattern: { sqs: { messageAttributes: { kind: [price-tick] } } }
    channel: /prices/{detail.symbol|slug}
  - name: chat-message
    pattern: { source: [chat.rooms], detail-type: [MessagePosted] }
    channel: /chat/{detail.roomId}
  - name: invoice
    pattern: { source: [billing.invoices] }
    channel: /billing/{detail.customerId|hash}
  - name: shipment
    pattern: { source: [logistics.shipments], detail: { carrier: [UPS, DHL] } }
    channel: /shipments/{detail.carrier}/{detail.trackingId}
  - name: inventory
    pattern: { source: [shop.inventory] }
    channel: /inventory/{detail.sku}
unmatched: drop
"#;

/// A ~1 KB order event, as EventBridge delivers it.
fn order_event() -> Value {
    json!({
        "version": "0",
        "id": "7f6c2a4e-1b2d-4c8e-9a51-3d0e5b8f2c10",
        "detail-type": "OrderStatusChanged",
        "source": "shop.orders",
        "account": "123456789012",
        "time": "2026-11-22T09:30:12Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"],
        "detail": {
            "orderId": "ord-20261122-0007",
            "customerId": "cust-1042",
            "status": "SHIPPED",
            "previousStatus": "PACKED",
            "total": 129.9,
            "currency": "EUR",
            "items": [
                {"sku": "SKU-1042", "name": "Espresso cups, set of 4", "quantity": 2, "price": 24.95},
                {"sku": "SKU-77", "name": "Burr grinder", "quantity": 1, "price": 80.0}
            ],
            "shipping": {
                "carrier": "DHL",
                "trackingId": "JD014600003828163457",
                "address": {"line1": "12 Rue de la République", "city": "Lyon", "postcode": "69002", "country": "FR"}
            },
            "updatedBy": "fulfilment-service",
            "notes": "Leave with the concierge if nobody answers; fragile items inside, handle with care."
        }
    })
}

/// A 10,000-record SQS batch of ~1 KB EventBridge envelopes: about 15.7 MB, more than Lambda's
/// 6 MB payload cap allows; the figure of interest is throughput (MB/s), not the batch time.
fn sqs_batch() -> Vec<u8> {
    let body = order_event().to_string();
    let records: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({
                "messageId": format!("5b1c9a7e-0d3f-4e21-9a8b-{i:012}"),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a6ROh3NS8KBwYpHk5TG0p8tA3nVxJu0RaP1AzAXDKGwn0bm",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1763804400000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1763804400012"
                },
                "messageAttributes": {
                    "kind": {"stringValue": "order", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
                },
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:domain-events",
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap_or_default()
}

fn bench_route(c: &mut Criterion) {
    let Ok(rules) = RuleSet::parse(RULES) else {
        panic!("benchmark rules are valid");
    };
    let event = order_event();
    // Time the path the figure claims: two rules match and render, the other event matches none.
    assert_eq!(route(&rules, &event).map(|r| r.len()).ok(), Some(2));
    let unmatched = json!({"source": "elsewhere", "detail-type": "Nothing", "detail": {}});
    assert_eq!(route(&rules, &unmatched).map(|r| r.len()).ok(), Some(0));
    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("10 rules, 1 KB event, 2 matches", |b| {
        b.iter(|| route(black_box(&rules), black_box(&event)))
    });
    group.bench_function("10 rules, no match", |b| {
        b.iter(|| route(black_box(&rules), black_box(&unmatched)))
    });
    group.finish();
}

fn bench_input(c: &mut Criterion) {
    let batch = sqs_batch();
    // The reader must read every record, or the bench would time an error path.
    let read = |batch: &[u8]| {
        serde_json::from_slice::<Payload>(batch)
            .ok()
            .and_then(|p| read_payload(p).ok())
            .map_or(0, |records| records.count())
    };
    assert_eq!(read(&batch), 10_000);
    let mut group = c.benchmark_group("input");
    group.throughput(Throughput::Bytes(batch.len() as u64));
    group.sample_size(10);
    // What the Lambda binary does: the runtime reads the bytes into a `Payload` (one text per
    // record), and each record becomes a document as the relay takes it.
    group.bench_function(
        "10,000-record sqs batch from bytes, as the handler reads it",
        |b| b.iter(|| read(black_box(&batch))),
    );
    group.finish();
}

/// One rule per source, each routing its record to the order's channel with the same projection.
const RECORD_RULES: &str = r#"
rules:
  - name: sqs-orders
    pattern: { sqs: { messageAttributes: { kind: [order] } } }
    channel: /orders/{detail.customerId}/{detail.orderId}
    payload: { status: "{detail.status}", total: "{detail.total}", items: "{detail.items}" }
  - name: table-orders
    pattern: { source: [aws.dynamodb], dynamodb: { tableName: [orders] } }
    channel: /orders/{detail.keys.customerId}/{detail.keys.orderId}
    payload: { status: "{detail.newImage.status}", total: "{detail.newImage.total}", items: "{detail.newImage.items}" }
"#;

/// A DynamoDB stream record of the `orders` table, as Lambda delivers it: a MODIFY with both
/// images of a ten-attribute order (a list of two item maps among them), about 1.3 KB of text.
fn dynamodb_record(i: usize) -> Value {
    let image = |status: &str| {
        json!({
            "customerId": {"S": format!("cust-{}", i % 97)},
            "orderId": {"S": format!("ord-20261122-{i:04}")},
            "status": {"S": status},
            "total": {"N": "129.90"},
            "currency": {"S": "EUR"},
            "items": {"L": [
                {"M": {"sku": {"S": "SKU-1042"}, "quantity": {"N": "2"}, "price": {"N": "24.95"}}},
                {"M": {"sku": {"S": "SKU-77"}, "quantity": {"N": "1"}, "price": {"N": "80"}}}
            ]},
            "giftWrap": {"BOOL": false},
            "tags": {"SS": ["web", "returning"]},
            "updatedAt": {"N": "1795341605"},
            "version": {"N": "7"}
        })
    };
    json!({
        "eventID": format!("7de3041dd1a9e3f5b6c2a8e0{i:08x}"),
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_341_605,
            "Keys": {"customerId": {"S": format!("cust-{}", i % 97)}, "orderId": {"S": format!("ord-20261122-{i:04}")}},
            "NewImage": image("PACKED"),
            "OldImage": image("PAID"),
            "SequenceNumber": format!("44215845000000000{i:011}"),
            "SizeBytes": 512,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-01T00:00:00.000"
    })
}

/// The order of record `i` as plain JSON, in `status`.
fn order(i: usize, status: &str) -> Value {
    json!({
        "customerId": format!("cust-{}", i % 97),
        "orderId": format!("ord-20261122-{i:04}"),
        "status": status,
        "total": 129.9,
        "currency": "EUR",
        "items": [
            {"sku": "SKU-1042", "quantity": 2, "price": 24.95},
            {"sku": "SKU-77", "quantity": 1, "price": 80}
        ],
        "giftWrap": false,
        "tags": ["web", "returning"],
        "updatedAt": 1_795_341_605,
        "version": 7
    })
}

/// An SQS record whose body is `body` plus a `notes` string that pads the record's text to
/// `size` bytes.
fn sqs_record(i: usize, body: Value, size: usize) -> Value {
    let record = |notes: &str| {
        let mut body = body.clone();
        body["notes"] = Value::String(notes.to_owned());
        json!({
            "messageId": format!("5b1c9a7e-0d3f-4e21-9a8b-{i:012}"),
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a6ROh3NS8KBwYpHk5TG0p8tA3nVxJu0RaP1AzAXDKGwn0bm",
            "body": body.to_string(),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1763804400000"},
            "messageAttributes": {"kind": {"stringValue": "order", "dataType": "String"}},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
            "awsRegion": "eu-west-1"
        })
    };
    let bare = record("").to_string().len();
    record(&"x".repeat(size.saturating_sub(bare)))
}

fn bench_records(c: &mut Criterion) {
    let Ok(rules) = RuleSet::parse(RECORD_RULES) else {
        panic!("benchmark rules are valid");
    };
    const RECORDS: usize = 1_000;
    let dynamodb: Vec<Value> = (0..RECORDS).map(dynamodb_record).collect();
    let size = |i: usize| dynamodb[i].to_string().len();
    // The same information as the DynamoDB record (the order now and before), the same size.
    let sqs_same_content: Vec<Value> = (0..RECORDS)
        .map(|i| {
            let mut body = order(i, "PACKED");
            body["previous"] = order(i, "PAID");
            sqs_record(i, body, size(i))
        })
        .collect();
    // Stricter: one state of the order, the rest of the size a string (cheap to read).
    let sqs_padded: Vec<Value> = (0..RECORDS)
        .map(|i| sqs_record(i, order(i, "PACKED"), size(i)))
        .collect();
    let text =
        |records: &[Value]| serde_json::to_vec(&json!({ "Records": records })).unwrap_or_default();
    let (dynamodb, sqs_same_content, sqs_padded) =
        (text(&dynamodb), text(&sqs_same_content), text(&sqs_padded));
    // Same size, record for record (within the padding's rounding).
    for sqs in [&sqs_same_content, &sqs_padded] {
        assert!(
            dynamodb.len().abs_diff(sqs.len()) < RECORDS,
            "{} vs {}",
            dynamodb.len(),
            sqs.len()
        );
    }
    // Every record reads and routes to one event, or the bench would time an error path.
    let read_and_route = |batch: &[u8]| {
        serde_json::from_slice::<Payload>(batch)
            .ok()
            .and_then(|p| read_payload(p).ok())
            .map_or(0, |records| {
                records
                    .filter_map(|r| r.document.ok())
                    .map(|document| route(&rules, &document).map_or(0, |r| r.len()))
                    .sum::<usize>()
            })
    };
    for batch in [&dynamodb, &sqs_same_content, &sqs_padded] {
        assert_eq!(read_and_route(batch), RECORDS);
    }
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(20);
    group.bench_function("sqs record, same content and size, read and routed", |b| {
        b.iter(|| read_and_route(black_box(&sqs_same_content)))
    });
    group.bench_function(
        "sqs record, same size, one state and padding, read and routed",
        |b| b.iter(|| read_and_route(black_box(&sqs_padded))),
    );
    group.bench_function("dynamodb record, new and old image, read and routed", |b| {
        b.iter(|| read_and_route(black_box(&dynamodb)))
    });
    group.finish();
}

criterion_group!(benches, bench_route, bench_input, bench_records);
criterion_main!(benches);
