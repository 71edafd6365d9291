//! What a local server is configured with: namespaces, credentials, region, keep-alive, and the
//! fault injection settings (random [`Faults`] and forced [`Scripted`] outcomes).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default WebSocket keep-alive (`ka`) interval; AppSync documents 60 seconds.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(60);

/// Default region SigV4 signatures must be scoped to.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Default fault RNG seed, fixed so that two runs with the same faults behave the same.
pub const DEFAULT_SEED: u64 = 42;

/// Default number of events one WebSocket connection may fall behind before it is closed.
pub const DEFAULT_SUBSCRIBER_BUFFER: usize = 1024;

/// Default number of publish requests and accepted events kept for inspection.
pub const DEFAULT_HISTORY: usize = 100_000;

/// How a local server behaves. Build it with struct update syntax over [`Config::default`] so new
/// fields do not break callers.
#[derive(Clone, Debug)]
pub struct Config {
    /// Channel namespaces that exist; publishing or subscribing elsewhere is refused.
    pub namespaces: Vec<String>,
    /// API keys accepted in `x-api-key`.
    pub api_keys: Vec<String>,
    /// IAM credentials accepted in SigV4 signatures: (access key id, secret access key).
    pub iam_credentials: Vec<(String, String)>,
    /// Tokens accepted in `Authorization` (what Cognito, OIDC and Lambda authorizer modes send).
    pub auth_tokens: Vec<String>,
    /// The region SigV4 signatures must be scoped to; the service is always `appsync`.
    pub region: String,
    /// Random faults applied to HTTP publish requests.
    pub faults: Faults,
    /// Seed of the fault RNG, so a fault mix is reproducible.
    pub seed: u64,
    /// Interval between `ka` messages on every WebSocket connection.
    pub keepalive: Duration,
    /// How many events a WebSocket connection may fall behind before the server closes it.
    pub subscriber_buffer: usize,
    /// How many publish requests and accepted events [`crate::Server`] keeps for inspection.
    pub history: usize,
    /// Namespace handlers: namespace → an ES module exporting `onPublish` and/or `onSubscribe`
    /// (`--handler NAMESPACE=FILE.js`). A namespace named here exists even if `namespaces` omits it.
    pub handlers: BTreeMap<String, PathBuf>,
    /// How long one handler invocation may run before it is cut off and its request failed.
    pub handler_timeout: Duration,
    /// Serve HTTPS and WSS instead of plain HTTP and WS (clients such as Amplify JS always use
    /// `wss://`). `None`, the default, serves plain HTTP.
    pub tls: Option<TlsConfig>,
}

/// Where the server's TLS certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsConfig {
    /// Generate a self-signed certificate for `localhost`, `127.0.0.1` and `::1` at start and
    /// write its PEM to `cert_out` (default: `appsync-local/localhost-<port>.pem` under the
    /// temporary directory), so a client can be told to trust it.
    SelfSigned { cert_out: Option<PathBuf> },
    /// Your own certificate chain and private key, as PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

impl Default for Config {
    fn default() -> Self {
        Self {
            namespaces: vec!["default".to_owned()],
            api_keys: Vec::new(),
            iam_credentials: Vec::new(),
            auth_tokens: Vec::new(),
            region: DEFAULT_REGION.to_owned(),
            faults: Faults::default(),
            seed: DEFAULT_SEED,
            keepalive: DEFAULT_KEEPALIVE,
            subscriber_buffer: DEFAULT_SUBSCRIBER_BUFFER,
            history: DEFAULT_HISTORY,
            handlers: BTreeMap::new(),
            handler_timeout: crate::handler::DEFAULT_HANDLER_TIMEOUT,
            tls: None,
        }
    }
}

impl Config {
    /// True when any credential is configured: then every request must authenticate.
    pub fn auth_required(&self) -> bool {
        !self.api_keys.is_empty()
            || !self.iam_credentials.is_empty()
            || !self.auth_tokens.is_empty()
    }
}

/// Random faults for HTTP publish requests, drawn from the seeded RNG.
///
/// One draw per request decides the request's fate: with probability `throttle` it is answered
/// 429, with probability `server_error` 500 (so `throttle + server_error` should not exceed 1);
/// otherwise its events are accepted, each failing on its own with probability `event_failure`,
/// then with probability `drop_response` no answer is ever sent, and otherwise with probability
/// `malformed_response` the 200 body is garbled (its [`Malformed`] shape drawn too). The
/// malformed draws are only made when `malformed_response` is above 0, so a seed gives the same
/// sequence it gave before the setting existed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability a publish request gets 429 `LimitExceededError` (nothing accepted).
    pub throttle: f64,
    /// Probability a publish request gets 500 `InternalFailure` (nothing accepted).
    pub server_error: f64,
    /// Probability, per event, of a `failed[]` entry with code 500 (the event is not delivered).
    pub event_failure: f64,
    /// Probability the events are accepted and fanned out but no response is ever sent.
    pub drop_response: f64,
    /// Probability that an accepted request's 200 body is malformed (a proxy garbling AppSync's
    /// answer): the events are accepted and fanned out, but the body does not confirm them.
    pub malformed_response: f64,
    /// Delay added before every publish request is handled.
    pub latency_ms: u64,
}

