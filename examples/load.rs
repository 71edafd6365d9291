//! End-to-end load run: the real Lambda handler (`appsync_bridge::handler::handle`, configured
//! through an injected lookup as in Lambda) publishing batches of price ticks (SQS, or with
//! `--source kinesis,dynamodb` the stream sources, ordered per symbol) to `appsync-local` on
//! loopback, with added server latency standing in for the network to AppSync.
//!
//! ```text
//! cargo run --release --example load -- --records 10000 --concurrency 16 --latency-ms 20
//! cargo run --release --example load -- --records 100,1000,10000 --concurrency 4,16,64 \
//!     --latency-ms 0,20 --repeat 3 --json docs/benchmarks/load.jsonl
//! ```
//!
//! Each comma-separated value makes a grid; every cell runs one warm-up invocation (the pooled
//! connections are then open, as in a warm Lambda) and `--repeat` measured invocations, and prints
//! a table row. With `--json` each cell is also appended to that file as one JSON line.
//!
//! # Workload
//!
//! Records are raw JSON price ticks with the `kind: price-tick` message attribute, so the sample
//! `rules.yaml` routes each to `/prices/<symbol>`: one event per record, one channel per symbol.
//! The symbols go round-robin, so every channel gets `records / symbols` events and
//! `ceil(that / 5)` requests. Requests of one channel are sent in order (AppSync has no ordering
//! across requests, so the relay keeps each channel's requests sequential), which makes
//! `ceil(requests / concurrency) × latency` reachable only when every channel's chain of requests
//! is no longer than that. With few symbols it is not (50 symbols × 10,000 records = 40 requests
//! per channel: at least 40 × latency whatever the concurrency), so the default is 500 symbols,
//! i.e. 4 requests per channel for a 10,000-record batch, and each row also shows
//! `ordering bound = max(ceil(requests / concurrency), longest channel chain) × latency`.
//!
//! With `--source kinesis` the same ticks come as a Kinesis batch (base64 data, the symbol as the
//! partition key, routed by `stream-prices`), with `--source dynamodb` as DynamoDB stream records
//! (one item per symbol, routed by `order-row-changes`): every record is ordered by its key, and a
//! key's requests are sent one after another, as a channel's are. A key is a channel here, so the
//! requests and both bounds are the same as for SQS.
//!
//! # What is measured
//!
//! - `wall`: reading the payload bytes (as the runtime does) plus the handler call, parse to
//!   answer (median of the repeats).
//! - `p50` / `p99`: publish request latency as the server sees it (from the request arriving to
//!   the response being produced, the added latency included), over all measured requests.
//! - events/s and requests/s: accepted events and publish requests divided by `wall`.
//! - cpu µs/ev: the process's CPU time minus the server thread's, per event, over the measured
//!   invocations (the handler, reqwest and hyper; 10 ms clock ticks, so meaningful for large
//!   batches only).
//!
//! The handler's CloudWatch EMF metrics lines are built but kept in memory unless `--metrics` is
//! given (then they go to stdout, as in Lambda, between the table's rows).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "support/cpu_time.rs"]
mod cpu_time;
mod support;
#[path = "support/timed_server.rs"]
mod timed_server;

use timed_server::{Local, cpu_s};

use appsync_bridge::config::Config;
use appsync_bridge::handler::{Answer, App, handle};
use appsync_bridge::input::Payload;
use appsync_bridge::metrics::MetricsSink;
use clap::Parser;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

const API_KEY: &str = "da2-load";

