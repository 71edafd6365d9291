//! The WebSocket protocol at `/event/realtime`, with a real `tokio-tungstenite` client.

use std::time::Duration;

use appsync_local::Config;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

fn no_auth() -> Value {
    json!({"host": "localhost"})
}

/// Publishes over HTTP and asserts it succeeded.
async fn publish(server: &appsync_local::Server, channel: &str, events: &[Value]) {
    let (status, body) = post(server, &publish_body(channel, events), &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn connection_init_is_acknowledged_with_the_five_minute_timeout() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "connection_ack", "connectionTimeoutMs": 300000})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn keep_alive_messages_arrive_on_the_configured_interval() {
    let server = with(Config {
        keepalive: Duration::from_millis(20),
        ..Config::default()
    })
    .await;
    let mut ws = connect(&server, &no_auth()).await;
    for _ in 0..2 {
        let message = tokio::time::timeout(TIMEOUT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(message, Message::text(r#"{"type":"ka"}"#));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_gets_one_data_message_per_event_with_the_event_as_a_json_string() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    init(&mut ws).await;
    let ok = subscribe(&mut ws, "sub-1", "/default/room", &no_auth()).await;
    assert_eq!(ok, json!({"type": "subscribe_success", "id": "sub-1"}));
    publish(
        &server,
        "/default/room",
        &[json!({"msg": "hi"}), json!("two")],
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "data", "id": "sub-1", "event": "{\"msg\":\"hi\"}"})
    );
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "data", "id": "sub-1", "event": "\"two\""})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn events_published_before_a_subscription_are_not_delivered_to_it() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    publish(&server, "/default/room", &[json!("before")]).await;
    subscribe(&mut ws, "s", "/default/room", &no_auth()).await;
    publish(&server, "/default/room", &[json!("after")]).await;
    assert_eq!(next(&mut ws).await["event"], "\"after\"");
    server.shutdown().await;
}

#[tokio::test]
async fn wildcards_match_every_channel_below_their_prefix_and_nothing_else() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    for (id, channel) in [
        ("all", "/default/*"),
        ("a", "/default/a/*"),
        ("exact", "/default/a"),
    ] {
        assert_eq!(
            subscribe(&mut ws, id, channel, &no_auth()).await["type"],
            "subscribe_success"
        );
    }
    publish(&server, "/default/a/b/c", &[json!(1)]).await;
    publish(&server, "/default/a", &[json!(2)]).await;
    publish(&server, "/default/x", &[json!(3)]).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        let data = next(&mut ws).await;
        got.push((
            data["id"].as_str().unwrap().to_owned(),
            data["event"].as_str().unwrap().to_owned(),
        ));
    }
    got.sort();
    let expected: Vec<(String, String)> = [
        ("a", "1"),
        ("all", "1"),
        ("all", "2"),
        ("all", "3"),
        ("exact", "2"),
    ]
    .iter()
    .map(|(i, e)| ((*i).to_owned(), (*e).to_owned()))
    .collect();
    assert_eq!(got, expected);
    server.shutdown().await;
}

#[tokio::test]
async fn unsubscribe_stops_delivery_and_unknown_ids_get_unknown_operation_errors() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    subscribe(&mut ws, "one", "/default/one", &no_auth()).await;
    subscribe(&mut ws, "two", "/default/two", &no_auth()).await;
    send(&mut ws, json!({"type": "unsubscribe", "id": "one"})).await;
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "unsubscribe_success", "id": "one"})
    );
    publish(&server, "/default/one", &[json!("dropped")]).await;
    publish(&server, "/default/two", &[json!("kept")]).await;
    let data = next(&mut ws).await;
    assert_eq!(
        (data["id"].as_str(), data["event"].as_str()),
        (Some("two"), Some("\"kept\""))
    );

    send(&mut ws, json!({"type": "unsubscribe", "id": "one"})).await;
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "unsubscribe_error", "id": "one", "errors": [
            {"errorType": "UnknownOperationError", "message": "Unknown operation id one"}
        ]})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bad_subscriptions_get_subscribe_errors() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    subscribe(&mut ws, "dup", "/default/a", &no_auth()).await;
    let dup = subscribe(&mut ws, "dup", "/default/b", &no_auth()).await;
    assert_eq!(dup["type"], "subscribe_error");
    assert_eq!(dup["id"], "dup");
    assert_eq!(
        dup["errors"][0]["message"],
        "subscription message is duplicated"
    );

    for (id, channel, error_type) in [
        ("bad", "/default/a b", "BadRequestException"),
        ("star", "/*", "BadRequestException"),
        ("mid", "/default/*/a", "BadRequestException"),
        ("ns", "/elsewhere/a", "ResourceNotFound"),
    ] {
        let reply = subscribe(&mut ws, id, channel, &no_auth()).await;
        assert_eq!(reply["type"], "subscribe_error", "{channel}");
        assert_eq!(reply["id"], id);
        assert_eq!(reply["errors"][0]["errorType"], error_type, "{channel}");
    }
    let reply = subscribe(&mut ws, "has space", "/default/a", &no_auth()).await;
    assert_eq!(reply["type"], "subscribe_error");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_json_and_unknown_message_types_get_error_messages() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    use futures_util::SinkExt;
    ws.send(Message::text("{not json")).await.unwrap();
    let reply = next(&mut ws).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["errors"][0]["errorType"], "BadRequestException");

    send(&mut ws, json!({"type": "start", "id": "x"})).await;
    let reply = next(&mut ws).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["id"], "x");
    assert_eq!(reply["errors"][0]["errorType"], "UnsupportedOperation");
    server.shutdown().await;
}

