//! HTTP handlers: `POST /event` (publish, with auth, validation and fault injection) and the
//! local control endpoints under `/_local/` (faults, scripted outcomes, recent events).

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::auth::AuthOutcome;
use crate::config::{Faults, Scripted, ScriptedSpec};
use crate::handler::{Caller, Handled};
use crate::latency;
use crate::malformed::{self, MalformedBody};
use crate::publish::{self, ApiError, PublishResult, RawPublish};
use crate::state::{self, AppState, Fate, PublishRequest, Roll};

/// Largest publish body read: five events of 240 KB, each possibly doubled by JSON string
/// escaping, plus the envelope. The real limit for a whole request is UNVERIFIED.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How many events `GET /_local/events` lists at most.
pub const RECENT_EVENTS: usize = 1000;

/// AppSync's error answer: the status, `{"errors":[…]}`, and the `x-amzn-ErrorType` header, which
/// is where Amplify JS's REST error parser takes the error's name from (AppSync's GraphQL endpoint
/// sends it; for the Events endpoint it is UNVERIFIED).
fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(error.body())).into_response();
    if let Ok(value) = HeaderValue::from_str(&error.error_type) {
        response.headers_mut().insert(ERROR_TYPE_HEADER, value);
    }
    response
}

/// The header naming an error's type.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// The header carrying a request id on every answer, as AWS services send it.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// Response headers a browser app may read (`access-control-expose-headers`): without this, a
/// cross-origin `fetch` cannot see the error type or request id.
pub const EXPOSED_HEADERS: &str = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date";

/// The remote address of the request's connection, when the server was started with connection
/// info ([`crate::serve`], [`crate::start`]); `None` for a [`crate::router`] served without it.
pub(crate) fn peer_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// `POST /event`: AppSync's publish endpoint.
pub async fn publish(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Body,
) -> Response {
    let (arrival, scripted) = state.begin_request();
    let latency = state.latency();
    if !latency.is_zero() {
        latency::delay(latency).await;
    }
    if let Some(Scripted::Delay(scripted_delay)) = &scripted {
        latency::delay(*scripted_delay).await;
    }

    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let Ok(bytes) = bytes else {
        let error = ApiError::too_large(format!(
            "request body is over the limit of {MAX_BODY_BYTES} bytes"
        ));
        let auth = state
            .auth()
            .check(method.as_str(), &uri, &headers, &[], SystemTime::now());
        let exchange = Exchange::new(&state, arrival, RawPublish::default(), auth);
        return exchange.answer(Answer::Error(error));
    };
    let auth = state
        .auth()
        .check(method.as_str(), &uri, &headers, &bytes, SystemTime::now());
    let parsed: Result<Value, _> = serde_json::from_slice(&bytes);
    let raw = parsed
        .as_ref()
        .map(RawPublish::from_value)
        .unwrap_or_default();
    let exchange = Exchange::new(&state, arrival, raw, auth);

    match scripted {
        Some(Scripted::Status(status)) => {
            return exchange.answer(Answer::Error(ApiError::for_status(status)));
        }
        Some(Scripted::Error {
            status,
            error_type,
            message,
        }) => {
            let error = ApiError::new(status, &error_type, message);
            return exchange.answer(Answer::Error(error));
        }
        Some(Scripted::Hang) => return exchange.never_answer(0).await,
        _ => {}
    }
    if !exchange.auth.is_allowed() {
        return exchange.answer(Answer::Error(ApiError::unauthorized()));
    }
    let Ok(body) = parsed else {
        let error = ApiError::bad_request("Request body is not valid JSON");
        return exchange.answer(Answer::Error(error));
    };
    let valid = match publish::validate(&body, state.namespaces()) {
        Ok(valid) => valid,
        Err(error) => return exchange.answer(Answer::Error(error)),
    };

    let events = valid.events.len();
    let (fates, drop_response, malformed) = match scripted {
        Some(Scripted::FailEvents { indices, code }) => {
            (Fate::plan(valid.events, &indices, code, &[]), false, None)
        }
        Some(Scripted::DropResponse) => (Fate::plan(valid.events, &[], 0, &[]), true, None),
        Some(Scripted::Malformed(shape)) => {
            (Fate::plan(valid.events, &[], 0, &[]), false, Some(shape))
        }
        Some(Scripted::Unlisted(indices)) => {
            (Fate::plan(valid.events, &[], 0, &indices), false, None)
        }
        _ => match state.roll(events) {
            Roll::Fail(status) => {
                return exchange.answer(Answer::Error(ApiError::for_status(status)));
            }
            Roll::Accept {
                failed,
                drop_response,
                malformed,
            } => {
                let caller = Caller::new(&exchange.auth, &headers, &headers, peer_ip(&extensions));
                let fates = match state
                    .handlers()
                    .on_publish_events(&valid.channel, valid.events, &caller)
                    .await
                {
                    Handled::Rejected(error) => return exchange.answer(Answer::Error(error)),
                    Handled::Fates(fates) => Handled::with_failures(fates, &failed),
                    Handled::NoHandler(events) => {
                        Fate::plan(events, &failed, state::EVENT_FAILURE_CODE, &[])
                    }
                };
                (fates, drop_response, malformed)
            }
        },
    };
    let result = state.accept(&valid.channel, fates);
    if drop_response {
        info!(channel = %exchange.raw.channel, "publish response dropped by fault injection");
        return exchange.never_answer(200).await;
    }
    match malformed {
        Some(shape) => {
            info!(channel = %exchange.raw.channel, ?shape, "publish response garbled by fault injection");
            exchange.answer(Answer::Garbled(malformed::body(shape, &result, events)))
        }
        None => exchange.answer(Answer::Ok(result)),
    }
}

