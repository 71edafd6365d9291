//! The `appsync-local` binary: runs the local AppSync Events server until Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use appsync_local::{AppState, Config, Faults, Tls, TlsConfig};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A local AWS AppSync Events server: `POST /event` and the WebSocket protocol at
/// `/event/realtime` on one port. With no --api-key, --iam or --token it accepts everything.
#[derive(Debug, Parser)]
#[command(name = "appsync-local", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// A channel namespace to serve (repeatable). Default: `default`, unless --namespaces-from
    /// names some.
    #[arg(long = "namespace", value_name = "NAME", value_parser = parse_namespace)]
    namespaces: Vec<String>,
    /// Also serve every namespace this appsync-bridge rules document publishes to (the first
    /// segment of each rule's channel), e.g. `--namespaces-from rules.yaml`.
    #[arg(long, value_name = "RULES_FILE")]
    namespaces_from: Option<PathBuf>,
    /// An API key accepted in `x-api-key` (repeatable).
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// IAM credentials accepted in SigV4 signatures (repeatable).
    #[arg(long = "iam", value_name = "ACCESS_KEY:SECRET", value_parser = parse_iam)]
    iam: Vec<(String, String)>,
    /// A token accepted in `Authorization` (Cognito, OIDC and Lambda modes; repeatable).
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Region SigV4 signatures must be scoped to.
    #[arg(long, default_value = appsync_local::config::DEFAULT_REGION)]
    region: String,
    /// Probability an HTTP publish is answered 429 LimitExceededError.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    throttle: f64,
    /// Probability an HTTP publish is answered 500.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    server_error: f64,
    /// Probability each event of an HTTP publish is reported in failed[] with code 500.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    event_failure: f64,
    /// Probability an HTTP publish is accepted but never answered.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    drop_response: f64,
    /// Probability an accepted HTTP publish is answered 200 with a malformed body (not JSON, `{}`,
    /// truncated, an index out of range or repeated); its events are accepted and fanned out.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    malformed_response: f64,
    /// Milliseconds added before every HTTP publish is handled.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = appsync_local::config::DEFAULT_SEED)]
    seed: u64,
    /// Seconds between `ka` keep-alive messages.
    #[arg(long, default_value_t = appsync_local::config::DEFAULT_KEEPALIVE.as_secs())]
    keepalive_secs: u64,
    /// How many publish requests and accepted events to keep for `/_local/` inspection.
    #[arg(long, default_value_t = appsync_local::config::DEFAULT_HISTORY)]
    history: usize,
    /// A namespace handler: an ES module exporting onPublish and/or onSubscribe, importing util
    /// from @aws-appsync/utils as on AppSync (repeatable; the namespace is created if missing).
    /// The file is read again whenever it changes.
    #[arg(long = "handler", value_name = "NAMESPACE=FILE.js", value_parser = parse_handler)]
    handlers: Vec<(String, PathBuf)>,
    /// Milliseconds one handler invocation may run before it is cut off (its request fails).
    #[arg(long, default_value_t = appsync_local::DEFAULT_HANDLER_TIMEOUT.as_millis() as u64)]
    handler_timeout_ms: u64,
    /// Serve HTTPS and WSS with a self-signed certificate for localhost, 127.0.0.1 and ::1,
    /// generated at start; its PEM file's path is printed (trust it with NODE_EXTRA_CA_CERTS).
    #[arg(long)]
    tls: bool,
    /// Where to write the generated certificate's PEM (with --tls).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls",
        conflicts_with = "tls_cert"
    )]
    tls_cert_out: Option<PathBuf>,
    /// Serve HTTPS and WSS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn parse_iam(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_owned(), secret.to_owned()))
        }
        _ => Err("expected ACCESS_KEY:SECRET".to_owned()),
    }
}

fn parse_namespace(value: &str) -> Result<String, String> {
    if appsync_local::channel::is_valid_segment(value) {
        Ok(value.to_owned())
    } else {
        Err(NAMESPACE_RULE.to_owned())
    }
}

/// What a namespace name must be (AppSync's channel segment rule).
const NAMESPACE_RULE: &str =
    "a namespace is 1-50 of A-Z a-z 0-9 -, starting and ending with a letter or digit";

fn parse_probability(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err("a probability is a number from 0 to 1 (0.2 is one request in five)".to_owned()),
    }
}