#[tokio::test]
async fn publish_over_websocket_is_acknowledged_and_fanned_out() {
    let server = open().await;
    let mut subscriber = connect(&server, &no_auth()).await;
    subscribe(&mut subscriber, "s", "/default/*", &no_auth()).await;
    let mut publisher = connect(&server, &no_auth()).await;
    let events: Vec<String> = vec![json!({"n": 1}).to_string(), json!({"n": 2}).to_string()];
    send(
        &mut publisher,
        json!({"type": "publish", "id": "p1", "channel": "/default/ws", "events": events, "authorization": no_auth()}),
    )
    .await;
    let ack = next(&mut publisher).await;
    assert_eq!(ack["type"], "publish_success");
    assert_eq!(ack["id"], "p1");
    assert_eq!(ack["failed"], json!([]));
    assert_eq!(ack["successful"].as_array().unwrap().len(), 2);
    assert_eq!(next(&mut subscriber).await["event"], "{\"n\":1}");
    assert_eq!(next(&mut subscriber).await["event"], "{\"n\":2}");
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0].identifier, ack["successful"][0]["identifier"]);
    assert!(
        server.requests().is_empty(),
        "websocket publishes are not HTTP requests"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_websocket_publishes_get_publish_errors() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    for (channel, events) in [
        ("/default/*", vec!["1".to_owned()]),
        ("/default/a", vec![]),
        ("/default/a", vec!["1".to_owned(); 6]),
        ("/default/a", vec!["{nope".to_owned()]),
    ] {
        send(
            &mut ws,
            json!({"type": "publish", "id": "p", "channel": channel, "events": events}),
        )
        .await;
        let reply = next(&mut ws).await;
        assert_eq!(reply["type"], "publish_error", "{channel} {events:?}");
        assert_eq!(reply["id"], "p");
        assert_eq!(reply["errors"][0]["errorType"], "BadRequestException");
    }
    assert!(server.accepted().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_closed_without_stalling_publishers() {
    let server = with(Config {
        subscriber_buffer: 4,
        ..Config::default()
    })
    .await;
    let mut slow = connect(&server, &no_auth()).await;
    subscribe(&mut slow, "s", "/default/*", &no_auth()).await;
    // ~25 MB of events: far more than the socket buffers between us and the server hold, so the
    // server's writes to this connection block while we do not read.
    let event = Value::String("x".repeat(100 * 1024));
    let events = vec![event; 5];
    let published = 50;
    let publishing = async {
        for _ in 0..published {
            publish(&server, "/default/flood", &events).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), publishing)
        .await
        .expect("publishers are never stalled by a slow subscriber");

    let mut data = 0;
    let close = loop {
        match tokio::time::timeout(TIMEOUT, slow.next()).await.unwrap() {
            Some(Ok(Message::Text(_))) => data += 1,
            Some(Ok(Message::Close(frame))) => break frame,
            other => panic!("unexpected {other:?}"),
        }
    };
    let frame = close.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1008);
    assert!(
        frame.reason.as_str().starts_with("subscriber too slow"),
        "{}",
        frame.reason
    );
    assert!(
        data < published * 5,
        "got all {data} events despite overflowing"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_open_websocket_connections() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    init(&mut ws).await;
    tokio::time::timeout(TIMEOUT, server.shutdown())
        .await
        .unwrap();
    let ended = loop {
        match tokio::time::timeout(TIMEOUT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            None | Some(Err(_)) => break None,
            Some(Ok(_)) => {}
        }
    };
    assert!(matches!(ended, Some(1001) | None));
}

#[tokio::test]
async fn a_client_that_closes_gets_the_close_reply_with_its_code() {
    let server = open().await;
    let mut ws = connect(&server, &no_auth()).await;
    init(&mut ws).await;
    let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "bye".into(),
    };
    ws.send(Message::Close(Some(frame))).await.unwrap();
    let reply = loop {
        match tokio::time::timeout(TIMEOUT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break Ok(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            other => break Err(format!("{other:?}")),
        }
    };
    assert_eq!(reply, Ok(Some(1000)), "a clean close, not 1006");
    server.shutdown().await;
}
