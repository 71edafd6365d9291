//! The floor of the whole-process CPU benchmark (`examples/cpu.rs`): a client that sends publish
//! request bodies it is given, with the bridge's HTTP stack (reqwest with rustls and ring, hyper,
//! tokio) and the bridge's concurrency, and does nothing else — no reading of SQS batches, no
//! routing, no building, no signing, no classifying, no runtime API.
//!
//! ```text
//! cargo run --release --example floor -- --endpoint http://127.0.0.1:8787/event \
//!     --api-key da2-local --bodies bodies.json --concurrency 8
//! ```
//!
//! `--bodies` is a JSON array of invocations, each an array of request bodies (JSON texts), as
//! `cpu` collects them from what the bridge sent. The invocations go one after the other, each
//! one's requests with at most `--concurrency` in flight. Prints one JSON line: the CPU time the
//! process spent from before building its client to the last response (user + system, from
//! `/proc/self/task/*/schedstat`, nanoseconds), the requests sent and how many got a 2xx.

use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt;
use futures_util::stream;
use reqwest::header::HeaderValue;

#[path = "support/cpu_time.rs"]
mod cpu_time;

// The bridge's allocator, so that the floor is the same stack.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug)]
#[command(about = "Send pre-built publish bodies with the bridge's HTTP stack, nothing else")]
struct Args {
    /// The publish endpoint, `http://127.0.0.1:PORT/event`.
    #[arg(long)]
    endpoint: String,
    /// The `x-api-key` header.
    #[arg(long)]
    api_key: String,
    /// A JSON file: an array of invocations, each an array of request bodies.
    #[arg(long)]
    bodies: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Run on a multi-threaded runtime instead of the current-thread one the bridge uses.
    #[arg(long)]
    multi_thread: bool,
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    let invocations: Vec<Vec<String>> = serde_json::from_slice(&std::fs::read(&args.bodies)?)?;
    let runtime = if args.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(send(&args, invocations))
}

async fn send(args: &Args, invocations: Vec<Vec<String>>) -> Result<(), Error> {
    let url = reqwest::Url::parse(&args.endpoint)?;
    let key = HeaderValue::from_str(&args.api_key)?;
    let started = cpu_time::process_ns();
    // The bridge builds its client on the first publish too, so its build is in both figures.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    let mut requests = 0usize;
    let mut ok = 0usize;
    for bodies in invocations {
        let answers: Vec<bool> = stream::iter(bodies)
            .map(|body| {
                let request = client
                    .post(url.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                    .header(
                        reqwest::header::ACCEPT,
                        HeaderValue::from_static("application/json"),
                    )
                    .header("x-api-key", key.clone())
                    .body(body);
                async move {
                    match request.send().await {
                        Ok(response) => {
                            let success = response.status().is_success();
                            response.bytes().await.is_ok() && success
                        }
                        Err(_) => false,
                    }
                }
            })
            .buffer_unordered(args.concurrency.max(1))
            .collect()
            .await;
        requests += answers.len();
        ok += answers.iter().filter(|&&a| a).count();
    }
    let cpu_ns = cpu_time::process_ns().saturating_sub(started);
    println!(
        "{}",
        serde_json::json!({"cpu_ns": cpu_ns, "requests": requests, "ok": ok})
    );
    Ok(())
}
