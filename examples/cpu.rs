//! Whole-process CPU per event: the release bridge under a Lambda Runtime API stub, publishing to
//! appsync-local over loopback, against the floor — `examples/floor.rs` sending exactly the
//! request bodies the bridge sent, with the same HTTP stack and concurrency, and nothing else.
//!
//! ```text
//! cargo build --release --bin appsync-bridge   # alone: built with the examples it gets dev features
//! cargo build --release --example floor --example cpu
//! target/release/examples/cpu --bridge target/release/appsync-bridge \
//!     --floor target/release/examples/floor --runs 7
//! ```
//!
//! # Workload
//!
//! 10 SQS batches of 500 records, each an EventBridge order event of about 1 KB in the body (as
//! an EventBridge → SQS target delivers it), 20 customers, every fifth order from a VIP. Ten
//! rules, of the kinds users write: `order-status` sends every order to
//! `/orders/<customerId>` with a projected payload (text and typed placeholders), `vip-orders`
//! sends the VIP orders' `detail` to `/vip/orders`, and eight rules match nothing. That is
//! 600 events per batch, 6,000 per run, in requests of at most five (about 120 per batch).
//!
//! # What is measured
//!
//! The function's CPU time (user + system of all its threads, from
//! `/proc/<pid>/task/*/schedstat`) from the end of init to the answer of the last batch: the
//! runtime's `/next` and `/response`, reading the batches, routing, building, signing, sending,
//! classifying, logging, metrics. The floor's is measured the same way in its own process, from
//! before it builds its HTTP client (the bridge builds its own on the first publish) to its last
//! response. The server (appsync-local) and the stub run in this process, so neither is counted.
//! Each mode (`API_KEY`, `AWS_IAM` verified by the server) runs `--runs` times, alternating
//! bridge and floor; the median of each and their ratio are printed, and with `--json` every run
//! is appended to that file as one JSON line.

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/orders.rs"]
mod orders;
#[path = "support/runtime_api.rs"]
mod runtime_api;

use std::io::Write;
use std::time::{Duration, Instant};

use appsync_bridge::publish::build;
use axum::body::Bytes;
use clap::Parser;
use orders::{REGION, RULES, batch};
use runtime_api::{Error, RuntimeApi};
use serde_json::{Value, json};

const API_KEY: &str = "da2-cpu";
const AKID: &str = "AKIDCPUBENCH000001";
const SECRET: &str = "cpu-bench-secret";
const SESSION: &str = "cpu-bench-session-token";
#[derive(Parser, Debug)]
#[command(about = "Whole-process CPU per event: the bridge against the floor of its HTTP stack")]
struct Args {
    /// The release bridge binary (repeatable: several builds are measured in alternation, each
    /// against the same floor).
    #[arg(long, required = true)]
    bridge: Vec<String>,
    /// The release floor binary (`examples/floor.rs`).
    #[arg(long)]
    floor: String,
    /// Runs per mode (fresh processes; the medians are reported).
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// SQS batches per run.
    #[arg(long, default_value_t = 10)]
    batches: usize,
    /// Records per batch.
    #[arg(long, default_value_t = 500)]
    records: usize,
    /// `BRIDGE_CONCURRENCY`, and the floor's requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Modes to run: `api-key`, `iam` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "api-key,iam")]
    modes: Vec<String>,
    /// Run the floor on a multi-threaded runtime (default: current-thread, like the bridge).
    #[arg(long)]
    floor_multi_thread: bool,
    /// Extra environment for the bridge, `KEY=VALUE` (repeatable).
    #[arg(long = "env")]
    envs: Vec<String>,
    /// Append one JSON line per run to this file.
    #[arg(long)]
    json: Option<String>,
    /// Show the bridge's stdout and stderr.
    #[arg(long)]
    verbose: bool,
}

fn median(values: &[u64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0) as f64
}

/// One bridge process: the batches in order. Its CPU (ns) and the bodies it sent per batch.
async fn run_bridge(
    args: &Args,
    bin: &str,
    mode: &str,
    rules_file: &str,
    batches: &[Bytes],
    run: usize,
) -> Result<(u64, Vec<Vec<String>>), Error> {
    let server = appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        iam_credentials: vec![(AKID.into(), SECRET.into())],
        region: REGION.into(),
        namespaces: vec!["orders".into(), "vip".into()],
        history: 100_000,
        ..Default::default()
    })
    .await?;
    let mut api = RuntimeApi::start().await?;
    let output = || {
        if args.verbose {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::null()
        }
    };
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cpu")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("APPSYNC_HTTP_ENDPOINT", server.http_endpoint())
        .env("BRIDGE_RULES_FILE", rules_file)
        .env("BRIDGE_CONCURRENCY", args.concurrency.to_string())
        .stdout(output())
        .stderr(output())
        .kill_on_drop(true);
    match mode {
        "iam" => {
            cmd.env("APPSYNC_AUTH_MODE", "AWS_IAM")
                .env("AWS_ACCESS_KEY_ID", AKID)
                .env("AWS_SECRET_ACCESS_KEY", SECRET)
                .env("AWS_SESSION_TOKEN", SESSION);
        }
        _ => {
            cmd.env("APPSYNC_AUTH_MODE", "API_KEY")
                .env("APPSYNC_API_KEY", API_KEY);
        }
    }
    for kv in &args.envs {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn()?;
    let pid = child.id().ok_or("the bridge has no pid")?;
    api.wait_for_init(&mut child, bin).await?;
    let started = cpu_time::pid_ns(pid);
    let started_ticks = cpu_time::pid_ticks_ns(pid);
    let mut sent_before = 0;
    let mut bodies = Vec::new();
    for (n, body) in batches.iter().enumerate() {
        let (status, answer) = api.invoke(format!("req-{run}-{n}"), body.clone()).await?;
        let answer: Value = serde_json::from_slice(&answer)?;
        let failed = answer["batchItemFailures"].as_array().map(Vec::len);
        if status != 200 || failed != Some(0) {
            return Err(format!("batch {n} was not published whole: {status} {answer}").into());
        }
        let requests = server.requests();
        bodies.push(
            requests[sent_before..]
                .iter()
                .map(|r| {
                    let texts: Vec<&str> = r.events.iter().map(String::as_str).collect();
                    String::from_utf8_lossy(&build::body(&r.channel, &texts)).into_owned()
                })
                .collect(),
        );
        sent_before = requests.len();
    }
    let cpu = cpu_time::pid_ns(pid).saturating_sub(started);
    // The threads' sum is exact; the 10 ms ticks of /proc/<pid>/stat also count exited threads.
    // A gap of more than two ticks means a thread came and went during the run.
    let ticks = cpu_time::pid_ticks_ns(pid).saturating_sub(started_ticks);
    if ticks > cpu + 20_000_000 {
        return Err(format!(
            "threads exited during the run: {} ms by ticks, {} ms by threads",
            ticks / 1_000_000,
            cpu / 1_000_000
        )
        .into());
    }
    stop(&mut child, pid).await;
    server.shutdown().await;
    Ok((cpu, bodies))
}

