//! One SNS notification → a [`Record`]: its `MessageId` as its identity and the event document
//! rules see: `Sns.Message` read like an SQS body (an EventBridge envelope, other JSON, or text),
//! plus `sns` metadata (topic, subject, message attributes as name → value). SNS invokes Lambda
//! asynchronously with one notification; its answer is a summary or an error, as for
//! EventBridge.

use serde_json::{Map, Value};

use super::body::{body_document, with_metadata};
use super::fields::{required_string, string_field};
use super::{InputError, Record, arn};
use crate::json::kind;

/// The keys of an SNS record that [`sns_record`] reads, and the source it names (checked by the
/// reader).
pub(super) const USED_FIELDS: &[&str] =
    &["Sns", "EventSubscriptionArn", "eventSource", "EventSource"];

/// One SNS record → a [`Record`]. Never fails the invocation: whatever is wrong stays in this
/// record, which then fails (a Lambda error: SNS's retries and the on-failure destination take
/// over).
pub(super) fn sns_record(index: usize, record: Value) -> Record {
    let fail = |id: String, problem: String| Record {
        index,
        id,
        key: None,
        document: Err(InputError::NotSns(problem)),
    };
    let Value::Object(mut record) = record else {
        return fail(
            String::new(),
            format!("record is {}, not an object", kind(&record)),
        );
    };
    let mut sns = match record.remove("Sns") {
        Some(Value::Object(sns)) => sns,
        None | Some(Value::Null) => return fail(String::new(), "Sns is missing".into()),
        Some(other) => {
            return fail(
                String::new(),
                format!("Sns is {}, not an object", kind(&other)),
            );
        }
    };
    let id = match required_string(sns.remove("MessageId"), "Sns.", "MessageId") {
        Ok(id) => id,
        Err(problem) => return fail(String::new(), problem),
    };
    let message = match string_field(&mut sns, "Message") {
        Ok(Some(message)) => message,
        Ok(None) => return fail(id, "Sns.Message is missing".into()),
        Err(e) => return fail(id, format!("Sns.{e}")),
    };
    let mut metadata = Map::new();
    metadata.insert("messageId".into(), Value::String(id.clone()));
    let topic = string_field(&mut sns, "TopicArn").ok().flatten();
    if let Some(name) = topic.as_deref().and_then(arn::topic_name) {
        metadata.insert("topicName".into(), Value::String(name.to_owned()));
    }
    metadata.insert("topicArn".into(), topic.map_or(Value::Null, Value::String));
    // SNS sends `"Subject": null` when the publisher gave none.
    metadata.insert(
        "subject".into(),
        sns.remove("Subject")
            .filter(Value::is_string)
            .unwrap_or(Value::Null),
    );
    for (field, name) in [("Timestamp", "timestamp"), ("Type", "type")] {
        if let Some(value) = sns.remove(field).filter(|v| !v.is_null()) {
            metadata.insert(name.into(), value);
        }
    }
    if let Some(Value::String(arn)) = record.remove("EventSubscriptionArn") {
        metadata.insert("subscriptionArn".into(), Value::String(arn));
    }
    metadata.insert(
        "messageAttributes".into(),
        Value::Object(attributes(sns.remove("MessageAttributes"))),
    );
    Record {
        index,
        id,
        key: None,
        document: Ok(with_metadata(
            body_document(message),
            "sns",
            Value::Object(metadata),
        )),
    }
}

/// Message attributes as name → `Value` (a string as SNS sends it: a `Number` as its text, a
/// `String.Array` as its JSON text, a `Binary` as base64); anything unreadable is `null`.
fn attributes(attributes: Option<Value>) -> Map<String, Value> {
    let Some(Value::Object(attributes)) = attributes else {
        return Map::new();
    };
    attributes
        .into_iter()
        .map(|(name, attribute)| {
            let value = match attribute {
                Value::Object(mut a) => a.remove("Value").filter(Value::is_string),
                _ => None,
            };
            (name, value.unwrap_or(Value::Null))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notification(message: &str) -> Value {
        json!({
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:order-notifications:5f1c",
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": "2026-11-22T10:00:00.000Z",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/cert.pem",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "Message": message,
                "MessageAttributes": {
                    "kind": {"Type": "String", "Value": "order-shipped"},
                    "priority": {"Type": "Number", "Value": "2"},
                    "odd": {"Type": "String"}
                },
                "Type": "Notification",
                "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:order-notifications",
                "Subject": null
            }
        })
    }

    #[test]
    fn the_message_is_read_like_a_body_with_sns_metadata() {
        let record = sns_record(0, notification(r#"{"orderId":"o-1"}"#));
        assert_eq!(record.id, "95df01b4-ee98-5cb9-9903-4c221d41eb5e");
        assert_eq!(record.key, None);
        assert_eq!(
            record.document.unwrap(),
            json!({
                "detail": {"orderId": "o-1"},
                "sns": {
                    "messageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "topicName": "order-notifications",
                    "topicArn": "arn:aws:sns:eu-west-1:123456789012:order-notifications",
                    "subject": null,
                    "timestamp": "2026-11-22T10:00:00.000Z",
                    "type": "Notification",
                    "subscriptionArn": "arn:aws:sns:eu-west-1:123456789012:order-notifications:5f1c",
                    "messageAttributes": {"kind": "order-shipped", "priority": "2", "odd": null}
                }
            })
        );
        let text = sns_record(0, notification("plain text")).document.unwrap();
        assert_eq!(text["detail"], "plain text");
    }

    #[test]
    fn a_notification_without_a_message_fails_alone() {
        let mut record = notification("x");
        record["Sns"]["Message"] = json!(3);
        let record = sns_record(0, record);
        assert_eq!(record.id, "95df01b4-ee98-5cb9-9903-4c221d41eb5e");
        assert_eq!(
            record.document.unwrap_err().to_string(),
            "record is not an sns notification: Sns.Message is a number, not a string"
        );
        let record = sns_record(0, json!({"Sns": "x"}));
        assert_eq!(
            record.document.unwrap_err().to_string(),
            "record is not an sns notification: Sns is a string, not an object"
        );
    }
}
