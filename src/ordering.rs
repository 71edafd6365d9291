//! What orders records: an [`OrderingKey`] (an SQS FIFO message group, a Kinesis partition key,
//! a DynamoDB item's keys) and how failure texts name it. Records sharing a key are published
//! strictly in order, and after one of them fails the key's later records are not published
//! (README, "Ordering").

use std::fmt;

/// Which kind of key orders a record; decides how failure texts name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// An SQS FIFO `MessageGroupId`.
    MessageGroup,
    /// A Kinesis record's `partitionKey`.
    PartitionKey,
    /// A DynamoDB stream record's item keys (`dynamodb.Keys`, unmarshalled).
    Item,
}

impl KeyKind {
    /// How a text names the key of one record: `of message group A`, `with partition key K`,
    /// `of item {"id":"x"}` (the value follows).
    fn record_phrase(self) -> &'static str {
        match self {
            KeyKind::MessageGroup => "of message group",
            KeyKind::PartitionKey => "with partition key",
            KeyKind::Item => "of item",
        }
    }

    /// How a text names the key of the event in hand: `of the message group`, `with the same
    /// partition key`, `of the same item`.
    pub fn same_phrase(self) -> &'static str {
        match self {
            KeyKind::MessageGroup => "of the message group",
            KeyKind::PartitionKey => "with the same partition key",
            KeyKind::Item => "of the same item",
        }
    }

    /// The label of the key in `route` output: `group=A`, `partition-key=K`, `item={..}`.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::MessageGroup => "group",
            KeyKind::PartitionKey => "partition-key",
            KeyKind::Item => "item",
        }
    }
}

/// The key that orders a record among the invocation's records of the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderingKey {
    /// What kind of key it is.
    pub kind: KeyKind,
    /// The key itself: the group id, the partition key, or the item's keys as compact JSON
    /// with sorted attribute names.
    pub value: String,
}

impl OrderingKey {
    /// An SQS FIFO message group.
    pub fn message_group(group: impl Into<String>) -> Self {
        Self {
            kind: KeyKind::MessageGroup,
            value: group.into(),
        }
    }

    /// A Kinesis partition key.
    pub fn partition_key(key: impl Into<String>) -> Self {
        Self {
            kind: KeyKind::PartitionKey,
            value: key.into(),
        }
    }

    /// A DynamoDB item, named by its keys as compact JSON with sorted attribute names.
    pub fn item(keys: impl Into<String>) -> Self {
        Self {
            kind: KeyKind::Item,
            value: keys.into(),
        }
    }
}

impl fmt::Display for OrderingKey {
    /// `message group A`, `partition key K`, `item {"id":"x"}`, as a record's failure names it
    /// after `record N` (see [`OrderingKey::of_record`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            KeyKind::MessageGroup => "message group",
            KeyKind::PartitionKey => "partition key",
            KeyKind::Item => "item",
        };
        write!(f, "{kind} {}", self.value)
    }
}

impl OrderingKey {
    /// `of message group A`, `with partition key K`, `of item {"id":"x"}`: what follows
    /// `record N` in a failure text.
    pub fn of_record(&self) -> String {
        format!("{} {}", self.kind.record_phrase(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_key_reads_as_users_see_it() {
        let group = OrderingKey::message_group("A");
        assert_eq!(group.of_record(), "of message group A");
        assert_eq!(group.to_string(), "message group A");
        assert_eq!(group.kind.same_phrase(), "of the message group");
        let partition = OrderingKey::partition_key("AAPL");
        assert_eq!(partition.of_record(), "with partition key AAPL");
        assert_eq!(partition.kind.same_phrase(), "with the same partition key");
        let item = OrderingKey::item(r#"{"id":"x"}"#);
        assert_eq!(item.of_record(), r#"of item {"id":"x"}"#);
        assert_eq!(item.kind.same_phrase(), "of the same item");
        assert_eq!(
            [group.kind, partition.kind, item.kind].map(KeyKind::label),
            ["group", "partition-key", "item"]
        );
    }
}