impl Faults {
    /// Clamps probabilities into `0..=1` (NaN becomes 0) so any input is usable.
    pub fn sanitized(mut self) -> Self {
        for p in [
            &mut self.throttle,
            &mut self.server_error,
            &mut self.event_failure,
            &mut self.drop_response,
            &mut self.malformed_response,
        ] {
            *p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        }
        self
    }
}

/// A forced outcome for one HTTP publish request. Scripted outcomes are consumed in order, one
/// per publish request as it arrives, before random faults are considered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scripted {
    /// Answer with this status and AppSync's error body; nothing is accepted.
    Status(u16),
    /// Accept every event except these indices, which are reported in `failed[]` with `code`.
    FailEvents { indices: Vec<usize>, code: u16 },
    /// Accept nothing and never answer (the client must time out).
    Hang,
    /// Accept and fan out the events, never answer.
    DropResponse,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Accept and fan out every event, then answer 200 with a body of this shape, as a proxy
    /// garbling AppSync's answer would leave it: the client cannot tell what was confirmed.
    Malformed(Malformed),
    /// Answer a well-formed 200 in which the events at these indices appear in neither
    /// `successful` nor `failed` and are not fanned out (what a filtering `onPublish` handler
    /// answers); the others are accepted normally.
    Unlisted(Vec<usize>),
    /// Answer this status with `{"errors":[{"errorType","message"}]}`; nothing is accepted. What a
    /// handler's `util.error` (403) or `util.unauthorized` (401) looks like to the publisher.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
}

/// The shapes of a malformed 200 body ([`Scripted::Malformed`], [`Faults::malformed_response`]).
/// In every shape the events were accepted and fanned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// Not JSON at all: `<html>ok</html>` (`content-type: text/html`).
    NotJson,
    /// `{}`: JSON, but no `successful` array.
    EmptyObject,
    /// The real body cut in half.
    Truncated,
    /// The real body with the first `successful[]` index replaced by the number of events
    /// (out of range), so one accepted event goes unconfirmed.
    IndexOutOfRange,
    /// The real body with the first `successful[]` entry listed twice (same index).
    RepeatedIndex,
}

impl Malformed {
    /// Every shape, in the order a random draw picks from.
    pub const ALL: [Malformed; 5] = [
        Malformed::NotJson,
        Malformed::EmptyObject,
        Malformed::Truncated,
        Malformed::IndexOutOfRange,
        Malformed::RepeatedIndex,
    ];
}

/// The JSON form of [`Scripted`] accepted by `POST /_local/faults` (`{"script":[...]}`):
/// `{"status":429}`, `{"fail_events":{"indices":[0],"code":500}}`, `"hang"`,
/// `"drop_response"`, `{"delay_ms":250}`, `{"malformed":"truncated"}`, `{"unlisted":[1]}`,
/// `{"error":{"status":403,"error_type":"BadRequestException","message":"rejected by handler"}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptedSpec {
    Status(u16),
    FailEvents {
        indices: Vec<usize>,
        code: u16,
    },
    Hang,
    DropResponse,
    DelayMs(u64),
    Malformed(Malformed),
    Unlisted(Vec<usize>),
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
}

impl ScriptedSpec {
    /// Refuses what cannot be answered: a status outside HTTP's `100..=999` range.
    pub fn check(&self) -> Result<(), String> {
        match self {
            ScriptedSpec::Status(status) | ScriptedSpec::Error { status, .. }
                if !(100..=999).contains(status) =>
            {
                Err(format!(
                    "status {status} is not an http status (100 to 999)"
                ))
            }
            _ => Ok(()),
        }
    }
}

impl From<ScriptedSpec> for Scripted {
    fn from(spec: ScriptedSpec) -> Self {
        match spec {
            ScriptedSpec::Status(s) => Scripted::Status(s),
            ScriptedSpec::FailEvents { indices, code } => Scripted::FailEvents { indices, code },
            ScriptedSpec::Hang => Scripted::Hang,
            ScriptedSpec::DropResponse => Scripted::DropResponse,
            ScriptedSpec::DelayMs(ms) => Scripted::Delay(Duration::from_millis(ms)),
            ScriptedSpec::Malformed(shape) => Scripted::Malformed(shape),
            ScriptedSpec::Unlisted(indices) => Scripted::Unlisted(indices),
            ScriptedSpec::Error {
                status,
                error_type,
                message,
            } => Scripted::Error {
                status,
                error_type,
                message,
            },
        }
    }
}