/// How a publish request is answered.
enum Answer {
    /// 200 with AppSync's `{successful, failed}`.
    Ok(PublishResult),
    /// 200 with a garbled body (fault injection).
    Garbled(MalformedBody),
    /// The error's status and AppSync's error body.
    Error(ApiError),
}

/// One publish request on its way to its answer: what is logged and recorded about it.
struct Exchange<'a> {
    state: &'a AppState,
    arrival: u64,
    raw: RawPublish,
    auth: AuthOutcome,
}

impl<'a> Exchange<'a> {
    fn new(state: &'a AppState, arrival: u64, raw: RawPublish, auth: AuthOutcome) -> Self {
        Self {
            state,
            arrival,
            raw,
            auth,
        }
    }

    /// Logs and records the request, then answers it.
    fn answer(self, answer: Answer) -> Response {
        let status = match &answer {
            Answer::Ok(_) | Answer::Garbled(_) => 200,
            Answer::Error(e) => e.status,
        };
        self.record(status);
        match answer {
            Answer::Ok(result) => (StatusCode::OK, Json(result)).into_response(),
            Answer::Garbled(body) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, body.content_type)],
                body.text,
            )
                .into_response(),
            Answer::Error(error) => error_response(&error),
        }
    }

    /// Records the request (with the status it would have had: 0 when nothing was accepted) and
    /// holds the response until the server shuts down, as a hung or dropped AppSync response
    /// looks to a client.
    async fn never_answer(self, status: u16) -> Response {
        let state = self.state.clone();
        self.record(status);
        state::shutting_down(state.shutdown_receiver()).await;
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }

    /// Logs one line for the request and keeps it in the request log with the status it got.
    fn record(self, status: u16) {
        let Exchange {
            state,
            arrival,
            raw,
            auth,
        } = self;
        log_publish(&raw, status, &auth);
        state.record_request(
            arrival,
            PublishRequest {
                channel: raw.channel,
                events: raw.events,
                status,
                auth,
            },
        );
    }
}

