//! The invocation payload as the Lambda runtime hands it over ([`Payload`]): a `Records` batch or
//! an EventBridge Pipes array kept as one JSON text per record, anything else as a
//! `serde_json::Value`.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The invocation payload as the Lambda runtime hands it over, read without building one JSON
/// tree for the whole batch: a 6 MB batch as a `serde_json::Value` takes about five times its
/// size in memory, while each record's text kept apart takes about its size, and each record is
/// parsed into a document only when it is routed ([`read_payload`](super::read_payload), the one
/// reader of a payload).
#[derive(Debug)]
pub struct Payload(pub(super) Shape);

/// What the payload turned out to be.
#[derive(Debug)]
pub(super) enum Shape {
    /// A payload with a `Records` array: each record's JSON text, in order.
    Records(Vec<Box<RawValue>>),
    /// A payload that is an array (an EventBridge Pipes batch): each element's JSON text.
    Array(Vec<Box<RawValue>>),
    /// Anything else (an EventBridge event is one small document), read as usual.
    Other(Value),
}

impl Payload {
    /// True for a batch — a payload with a `Records` array, or a pipe's array — false for anything
    /// else (an EventBridge event): the two are held to different AWS size limits.
    pub fn is_batch(&self) -> bool {
        matches!(self.0, Shape::Records(_) | Shape::Array(_))
    }
}

impl From<Value> for Payload {
    /// For callers that already hold a `Value` (tests): its text is read as the runtime reads a
    /// payload, so there is one reader whatever the caller holds.
    fn from(value: Value) -> Self {
        // A `Value` always serialises, and its text always parses, unless it nests deeper than
        // serde_json's recursion limit: that one is read as it stands (it cannot be a batch the
        // runtime would have delivered).
        serde_json::from_str(&value.to_string()).unwrap_or(Payload(Shape::Other(value)))
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PayloadVisitor)
    }
}

/// The visits of a scalar: each becomes the same `Value` a `serde_json::Value` would hold,
/// wrapped by `$wrap`.
macro_rules! scalar_visits {
    ($out:ty, $wrap:expr) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<$out, E> {
            Ok($wrap(Value::Bool(v)))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<$out, E> {
            Ok($wrap(Value::from(v)))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<$out, E> {
            Ok($wrap(Value::from(v)))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<$out, E> {
            Ok($wrap(Value::from(v)))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<$out, E> {
            Ok($wrap(Value::from(v)))
        }

        fn visit_unit<E: de::Error>(self) -> Result<$out, E> {
            Ok($wrap(Value::Null))
        }
    };
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Payload;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload, A::Error> {
        let mut other = Map::new();
        let mut records = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                // A repeated key: the last one wins, as in a `serde_json::Value`.
                match map.next_value::<RecordsField>()? {
                    RecordsField::List(list) => {
                        other.remove(&key);
                        records = Some(list);
                    }
                    // Not an array: keep it, so the reader reports what arrived.
                    RecordsField::Other(value) => {
                        records = None;
                        other.insert(key, value);
                    }
                }
            } else {
                other.insert(key, map.next_value()?);
            }
        }
        Ok(match records {
            Some(list) => Payload(Shape::Records(list)),
            None => Payload(Shape::Other(Value::Object(other))),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Payload, A::Error> {
        raw_elements(seq).map(|list| Payload(Shape::Array(list)))
    }

    scalar_visits!(Payload, |v| Payload(Shape::Other(v)));
}

/// An array's elements, each kept as its JSON text.
fn raw_elements<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<Box<RawValue>>, A::Error> {
    let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(element) = seq.next_element::<Box<RawValue>>()? {
        list.push(element);
    }
    Ok(list)
}

/// The `Records` field: an array kept as one text per record, or anything else as a value.
enum RecordsField {
    List(Vec<Box<RawValue>>),
    Other(Value),
}

impl<'de> Deserialize<'de> for RecordsField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = RecordsField;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RecordsField, A::Error> {
                raw_elements(seq).map(RecordsField::List)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RecordsField, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(RecordsField::Other)
            }

            scalar_visits!(RecordsField, RecordsField::Other);
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}
