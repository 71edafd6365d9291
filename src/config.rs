//! Configuration: read once at start-up through an injectable lookup, validated into typed
//! settings, with every problem reported together.
//!
//! The variable names are the contract in `../shared/design.md` ("Configuration contract").

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::problem::Problem;
use crate::rules::RuleSet;

/// A way to read a variable. Production passes `std::env::var`; tests pass a map, so no test
/// mutates the process environment.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment; the lookup production code uses.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Start-up failed: every problem found, so a user fixes them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// All problems, in the order they were found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.problems.len())?;
        if self.problems.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// Everything the Lambda needs, validated once at init.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where and how to publish, and the tuning knobs.
    pub publish: PublishSettings,
    /// The compiled rules.
    pub rules: RuleSet,
}

impl Config {
    /// Reads and validates the whole configuration. Every problem of the publish settings and of
    /// the rules document is collected into one error.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Config, ConfigError> {
        let publish = PublishSettings::from_lookup(lookup);
        let rules = RuleSet::from_lookup(lookup);
        match (publish, rules) {
            (Ok(publish), Ok(rules)) => Ok(Config { publish, rules }),
            (publish, rules) => {
                let mut problems = publish.err().unwrap_or_default();
                problems.extend(rules.err().unwrap_or_default());
                Err(ConfigError { problems })
            }
        }
    }
}

/// The publish half of the configuration: endpoint, auth and tuning. Kept apart from the rules so
/// each half can be read (and tested) on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSettings {
    /// The normalised HTTP endpoint.
    pub endpoint: Endpoint,
    /// How requests are authorised.
    pub auth: Auth,
    /// Concurrency, attempts, timeouts and backoff.
    pub tuning: Tuning,
    /// The CloudWatch namespace of the Embedded Metric Format line (`BRIDGE_METRICS_NAMESPACE`).
    pub metrics_namespace: String,
}

/// A secret (API key or token), held as the header value it is sent as: checked once, and
/// marked sensitive, so HTTP/2 never puts it in its header table. Its `Debug` never shows the
/// value, so a configuration dump or an error message cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(http::HeaderValue);

impl Secret {
    /// The secret, if it can be a header value (no control character, no newline).
    pub fn new(value: &str) -> Option<Self> {
        let mut value = http::HeaderValue::from_str(value).ok()?;
        value.set_sensitive(true);
        Some(Self(value))
    }

    /// The header value, for the one place that sends it.
    pub fn header_value(&self) -> &http::HeaderValue {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The AppSync Events HTTP endpoint, normalised to `scheme://host[:port]/event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The full publish URL, e.g. `https://abc.appsync-api.eu-west-1.amazonaws.com/event`.
    pub url: String,
    /// `host[:port]` exactly as sent in the `Host` header; SigV4 signs it.
    pub authority: String,
}

/// The five AppSync auth modes (`APPSYNC_AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// SigV4 with the function's role (default).
    AwsIam,
    /// `x-api-key`.
    ApiKey,
    /// `Authorization: <Cognito JWT>`.
    AmazonCognitoUserPools,
    /// `Authorization: <OIDC JWT>`.
    OpenidConnect,
    /// `Authorization: <token for a Lambda authorizer>`.
    AwsLambda,
}

impl AuthMode {
    /// Parses the contract's spelling (`AWS_IAM`, `API_KEY`, ...).
    pub fn parse(text: &str) -> Option<AuthMode> {
        match text.trim() {
            "AWS_IAM" => Some(AuthMode::AwsIam),
            "API_KEY" => Some(AuthMode::ApiKey),
            "AMAZON_COGNITO_USER_POOLS" => Some(AuthMode::AmazonCognitoUserPools),
            "OPENID_CONNECT" => Some(AuthMode::OpenidConnect),
            "AWS_LAMBDA" => Some(AuthMode::AwsLambda),
            _ => None,
        }
    }
}

/// How each publish request is authorised, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// SigV4, service `appsync`, in `region`; credentials from the default AWS chain.
    AwsIam {
        /// The signing region.
        region: String,
    },
    /// `x-api-key: <key>`.
    ApiKey(Secret),
    /// `Authorization: <token>` for Cognito, OIDC and Lambda authorizers.
    Token {
        /// Which of the three token modes (for logs; the header is the same).
        mode: AuthMode,
        /// The token.
        token: Secret,
    },
}

