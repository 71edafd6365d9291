//! A minimal Lambda Runtime API stub for measuring a Lambda binary the way Lambda runs it: time
//! from process start to its first `/next` request (init), the duration of each invocation, and
//! the process's peak RSS (`VmHWM`) after each one. Used by `scripts/bench.sh`.
//!
//! ```text
//! cargo run --release --example runtime_stub -- --bin target/release/appsync-bridge \
//!     --local --event events/sqs-raw-json.json --runs 5
//! ```
//! `--local` starts `appsync-local` in-process and points the bridge at it (API key auth, the
//! sample `rules.yaml`). `--sqs-batch BYTES` generates an SQS batch of raw JSON bodies of about
//! that size instead of reading event files. Prints one JSON line per run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use clap::Parser;
use tokio::sync::{Notify, mpsc};

#[derive(Parser, Debug)]
#[command(
    about = "Run a Lambda binary under a minimal Runtime API stub and measure init, duration and peak RSS"
)]
struct Args {
    /// The Lambda binary (built with --release).
    #[arg(long)]
    bin: String,
    /// Event files to invoke, in order (each run invokes all of them).
    #[arg(long)]
    event: Vec<String>,
    /// Generate an SQS batch of raw JSON price ticks of about this many bytes and invoke it.
    #[arg(long)]
    sqs_batch: Option<usize>,
    /// How many fresh processes to start (init is measured once per process).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Start appsync-local in-process and configure the bridge for it.
    #[arg(long)]
    local: bool,
    /// Extra environment for the binary, `KEY=VALUE`.
    #[arg(long = "env")]
    envs: Vec<String>,
}

#[derive(Default)]
struct Stub {
    first_next: Mutex<Option<Instant>>,
    init_done: Notify,
    queue: Mutex<VecDeque<(String, Bytes)>>,
    queued: Notify,
    done: Mutex<Option<mpsc::UnboundedSender<(String, u16, Bytes)>>>,
}

async fn next(State(stub): State<Arc<Stub>>) -> impl IntoResponse {
    {
        let mut first = stub.first_next.lock().unwrap();
        first.get_or_insert_with(Instant::now);
    }
    stub.init_done.notify_one();
    loop {
        let notified = stub.queued.notified();
        if let Some((id, body)) = stub.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 60_000;
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, body);
        }
        notified.await;
    }
}

async fn finished(
    State(stub): State<Arc<Stub>>,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let status = if kind == "response" { 200 } else { 500 };
    if let Some(tx) = stub.done.lock().unwrap().as_ref() {
        let _ = tx.send((id, status, body));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(stub): State<Arc<Stub>>, body: Bytes) -> StatusCode {
    if let Some(tx) = stub.done.lock().unwrap().as_ref() {
        let _ = tx.send(("init".into(), 500, body));
    }
    StatusCode::ACCEPTED
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// An SQS batch of raw JSON price ticks with a `kind` message attribute, about `bytes` long.
fn sqs_batch(bytes: usize) -> String {
    let mut records = Vec::new();
    let mut size = 20;
    let mut i = 0usize;
    while size < bytes {
        let body = serde_json::json!({
            "symbol": format!("SYM{}", i % 50),
            "price": 100.0 + (i % 997) as f64 / 100.0,
            "currency": "USD",
            "venue": "XNAS",
            "sequence": i,
            "padding": "x".repeat(300),
        })
        .to_string();
        let record = serde_json::json!({
            "messageId": format!("00000000-0000-4000-8000-{i:012}"),
            "receiptHandle": "AQEB".to_string() + &"r".repeat(120),
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1763800000000",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1763800000001"
            },
            "messageAttributes": {
                "kind": { "stringValue": "price-tick", "stringListValues": [], "binaryListValues": [], "dataType": "String" }
            },
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:prices",
            "awsRegion": "us-east-1"
        })
        .to_string();
        size += record.len() + 1;
        records.push(record);
        i += 1;
    }
    format!("{{\"Records\":[{}]}}", records.join(","))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut events: Vec<(String, Bytes)> = Vec::new();
    for path in &args.event {
        events.push((path.clone(), Bytes::from(std::fs::read(path)?)));
    }
    if let Some(bytes) = args.sqs_batch {
        events.push((
            format!("generated sqs batch ~{bytes} B"),
            Bytes::from(sqs_batch(bytes)),
        ));
    }

    let local = if args.local {
        Some(
            appsync_local::start(appsync_local::Config {
                api_keys: vec!["da2-bench".into()],
                namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
                ..Default::default()
            })
            .await?,
        )
    } else {
        None
    };

    for run in 0..args.runs {
        let stub = Arc::new(Stub::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        *stub.done.lock().unwrap() = Some(tx);
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(finished))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let mut cmd = tokio::process::Command::new(&args.bin);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(local) = &local {
            cmd.env("APPSYNC_HTTP_ENDPOINT", local.http_endpoint())
                .env("APPSYNC_AUTH_MODE", "API_KEY")
                .env("APPSYNC_API_KEY", "da2-bench")
                .env("BRIDGE_RULES_FILE", "rules.yaml");
        }
        for kv in &args.envs {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
        let started = Instant::now();
        let mut child = cmd.spawn()?;
        let pid = child.id().unwrap_or(0);

        // Init: wait for the first /next (or an init error / exit).
        tokio::select! {
            _ = stub.init_done.notified() => {}
            status = child.wait() => {
                return Err(format!("{} exited during init: {:?}", args.bin, status).into());
            }
        }
        let init = stub
            .first_next
            .lock()
            .unwrap()
            .map(|t| t.duration_since(started))
            .unwrap_or_default();
        let rss_after_init = peak_rss_kib(pid);

        let mut invocations = Vec::new();
        for (n, (name, body)) in events.iter().enumerate() {
            let id = format!("req-{run}-{n}");
            let t = Instant::now();
            stub.queue
                .lock()
                .unwrap()
                .push_back((id.clone(), body.clone()));
            stub.queued.notify_waiters();
            let (_, status, response) = tokio::time::timeout(Duration::from_secs(120), rx.recv())
                .await?
                .ok_or("runtime stub closed")?;
            invocations.push(serde_json::json!({
                "event": name,
                "payload_bytes": body.len(),
                "status": status,
                "duration_ms": t.elapsed().as_secs_f64() * 1000.0,
                "peak_rss_kib": peak_rss_kib(pid),
                "response_bytes": response.len(),
            }));
        }
        let _ = child.kill().await;
        server.abort();
        println!(
            "{}",
            serde_json::json!({
                "bin": args.bin,
                "run": run,
                "init_ms": init.as_secs_f64() * 1000.0,
                "peak_rss_after_init_kib": rss_after_init,
                "invocations": invocations,
            })
        );
    }
    if let Some(local) = local {
        local.shutdown().await;
    }
    Ok(())
}
