//! The workload of the whole-process CPU benchmark (`examples/cpu.rs`): SQS batches of
//! EventBridge order events of about 1 KB, and ten rules of the kinds users write.

use axum::body::Bytes;
use serde_json::{Value, json};

/// The region of the records, the server and the signatures.
pub const REGION: &str = "us-east-1";
/// Customers the orders go round; one channel each.
const CUSTOMERS: usize = 20;

/// Ten rules: two match every order event (one of them only VIPs), eight match nothing.
pub const RULES: &str = r#"
rules:
  - name: order-status
    pattern: { source: [shop.orders], detail-type: [OrderStatusChanged] }
    channel: /orders/{detail.customerId}
    payload:
      orderId: "{detail.orderId}"
      status: "{detail.status}"
      total: "{detail.total}"
      at: "{time}"
      message: "Order {detail.orderId} is now {detail.status}"
  - name: vip-orders
    pattern: { source: [shop.orders], detail: { tier: [vip] } }
    channel: /vip/orders
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
"#;

/// Record `i` of batch `b`: an EventBridge order event of about 1 KB as an SQS body.
fn record(b: usize, i: usize) -> Value {
    let n = b * 100_000 + i;
    let envelope = json!({
        "version": "0",
        "id": format!("7f6c2a4e-1b2d-4c8e-9a51-{n:012}"),
        "detail-type": "OrderStatusChanged",
        "source": "shop.orders",
        "account": "123456789012",
        "time": "2026-11-22T09:30:12Z",
        "region": REGION,
        "resources": [format!("arn:aws:dynamodb:{REGION}:123456789012:table/orders")],
        "detail": {
            "orderId": format!("ord-{n:08}"),
            "customerId": format!("cust-{}", i % CUSTOMERS),
            "tier": if i.is_multiple_of(5) { "vip" } else { "standard" },
            "status": "SHIPPED",
            "previousStatus": "PACKED",
            "total": 129.9,
            "currency": "EUR",
            "items": [
                {"sku": "SKU-1042", "name": "Espresso cups, set of 4", "quantity": 2, "price": 24.95},
                {"sku": "SKU-77", "name": "Burr grinder", "quantity": 1, "price": 80.0}
            ],
            "shipping": {"carrier": "DHL", "trackingId": format!("JD{n:016}"), "eta": "2026-11-24"},
            "note": "Leave the parcel at the reception desk, second floor, next to the plants."
        }
    });
    json!({
        "messageId": format!("00000000-0000-4000-8000-{n:012}"),
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a6ROh3NS8KBwYpHk5TG0p8tA3nVxJu0RaP1AzAXDKGwn0bm",
        "body": envelope.to_string(),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1763800000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1763800000001"
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:orders"),
        "awsRegion": REGION
    })
}

/// Batch `b`: `records` order events as an SQS invocation payload.
pub fn batch(b: usize, records: usize) -> Bytes {
    let records: Vec<Value> = (0..records).map(|i| record(b, i)).collect();
    Bytes::from(json!({ "Records": records }).to_string())
}
