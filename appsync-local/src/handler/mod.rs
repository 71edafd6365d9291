//! Namespace handlers (`--handler NAMESPACE=FILE.js`): AppSync's APPSYNC_JS `onPublish` and
//! `onSubscribe`, run as AppSync runs them, so the same file deploys unchanged.
//!
//! - [`engine`]: the embedded JavaScript engine, one bounded runtime per invocation.
//! - [`context`]: the `ctx` a handler receives.
//! - [`verdict`]: what its answer (or its error) means for the request.
//!
//! The file is read at every invocation, so an edited handler takes effect with the next request
//! (logged as reloaded); a file that no longer loads fails the requests that need it, with the
//! reason, until it is fixed. Invocations run on tokio's blocking pool, never on the runtime's
//! own threads.

pub mod context;
pub mod engine;
pub mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tracing::{debug, error, info, warn};

pub use context::Caller;
use engine::JsError;
pub use verdict::Operation;

use crate::channel::ChannelPath;
use crate::publish::{ApiError, EVENT_FAILURE_CODE, EVENT_FAILURE_MESSAGE, Fate, event_ids};

/// Default time one handler invocation may take before it is cut off.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the handlers could not be loaded at start.
#[derive(Debug, thiserror::Error)]
#[error("handler for namespace {namespace}: {reason}")]
pub struct HandlerError {
    /// The namespace the file was given for.
    pub namespace: String,
    /// What is wrong, naming the file.
    pub reason: String,
}

/// The configured handler files and what was last loaded from each.
#[derive(Debug)]
pub struct Handlers {
    files: BTreeMap<String, PathBuf>,
    timeout: Duration,
    /// A hash of the source last run per namespace, to log reloads.
    loaded: Mutex<HashMap<String, u64>>,
}