fn log_publish(raw: &RawPublish, status: u16, auth: &AuthOutcome) {
    match auth {
        AuthOutcome::Denied { reason } => warn!(
            channel = %raw.channel,
            events = raw.events.len(),
            status,
            auth = %auth.mode(),
            reason = %reason,
            "publish"
        ),
        _ => info!(
            channel = %raw.channel,
            events = raw.events.len(),
            status,
            auth = %auth.mode(),
            "publish"
        ),
    }
}

/// Request headers a browser may send when publishing (CORS preflight answer).
const ALLOWED_HEADERS: &str = "content-type, accept, content-encoding, x-api-key, authorization, \
x-amz-date, x-amz-security-token, x-amz-content-sha256, x-amz-user-agent";

/// `OPTIONS /event`: lets browser apps on another origin publish over HTTP. The headers the
/// browser asks for (`access-control-request-headers`) are allowed as asked, so custom headers
/// that handlers read from `ctx.request.headers` pass too; without the question, a fixed list.
pub async fn preflight(headers: HeaderMap) -> Response {
    let allowed = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS));
    let mut response = (
        StatusCode::NO_CONTENT,
        [
            ("access-control-allow-methods", "POST, OPTIONS"),
            ("access-control-max-age", "600"),
        ],
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
    response
}

/// Adds `access-control-allow-origin: *` (a development server has no origin to protect, and
/// front-end apps usually run on another port), the exposed headers, and a fresh
/// `x-amzn-RequestId` to every answer.
pub async fn cors_and_request_id(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// Query of `GET /_local/events`.
#[derive(Debug, Deserialize)]
pub struct RecentQuery {
    limit: Option<usize>,
}

/// `GET /_local/events`: the most recent accepted events, oldest first.
pub async fn recent_events(
    State(state): State<AppState>,
    Query(query): Query<RecentQuery>,
) -> Response {
    let limit = query.limit.unwrap_or(RECENT_EVENTS).min(RECENT_EVENTS);
    Json(state.recent(limit)).into_response()
}

/// `GET /_local/requests`: the most recent HTTP publish requests (never credentials).
pub async fn recent_requests(State(state): State<AppState>) -> Response {
    Json(state.recent_requests(RECENT_EVENTS)).into_response()
}

/// `GET /_local/faults`: the current random fault settings and, under `script`, the scripted
/// outcomes still queued (next first), in the JSON form `POST` takes.
pub async fn get_faults(State(state): State<AppState>) -> Response {
    let mut shown = serde_json::to_value(state.faults()).unwrap_or_else(|_| json!({}));
    let script: Vec<ScriptedSpec> = state.queued_script().iter().map(Into::into).collect();
    if let Value::Object(fields) = &mut shown {
        fields.insert("script".to_owned(), json!(script));
    }
    Json(shown).into_response()
}

/// `POST /_local/faults`: a [`Faults`] object replaces the random faults; `{"script":[...]}`
/// replaces the queue of scripted outcomes.
pub async fn set_faults(State(state): State<AppState>, Json(body): Json<Value>) -> Response {
    if let Some(script) = body.get("script") {
        let specs = serde_json::from_value::<Vec<ScriptedSpec>>(script.clone())
            .map_err(|e| e.to_string())
            .and_then(|specs| {
                specs.iter().try_for_each(ScriptedSpec::check)?;
                Ok(specs)
            });
        return match specs {
            Ok(specs) => {
                let count = specs.len();
                state.replace_script(specs.into_iter().map(Scripted::from));
                info!(outcomes = count, "scripted outcomes set");
                Json(json!({ "script": count })).into_response()
            }
            Err(e) => error_response(&ApiError::bad_request(format!("invalid script: {e}"))),
        };
    }
    match serde_json::from_value::<Faults>(body) {
        Ok(faults) => {
            let faults = faults.sanitized();
            info!(
                throttle = faults.throttle,
                server_error = faults.server_error,
                event_failure = faults.event_failure,
                drop_response = faults.drop_response,
                malformed_response = faults.malformed_response,
                latency_ms = faults.latency_ms,
                "faults set"
            );
            state.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => error_response(&ApiError::bad_request(format!("invalid faults: {e}"))),
    }
}
