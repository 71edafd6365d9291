//! The `appsync-local` binary: flags, start-up banner, serving, and Ctrl-C shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_appsync-local");

#[test]
fn help_lists_the_flags() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--port",
        "--namespace",
        "--api-key",
        "--iam",
        "--token",
        "--region",
        "--throttle",
        "--server-error",
        "--event-failure",
        "--drop-response",
        "--malformed-response",
        "--latency-ms",
        "--seed",
        "--tls",
        "--tls-cert",
        "--tls-key",
        "--handler",
        "--handler-timeout-ms",
    ] {
        assert!(help.contains(flag), "missing {flag}");
    }
}

#[test]
fn a_malformed_iam_flag_is_refused() {
    let output = Command::new(BIN)
        .args(["--iam", "no-colon"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ACCESS_KEY:SECRET"));
}

#[tokio::test]
async fn the_binary_prints_its_endpoints_serves_publishes_and_stops_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--api-key", "da2-cli", "--namespace", "shop"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut endpoint = None;
    let mut realtime = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("HTTP endpoint:") {
            endpoint = Some(url.trim().to_owned());
        }
        if let Some(url) = line.trim().strip_prefix("realtime URL:") {
            realtime = Some(url.trim().to_owned());
        }
        if line.trim().starts_with("auth:") {
            break;
        }
    }
    let endpoint = endpoint.expect("the HTTP endpoint is printed");
    assert!(
        realtime
            .expect("the realtime URL is printed")
            .ends_with("/event/realtime")
    );

    let body = publish_body("/shop/orders", &[json!({"id": 1})]).to_string();
    let send = |key: &'static str| {
        client()
            .post(&endpoint)
            .header("content-type", "application/json")
            .header("x-api-key", key)
            .body(body.clone())
            .send()
    };
    assert_eq!(send("da2-cli").await.unwrap().status(), 200);
    assert_eq!(send("da2-nope").await.unwrap().status(), 401);

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = tokio::time::timeout(TIMEOUT, tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("the server exits after Ctrl-C")
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful exit on Ctrl-C, got {status:?}");
}

/// Reads the banner up to its `auth:` line into (label, value) pairs.
fn banner(stdout: std::process::ChildStdout) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some((label, value)) = line.trim().split_once(": ") {
            lines.push((label.to_owned(), value.trim().to_owned()));
            if label == "auth" {
                break;
            }
        }
    }
    lines
}

fn value<'a>(banner: &'a [(String, String)], label: &str) -> &'a str {
    banner
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {label} line in {banner:?}"))
}

#[tokio::test]
async fn with_tls_the_binary_prints_https_and_wss_urls_and_the_certificate_it_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let cert_out = tmp.path().join("cert.pem");
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--tls", "--tls-cert-out"])
        .arg(&cert_out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let banner = banner(child.stdout.take().unwrap());
    let endpoint = value(&banner, "HTTP endpoint").to_owned();
    assert!(endpoint.starts_with("https://localhost:"), "{endpoint}");
    assert!(value(&banner, "realtime URL").starts_with("wss://localhost:"));
    assert_eq!(
        value(&banner, "certificate"),
        cert_out.display().to_string()
    );
    let pem = std::fs::read(&cert_out).unwrap();

    let _ = client();
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    let response = trusting
        .post(&endpoint)
        .header("content-type", "application/json")
        .body(publish_body("/default/cli", &[json!(1)]).to_string())
        .timeout(TIMEOUT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_tls_key_without_a_certificate_is_refused() {
    let output = Command::new(BIN)
        .args(["--tls-key", "/nonexistent/key.pem"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-cert"));
}

#[test]
fn a_handler_flag_without_a_namespace_or_with_a_missing_file_is_refused() {
    let output = Command::new(BIN)
        .args(["--handler", "chat.js"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("NAMESPACE=FILE.js"));
    let output = Command::new(BIN)
        .args(["--port", "0", "--handler", "chat=/nonexistent/chat.js"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("namespace chat") && stderr.contains("/nonexistent/chat.js"),
        "{stderr}"
    );
}

#[test]
fn a_broken_handler_stops_the_start_before_the_listening_banner() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.js");
    std::fs::write(&broken, "export function onPublish( {").unwrap();
    let output = Command::new(BIN)
        .args(["--port", "0", "--handler"])
        .arg(format!("chat={}", broken.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("listening"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("namespace chat"), "{stderr}");
}

#[test]
fn a_bad_namespace_or_a_probability_above_one_is_refused_with_the_rule() {
    for (args, expected) in [
        (&["--namespace", "bad_ns"][..], "1-50 of A-Z a-z 0-9 -"),
        (&["--throttle", "2"][..], "number from 0 to 1"),
        (&["--event-failure=-0.5"][..], "number from 0 to 1"),
        (
            &["--throttle", "0.6", "--server-error", "0.6", "--port", "0"][..],
            "add up to more than 1",
        ),
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn namespaces_from_a_rules_document_are_served_and_listed_on_the_page() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - name: a\n    channel: /shop/{detail.id}\n  - name: b\n    channel: /desk/x\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--namespace", "extra", "--namespaces-from"])
        .arg(&rules)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let banner = banner(child.stdout.take().unwrap());
    assert_eq!(value(&banner, "namespaces"), "extra, shop, desk");
    let endpoint = value(&banner, "HTTP endpoint").to_owned();
    let send = |channel: &str| {
        client()
            .post(&endpoint)
            .header("content-type", "application/json")
            .body(publish_body(channel, &[json!(1)]).to_string())
            .send()
    };
    assert_eq!(send("/desk/x").await.unwrap().status(), 200);
    assert_eq!(send("/default/x").await.unwrap().status(), 404);
    let root = endpoint.trim_end_matches("/event").to_owned() + "/";
    let page = client()
        .get(&root)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("namespaces:    extra, shop, desk"), "{page}");
    assert!(page.contains(&format!("POST {endpoint}")), "{page}");
    child.kill().unwrap();
    child.wait().unwrap();

    std::fs::write(
        &rules,
        "rules:\n  - name: t\n    channel: /{detail.tenant}/x\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["--port", "0", "--namespaces-from"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rules[0] (t)"), "{stderr}");
    let _ = std::fs::remove_file(&rules);
}
