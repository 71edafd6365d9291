//! Workloads shared by the benchmark tools (`load`, `runtime_stub`): SQS records as Lambda
//! delivers them. Not an example of its own (cargo only picks up `examples/*/main.rs` folders).

use serde_json::{Value, json};

/// SQS record `i` of a raw JSON price-tick batch: symbol `SYM<i % symbols>`, routed by the sample
/// `price-ticks` rule through its `kind` message attribute. `padding` characters are added to the
/// body (none when 0) so a batch can be sized in bytes.
pub fn price_tick_record(i: usize, symbols: usize, padding: usize) -> Value {
    let mut body = json!({
        "symbol": format!("SYM{}", i % symbols.max(1)),
        "price": 100.0 + (i % 997) as f64 / 100.0,
        "currency": "USD",
        "venue": "XNAS",
        "sequence": i,
    });
    if padding > 0 {
        body["padding"] = Value::String("x".repeat(padding));
    }
    json!({
        "messageId": format!("00000000-0000-4000-8000-{i:012}"),
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a6ROh3NS8KBwYpHk5TG0p8tA3nVxJu0RaP1AzAXDKGwn0bm",
        "body": body.to_string(),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1763800000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1763800000001"
        },
        "messageAttributes": {
            "kind": {"stringValue": "price-tick", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:prices",
        "awsRegion": "us-east-1"
    })
}