/// Ends the function: SIGTERM, as Lambda's shutdown sends (a profiler wrapped around the binary
/// then writes its data), and SIGKILL if it is still there a second later.
async fn stop(child: &mut tokio::process::Child, pid: u32) {
    let _ = tokio::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .await;
    if tokio::time::timeout(Duration::from_secs(1), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// One floor process sending `bodies`: its CPU (ns).
async fn run_floor(args: &Args, bodies: &[Vec<String>], file: &str) -> Result<u64, Error> {
    std::fs::write(file, serde_json::to_vec(bodies)?)?;
    let server = appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        namespaces: vec!["orders".into(), "vip".into()],
        history: 1,
        ..Default::default()
    })
    .await?;
    let mut floor = tokio::process::Command::new(&args.floor);
    if args.floor_multi_thread {
        floor.arg("--multi-thread");
    }
    let output = floor
        .args(["--endpoint", &server.http_endpoint(), "--api-key", API_KEY])
        .args([
            "--bodies",
            file,
            "--concurrency",
            &args.concurrency.to_string(),
        ])
        .output()
        .await?;
    server.shutdown().await;
    let line: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "floor printed no result ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let sent: usize = bodies.iter().map(Vec::len).sum();
    if line["ok"].as_u64() != Some(sent as u64) {
        return Err(format!("the floor's requests did not all succeed: {line}").into());
    }
    line["cpu_ns"].as_u64().ok_or_else(|| "no cpu_ns".into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("appsync-bridge-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let rules_file = dir.join("rules.yaml").display().to_string();
    std::fs::write(&rules_file, RULES)?;
    let bodies_file = dir.join("bodies.json").display().to_string();
    let batches: Vec<Bytes> = (0..args.batches).map(|b| batch(b, args.records)).collect();
    let mut json = match &args.json {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => None,
    };
    println!(
        "{:8} {:>4} {:>6} {:>12} {:>12} {:>6}  bridge",
        "mode", "runs", "events", "bridge µs/ev", "floor µs/ev", "ratio"
    );
    for mode in &args.modes {
        let mut bridge = vec![Vec::new(); args.bridge.len()];
        let mut floor = Vec::new();
        let mut events = 0;
        for run in 0..args.runs {
            let mut sent = Vec::new();
            for (which, bin) in args.bridge.iter().enumerate() {
                let t = Instant::now();
                let (bridge_ns, bodies) =
                    run_bridge(&args, bin, mode, &rules_file, &batches, run).await?;
                events = bodies
                    .iter()
                    .flatten()
                    .map(|b| {
                        serde_json::from_str::<Value>(b)
                            .map_or(0, |v| v["events"].as_array().map_or(0, Vec::len))
                    })
                    .sum::<usize>();
                bridge[which].push(bridge_ns);
                sent.push((bin, bodies, t.elapsed()));
            }
            // The floor sends what the first bridge sent (every build sends the same requests).
            let floor_ns = run_floor(&args, &sent[0].1, &bodies_file).await?;
            floor.push(floor_ns);
            for (which, (bin, bodies, wall)) in sent.iter().enumerate() {
                let bridge_ns = bridge[which][run];
                if let Some(file) = json.as_mut() {
                    let requests: usize = bodies.iter().map(Vec::len).sum();
                    writeln!(
                        file,
                        "{}",
                        json!({
                            "bridge": bin, "mode": mode, "run": run, "events": events,
                            "requests": requests, "concurrency": args.concurrency,
                            "bridge_cpu_ms": bridge_ns as f64 / 1e6,
                            "floor_cpu_ms": floor_ns as f64 / 1e6,
                            "ratio": bridge_ns as f64 / floor_ns.max(1) as f64,
                            "bridge_wall_s": wall.as_secs_f64(),
                        })
                    )?;
                }
            }
        }
        let per_event = |ns: f64| ns / 1000.0 / events.max(1) as f64;
        let f = per_event(median(&floor));
        for (which, bin) in args.bridge.iter().enumerate() {
            let b = per_event(median(&bridge[which]));
            println!(
                "{:8} {:>4} {:>6} {:>12.2} {:>12.2} {:>6.2}  {bin}",
                mode,
                args.runs,
                events,
                b,
                f,
                b / f
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