fn parse_handler(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((namespace, file)) if !namespace.is_empty() && !file.is_empty() => {
            if appsync_local::channel::is_valid_segment(namespace) {
                Ok((namespace.to_owned(), PathBuf::from(file)))
            } else {
                Err(format!(
                    "{namespace} is not a valid namespace name: {NAMESPACE_RULE}"
                ))
            }
        }
        _ => Err("expected NAMESPACE=FILE.js".to_owned()),
    }
}

impl Args {
    /// The server's configuration, or what is wrong with the flags together (each flag alone
    /// was checked by its parser).
    fn config(self) -> Result<Config, String> {
        if self.throttle + self.server_error > 1.0 {
            return Err(format!(
                "--throttle {} and --server-error {} add up to more than 1: one draw per request decides between them",
                self.throttle, self.server_error
            ));
        }
        let mut namespaces = self.namespaces;
        if let Some(path) = &self.namespaces_from {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--namespaces-from {}: cannot read: {e}", path.display()))?;
            let from_rules = appsync_local::rules_namespaces::namespaces_from_rules(&text)
                .map_err(|e| format!("--namespaces-from {}: {e}", path.display()))?;
            for namespace in from_rules {
                if !namespaces.contains(&namespace) {
                    namespaces.push(namespace);
                }
            }
        }
        let defaults = Config::default();
        Ok(Config {
            namespaces: if namespaces.is_empty() {
                defaults.namespaces
            } else {
                namespaces
            },
            api_keys: self.api_keys,
            iam_credentials: self.iam,
            auth_tokens: self.tokens,
            region: self.region,
            faults: Faults {
                throttle: self.throttle,
                server_error: self.server_error,
                event_failure: self.event_failure,
                drop_response: self.drop_response,
                malformed_response: self.malformed_response,
                latency_ms: self.latency_ms,
            },
            seed: self.seed,
            keepalive: Duration::from_secs(self.keepalive_secs.max(1)),
            history: self.history,
            handlers: self.handlers.into_iter().collect(),
            handler_timeout: Duration::from_millis(self.handler_timeout_ms.max(1)),
            tls: match (self.tls_cert, self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsConfig::Files { cert, key }),
                _ if self.tls => Some(TlsConfig::SelfSigned {
                    cert_out: self.tls_cert_out,
                }),
                _ => None,
            },
            ..defaults
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let addr = SocketAddr::new(args.host, args.port);
    let config = match args.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("appsync-local: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("appsync-local: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    let tls = match &config.tls {
        Some(tls) => match Tls::load(tls, bound.port()) {
            Ok(tls) => Some(tls),
            Err(e) => {
                eprintln!("appsync-local: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    // With TLS, name the host the certificate is for (a loopback address reads as localhost).
    let (http, ws, host) = match &tls {
        Some(_) if bound.ip().is_loopback() || bound.ip().is_unspecified() => {
            ("https", "wss", format!("localhost:{}", bound.port()))
        }
        Some(_) => ("https", "wss", bound.to_string()),
        None => ("http", "ws", bound.to_string()),
    };
    // One write, and a closed stdout is no reason to stop serving (println! would panic).
    let mut banner = String::from("appsync-local listening\n");
    banner += &format!("  HTTP endpoint: {http}://{host}/event\n");
    banner += &format!("  realtime URL:  {ws}://{host}/event/realtime\n");
    if let Some(tls) = &tls {
        banner += &format!("  certificate:   {}\n", tls.cert_path().display());
    }
    // The handlers load before the banner: a broken one stops the start without a "listening".
    let handlers = config.handlers.clone();
    let auth_required = config.auth_required();
    let state = AppState::new(config);
    if let Err(e) = state.check_handlers().await {
        eprintln!("appsync-local: {e}");
        return ExitCode::FAILURE;
    }
    banner += &format!("  namespaces:    {}\n", state.namespaces().join(", "));
    for (namespace, file) in &handlers {
        banner += &format!("  handler:       {namespace} = {}\n", file.display());
    }
    banner += &format!("  about:         {http}://{host}/\n");
    banner += &format!(
        "  auth:          {}\n",
        if auth_required {
            "required"
        } else {
            "open (no credentials configured)"
        }
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    let shutdown = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    };
    let served = match &tls {
        Some(tls) => appsync_local::serve_tls(listener, tls, state, shutdown).await,
        None => appsync_local::serve(listener, state, shutdown).await,
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("appsync-local: {e}");
            ExitCode::FAILURE
        }
    }
}
