//! The parts of an event source ARN that rules route on: the account, a DynamoDB table's name,
//! a Kinesis stream's name, an SNS topic's name.
//!
//! `arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-22T09:00:00.000`,
//! `arn:aws:kinesis:eu-west-1:123456789012:stream/market-data`,
//! `arn:aws:sns:eu-west-1:123456789012:order-notifications`.

/// The sixth field of an ARN and after (`table/orders/stream/...`), when it is one.
fn resource(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    (fields.next() == Some("arn")).then_some(())?;
    fields.nth(4)
}

/// The account id (fifth field), when the text is an ARN with one.
pub(super) fn account(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    (fields.next() == Some("arn")).then_some(())?;
    fields.nth(3).filter(|a| !a.is_empty())
}

/// The table of a DynamoDB stream ARN (`table/<name>/stream/<label>`).
pub(super) fn table_name(arn: &str) -> Option<&str> {
    resource(arn)?
        .strip_prefix("table/")?
        .split('/')
        .next()
        .filter(|n| !n.is_empty())
}

/// The stream of a Kinesis stream ARN (`stream/<name>`, or `stream/<name>/consumer/...` for an
/// enhanced fan-out consumer).
pub(super) fn stream_name(arn: &str) -> Option<&str> {
    resource(arn)?
        .strip_prefix("stream/")?
        .split('/')
        .next()
        .filter(|n| !n.is_empty())
}

/// The topic of an SNS topic ARN (the sixth field).
pub(super) fn topic_name(arn: &str) -> Option<&str> {
    resource(arn).filter(|n| !n.is_empty() && !n.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_resource_part_of_an_arn() {
        let table =
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-22T09:00:00.000";
        assert_eq!(table_name(table), Some("orders"));
        assert_eq!(account(table), Some("123456789012"));
        let stream = "arn:aws:kinesis:eu-west-1:123456789012:stream/market-data";
        assert_eq!(stream_name(stream), Some("market-data"));
        assert_eq!(
            stream_name("arn:aws-cn:kinesis:cn-north-1:1:stream/s/consumer/c:1"),
            Some("s")
        );
        assert_eq!(
            topic_name("arn:aws:sns:eu-west-1:123456789012:order-notifications"),
            Some("order-notifications")
        );
        for odd in ["", "not an arn", "arn:aws:dynamodb", "arn:aws:kinesis:r:a:"] {
            assert_eq!(stream_name(odd), None, "{odd}");
            assert_eq!(table_name(odd), None, "{odd}");
        }
        assert_eq!(account("arn:aws:sns:eu-west-1::t"), None);
    }
}
