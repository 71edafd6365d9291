//! Routing cost per record (10 rules, a ~1 KB event, parsing excluded) and input parsing
//! throughput of a 10,000-record SQS batch as the handler reads it (bytes → `Payload` → one
//! document per record).
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

criterion_group!(benches, bench_route, bench_input);
criterion_main!(benches);