/// Tuning knobs, each a `BRIDGE_*` variable with a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// `BRIDGE_CONCURRENCY`: publish requests in flight at once across channels (default 8).
    pub concurrency: usize,
    /// `BRIDGE_MAX_ATTEMPTS`: attempts per event including the first (default 3).
    pub max_attempts: u32,
    /// `BRIDGE_REQUEST_TIMEOUT_MS`: one request's timeout, never beyond the deadline (default 5000).
    pub request_timeout: Duration,
    /// `BRIDGE_DEADLINE_MARGIN_MS`: time kept back from Lambda's deadline to answer (default 1000).
    pub deadline_margin: Duration,
    /// `BRIDGE_BACKOFF_BASE_MS`: first retry's maximum delay (default 100).
    pub backoff_base: Duration,
    /// `BRIDGE_BACKOFF_CAP_MS`: largest retry delay (default 2000).
    pub backoff_cap: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            concurrency: 8,
            max_attempts: 3,
            request_timeout: Duration::from_millis(5000),
            deadline_margin: Duration::from_millis(1000),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(2000),
        }
    }
}

/// The default CloudWatch namespace for metrics.
pub const DEFAULT_METRICS_NAMESPACE: &str = "AppSyncBridge";

impl PublishSettings {
    /// Reads endpoint, auth, region and tuning; every problem names its variable.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<PublishSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let endpoint = match get("APPSYNC_HTTP_ENDPOINT") {
            None => {
                problems.push(Problem::new("APPSYNC_HTTP_ENDPOINT", "is required"));
                None
            }
            Some(raw) => match parse_endpoint(&raw) {
                Ok(e) => Some(e),
                Err(message) => {
                    problems.push(Problem::new("APPSYNC_HTTP_ENDPOINT", message));
                    None
                }
            },
        };

        let mode = match get("APPSYNC_AUTH_MODE") {
            None => Some(AuthMode::AwsIam),
            Some(raw) => {
                let mode = AuthMode::parse(&raw);
                if mode.is_none() {
                    problems.push(Problem::new(
                        "APPSYNC_AUTH_MODE",
                        format!(
                            "{:?} is not one of AWS_IAM, API_KEY, AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_LAMBDA",
                            raw.trim()
                        ),
                    ));
                }
                mode
            }
        };

        let auth = match mode {
            None => None,
            Some(AuthMode::AwsIam) => {
                let from_host = endpoint
                    .as_ref()
                    .and_then(|e| region_from_host(host_of(&e.authority)));
                match get("APPSYNC_REGION")
                    .or(from_host)
                    .or_else(|| get("AWS_REGION"))
                {
                    Some(region) => Some(Auth::AwsIam {
                        region: region.trim().to_owned(),
                    }),
                    None => {
                        problems.push(Problem::new(
                            "APPSYNC_REGION",
                            "is required for AWS_IAM when the endpoint host does not name a region and AWS_REGION is unset",
                        ));
                        None
                    }
                }
            }
            Some(AuthMode::ApiKey) => match get("APPSYNC_API_KEY") {
                Some(key) => {
                    header_secret("APPSYNC_API_KEY", &key, &mut problems).map(Auth::ApiKey)
                }
                None => {
                    problems.push(Problem::new("APPSYNC_API_KEY", "is required for API_KEY"));
                    None
                }
            },
            Some(mode) => match get("APPSYNC_AUTH_TOKEN") {
                Some(token) => header_secret("APPSYNC_AUTH_TOKEN", &token, &mut problems)
                    .map(|token| Auth::Token { mode, token }),
                None => {
                    problems.push(Problem::new(
                        "APPSYNC_AUTH_TOKEN",
                        "is required for AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA",
                    ));
                    None
                }
            },
        };

        let defaults = Tuning::default();
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(name) {
                None => default,
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        problems.push(Problem::new(
                            name,
                            format!("{:?} is not a whole number from {min} to {max}", raw.trim()),
                        ));
                        default
                    }
                },
            }
        };
        let ms = |n: u64| Duration::from_millis(n);
        let default_ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let tuning = Tuning {
            concurrency: number("BRIDGE_CONCURRENCY", defaults.concurrency as u64, 1, 256) as usize,
            max_attempts: number(
                "BRIDGE_MAX_ATTEMPTS",
                u64::from(defaults.max_attempts),
                1,
                20,
            ) as u32,
            request_timeout: ms(number(
                "BRIDGE_REQUEST_TIMEOUT_MS",
                default_ms(defaults.request_timeout),
                100,
                900_000,
            )),
            deadline_margin: ms(number(
                "BRIDGE_DEADLINE_MARGIN_MS",
                default_ms(defaults.deadline_margin),
                0,
                60_000,
            )),
            backoff_base: ms(number(
                "BRIDGE_BACKOFF_BASE_MS",
                default_ms(defaults.backoff_base),
                1,
                60_000,
            )),
            backoff_cap: ms(number(
                "BRIDGE_BACKOFF_CAP_MS",
                default_ms(defaults.backoff_cap),
                1,
                600_000,
            )),
        };
        if tuning.backoff_cap < tuning.backoff_base {
            problems.push(Problem::new(
                "BRIDGE_BACKOFF_CAP_MS",
                "must not be smaller than BRIDGE_BACKOFF_BASE_MS",
            ));
        }

        let metrics_namespace = match get("BRIDGE_METRICS_NAMESPACE") {
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
            Some(ns) if ns.trim().len() <= 255 => ns.trim().to_owned(),
            Some(_) => {
                problems.push(Problem::new(
                    "BRIDGE_METRICS_NAMESPACE",
                    "is longer than cloudwatch's 255 characters",
                ));
                DEFAULT_METRICS_NAMESPACE.to_owned()
            }
        };

        match (endpoint, auth) {
            (Some(endpoint), Some(auth)) if problems.is_empty() => Ok(PublishSettings {
                endpoint,
                auth,
                tuning,
                metrics_namespace,
            }),
            _ => Err(problems),
        }
    }
}

