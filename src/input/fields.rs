//! Reading only the fields a source uses from one record's JSON text: the named keys become JSON
//! values as they would be in the record's `Value` map (the last of duplicate keys wins, `null`
//! is kept); every other field is skipped without being allocated (receipt handles, md5s,
//! signatures, ...).

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::json::kind;

/// Takes an optional string field out of a record: absent or `null` is `None`; any other kind
/// of value is the problem, named (`eventName is a number, not a string`).
pub(super) fn string_field(
    map: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match map.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{name} is {}, not a string", kind(&other))),
    }
}

/// A required string field's value (taken or copied out of its record by the caller): a
/// non-empty string, else the problem, named `{prefix}{name}` (`kinesis.partitionKey is missing`).
pub(super) fn required_string(
    value: Option<Value>,
    prefix: &str,
    name: &str,
) -> Result<String, String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{prefix}{name} is empty")),
        None | Some(Value::Null) => Err(format!("{prefix}{name} is missing")),
        Some(other) => Err(format!("{prefix}{name} is {}, not a string", kind(&other))),
    }
}

/// The fields named by `keys` of the record object in `text`. Fails when the text is not an
/// object (the caller then reads it whole, to report what it is).
pub(super) fn used_fields(
    text: &str,
    keys: &'static [&'static str],
) -> Result<Map<String, Value>, serde_json::Error> {
    used_fields_with(text, keys, None::<(&str, PhantomData<IgnoredAny>)>).map(|(fields, _)| fields)
}

/// [`used_fields`], and the field named by `special` (when present) read with its own seed
/// instead, in the same pass: a DynamoDB record's `dynamodb` object, whose attribute values are
/// unmarshalled as they are read. The last of repeated keys wins.
pub(super) fn used_fields_with<'a, S>(
    text: &'a str,
    keys: &'static [&'static str],
    special: Option<(&'static str, S)>,
) -> Result<WithSpecial<S::Value>, serde_json::Error>
where
    S: DeserializeSeed<'a> + Copy,
{
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = UsedFields { keys, special }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(fields)
}

/// The used fields, and what the special field's seed read (if it was there).
pub(super) type WithSpecial<T> = (Map<String, Value>, Option<T>);

/// A record object read for the keys it names, one of them with its own seed.
struct UsedFields<S> {
    keys: &'static [&'static str],
    special: Option<(&'static str, S)>,
}

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for UsedFields<S> {
    type Value = WithSpecial<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for UsedFields<S> {
    type Value = WithSpecial<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut used = Map::new();
        let mut special = None;
        while let Some(key) = map.next_key_seed(UsedKey(self.keys))? {
            match (key, self.special) {
                (Some(key), Some((name, seed))) if key == name => {
                    special = Some(map.next_value_seed(seed)?);
                }
                (Some(key), _) => {
                    used.insert(key.to_owned(), map.next_value::<Value>()?);
                }
                (None, _) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((used, special))
    }
}

/// A key of a record: one of the used keys, or `None` for any other key (read without
/// allocating it).
struct UsedKey(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for UsedKey {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for UsedKey {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().copied().find(|used| *used == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_named_fields_are_kept_as_a_value_map_would_hold_them() {
        let text = r#"{"a": 1, "b": {"deep": [1]}, "a": null, "\u0063": "x", "d": 4}"#;
        let fields = used_fields(text, &["a", "c"]).unwrap();
        assert_eq!(Value::Object(fields), json!({"a": null, "c": "x"}));
    }

    #[test]
    fn the_special_field_is_read_with_its_seed_and_the_last_one_wins() {
        let text = r#"{"a": 1, "d": {"x": [1, 2]}, "b": 2, "d": {"y": 3}}"#;
        let (fields, special) =
            used_fields_with(text, &["a", "d"], Some(("d", PhantomData::<Value>))).unwrap();
        assert_eq!(Value::Object(fields), json!({"a": 1}));
        assert_eq!(special, Some(json!({"y": 3})));
    }

    #[test]
    fn a_text_that_is_not_an_object_is_an_error() {
        for text in ["[1]", "\"x\"", "7", "null"] {
            assert!(used_fields(text, &["a"]).is_err(), "{text}");
        }
    }
}
