//! The embedded JavaScript engine (QuickJS through `rquickjs`): runs one export of a handler
//! module with a context and hands back what it returned, as JSON.
//!
//! Every invocation gets a fresh runtime, so handlers share no state between requests (as on
//! AppSync) and an edited file is simply what the next invocation reads. The runtime is bounded:
//! a deadline checked by QuickJS's interrupt hook (an endless loop is cut off), a memory limit
//! and a stack limit. The module may import only `@aws-appsync/utils`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rquickjs::loader::{BuiltinLoader, BuiltinResolver};
use rquickjs::{CatchResultExt, CaughtError, Context, Function, Module, Object, Runtime, Value};

/// What a handler module imports `util` from.
pub const UTILS_MODULE: &str = "@aws-appsync/utils";

const UTILS_SOURCE: &str = include_str!("utils.js");
const GLUE_SOURCE: &str = include_str!("glue.js");
const CONSOLE_SOURCE: &str = include_str!("console.js");
const HANDLER_MODULE: &str = "handler";
const GLUE_MODULE: &str = "appsync-local:glue";

/// Memory one invocation may allocate.
pub const MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// Stack one invocation may use (the blocking pool's threads have 2 MiB).
const STACK_LIMIT: usize = 1024 * 1024;

/// Why an invocation produced no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsError {
    /// The handler called `util.error(message, errorType)`.
    #[error("util.error: {message}")]
    UtilError {
        message: String,
        error_type: Option<String>,
    },
    /// The handler called `util.unauthorized()`.
    #[error("util.unauthorized")]
    Unauthorized,
    /// The handler threw (or ran out of memory or stack).
    #[error("{0}")]
    Threw(String),
    /// The module could not be loaded: a syntax error, an import that does not exist.
    #[error("cannot load the handler: {0}")]
    Load(String),
    /// The deadline passed before the handler returned.
    #[error("did not finish within {} ms", .0.as_millis())]
    TimedOut(Duration),
}

/// Runs `export function <function>(ctx)` of the module `source` (named `file` in errors) with
/// `context`, within `timeout`. `Ok(None)`: the module does not export `function`.
pub fn invoke(
    file: &str,
    source: &str,
    function: &str,
    context: &serde_json::Value,
    timeout: Duration,
    log: impl Fn(&str, &str) + 'static,
) -> Result<Option<serde_json::Value>, JsError> {
    let fail = |e: rquickjs::Error| JsError::Threw(format!("javascript engine: {e}"));
    let runtime = Runtime::new().map_err(fail)?;
    runtime.set_memory_limit(MEMORY_LIMIT);
    runtime.set_max_stack_size(STACK_LIMIT);
    let deadline = Instant::now() + timeout;
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&timed_out);
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    runtime.set_loader(
        BuiltinResolver::default()
            .with_module(UTILS_MODULE)
            .with_module(HANDLER_MODULE)
            .with_module(GLUE_MODULE),
        BuiltinLoader::default()
            .with_module(UTILS_MODULE, UTILS_SOURCE)
            .with_module(HANDLER_MODULE, source.to_owned())
            .with_module(GLUE_MODULE, GLUE_SOURCE),
    );
    let js_context = Context::full(&runtime).map_err(fail)?;
    let context_json = context.to_string();
    let outcome = js_context.with(|ctx| -> Result<Option<serde_json::Value>, JsError> {
        let load = |e: CaughtError<'_>| JsError::Load(describe(file, &e));
        let logger = Function::new(ctx.clone(), move |level: String, text: String| {
            log(&level, &text);
        })
        .map_err(fail)?;
        ctx.globals()
            .set("__appsyncLocalLog", logger)
            .map_err(fail)?;
        ctx.eval::<(), _>(CONSOLE_SOURCE).map_err(fail)?;
        let (glue, promise) = Module::declare(ctx.clone(), GLUE_MODULE, GLUE_SOURCE)
            .and_then(|m| m.eval())
            .catch(&ctx)
            .map_err(load)?;
        promise.finish::<()>().catch(&ctx).map_err(load)?;
        let invoke: Function = glue.get("invoke").map_err(fail)?;
        let answer: String = invoke
            .call((function, context_json))
            .catch(&ctx)
            .map_err(|e| thrown(file, e))?;
        let answer: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|e| JsError::Threw(format!("the handler's answer is not JSON: {e}")))?;
        if answer.get("missing").is_some() {
            return Ok(None);
        }
        Ok(Some(answer.get("value").cloned().unwrap_or_default()))
    });
    if timed_out.load(Ordering::Relaxed) {
        return Err(JsError::TimedOut(timeout));
    }
    outcome
}

/// Classifies what the handler threw: `util.error`, `util.unauthorized`, or anything else.
fn thrown(file: &str, error: CaughtError<'_>) -> JsError {
    if let CaughtError::Exception(exception) = &error {
        let object: &Object = exception.as_object();
        let mark: Option<String> = object.get("__appsyncLocal").ok().flatten();
        match mark.as_deref() {
            Some("unauthorized") => return JsError::Unauthorized,
            Some("error") => {
                return JsError::UtilError {
                    message: exception.message().unwrap_or_default(),
                    error_type: object
                        .get::<_, Option<Value>>("errorType")
                        .ok()
                        .flatten()
                        .and_then(|v| v.as_string().and_then(|s| s.to_string().ok())),
                };
            }
            _ => {}
        }
    }
    JsError::Threw(describe(file, &error))
}

/// One line: the error's name and message, and where in the file it was thrown when known.
fn describe(file: &str, error: &CaughtError<'_>) -> String {
    let text = match error {
        CaughtError::Exception(exception) => {
            let message = exception.message().unwrap_or_default();
            let name: Option<String> = exception.as_object().get("name").ok().flatten();
            let at = exception.stack().and_then(|s| {
                s.lines()
                    .find(|l| l.contains(HANDLER_MODULE))
                    .map(str::trim)
                    .map(str::to_owned)
            });
            match (name, at) {
                (Some(name), Some(at)) => format!("{name}: {message} ({at})"),
                (Some(name), None) => format!("{name}: {message}"),
                (None, _) => message,
            }
        }
        CaughtError::Value(value) => value
            .as_string()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| format!("a {} was thrown", value.type_name())),
        CaughtError::Error(e) => e.to_string(),
    };
    format!(
        "{file}: {}",
        text.replace(&format!("{HANDLER_MODULE}:"), "line ")
    )
}

#[cfg(test)]
mod tests;