#[derive(Parser, Debug)]
#[command(about = "Load-test the real handler against appsync-local on loopback")]
struct Args {
    /// Records per SQS batch (comma-separated for a grid).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    records: Vec<usize>,
    /// `BRIDGE_CONCURRENCY`: publish requests in flight (comma-separated for a grid).
    #[arg(long, value_delimiter = ',', default_value = "16")]
    concurrency: Vec<usize>,
    /// Latency the server adds to every publish request, in ms (comma-separated for a grid).
    #[arg(long = "latency-ms", value_delimiter = ',', default_value = "20")]
    latency_ms: Vec<u64>,
    /// Distinct symbols, i.e. channels, in a batch (for the streams also the ordering keys:
    /// partition keys, items).
    #[arg(long, default_value_t = 500)]
    symbols: usize,
    /// Where the batch comes from (comma-separated for a grid): `sqs` (unordered), `kinesis`
    /// (ordered per partition key), `dynamodb` (ordered per item).
    #[arg(long, value_delimiter = ',', default_value = "sqs")]
    source: Vec<support::Source>,
    /// Measured invocations per cell (after one warm-up).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Append one JSON line per cell to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Let the handler write its EMF metrics lines to stdout, as in Lambda (by default they are
    /// built but kept in memory, so the table stays readable).
    #[arg(long)]
    metrics: bool,
}

/// A batch of `records` price ticks over `symbols` symbols, round-robin, from `source`, as the
/// bytes Lambda delivers.
fn batch(records: usize, symbols: usize, source: support::Source) -> Vec<u8> {
    let records: Vec<Value> = (0..records).map(|i| source.record(i, symbols, 0)).collect();
    json!({ "Records": records }).to_string().into_bytes()
}

