//! The one-command demo: no AWS account needed.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! 1. starts `appsync-local` in-process (API key auth; namespaces `orders`, `presence`, `prices`);
//! 2. subscribes over the real-time WebSocket protocol to `/orders/*`, `/presence/*`, `/prices/*`;
//! 3. runs the real Lambda handler (`appsync_bridge::handler::handle`) with the sample `rules.yaml`
//!    on every sample in `events/`, printing each invocation's response (the batch response of SQS,
//!    Kinesis, DynamoDB Streams and Pipes, or the EventBridge / SNS summary or error), and how many
//!    records failed when some did;
//! 4. prints, per channel, what the WebSocket subscriber received.
//!
//! It exits non-zero when nothing was published or the subscriber missed an event, so CI runs it
//! as a check. Colour only on a terminal.
//!
//! The Lambda binary does not link the server: only this example (a dev-dependency) does.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use appsync_bridge::config::Config;
use appsync_bridge::handler::{App, handle};
use appsync_bridge::metrics::MetricsSink;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Error = Box<dyn std::error::Error + Send + Sync>;

const API_KEY: &str = "da2-demo";
/// Every sample in `events/`, in the order the README shows them; the demo refuses to run if a
/// file there is missing from this list.
const SAMPLES: &[&str] = &[
    "events/eventbridge-order-status.json",
    "events/eventbridge-agent-presence.json",
    "events/eventbridge-unmatched.json",
    "events/sqs-eventbridge-envelopes.json",
    "events/sqs-raw-json.json",
    "events/sqs-fifo-two-groups.json",
    "events/sqs-poison.json",
    "events/dynamodb-orders-stream.json",
    "events/kinesis-market-data.json",
    "events/sns-order-notification.json",
    "events/pipes-kinesis-orders.json",
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The handler's warn line per failed record (record id, rule, channel, reason), as in Lambda.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,appsync_local=off".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(appsync_bridge::logging::colour(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .compact()
        .init();
    let root = env!("CARGO_MANIFEST_DIR");
    for entry in std::fs::read_dir(format!("{root}/events"))? {
        let name = format!("events/{}", entry?.file_name().to_string_lossy());
        if name.ends_with(".json") && !SAMPLES.contains(&name.as_str()) {
            return Err(format!("{name} is not in the demo's SAMPLES list").into());
        }
    }
    let server = appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
        ..Default::default()
    })
    .await?;
    println!(
        "appsync-local: {} (realtime {})",
        server.http_endpoint(),
        server.realtime_url()
    );

    // Subscribe first, the way a web client does.
    let host = server.addr().to_string();
    let header = serde_json::to_vec(&json!({ "host": host, "x-api-key": API_KEY }))?;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
    let mut request = server.realtime_url().into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("aws-appsync-event-ws, header-{header}").parse()?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::text(
        json!({ "type": "connection_init" }).to_string(),
    ))
    .await?;
    let subscriptions = [
        ("s-orders", "/orders/*"),
        ("s-presence", "/presence/*"),
        ("s-prices", "/prices/*"),
    ];
    for (id, channel) in subscriptions {
        let subscribe = json!({
            "type": "subscribe", "id": id, "channel": channel,
            "authorization": { "x-api-key": API_KEY, "host": host },
        });
        ws.send(Message::text(subscribe.to_string())).await?;
    }
    let mut pending = subscriptions.len();
    while pending > 0 {
        let message = next_json(&mut ws).await?;
        match message["type"].as_str() {
            Some("subscribe_success") => pending -= 1,
            Some("connection_ack") | Some("ka") => {}
            _ => return Err(format!("unexpected message while subscribing: {message}").into()),
        }
    }
    println!(
        "subscribed to {}\n",
        subscriptions.map(|(_, c)| c).join(", ")
    );

    // The real handler, configured exactly as in Lambda but through an injected lookup.
    let endpoint = server.http_endpoint();
    let rules_file = format!("{root}/rules.yaml");
    let lookup = move |name: &str| -> Option<String> {
        match name {
            "APPSYNC_HTTP_ENDPOINT" => Some(endpoint.clone()),
            "APPSYNC_AUTH_MODE" => Some("API_KEY".into()),
            "APPSYNC_API_KEY" => Some(API_KEY.into()),
            "BRIDGE_RULES_FILE" => Some(rules_file.clone()),
            _ => None,
        }
    };
    let app = App::new(Config::from_lookup(&lookup)?).with_metrics(MetricsSink::Off);

    for sample in SAMPLES {
        let payload: Value = serde_json::from_slice(&std::fs::read(format!("{root}/{sample}"))?)?;
        let records = payload["Records"].as_array().map_or(1, Vec::len);
        let mut context = Context::default();
        context.request_id = format!("demo-{sample}");
        context.deadline = (SystemTime::now() + Duration::from_secs(30))
            .duration_since(UNIX_EPOCH)?
            .as_millis() as u64;
        // The heading first: the handler's warn lines (stderr) then appear under it.
        println!("{sample}");
        let outcome = match handle(LambdaEvent::new(payload, context), &app).await {
            Ok(response) => match response.failed_items().len() {
                0 => format!("ok     {response}"),
                failed => format!(
                    "failed {failed} of {records} record{}: {response}",
                    if records == 1 { "" } else { "s" }
                ),
            },
            Err(e) => format!("error  {}: {e}", e.error_type()),
        };
        println!("  -> {outcome}");
    }

    // Everything the server accepted has been fanned out; collect it from the subscriber. A `data`
    // message names the subscription, not the channel, so match each event text back to the
    // accepted event it came from. A missing event (5 s without one) or one the server never
    // accepted ends the demo with an error, so `.ci/run` can run it as a check.
    let mut pool = server.accepted();
    if pool.is_empty() {
        return Err("nothing was published: the server accepted no event".into());
    }
    let mut received: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = 0;
    while !pool.is_empty() {
        let message = tokio::time::timeout(Duration::from_secs(5), next_json(&mut ws)).await??;
        if message["type"] == "data" {
            let event = message["event"].as_str().unwrap_or_default().to_string();
            let Some(i) = pool.iter().position(|a| a.event == event) else {
                return Err(format!(
                    "the subscriber got an event the server never accepted: {message}"
                )
                .into());
            };
            let channel = pool.remove(i).channel;
            received.entry(channel).or_default().push(event);
            seen += 1;
        }
    }
    println!("\nthe WebSocket subscriber received {seen} events:");
    for (channel, events) in &received {
        println!("  {channel}");
        for event in events {
            println!("      {event}");
        }
    }
    server.shutdown().await;
    Ok(())
}

async fn next_json<S>(ws: &mut S) -> Result<Value, Error>
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => return Err("websocket closed".into()),
        }
    }
}
