//! What a local server is configured with: namespaces, credentials, region, keep-alive, and the
//! fault injection settings (random [`Faults`] and forced [`Scripted`] outcomes).

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
/// and then with probability `drop_response` no answer is ever sent.
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
}

/// The JSON form of [`Scripted`] accepted by `POST /_local/faults` (`{"script":[...]}`):
/// `{"status":429}`, `{"fail_events":{"indices":[0],"code":500}}`, `"hang"`,
/// `"drop_response"`, `{"delay_ms":250}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptedSpec {
    Status(u16),
    FailEvents { indices: Vec<usize>, code: u16 },
    Hang,
    DropResponse,
    DelayMs(u64),
}

impl From<ScriptedSpec> for Scripted {
    fn from(spec: ScriptedSpec) -> Self {
        match spec {
            ScriptedSpec::Status(s) => Scripted::Status(s),
            ScriptedSpec::FailEvents { indices, code } => Scripted::FailEvents { indices, code },
            ScriptedSpec::Hang => Scripted::Hang,
            ScriptedSpec::DropResponse => Scripted::DropResponse,
            ScriptedSpec::DelayMs(ms) => Scripted::Delay(Duration::from_millis(ms)),
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
            latency_ms: 5,
        }
        .sanitized();
        assert_eq!(faults.throttle, 1.0);
        assert_eq!(faults.server_error, 0.0);
        assert_eq!(faults.event_failure, 0.0);
        assert_eq!(faults.drop_response, 0.25);
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
    fn faults_refuse_unknown_fields() {
        assert!(serde_json::from_str::<Faults>(r#"{"throttel":0.5}"#).is_err());
    }
}