impl Handlers {
    /// Handlers for these namespaces, each invocation bounded by `timeout`.
    pub fn new(files: BTreeMap<String, PathBuf>, timeout: Duration) -> Self {
        Self {
            files,
            timeout,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// Reads and loads every file once, so a missing file or a syntax error stops the start.
    pub async fn check(&self) -> Result<(), HandlerError> {
        for (namespace, path) in &self.files {
            let failed = |reason: String| HandlerError {
                namespace: namespace.clone(),
                reason,
            };
            let source = read(path).map_err(failed)?;
            // What was loaded, so an edit before the first request is logged as a reload too.
            self.note_reload(namespace, path, &source);
            let run = self
                .invoke_blocking(namespace, path, source, "__appsyncLocalCheck", Value::Null)
                .await;
            match run {
                Ok(Ok(_)) => info!(namespace, file = %path.display(), "handler loaded"),
                Ok(Err(e)) => return Err(failed(e.to_string())),
                Err(e) => return Err(failed(format!("the check did not run: {e}"))),
            }
        }
        Ok(())
    }

    /// Each namespace with a handler and its file, in namespace order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &std::path::Path)> {
        self.files.iter().map(|(n, p)| (n.as_str(), p.as_path()))
    }

    /// True when the namespace has a handler file.
    pub fn has(&self, namespace: &str) -> bool {
        self.files.contains_key(namespace)
    }

    /// Runs `onPublish` for `events` (`(id, JSON text)` in request order) published to `channel`.
    /// `None`: no handler, or one without `onPublish` — AppSync then forwards every event.
    pub async fn on_publish(
        &self,
        channel: &ChannelPath,
        events: &[(String, String)],
        caller: &Caller,
    ) -> Option<Result<Vec<Fate>, ApiError>> {
        let ctx = context::publish_context(channel, events, caller);
        let answer = self
            .run(Operation::Publish, channel.namespace(), ctx)
            .await?;
        Some(answer.and_then(|value| {
            verdict::publish_fates(events, &value).map_err(|reason| {
                warn!(namespace = channel.namespace(), %reason, "onPublish answer refused");
                ApiError::new(
                    500,
                    "InternalFailure",
                    format!("onPublish handler failed: {reason}"),
                )
            })
        }))
    }

    /// Runs `onSubscribe` for a subscription to `channel`. `None`: no handler or no export.
    pub async fn on_subscribe(
        &self,
        channel: &ChannelPath,
        caller: &Caller,
    ) -> Option<Result<(), ApiError>> {
        let ctx = context::subscribe_context(channel, caller);
        let answer = self
            .run(Operation::Subscribe, channel.namespace(), ctx)
            .await?;
        Some(answer.map(|_| ()))
    }

    async fn run(
        &self,
        operation: Operation,
        namespace: &str,
        ctx: Value,
    ) -> Option<Result<Value, ApiError>> {
        let path = self.files.get(namespace)?;
        let source = match read(path) {
            Ok(source) => source,
            Err(reason) => {
                error!(namespace, %reason, "handler unavailable");
                let message = format!("{} handler failed: {reason}", operation.export());
                return Some(Err(ApiError::new(500, "InternalFailure", message)));
            }
        };
        self.note_reload(namespace, path, &source);
        let export = operation.export();
        let run = self
            .invoke_blocking(namespace, path, source, export, ctx)
            .await;
        let outcome = match run {
            Ok(Ok(None)) => return None,
            Ok(Ok(Some(value))) => Ok(value),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(JsError::Threw(format!("the handler did not run: {e}"))),
        };
        Some(outcome.map_err(|e| {
            match &e {
                JsError::UtilError { .. } | JsError::Unauthorized => {
                    debug!(namespace, handler = export, error = %e, "handler refused the request");
                }
                _ => warn!(namespace, handler = export, error = %e, "handler failed"),
            }
            verdict::api_error(operation, &e)
        }))
    }

    /// Runs `export` of the module `source` (from `path`) on a blocking thread, within the
    /// handlers' time limit, its console going to the log under `namespace`.
    async fn invoke_blocking(
        &self,
        namespace: &str,
        path: &std::path::Path,
        source: String,
        export: &'static str,
        ctx: Value,
    ) -> Result<Result<Option<Value>, JsError>, tokio::task::JoinError> {
        let file = path.display().to_string();
        let timeout = self.timeout;
        let ns = namespace.to_owned();
        tokio::task::spawn_blocking(move || {
            engine::invoke(&file, &source, export, &ctx, timeout, move |level, text| {
                console(&ns, level, text)
            })
        })
        .await
    }

    fn note_reload(&self, namespace: &str, path: &std::path::Path, source: &str) {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        source.hash(&mut hasher);
        let hash = hasher.finish();
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(previous) = loaded.insert(namespace.to_owned(), hash)
            && previous != hash
        {
            info!(namespace, file = %path.display(), "handler reloaded");
        }
    }
}

/// What the namespace's `onPublish` handler made of a publish.
pub enum Handled {
    /// No handler (or no `onPublish`): the events as published.
    NoHandler(Vec<String>),
    /// One fate per event, with the identifiers the handler saw as `id`.
    Fates(Vec<(String, Fate)>),
    /// `util.error`, `util.unauthorized`, or a handler that failed.
    Rejected(ApiError),
}

impl Handlers {
    /// Runs the namespace's `onPublish`, if any, over `events` (HTTP and WebSocket publish),
    /// giving each event the identifier it is answered under.
    pub async fn on_publish_events(
        &self,
        channel: &ChannelPath,
        events: Vec<String>,
        caller: &Caller,
    ) -> Handled {
        if !self.has(channel.namespace()) {
            return Handled::NoHandler(events);
        }
        let with_ids: Vec<(String, String)> =
            event_ids(events.len()).into_iter().zip(events).collect();
        match self.on_publish(channel, &with_ids, caller).await {
            None => Handled::NoHandler(with_ids.into_iter().map(|(_, e)| e).collect()),
            Some(Err(error)) => Handled::Rejected(error),
            Some(Ok(fates)) => {
                Handled::Fates(with_ids.into_iter().map(|(id, _)| id).zip(fates).collect())
            }
        }
    }
}

impl Handled {
    /// Random per-event failures on top of what a handler decided: only delivered events fail.
    pub fn with_failures(mut fates: Vec<(String, Fate)>, failed: &[usize]) -> Vec<(String, Fate)> {
        for &index in failed {
            if let Some((_, fate @ Fate::Deliver(_))) = fates.get_mut(index) {
                *fate = Fate::Fail {
                    code: EVENT_FAILURE_CODE,
                    message: EVENT_FAILURE_MESSAGE.to_owned(),
                };
            }
        }
        fates
    }
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// One `console.*` line of a handler, in the server's log.
fn console(namespace: &str, level: &str, text: &str) {
    match level {
        "error" => error!(namespace, "console: {text}"),
        "warn" => warn!(namespace, "console: {text}"),
        "debug" => debug!(namespace, "console: {text}"),
        _ => info!(namespace, "console: {text}"),
    }
}
