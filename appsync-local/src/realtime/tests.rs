use super::operations::{is_valid_id, typed_error};
use super::*;

#[test]
fn operation_ids_follow_appsyncs_pattern() {
    assert!(is_valid_id("ee849ef0-cf23-4cb8-9fcb-152ae4fd1e69"));
    assert!(is_valid_id("a_b+c"));
    assert!(!is_valid_id(""));
    assert!(!is_valid_id("has space"));
    assert!(!is_valid_id(&"a".repeat(129)));
}

#[test]
fn connect_headers_come_from_the_header_subprotocol_when_present() {
    let auth = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"host":"localhost","x-api-key":"da2-k"}"#);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::SEC_WEBSOCKET_PROTOCOL,
        format!("aws-appsync-event-ws, header-{auth}")
            .parse()
            .unwrap(),
    );
    let decoded = connect_headers(&headers);
    assert_eq!(decoded.get("x-api-key").unwrap(), "da2-k");
    assert_eq!(decoded.get("host").unwrap(), "localhost");
}

#[test]
fn connect_headers_fall_back_to_the_upgrade_request() {
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", "da2-k".parse().unwrap());
    assert_eq!(connect_headers(&headers).get("x-api-key").unwrap(), "da2-k");
}

#[test]
fn a_garbled_header_subprotocol_yields_no_credentials() {
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", "da2-k".parse().unwrap());
    headers.insert(
        http::header::SEC_WEBSOCKET_PROTOCOL,
        "aws-appsync-event-ws, header-!!!".parse().unwrap(),
    );
    assert!(connect_headers(&headers).is_empty());
}

#[test]
fn typed_errors_carry_the_id_when_known() {
    let e = typed_error("subscribe_error", Some("x"), &ApiError::unauthorized());
    assert_eq!(e["id"], "x");
    assert_eq!(e["errors"][0]["errorType"], "UnauthorizedException");
    assert!(
        typed_error("error", None, &ApiError::unauthorized())
            .get("id")
            .is_none()
    );
}
