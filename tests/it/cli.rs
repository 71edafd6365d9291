//! The built `appsync-bridge` binary as a user runs it, with an explicit environment.

use std::process::{Command, Output};

use appsync_bridge::cli::Exit;

use crate::helpers::repo_path;

fn bridge(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appsync-bridge"));
    command.args(args).env_clear().current_dir(repo_path(""));
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_with_the_rules_file_variable_prints_a_summary() {
    let out = bridge(&["check"], &[("BRIDGE_RULES_FILE", "rules.yaml")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("rules: 8 (order-status, order-dashboard, agent-presence, price-ticks, order-row-changes, stream-prices, feed-status, shipment-notices)"),
        "{stdout}"
    );
    assert!(stdout.contains("namespaces: orders, presence, prices"));
    assert!(stdout.contains("unmatched: drop"));
}

#[test]
fn check_with_inline_invalid_rules_exits_two_and_lists_problems() {
    let out = bridge(
        &["check"],
        &[(
            "BRIDGE_RULES",
            "{\"rules\":[{\"name\":\"x\",\"channel\":\"/{detail.ns}/a\"}]}",
        )],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("BRIDGE_RULES: rules[0] (x).channel"),
        "{stderr}"
    );
}

#[test]
fn route_of_a_good_sample_exits_zero() {
    let out = bridge(
        &[
            "route",
            "events/eventbridge-order-status.json",
            "--rules",
            "rules.yaml",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("order-status -> /orders/cust-1042/ord-20261122-0007"),
        "{stdout}"
    );
    assert!(
        stdout.contains("order-dashboard -> /orders/dashboard"),
        "{stdout}"
    );
}

#[test]
fn route_of_the_poison_sample_exits_one_and_shows_each_reason() {
    let out = bridge(
        &["route", "events/sqs-poison.json", "--rules", "rules.yaml"],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("\"../admin\", which is not a valid segment"),
        "{stdout}"
    );
    assert!(
        stdout.contains("over AppSync's 245760 byte limit"),
        "{stdout}"
    );
    assert!(
        stdout.contains("summary: 5 records, 2 routed (4 events), 0 unmatched, 3 failed"),
        "{stdout}"
    );
}

#[test]
fn usage_errors_exit_two_and_help_exits_zero() {
    let out = bridge(&["route"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = bridge(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Exit codes"));
}

#[test]
fn the_route_output_in_docs_is_what_the_binary_prints() {
    let docs = std::fs::read_to_string(repo_path("README.md")).unwrap();
    for path in crate::helpers::sample_events() {
        let name = format!("events/{}", path.file_name().unwrap().to_str().unwrap());
        let out = bridge(&["route", &name, "--rules", "rules.yaml"], &[]);
        let stdout = text(&out.stdout);
        let code = out.status.code().unwrap();
        let block = format!(
            "$ cargo run -q -- route {name} --rules rules.yaml\n{stdout}(exit code {code})\n"
        );
        assert!(
            docs.contains(&block),
            "README.md is stale for {name}; regenerate its route output:\n{block}"
        );
    }
}

#[test]
fn the_check_output_in_docs_is_what_the_binary_prints() {
    let docs = std::fs::read_to_string(repo_path("README.md")).unwrap();
    for rules in ["rules.yaml", "docs/broken-rules.yaml"] {
        let out = bridge(&["check", "--rules", rules], &[]);
        // What the terminal shows: the summary on stdout, or the problems on stderr.
        let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
        let code = out.status.code().unwrap();
        let block = format!("$ cargo run -q -- check --rules {rules}\n{shown}(exit code {code})\n");
        assert!(
            docs.contains(&block),
            "README.md is stale for check --rules {rules}; regenerate it:\n{block}"
        );
    }
}

/// `invoke` runs the real handler once: with the sample rules against appsync-local, the poison
/// batch answers with exactly its three bad records and the good ones reach the server.
#[tokio::test]
async fn invoke_publishes_a_batch_and_prints_the_batch_response() {
    let server = crate::helpers::local_server().await;
    let endpoint = server.http_endpoint();
    let rules = repo_path("rules.yaml").display().to_string();
    let event = repo_path("events/sqs-poison.json").display().to_string();
    let lookup = |name: &str| match name {
        "APPSYNC_AUTH_MODE" => Some("API_KEY".to_owned()),
        "APPSYNC_API_KEY" => Some(crate::helpers::API_KEY.to_owned()),
        _ => None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = [
        "appsync-bridge",
        "invoke",
        &event,
        "--rules",
        &rules,
        "--endpoint",
        &endpoint,
    ];
    let exit = appsync_bridge::cli::run_with(args, &lookup, &mut out, &mut err).await;
    let (stdout, stderr) = (text(&out), text(&err));
    assert_eq!(exit, Exit::Failed, "{stdout}{stderr}");
    let response: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is the response");
    let failed = crate::helpers::failed_items(&response);
    assert_eq!(
        failed,
        [
            "c0ffee00-0000-4000-8000-000000000002",
            "c0ffee00-0000-4000-8000-000000000003",
            "c0ffee00-0000-4000-8000-000000000004",
        ]
    );
    assert!(
        !server.accepted().is_empty(),
        "the good records were published"
    );
    assert!(!stdout.contains(crate::helpers::API_KEY) && !stderr.contains(crate::helpers::API_KEY));
}

#[test]
fn invoke_without_an_endpoint_is_a_configuration_error() {
    let out = bridge(
        &[
            "invoke",
            "events/eventbridge-order-status.json",
            "--rules",
            "rules.yaml",
        ],
        &[
            ("APPSYNC_AUTH_MODE", "API_KEY"),
            ("APPSYNC_API_KEY", "da2-x"),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("APPSYNC_HTTP_ENDPOINT"), "{stderr}");
    assert!(
        !stderr.contains("da2-x"),
        "the key is never printed: {stderr}"
    );
}

/// Runs the CLI in-process with `lookup`; returns the exit, stdout and stderr.
async fn cli(args: &[&str], lookup: appsync_bridge::config::Lookup<'_>) -> (Exit, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = std::iter::once("appsync-bridge").chain(args.iter().copied());
    let exit = appsync_bridge::cli::run_with(args, lookup, &mut out, &mut err).await;
    (exit, text(&out), text(&err))
}

/// A server that accepts the key `--local` sends, on port 0, serving the sample rules'
/// namespaces.
async fn local_key_server() -> appsync_local::Server {
    appsync_local::start(appsync_local::Config {
        api_keys: vec![appsync_bridge::cli::LOCAL_API_KEY.into()],
        namespaces: vec!["orders".into(), "presence".into(), "prices".into()],
        ..Default::default()
    })
    .await
    .expect("local server starts")
}

#[tokio::test]
async fn invoke_local_publishes_with_the_local_key_whatever_the_environment_says() {
    let server = local_key_server().await;
    let endpoint = server.http_endpoint();
    // A shell set up for a real API: --local wins over it.
    let aws = |name: &str| match name {
        "APPSYNC_AUTH_MODE" => Some("AWS_IAM".to_owned()),
        "APPSYNC_HTTP_ENDPOINT" => {
            Some("https://example.appsync-api.eu-west-1.amazonaws.com".to_owned())
        }
        _ => None,
    };
    let rules = repo_path("rules.yaml").display().to_string();
    let event = repo_path("events/sqs-raw-json.json").display().to_string();
    let args = [
        "invoke",
        &event,
        "--rules",
        &rules,
        "--local",
        "--endpoint",
        &endpoint,
    ];
    let (exit, stdout, stderr) = cli(&args, &aws).await;
    assert_eq!(exit, Exit::Ok, "{stdout}{stderr}");
    assert_eq!(server.accepted().len(), 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("publishing to {endpoint} (API_KEY)")),
        "invoke says what it does: {stderr}"
    );
    assert!(
        !stderr.contains(appsync_bridge::cli::LOCAL_API_KEY),
        "{stderr}"
    );
}

#[tokio::test]
async fn invoke_with_nothing_listening_on_a_loopback_endpoint_says_what_to_start() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/event", closed.local_addr().unwrap());
    drop(closed);
    let rules = repo_path("rules.yaml").display().to_string();
    let event = repo_path("events/sqs-raw-json.json").display().to_string();
    let args = [
        "invoke",
        &event,
        "--rules",
        &rules,
        "--local",
        "--endpoint",
        &endpoint,
    ];
    let (exit, stdout, stderr) = cli(&args, &|_| None).await;
    assert_eq!(exit, Exit::Failed, "{stdout}{stderr}");
    assert!(stderr.contains("nothing answers at 127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains(
            "cargo run -p appsync-local -- --api-key da2-local --namespaces-from rules.yaml"
        ),
        "{stderr}"
    );
    assert_eq!(stdout, "", "no response: nothing was invoked");
}

#[tokio::test]
async fn invoke_refuses_a_batch_lambda_would_refuse_and_publishes_nothing() {
    let server = local_key_server().await;
    let endpoint = server.http_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let body = serde_json::json!({"kind": "order", "pad": "x".repeat(7 << 20)}).to_string();
    let batch = crate::helpers::sqs_batch(&[("m-1", body, None)]);
    let event = dir.path().join("big.json");
    std::fs::write(&event, batch.to_string()).unwrap();
    let rules = repo_path("rules.yaml").display().to_string();
    let event = event.display().to_string();
    let args = [
        "invoke",
        &event,
        "--rules",
        &rules,
        "--local",
        "--endpoint",
        &endpoint,
    ];
    let (exit, stdout, stderr) = cli(&args, &|_| None).await;
    assert_eq!(exit, Exit::Failed, "{stdout}");
    assert!(
        stderr.contains("over Lambda's 6291456 byte (6 MB) invocation limit")
            && stderr.contains("not invoked"),
        "{stderr}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_the_server_speaks_plain_http() {
    let server = local_key_server().await;
    let endpoint = server.http_endpoint().replacen("http://", "https://", 1);
    let rules = repo_path("rules.yaml").display().to_string();
    let event = repo_path("events/eventbridge-order-status.json")
        .display()
        .to_string();
    let args = [
        "invoke",
        &event,
        "--rules",
        &rules,
        "--local",
        "--endpoint",
        &endpoint,
    ];
    let (exit, stdout, _) = cli(&args, &|_| None).await;
    assert_eq!(exit, Exit::Failed, "{stdout}");
    let authority = endpoint
        .trim_start_matches("https://")
        .trim_end_matches("/event");
    assert!(
        stdout.contains(&format!(
            "the server at {authority} speaks plain HTTP, not TLS"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("InvalidContentType"), "{stdout}");
}

#[test]
fn a_bad_endpoint_flag_is_reported_as_the_flag() {
    let out = bridge(
        &[
            "invoke",
            "events/eventbridge-order-status.json",
            "--rules",
            "rules.yaml",
            "--local",
            "--endpoint",
            "ftp://127.0.0.1/event",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("  - --endpoint: scheme \"ftp\" is not https"),
        "{stderr}"
    );
    assert!(!stderr.contains("APPSYNC_HTTP_ENDPOINT"), "{stderr}");
}

/// IAM without any credentials: one line saying which sources the chain tried and how to give
/// it some, and none of aws-config's per-provider dumps at the default log level.
#[tokio::test]
async fn iam_without_credentials_says_which_sources_were_tried_and_how_to_provide_one() {
    let server = local_key_server().await;
    let endpoint = server.http_endpoint();
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        bridge(
            &[
                "invoke",
                "events/eventbridge-order-status.json",
                "--rules",
                "rules.yaml",
                "--endpoint",
                &endpoint,
            ],
            &[
                ("HOME", &home_path),
                ("AWS_REGION", "eu-west-1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("BRIDGE_BACKOFF_BASE_MS", "1"),
                ("BRIDGE_BACKOFF_CAP_MS", "5"),
            ],
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("the default AWS credential chain found none in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the profile"),
        "{stdout}"
    );
    assert!(stdout.contains("export AWS_ACCESS_KEY_ID"), "{stdout}");
    assert!(
        !stderr.contains("aws_config"),
        "third-party dumps stay out: {stderr}"
    );
    assert!(server.requests().is_empty(), "nothing unsigned was sent");
}

/// appsync-local's `--namespaces-from` reads the sample rules' namespaces exactly as `check`
/// lists them, without depending on the bridge.
#[test]
fn the_local_servers_namespaces_from_the_rules_are_the_ones_check_lists() {
    let text = std::fs::read_to_string(repo_path("rules.yaml")).unwrap();
    let rules = appsync_bridge::rules::RuleSet::parse(&text).unwrap();
    let mut from_bridge: Vec<String> = rules.namespaces().iter().map(|n| n.to_string()).collect();
    let mut from_local = appsync_local::rules_namespaces::namespaces_from_rules(&text).unwrap();
    from_bridge.sort();
    from_local.sort();
    assert_eq!(from_local, from_bridge);
}
