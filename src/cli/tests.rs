//! The CLI's tests: every command run through `run_with`, as a user would type it.

use std::path::PathBuf;

use super::*;
use crate::config::RULES_VAR;

const RULES: &str = "rules:\n  - name: orders\n    pattern: { source: [shop.orders] }\n    channel: /orders/{detail.customerId}\n";

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run_args(args: &[&str], lookup: Lookup<'_>) -> (Exit, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let exit = runtime.block_on(run_with(
        std::iter::once("appsync-bridge").chain(args.iter().copied()),
        lookup,
        &mut out,
        &mut err,
    ));
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// `route <event> --rules <RULES>` with both written to a temporary directory.
fn route_event(event_json: &str) -> (Exit, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules.yaml", RULES);
    let event = write_file(dir.path(), "event.json", event_json);
    run_args(
        &[
            "route",
            event.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
        &no_env,
    )
}

#[test]
fn check_summarises_rules_from_the_environment() {
    let env = |name: &str| (name == RULES_VAR).then(|| RULES.to_owned());
    let (exit, out, _) = run_args(&["check"], &env);
    assert_eq!(exit, Exit::Ok);
    assert!(out.contains("rules document: BRIDGE_RULES"), "{out}");
    assert!(out.contains("rules: 1 (orders)"), "{out}");
    assert!(out.contains("namespaces: orders"), "{out}");
    assert!(out.contains("/orders/{detail.customerId}"), "{out}");
    assert!(out.contains("unmatched: drop"), "{out}");
}

#[test]
fn check_writes_the_valid_document_as_compact_json_and_nothing_for_an_invalid_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules.yaml", RULES);
    let json = dir.path().join("rules.json");
    let args = [
        "check",
        "--rules",
        rules.to_str().unwrap(),
        "--json-out",
        json.to_str().unwrap(),
    ];
    let (exit, out, _) = run_args(&args, &no_env);
    assert_eq!(exit, Exit::Ok);
    assert!(out.contains("compact json: "), "{out}");
    let written = std::fs::read_to_string(&json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["rules"][0]["channel"], "/orders/{detail.customerId}");
    assert_eq!(written.lines().count(), 1);

    std::fs::remove_file(&json).unwrap();
    write_file(dir.path(), "rules.yaml", "rules: []");
    let (exit, _, err) = run_args(&args, &no_env);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("rules: is empty"), "{err}");
    assert!(!json.exists(), "nothing written for an invalid document");
}

#[test]
fn check_reports_every_problem_and_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(
        dir.path(),
        "bad.yaml",
        "rules:\n  - name: a\n    channel: /{x}/y\n  - name: a\n    channel: /n/z\n    extra: 1\n",
    );
    let (exit, _, err) = run_args(&["check", "--rules", rules.to_str().unwrap()], &no_env);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("3 problems"), "{err}");
    assert!(err.contains("rules[0] (a).channel"), "{err}");
    assert!(err.contains("rules[1] (a).name"), "{err}");
    assert!(err.contains("rules[1] (a).extra"), "{err}");
}

#[test]
fn check_without_rules_is_a_configuration_error() {
    let (exit, _, err) = run_args(&["check"], &no_env);
    assert_eq!(exit, Exit::Usage);
    assert!(
        err.contains("  - --rules: is required: give the rules document with --rules FILE"),
        "the flag the user can type is named: {err}"
    );
    assert!(err.contains("BRIDGE_RULES_FILE"), "{err}");
}

#[test]
fn an_event_file_that_is_not_utf8_is_refused_with_the_offset_of_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules.yaml", RULES);
    let event = dir.path().join("event.json");
    std::fs::write(&event, b"{\"source\":\"\xff\"}").unwrap();
    let (exit, _, err) = run_args(
        &[
            "route",
            event.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
        &no_env,
    );
    assert_eq!(exit, Exit::Usage);
    assert!(
        err.contains("is not valid UTF-8: byte 0xff at offset 11 (line 1, column 12)"),
        "{err}"
    );
}