/// Requests the relay must send for the batch, and the longest chain of one channel's requests.
fn request_shape(records: usize, symbols: usize) -> (usize, usize) {
    let symbols = symbols.clamp(1, records.max(1));
    let mut total = 0;
    let mut longest = 0;
    for s in 0..symbols {
        let events = records / symbols + usize::from(s < records % symbols);
        let requests = events.div_ceil(appsync_bridge::limits::MAX_EVENTS_PER_PUBLISH);
        total += requests;
        longest = longest.max(requests);
    }
    (total, longest)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

/// One invocation as the Lambda binary runs it: the payload read from bytes (what the runtime
/// does before the handler), then the handler. Both are timed.
async fn invoke(app: &App, bytes: &[u8]) -> Result<(Duration, usize), Error> {
    let mut context = Context::default();
    context.request_id = "load".into();
    context.deadline = (SystemTime::now() + Duration::from_secs(900))
        .duration_since(UNIX_EPOCH)?
        .as_millis() as u64;
    let started = Instant::now();
    let payload: Payload = serde_json::from_slice(bytes)?;
    let response = handle(LambdaEvent::new(payload, context), app).await?;
    let elapsed = started.elapsed();
    let failed = match response {
        Answer::Batch(_) => response.failed_items().len(),
        Answer::Summary(_) => usize::MAX,
    };
    Ok((elapsed, failed))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let local = Local::start(API_KEY)?;
    let rules_file = format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"));
    let mut json_out = match &args.json {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => None,
    };

    println!(
        "{:>8} {:>7} {:>5} {:>4} {:>6} {:>9} {:>10} {:>9} {:>8} {:>8} {:>9} {:>9} {:>6} {:>9}",
        "source",
        "records",
        "conc",
        "lat",
        "reqs",
        "wall ms",
        "events/s",
        "reqs/s",
        "p50 ms",
        "p99 ms",
        "ideal ms",
        "order ms",
        "ratio",
        "cpu µs/ev"
    );
    for &latency_ms in &args.latency_ms {
        local.set_latency(latency_ms);
        for &concurrency in &args.concurrency {
            let endpoint = local.endpoint.clone();
            let rules = rules_file.clone();
            let concurrency_text = concurrency.to_string();
            let lookup = move |name: &str| -> Option<String> {
                match name {
                    "APPSYNC_HTTP_ENDPOINT" => Some(endpoint.clone()),
                    "APPSYNC_AUTH_MODE" => Some("API_KEY".into()),
                    "APPSYNC_API_KEY" => Some(API_KEY.into()),
                    "BRIDGE_RULES_FILE" => Some(rules.clone()),
                    "BRIDGE_CONCURRENCY" => Some(concurrency_text.clone()),
                    _ => None,
                }
            };
            // One App per concurrency, as one deployed function: its pool is reused across
            // the cell's invocations.
            // The EMF lines are always built (their cost is part of the handler's); without
            // `--metrics` they are kept in memory and dropped after each cell.
            let kept: Arc<Mutex<Vec<String>>> = Arc::default();
            let sink = if args.metrics {
                MetricsSink::Stdout
            } else {
                MetricsSink::Memory(kept.clone())
            };
            let app = App::new(Config::from_lookup(&lookup)?).with_metrics(sink);
            for (&records, &source) in args
                .records
                .iter()
                .flat_map(|r| args.source.iter().map(move |s| (r, s)))
            {
                let payload = batch(records, args.symbols, source);
                invoke(&app, &payload).await?;
                local.take_timings();
                let mut walls = Vec::new();
                let mut failed = 0;
                let (cpu_before, server_before) = (cpu_s("/proc/self/stat"), local.cpu_s());
                for _ in 0..args.repeat.max(1) {
                    let (wall, f) = invoke(&app, &payload).await?;
                    walls.push(wall.as_secs_f64() * 1000.0);
                    failed += f;
                }
                // The process's CPU minus the server thread's: the handler, its HTTP client and
                // this loop (the payload bytes are made before the measurement).
                let bridge_cpu_s =
                    (cpu_s("/proc/self/stat") - cpu_before) - (local.cpu_s() - server_before);
                let cpu_us_per_event =
                    bridge_cpu_s * 1e6 / (records as f64 * args.repeat.max(1) as f64);
                kept.lock().unwrap_or_else(PoisonError::into_inner).clear();
                let mut timings = local.take_timings();
                timings.sort_by(f64::total_cmp);
                let runs = walls.len() as f64;
                let wall_ms = median(&walls);
                let (requests, chain) = request_shape(records, args.symbols);
                let lanes = requests.div_ceil(concurrency.max(1));
                let ideal_ms = (lanes * latency_ms as usize) as f64;
                let ordering_ms = (lanes.max(chain) * latency_ms as usize) as f64;
                let ratio = (ideal_ms > 0.0).then(|| wall_ms / ideal_ms);
                let events_per_s = records as f64 / (wall_ms / 1000.0);
                let requests_seen = timings.len() as f64 / runs;
                let requests_per_s = requests_seen / (wall_ms / 1000.0);
                let (p50, p99) = (percentile(&timings, 50.0), percentile(&timings, 99.0));
                println!(
                    "{:>8} {records:>7} {concurrency:>5} {latency_ms:>4} {requests:>6} {wall_ms:>9.1} {events_per_s:>10.0} {requests_per_s:>9.0} {p50:>8.2} {p99:>8.2} {ideal_ms:>9.0} {ordering_ms:>9.0} {:>6} {cpu_us_per_event:>9.1}",
                    source.name(),
                    ratio.map_or("-".to_string(), |r| format!("{r:.2}"))
                );
                let line = json!({
                    "bench": "load",
                    "source": source.name(),
                    "records": records,
                    "symbols": args.symbols,
                    "concurrency": concurrency,
                    "latency_ms": latency_ms,
                    "requests": requests,
                    "requests_seen_per_invocation": requests_seen,
                    "longest_channel_chain": chain,
                    "failed_records": failed,
                    "wall_ms": wall_ms,
                    "wall_ms_runs": walls,
                    "events_per_s": events_per_s,
                    "requests_per_s": requests_per_s,
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "ideal_ms": ideal_ms,
                    "ordering_bound_ms": ordering_ms,
                    "ratio_to_ideal": ratio,
                    "bridge_cpu_us_per_event": cpu_us_per_event,
                });
                if let Some(out) = json_out.as_mut() {
                    use std::io::Write;
                    writeln!(out, "{line}")?;
                }
                if failed > 0 {
                    eprintln!(
                        "warning: {failed} records failed in the cell above (records {records}, concurrency {concurrency})"
                    );
                }
            }
        }
    }
    local.stop();
    Ok(())
}