impl From<&Scripted> for ScriptedSpec {
    /// The JSON form a queued outcome is shown in (`GET /_local/faults`), the same as it is set.
    fn from(scripted: &Scripted) -> Self {
        match scripted.clone() {
            Scripted::Status(s) => ScriptedSpec::Status(s),
            Scripted::FailEvents { indices, code } => ScriptedSpec::FailEvents { indices, code },
            Scripted::Hang => ScriptedSpec::Hang,
            Scripted::DropResponse => ScriptedSpec::DropResponse,
            Scripted::Delay(delay) => {
                ScriptedSpec::DelayMs(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
            }
            Scripted::Malformed(shape) => ScriptedSpec::Malformed(shape),
            Scripted::Unlisted(indices) => ScriptedSpec::Unlisted(indices),
            Scripted::Error {
                status,
                error_type,
                message,
            } => ScriptedSpec::Error {
                status,
                error_type,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_open_with_the_default_namespace() {
        let config = Config::default();
        assert_eq!(config.namespaces, vec!["default".to_owned()]);
        assert!(!config.auth_required());
        assert_eq!(config.keepalive, Duration::from_secs(60));
    }

    #[test]
    fn any_credential_makes_auth_required() {
        let tokens = Config {
            auth_tokens: vec!["t".into()],
            ..Config::default()
        };
        let iam = Config {
            iam_credentials: vec![("AKID".into(), "secret".into())],
            ..Config::default()
        };
        assert!(tokens.auth_required());
        assert!(iam.auth_required());
    }

    #[test]
    fn sanitized_faults_clamp_probabilities_and_drop_nan() {
        let faults = Faults {
            throttle: 2.0,
            server_error: -1.0,
            event_failure: f64::NAN,
            drop_response: 0.25,
            malformed_response: 7.0,
            latency_ms: 5,
        }
        .sanitized();
        assert_eq!(faults.throttle, 1.0);
        assert_eq!(faults.server_error, 0.0);
        assert_eq!(faults.event_failure, 0.0);
        assert_eq!(faults.drop_response, 0.25);
        assert_eq!(faults.malformed_response, 1.0);
    }

    #[test]
    fn scripted_specs_parse_from_their_json_forms() {
        let specs: Vec<ScriptedSpec> = serde_json::from_str(
            r#"[{"status":429},{"fail_events":{"indices":[1],"code":500}},"hang","drop_response",{"delay_ms":7}]"#,
        )
        .unwrap();
        let scripted: Vec<Scripted> = specs.into_iter().map(Scripted::from).collect();
        assert_eq!(
            scripted,
            vec![
                Scripted::Status(429),
                Scripted::FailEvents {
                    indices: vec![1],
                    code: 500
                },
                Scripted::Hang,
                Scripted::DropResponse,
                Scripted::Delay(Duration::from_millis(7)),
            ]
        );
    }

    #[test]
    fn the_malformed_unlisted_and_error_specs_parse_from_their_json_forms() {
        let specs: Vec<ScriptedSpec> = serde_json::from_str(
            r#"[{"malformed":"not_json"},{"malformed":"empty_object"},{"malformed":"truncated"},
                {"malformed":"index_out_of_range"},{"malformed":"repeated_index"},{"unlisted":[1]},
                {"error":{"status":403,"error_type":"BadRequestException","message":"rejected by handler"}}]"#,
        )
        .unwrap();
        let scripted: Vec<Scripted> = specs.into_iter().map(Scripted::from).collect();
        let mut expected: Vec<Scripted> = Malformed::ALL.map(Scripted::Malformed).to_vec();
        expected.push(Scripted::Unlisted(vec![1]));
        expected.push(Scripted::Error {
            status: 403,
            error_type: "BadRequestException".into(),
            message: "rejected by handler".into(),
        });
        assert_eq!(scripted, expected);
    }

    #[test]
    fn a_spec_with_a_status_outside_http_is_refused_with_a_reason() {
        let bad: ScriptedSpec =
            serde_json::from_str(r#"{"error":{"status":42,"error_type":"X","message":"m"}}"#)
                .unwrap();
        assert!(bad.check().unwrap_err().contains("42"));
        assert!(ScriptedSpec::Status(1000).check().is_err());
        assert!(ScriptedSpec::Status(403).check().is_ok());
        assert!(serde_json::from_str::<ScriptedSpec>(r#"{"malformed":"garbled"}"#).is_err());
    }

    #[test]
    fn every_scripted_outcome_shows_as_the_json_that_sets_it() {
        let text = r#"[{"status":429},{"fail_events":{"indices":[1],"code":503}},"hang","drop_response",{"delay_ms":2000},{"malformed":"truncated"},{"unlisted":[1]},{"error":{"status":403,"error_type":"X","message":"m"}}]"#;
        let specs: Vec<ScriptedSpec> = serde_json::from_str(text).unwrap();
        let shown: Vec<ScriptedSpec> = specs
            .into_iter()
            .map(Scripted::from)
            .map(|s| ScriptedSpec::from(&s))
            .collect();
        assert_eq!(serde_json::to_string(&shown).unwrap(), text);
    }

    #[test]
    fn faults_refuse_unknown_fields() {
        assert!(serde_json::from_str::<Faults>(r#"{"throttel":0.5}"#).is_err());
    }
}