/// A key or token that goes into a header as is: one that is not a valid header value (a control
/// character, an embedded newline) could never be sent, so it is a start-up problem here rather
/// than a transport error retried on every publish. The message never echoes the value.
fn header_secret(name: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<Secret> {
    let secret = Secret::new(raw.trim());
    if secret.is_none() {
        problems.push(Problem::new(
            name,
            "is not a valid http header value (it holds a control character such as a newline)",
        ));
    }
    secret
}

/// Normalises `https://host/event`, `https://host` or a bare host to `https://host/event`.
/// `http://` is accepted only for loopback hosts (the local server).
pub fn parse_endpoint(raw: &str) -> Result<Endpoint, String> {
    let raw = raw.trim();
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_owned(), raw),
    };
    if scheme != "https" && scheme != "http" {
        return Err(format!("scheme {scheme:?} is not https"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) {
        // Never echoed: a realtime URL's query can carry the auth header, key included.
        return Err("must not have a query or fragment".to_owned());
    }
    if !matches!(path, "" | "/" | "/event" | "/event/") {
        return Err(format!(
            "path {path:?} is not /event (give https://<host>/event, https://<host> or a bare host)"
        ));
    }
    if authority.is_empty() {
        return Err("has no host".to_owned());
    }
    if authority.contains(['@', '?', '#', ' ']) {
        return Err("must be a plain host, without user, query or spaces".to_owned());
    }
    let mut authority = authority.to_ascii_lowercase();
    check_brackets(&authority)?;
    // The HTTP client drops a default port from `Host`; SigV4 signs `Host`, so drop it here too.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if let Some(stripped) = authority.strip_suffix(default_port)
        && !stripped.ends_with(':')
    {
        authority = stripped.to_owned();
    }
    let host = host_of(&authority);
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if let Some(port) = port_of(&authority)
        && port.parse::<u16>().is_err()
    {
        return Err(format!("port {port:?} is not a number from 0 to 65535"));
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(format!(
            "http:// is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1), not {host:?}"
        ));
    }
    Ok(Endpoint {
        url: format!("{scheme}://{authority}/event"),
        authority,
    })
}

/// Brackets only around an IPv6 address, followed by nothing or `:port`: `[::1]evil.com` would
/// otherwise pass as the loopback host while the client connects elsewhere (or fails).
fn check_brackets(authority: &str) -> Result<(), String> {
    let Some(inner) = authority.strip_prefix('[') else {
        return if authority.contains(['[', ']']) {
            Err("brackets are only allowed around an ipv6 address".to_owned())
        } else {
            Ok(())
        };
    };
    let Some((address, after)) = inner.split_once(']') else {
        return Err("has an ipv6 host without its closing ]".to_owned());
    };
    if address.parse::<Ipv6Addr>().is_err() {
        return Err(format!("[{address}] is not an ipv6 address"));
    }
    if !(after.is_empty() || after.starts_with(':')) {
        return Err(format!(
            "has {after:?} after the ipv6 host; only :port may follow it"
        ));
    }
    Ok(())
}

/// The host part of `host[:port]` (IPv6 keeps its brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => &authority[..=i],
            None => authority,
        }
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

