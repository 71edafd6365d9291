//! A minimal Lambda Runtime API stub for measuring a Lambda binary the way Lambda runs it: time
//! from process start to its first `/next` request (init), the duration of each invocation, and
//! the process's peak RSS (`VmHWM`) after each one. Used by `scripts/bench.sh`.
//!
//! ```text
//! cargo run --release --example runtime_stub -- --bin target/release/appsync-bridge \
//!     --local --event events/sqs-raw-json.json --runs 5
//! ```
//! `--local` starts `appsync-local` in-process and points the bridge at it (API key auth, the
//! sample `rules.yaml`). `--sqs-batch BYTES` generates an SQS batch of `--sqs-records` raw JSON
//! price ticks padded to about that many bytes in all (Lambda's synchronous payload limit is
//! 6 MB; SQS batches hold at most 10,000 records). Prints one JSON line per run, then a summary
//! line (`"summary": true`) with the median init time and the largest peak RSS per event.
//!
//! The binary's stdout and stderr are discarded; `--verbose` passes them through.

#[path = "support/runtime_api.rs"]
mod runtime_api;
mod support;

use std::time::Instant;

use axum::body::Bytes;
use clap::Parser;
use runtime_api::{Error, RuntimeApi};

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
    /// Generate an SQS batch of raw JSON price ticks of about this many bytes and invoke it
    /// (repeatable: one invocation per value, after the event files).
    #[arg(long)]
    sqs_batch: Vec<usize>,
    /// How many fresh processes to start (init is measured once per process).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Start appsync-local in-process and configure the bridge for it.
    #[arg(long)]
    local: bool,
    /// Records in each generated SQS batch, paired with `--sqs-batch` by position (the last
    /// value repeats; default 10,000).
    #[arg(long)]
    sqs_records: Vec<usize>,
    /// Extra environment for the binary, `KEY=VALUE`.
    #[arg(long = "env")]
    envs: Vec<String>,
    /// Show the binary's stdout and stderr.
    #[arg(long)]
    verbose: bool,
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// An SQS batch of `records` raw JSON price ticks (50 symbols) with a `kind` message attribute,
/// each body padded so that the whole batch is about `bytes` long.
fn sqs_batch(bytes: usize, records: usize) -> String {
    let record = |i: usize, padding: usize| support::price_tick_record(i, 50, padding).to_string();
    let records = records.max(1);
    let unpadded = record(records - 1, 0).len() + 1;
    // The `padding` key itself costs bytes: measure it with one character of padding.
    let key = record(records - 1, 1).len() + 1 - unpadded - 1;
    let padding = (bytes / records).saturating_sub(unpadded + key).max(1);
    let records: Vec<String> = (0..records).map(|i| record(i, padding)).collect();
    format!("{{\"Records\":[{}]}}", records.join(","))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();

    let mut events: Vec<(String, Bytes)> = Vec::new();
    for path in &args.event {
        events.push((path.clone(), Bytes::from(std::fs::read(path)?)));
    }
    for (n, &bytes) in args.sqs_batch.iter().enumerate() {
        let records = args
            .sqs_records
            .get(n)
            .or(args.sqs_records.last())
            .copied()
            .unwrap_or(10_000);
        events.push((
            format!("generated sqs batch, {records} records"),
            Bytes::from(sqs_batch(bytes, records)),
        ));
    }

    let local = if args.local {
        Some(
            appsync_local::start(appsync_local::Config {
                api_keys: vec!["da2-bench".into()],
                namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
                // Nothing inspects the history; keep the stub's own memory flat.
                history: 1,
                ..Default::default()
            })
            .await?,
        )
    } else {
        None
    };
    let rules_file = format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"));

    let mut inits = Vec::new();
    let mut peaks: Vec<(String, usize, u64)> = events
        .iter()
        .map(|(name, body)| (name.clone(), body.len(), 0))
        .collect();
    for run in 0..args.runs {
        let mut api = RuntimeApi::start().await?;
        let addr = api.addr();

        let mut cmd = tokio::process::Command::new(&args.bin);
        let output = || {
            if args.verbose {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            }
        };
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .stdout(output())
            .stderr(output())
            .kill_on_drop(true);
        if let Some(local) = &local {
            cmd.env("APPSYNC_HTTP_ENDPOINT", local.http_endpoint())
                .env("APPSYNC_AUTH_MODE", "API_KEY")
                .env("APPSYNC_API_KEY", "da2-bench")
                .env("BRIDGE_RULES_FILE", &rules_file);
        }
        for kv in &args.envs {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
        let started = Instant::now();
        let mut child = cmd.spawn()?;
        let pid = child.id().unwrap_or(0);

        // Init: wait for the first /next (or an exit, after an init error or a crash).
        let init = api
            .wait_for_init(&mut child, &args.bin)
            .await?
            .duration_since(started);
        inits.push(init.as_secs_f64() * 1000.0);
        let rss_after_init = peak_rss_kib(pid);

        let mut invocations = Vec::new();
        for (n, (name, body)) in events.iter().enumerate() {
            let id = format!("req-{run}-{n}");
            let t = Instant::now();
            let (status, response) = api.invoke(id, body.clone()).await?;
            let peak = peak_rss_kib(pid);
            if let (Some(peak), Some(slot)) = (peak, peaks.get_mut(n)) {
                slot.2 = slot.2.max(peak);
            }
            invocations.push(serde_json::json!({
                "event": name,
                "payload_bytes": body.len(),
                "status": status,
                "duration_ms": t.elapsed().as_secs_f64() * 1000.0,
                "peak_rss_kib": peak,
                "response_bytes": response.len(),
                "response_head": String::from_utf8_lossy(&response[..response.len().min(200)]),
            }));
        }
        let _ = child.kill().await;
        drop(api);
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
    println!(
        "{}",
        serde_json::json!({
            "summary": true,
            "bin": args.bin,
            "runs": args.runs,
            "init_ms_median": median(&mut inits),
            "init_ms_runs": inits,
            "peak_rss_kib_max": peaks
                .iter()
                .map(|(name, bytes, kib)| serde_json::json!({"event": name, "payload_bytes": bytes, "peak_rss_kib": kib}))
                .collect::<Vec<_>>(),
        })
    );
    if let Some(local) = local {
        local.shutdown().await;
    }
    Ok(())
}
