//! The invocation payload as the Lambda runtime hands it over ([`Payload`]): an SQS batch kept as
//! one JSON text per record, anything else as a `serde_json::Value`.

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The invocation payload as the Lambda runtime hands it over, read without building one JSON
/// tree for the whole batch: a 6 MB SQS batch as a `serde_json::Value` takes about five times its
/// size in memory, while each record's text kept apart takes about its size, and each record is
/// parsed into a document only when it is routed ([`read_payload`]).
#[derive(Debug)]
pub enum Payload {
    /// A payload with a `Records` array: each record's JSON text, in order.
    Records(Vec<Box<RawValue>>),
    /// Anything else (an EventBridge event is one small document), read as usual.
    Other(Value),
}

impl From<Value> for Payload {
    /// Callers that already hold a `Value` (tests, the CLI) take the eager path.
    fn from(value: Value) -> Self {
        Payload::Other(value)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PayloadVisitor)
    }
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
                    // Not an array: keep it, so the eager path reports what arrived.
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
            Some(list) => Payload::Records(list),
            None => Payload::Other(Value::Object(other)),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Payload, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Payload::Other)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Payload, E> {
        Ok(Payload::Other(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Payload, E> {
        Ok(Payload::Other(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Payload, E> {
        Ok(Payload::Other(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Payload, E> {
        Ok(Payload::Other(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
        Ok(Payload::Other(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Other(Value::Null))
    }
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

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RecordsField, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(record) = seq.next_element::<Box<RawValue>>()? {
                    list.push(record);
                }
                Ok(RecordsField::List(list))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RecordsField, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(RecordsField::Other)
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::Bool(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::from(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::from(v)))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::from(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::from(v)))
            }

            fn visit_unit<E: de::Error>(self) -> Result<RecordsField, E> {
                Ok(RecordsField::Other(Value::Null))
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}