#[test]
fn route_of_a_batch_over_lambdas_payload_limit_warns_with_the_limit_and_exits_one() {
    let body = "x".repeat(crate::limits::MAX_INVOCATION_PAYLOAD_BYTES);
    let (exit, out, _) = route_event(&format!(
        r#"{{"Records":[{{"messageId":"m-1","eventSource":"aws:sqs","body":"{body}"}}]}}"#
    ));
    assert_eq!(exit, Exit::Failed);
    assert!(
        out.contains("warning: the payload is 6291523 bytes, over Lambda's 6291456 byte (6 MB) invocation limit"),
        "{}",
        &out[..out.len().min(600)]
    );
    // Still a dry run of every record.
    assert!(out.contains("record 0 id=m-1\n  unmatched: dropped"));
}

#[test]
fn route_of_an_event_over_eventbridges_limit_warns_with_the_limit_and_exits_one() {
    let big = "x".repeat(crate::limits::MAX_EVENTBRIDGE_EVENT_BYTES);
    let (exit, out, _) = route_event(&format!(
        r#"{{"id":"e-1","source":"shop.orders","detail-type":"X","detail":{{"customerId":"c-9","note":"{big}"}}}}"#
    ));
    assert_eq!(exit, Exit::Failed);
    assert!(
        out.contains("over EventBridge's 262144 byte (256 KB) event limit"),
        "{}",
        &out[..out.len().min(600)]
    );
    assert!(out.contains("orders -> /orders/c-9"));
}

#[test]
fn route_prints_channels_and_payloads_per_record() {
    let (exit, out, _) = route_event(
        r#"{"id":"e-1","source":"shop.orders","detail-type":"X","detail":{"customerId":"c-9"}}"#,
    );
    assert_eq!(exit, Exit::Ok, "{out}");
    assert!(out.contains("record 0 id=e-1"), "{out}");
    assert!(out.contains("orders -> /orders/c-9"), "{out}");
    assert!(out.contains(r#"{"customerId":"c-9"}"#), "{out}");
    assert!(
        out.contains("summary: 1 record, 1 routed (1 event), 0 unmatched, 0 failed"),
        "{out}"
    );
}

#[test]
fn route_exits_one_when_a_record_fails() {
    let (exit, out, _) = route_event(
        r#"{"Records":[
            {"messageId":"m-1","eventSource":"aws:sqs","body":"{\"source\":\"shop.orders\",\"detail-type\":\"X\",\"detail\":{\"customerId\":\"a/b\"}}"},
            {"messageId":"m-2","eventSource":"aws:sqs","body":"hello"},
            {"eventSource":"aws:sqs","body":"{}"}
        ]}"#,
    );
    assert_eq!(exit, Exit::Failed, "{out}");
    assert!(out.contains("error: rule orders: channel segment"), "{out}");
    assert!(
        out.contains("record 1 id=m-2\n  unmatched: dropped"),
        "{out}"
    );
    assert!(
        out.contains(
            "record 2 id=(none)\n  error: record is not an sqs message: messageId is missing"
        ),
        "{out}"
    );
    assert!(
        out.contains("3 records, 0 routed (0 events), 1 unmatched, 2 failed"),
        "{out}"
    );
}

#[test]
fn route_refuses_a_payload_of_another_shape_with_exit_one() {
    let (exit, _, err) = route_event(r#"{"hello":"world"}"#);
    assert_eq!(exit, Exit::Failed);
    assert!(err.contains("expected an EventBridge event"), "{err}");
}

#[test]
fn route_with_an_unreadable_event_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_file(dir.path(), "rules.yaml", RULES);
    let not_json = write_file(dir.path(), "event.json", "nope");
    for event in [not_json, dir.path().join("missing.json")] {
        let (exit, _, err) = run_args(
            &[
                "route",
                event.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
            ],
            &no_env,
        );
        assert_eq!(exit, Exit::Usage, "{err}");
    }
}

#[test]
fn help_goes_to_stdout_and_bad_arguments_exit_two() {
    let (exit, out, _) = run_args(&["--help"], &no_env);
    assert_eq!(exit, Exit::Ok);
    assert!(out.contains("check") && out.contains("route"), "{out}");
    let (exit, _, err) = run_args(&["route"], &no_env);
    assert_eq!(exit, Exit::Usage);
    assert!(err.contains("EVENT_FILE"), "{err}");
    let (exit, _, _) = run_args(&["frobnicate"], &no_env);
    assert_eq!(exit, Exit::Usage);
}
