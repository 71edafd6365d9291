//! A message body → the event document rules see, shared by the sources that carry a body (an
//! SQS body, a Kinesis record's decoded data, an SNS message): an EventBridge envelope as itself,
//! any other JSON under `detail`, and text that is not JSON as a string under `detail`.

use serde_json::{Map, Value};

/// The body as the document rules see.
pub(super) fn body_document(body: String) -> Value {
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(map)) if is_envelope(&map) => Value::Object(map),
        Ok(json) => wrap_detail(json),
        Err(_) => wrap_detail(Value::String(body)),
    }
}

/// An EventBridge envelope: an object with `detail-type`, `source` and `detail`.
pub(super) fn is_envelope(map: &Map<String, Value>) -> bool {
    map.contains_key("detail-type") && map.contains_key("source") && map.contains_key("detail")
}

/// `{"detail": <detail>}`.
pub(super) fn wrap_detail(detail: Value) -> Value {
    let mut map = Map::new();
    map.insert("detail".to_owned(), detail);
    Value::Object(map)
}

/// Puts a source's metadata into the document under `name` (replacing a key of that name an
/// envelope may already have). Every document built here is an object.
pub(super) fn with_metadata(mut document: Value, name: &str, metadata: Value) -> Value {
    if let Value::Object(map) = &mut document {
        map.insert(name.to_owned(), metadata);
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_stay_other_json_and_text_go_under_detail() {
        let envelope = json!({"source": "s", "detail-type": "t", "detail": {"a": 1}});
        assert_eq!(body_document(envelope.to_string()), envelope);
        assert_eq!(
            body_document(r#"{"source":"s","detail-type":"t"}"#.into()),
            json!({"detail": {"source": "s", "detail-type": "t"}})
        );
        assert_eq!(body_document("[1,2]".into()), json!({"detail": [1, 2]}));
        assert_eq!(body_document("\"q\"".into()), json!({"detail": "q"}));
        assert_eq!(
            body_document("not json".into()),
            json!({"detail": "not json"})
        );
    }
}
