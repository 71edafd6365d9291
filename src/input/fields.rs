//! Reading only the fields a source uses from one record's JSON text: the named keys become JSON
//! values as they would be in the record's `Value` map (the last of duplicate keys wins, `null`
//! is kept); every other field is skipped without being allocated (receipt handles, md5s,
//! signatures, ...).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
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

/// The fields named by `keys` of the record object in `text`. Fails when the text is not an
/// object (the caller then reads it whole, to report what it is).
pub(super) fn used_fields(
    text: &str,
    keys: &'static [&'static str],
) -> Result<Map<String, Value>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = UsedFields(keys).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(fields)
}

/// A record object read for the keys it names.
struct UsedFields(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for UsedFields {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UsedFields {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut used = Map::new();
        while let Some(key) = map.next_key_seed(UsedKey(self.0))? {
            match key {
                Some(key) => {
                    used.insert(key.to_owned(), map.next_value::<Value>()?);
                }
                None => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(used)
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
    fn a_text_that_is_not_an_object_is_an_error() {
        for text in ["[1]", "\"x\"", "7", "null"] {
            assert!(used_fields(text, &["a"]).is_err(), "{text}");
        }
    }
}
