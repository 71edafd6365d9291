//! Shared test helpers: the repository's sample files, a local server, configuration, Lambda
//! events and captured logs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use appsync_bridge::config::Config;
use appsync_bridge::handler::{Answer, App, HandlerError, handle};
use appsync_bridge::metrics::MetricsSink;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// A path inside the repository (`events/…`, `rules.yaml`).
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Every sample invocation payload in `events/`, sorted by name.
pub fn sample_events() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("events"))
        .expect("events/ exists")
        .map(|entry| entry.expect("readable events/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

// ---- publishing helpers (handler and publish tests) ----------------------------------------

/// The API key every local test server accepts.
pub const API_KEY: &str = "da2-test-key-0123456789";

/// A local AppSync Events server on port 0 with the sample namespaces and [`API_KEY`].
pub async fn local_server() -> appsync_local::Server {
    appsync_local::start(appsync_local::Config {
        api_keys: vec![API_KEY.into()],
        namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
        ..Default::default()
    })
    .await
    .expect("local server starts")
}

/// Rules for hand-made SQS bodies: `{"kind":"order","customerId":..}` → `/orders/<customerId>`,
/// `{"kind":"ghost",..}` → `/ghost/<customerId>` (a namespace the server does not have).
pub const TEST_RULES: &str = r#"
rules:
  - name: orders
    pattern:
      detail:
        kind: [order]
    channel: /orders/{detail.customerId}
  - name: ghost
    pattern:
      detail:
        kind: [ghost]
    channel: /ghost/{detail.customerId}
"#;

/// Configuration for `server` with the API key, fast retries and `extra` variables, read through
/// the same lookup production uses (a map here: no environment mutation).
pub fn config(server: &appsync_local::Server, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APPSYNC_HTTP_ENDPOINT".into(), server.http_endpoint()),
        ("APPSYNC_AUTH_MODE".into(), "API_KEY".into()),
        ("APPSYNC_API_KEY".into(), API_KEY.into()),
        ("BRIDGE_RULES".into(), TEST_RULES.into()),
        ("BRIDGE_BACKOFF_BASE_MS".into(), "5".into()),
        ("BRIDGE_BACKOFF_CAP_MS".into(), "20".into()),
        ("BRIDGE_DEADLINE_MARGIN_MS".into(), "200".into()),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(&move |name| vars.get(name).cloned()).expect("valid test configuration")
}

/// The application for `server` (see [`config`]).
pub fn app(server: &appsync_local::Server, extra: &[(&str, &str)]) -> App {
    App::new(config(server, extra)).with_metrics(MetricsSink::Off)
}

/// A Lambda event whose deadline is `budget` from now.
pub fn invocation(payload: Value, budget: Duration) -> LambdaEvent<Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let mut context = Context::default();
    context.request_id = "test-request".into();
    context.deadline = (now + budget).as_millis() as u64;
    LambdaEvent::new(payload, context)
}

/// The time left before the deadline in most tests.
pub const BUDGET: Duration = Duration::from_secs(10);

/// One invocation of the real handler with `payload` and [`BUDGET`].
pub async fn run(app: &App, payload: Value) -> Result<Value, HandlerError> {
    answer(handle(invocation(payload, BUDGET), app).await)
}

/// The handler's answer as the runtime sends it.
pub fn answer(answer: Result<Answer, HandlerError>) -> Result<Value, HandlerError> {
    answer.map(|a| serde_json::to_value(a).expect("an answer serialises"))
}

/// An SQS batch of `(messageId, body, message group)`.
pub fn sqs_batch(records: &[(&str, String, Option<&str>)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, body, group)| {
            let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1763805600000"});
            if let Some(g) = group {
                attributes["MessageGroupId"] = json!(g);
            }
            json!({
                "messageId": id,
                "receiptHandle": "rh",
                "body": body,
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": if group.is_some() { "arn:aws:sqs:eu-west-1:123456789012:q.fifo" } else { "arn:aws:sqs:eu-west-1:123456789012:q" },
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An order body for [`TEST_RULES`].
pub fn order(customer: &str, n: usize) -> String {
    json!({"kind": "order", "customerId": customer, "n": n}).to_string()
}

/// The `itemIdentifier`s of an SQS answer.
pub fn failed_items(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures is a list")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("string id").to_owned())
        .collect()
}

/// Reads a sample payload from `events/`.
pub fn sample(name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo_path(&format!("events/{name}"))).expect("sample exists");
    serde_json::from_str(&text).expect("sample is JSON")
}

/// Tracing output captured in memory for the current thread.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    /// Installs a DEBUG subscriber writing here for the current thread, until the guard drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