fn port_of(authority: &str) -> Option<&str> {
    let host = host_of(authority);
    authority[host.len()..].strip_prefix(':')
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// The region in an AWS-managed host: `<prefix>.appsync-api.<region>.amazonaws.com(.cn)`.
/// Custom domains name no region.
pub fn region_from_host(host: &str) -> Option<String> {
    let host = host.strip_suffix(".cn").unwrap_or(host);
    let rest = host.strip_suffix(".amazonaws.com")?;
    let (_, region) = rest.split_once(".appsync-api.")?;
    let valid = !region.is_empty()
        && !region.contains('.')
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<PublishSettings, Vec<Problem>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PublishSettings::from_lookup(&move |name| map.get(name).cloned())
    }

    fn locations(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.location.as_str()).collect()
    }

    #[test]
    fn the_three_endpoint_forms_normalise_to_the_event_url() {
        for raw in [
            "https://abc.appsync-api.eu-west-1.amazonaws.com/event",
            "https://abc.appsync-api.eu-west-1.amazonaws.com",
            "abc.appsync-api.eu-west-1.amazonaws.com",
            "HTTPS://ABC.appsync-api.eu-west-1.amazonaws.com/",
        ] {
            let e = parse_endpoint(raw).unwrap();
            assert_eq!(
                e.url, "https://abc.appsync-api.eu-west-1.amazonaws.com/event",
                "{raw}"
            );
            assert_eq!(e.authority, "abc.appsync-api.eu-west-1.amazonaws.com");
        }
    }

    #[test]
    fn plain_http_is_only_for_loopback_hosts() {
        for ok in [
            "http://127.0.0.1:8080/event",
            "http://127.5.0.1",
            "http://localhost:9000",
            "http://[::1]:4000/event",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_endpoint("http://[::1]:4000").unwrap().authority,
            "[::1]:4000"
        );
        for bad in [
            "http://10.0.0.1/event",
            "http://example.com",
            "http://localhost.evil.com",
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(err.contains("loopback"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_query_is_refused_without_echoing_it() {
        for raw in [
            "https://h/event/realtime?header=ZGEyLXNlY3JldA&payload=e30",
            "https://h/event?x-api-key=da2-secret",
            "https://h/event#da2-secret",
        ] {
            let err = parse_endpoint(raw).unwrap_err();
            assert!(!err.contains("secret") && !err.contains("ZGEy"), "{err}");
            assert!(err.contains("query"), "{err}");
        }
    }

    #[test]
    fn other_paths_schemes_and_ports_are_refused() {
        assert!(parse_endpoint("https://h/graphql").is_err());
        assert!(parse_endpoint("ftp://h/event").is_err());
        assert!(parse_endpoint("https://h:99999/event").is_err());
        assert!(parse_endpoint("https://user@h/event").is_err());
        assert!(parse_endpoint("https:///event").is_err());
    }

    #[test]
    fn only_a_port_may_follow_a_bracketed_ipv6_host() {
        for bad in [
            "http://[::1]evil.com/event",
            "https://[::1]evil.com",
            "http://[::1].evil.com:80",
            "http://[::1",
            "http://[::1]:80]",
            "https://[evil.com]/event",
            "https://evil]com",
            "https://a[b",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        for ok in [
            "http://[::1]",
            "http://[::1]:8787/event",
            "https://[2001:db8::1]:8443",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_default_port_is_dropped_because_host_is_signed_without_it() {
        assert_eq!(
            parse_endpoint("https://h:443/event").unwrap().authority,
            "h"
        );
        assert_eq!(
            parse_endpoint("http://localhost:80").unwrap().authority,
            "localhost"
        );
        assert_eq!(
            parse_endpoint("https://h:8443").unwrap().authority,
            "h:8443"
        );
    }

    #[test]
    fn the_region_comes_from_aws_hosts_including_china() {
        assert_eq!(
            region_from_host("abc.appsync-api.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_host("abc.appsync-api.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_from_host("events.example.com"), None);
    }

    #[test]
    fn iam_is_the_default_and_takes_the_region_from_the_host() {
        let s = settings(&[(
            "APPSYNC_HTTP_ENDPOINT",
            "abc.appsync-api.us-east-2.amazonaws.com",
        )])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "us-east-2".into()
            }
        );
        assert_eq!(s.tuning, Tuning::default());
        assert_eq!(s.metrics_namespace, "AppSyncBridge");
    }

    #[test]
    fn an_explicit_region_wins_and_aws_region_is_the_fallback() {
        let s = settings(&[
            (
                "APPSYNC_HTTP_ENDPOINT",
                "abc.appsync-api.us-east-2.amazonaws.com",
            ),
            ("APPSYNC_REGION", "eu-central-1"),
            ("AWS_REGION", "ap-south-1"),
        ])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "eu-central-1".into()
            }
        );
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("AWS_REGION", "ap-south-1"),
        ])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::AwsIam {
                region: "ap-south-1".into()
            }
        );
    }

    #[test]
    fn every_problem_is_reported_each_naming_its_variable() {
        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("BRIDGE_CONCURRENCY", "zero"),
            ("BRIDGE_MAX_ATTEMPTS", "0"),
        ])
        .unwrap_err();
        assert_eq!(
            locations(&problems),
            vec![
                "APPSYNC_HTTP_ENDPOINT",
                "APPSYNC_API_KEY",
                "BRIDGE_CONCURRENCY",
                "BRIDGE_MAX_ATTEMPTS"
            ]
        );
    }

    #[test]
    fn a_missing_endpoint_and_unknown_mode_are_both_reported() {
        let problems = settings(&[("APPSYNC_AUTH_MODE", "SAML")]).unwrap_err();
        assert_eq!(
            locations(&problems),
            vec!["APPSYNC_HTTP_ENDPOINT", "APPSYNC_AUTH_MODE"]
        );
    }

    #[test]
    fn iam_without_any_region_is_a_problem() {
        let problems = settings(&[("APPSYNC_HTTP_ENDPOINT", "events.example.com")]).unwrap_err();
        assert_eq!(locations(&problems), vec!["APPSYNC_REGION"]);
    }

    #[test]
    fn token_modes_need_a_token_and_keep_it_out_of_debug_output() {
        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "OPENID_CONNECT"),
        ])
        .unwrap_err();
        assert_eq!(locations(&problems), vec!["APPSYNC_AUTH_TOKEN"]);

        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "AWS_LAMBDA"),
            ("APPSYNC_AUTH_TOKEN", "tok-very-secret"),
        ])
        .unwrap();
        assert!(
            matches!(&s.auth, Auth::Token { token, .. } if token.header_value().to_str().ok() == Some("tok-very-secret"))
        );
        assert!(!format!("{s:?}").contains("tok-very-secret"));

        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "da2-supersecret"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("da2-supersecret"));
    }

    #[test]
    fn a_key_or_token_that_cannot_be_a_header_is_a_start_up_problem_that_hides_the_value() {
        for (mode, variable) in [
            ("API_KEY", "APPSYNC_API_KEY"),
            ("OPENID_CONNECT", "APPSYNC_AUTH_TOKEN"),
        ] {
            for bad in [
                "da2-sec\nret",
                "da2-sec\rret",
                "da2-sec\u{0}ret",
                "da2-sec\u{7f}ret",
            ] {
                let problems = settings(&[
                    ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
                    ("APPSYNC_AUTH_MODE", mode),
                    (variable, bad),
                ])
                .unwrap_err();
                assert_eq!(locations(&problems), vec![variable], "{bad:?}");
                assert!(!problems[0].message.contains("sec"), "{}", problems[0]);
            }
        }
        // Surrounding whitespace (a trailing newline from a file) is trimmed, not a problem.
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "events.example.com"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "da2-key\n"),
        ])
        .unwrap();
        assert!(
            matches!(&s.auth, Auth::ApiKey(k) if k.header_value().to_str().ok() == Some("da2-key"))
        );
    }

    #[test]
    fn tuning_knobs_are_read_and_validated() {
        let s = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://127.0.0.1:1/event"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "k"),
            ("BRIDGE_CONCURRENCY", "3"),
            ("BRIDGE_MAX_ATTEMPTS", "5"),
            ("BRIDGE_REQUEST_TIMEOUT_MS", "250"),
            ("BRIDGE_DEADLINE_MARGIN_MS", "0"),
            ("BRIDGE_BACKOFF_BASE_MS", "10"),
            ("BRIDGE_BACKOFF_CAP_MS", "40"),
            ("BRIDGE_METRICS_NAMESPACE", "Shop/Bridge"),
        ])
        .unwrap();
        assert_eq!(s.tuning.concurrency, 3);
        assert_eq!(s.tuning.max_attempts, 5);
        assert_eq!(s.tuning.request_timeout, Duration::from_millis(250));
        assert_eq!(s.tuning.deadline_margin, Duration::ZERO);
        assert_eq!(s.tuning.backoff_cap, Duration::from_millis(40));
        assert_eq!(s.metrics_namespace, "Shop/Bridge");

        let problems = settings(&[
            ("APPSYNC_HTTP_ENDPOINT", "http://127.0.0.1:1/event"),
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "k"),
            ("BRIDGE_BACKOFF_BASE_MS", "500"),
            ("BRIDGE_BACKOFF_CAP_MS", "40"),
        ])
        .unwrap_err();
        assert_eq!(locations(&problems), vec!["BRIDGE_BACKOFF_CAP_MS"]);
    }
}
