//! Workloads shared by the benchmark tools (`load`, `runtime_stub`): SQS, Kinesis and DynamoDB
//! Streams records as Lambda delivers them, one event per record and one channel per symbol with
//! the sample `rules.yaml`. Not an example of its own (cargo only picks up `examples/*/main.rs`
//! folders).

use base64::Engine;
use serde_json::{Value, json};

/// Which source a generated batch comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// SQS: unordered records, routed by `price-ticks`.
    Sqs,
    /// Kinesis (`market-data`): ordered per partition key (the symbol), routed by
    /// `stream-prices`.
    Kinesis,
    /// DynamoDB Streams (table `orders`): ordered per item (one per symbol), routed by
    /// `order-row-changes`.
    Dynamodb,
}

impl Source {
    /// Record `i` of a batch from this source (see the functions below).
    pub fn record(self, i: usize, symbols: usize, padding: usize) -> Value {
        match self {
            Source::Sqs => price_tick_record(i, symbols, padding),
            Source::Kinesis => kinesis_price_tick_record(i, symbols, padding),
            Source::Dynamodb => dynamodb_price_record(i, symbols, padding),
        }
    }

    /// The name benchmark output uses.
    pub fn name(self) -> &'static str {
        match self {
            Source::Sqs => "sqs",
            Source::Kinesis => "kinesis",
            Source::Dynamodb => "dynamodb",
        }
    }
}

/// The price tick of record `i`: symbol `SYM<i % symbols>`, `padding` characters added (none when
/// 0) so a batch can be sized in bytes.
fn price_tick(i: usize, symbols: usize, padding: usize) -> Value {
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
    body
}

/// Kinesis record `i` of the `market-data` stream: the price tick as base64 data, its symbol as
/// the partition key; routed by the sample `stream-prices` rule.
pub fn kinesis_price_tick_record(i: usize, symbols: usize, padding: usize) -> Value {
    let tick = price_tick(i, symbols, padding);
    let sequence = format!("4965831011701243512093568271938256305111352165861{i:07}");
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": tick["symbol"],
            "sequenceNumber": sequence,
            "data": base64::engine::general_purpose::STANDARD.encode(tick.to_string()),
            "approximateArrivalTimestamp": 1_795_342_200.5
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/appsync-bridge",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/market-data"
    })
}

/// DynamoDB stream record `i` of the table `orders`: a MODIFY of the item of symbol
/// `SYM<i % symbols>` (its keys `customerId` and `orderId`), the new image holding the tick's
/// fields as attribute values; routed by the sample `order-row-changes` rule.
pub fn dynamodb_price_record(i: usize, symbols: usize, padding: usize) -> Value {
    let symbol = format!("SYM{}", i % symbols.max(1));
    let keys = json!({"customerId": {"S": format!("cust-{symbol}")}, "orderId": {"S": format!("ord-{symbol}")}});
    let mut image = json!({
        "customerId": {"S": format!("cust-{symbol}")},
        "orderId": {"S": format!("ord-{symbol}")},
        "status": {"S": "PAID"},
        "total": {"N": format!("{:.2}", 100.0 + (i % 997) as f64 / 100.0)},
        "currency": {"S": "USD"},
        "venue": {"S": "XNAS"},
        "sequence": {"N": i.to_string()}
    });
    if padding > 0 {
        image["padding"] = json!({"S": "x".repeat(padding)});
    }
    json!({
        "eventID": format!("7de3041dd1a9e3f5b6c2a8e0{i:08x}"),
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_341_600,
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": format!("44215845000000000{i:011}"),
            "SizeBytes": 200 + padding,
            "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-01T00:00:00.000"
    })
}

/// SQS record `i` of a raw JSON price-tick batch: symbol `SYM<i % symbols>`, routed by the sample
/// `price-ticks` rule through its `kind` message attribute. `padding` characters are added to the
/// body (none when 0) so a batch can be sized in bytes.
pub fn price_tick_record(i: usize, symbols: usize, padding: usize) -> Value {
    let body = price_tick(i, symbols, padding);
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
