//! Request building: a chunk of events → the publish body AppSync expects,
//! `{"channel":"/ns/a","events":["<JSON text>",...]}`: every event a JSON-encoded string
//! (<https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html>).

use serde::Serialize;

#[derive(Serialize)]
struct Body<'a> {
    channel: &'a str,
    events: &'a [&'a str],
}

/// The body bytes for one request, written into one buffer sized for it up front (an event's
/// text grows by its escapes, mostly one byte per quote: an eighth is allowed for). Serialising
/// `&str`s cannot fail; the fallback keeps the function total without a panic path.
pub fn body(channel: &str, events: &[&str]) -> Vec<u8> {
    let text: usize = events.iter().map(|e| e.len() + e.len() / 8 + 3).sum();
    let mut out = Vec::with_capacity(32 + channel.len() + text);
    match serde_json::to_writer(&mut out, &Body { channel, events }) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_sent_as_a_json_encoded_string() {
        let bytes = body("/orders/c1", &[r#"{"a":1}"#, r#""Hola Mundo!""#, "42"]);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"channel":"/orders/c1","events":["{\"a\":1}","\"Hola Mundo!\"","42"]}"#
        );
    }

    #[test]
    fn the_body_round_trips_to_the_same_event_texts() {
        let texts = [r#"{"note":"line\nbreak \u00e9 \"q\""}"#];
        let v: serde_json::Value = serde_json::from_slice(&body("/a", &texts)).unwrap();
        assert_eq!(v["events"][0].as_str(), Some(texts[0]));
    }
}
