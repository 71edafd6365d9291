//! The built `appsync-bridge` binary as a user runs it, with an explicit environment.

use std::process::{Command, Output};

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
            "$ appsync-bridge route {name} --rules rules.yaml\n{stdout}(exit code {code})\n"
        );
        assert!(
            docs.contains(&block),
            "README.md is stale for {name}; regenerate its route output:\n{block}"
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
    assert_eq!(exit, appsync_bridge::cli::Exit::Failed, "{stdout}{stderr}");
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
