//! DynamoDB's attribute-value JSON (`{"S": "x"}`, `{"M": {...}}`) → plain JSON, as rules and
//! templates read it: `S` a string, `N` a number or its text ([`number`]), `BOOL`, `NULL`, `M`
//! an object, `L` an array, the sets `SS`/`NS`/`BS` arrays (in the order the stream gives them),
//! `B` and `BS` elements the base64 text as delivered. Checked against boto3's
//! `TypeDeserializer` (`tests/fixtures/dynamodb/`).
//!
//! The conversion happens while the JSON is read ([`ItemSeed`]), from a record's text or from a
//! `Value`: the attribute-value wrappers (`{"S": …}`) are never built as JSON objects, which
//! would cost a map per attribute. A value that is not an attribute value does not stop the
//! reading: the item's result is the problem, named by where it is (`NewImage.items.0.price`),
//! and the rest of the JSON is still read through. Repeated keys behave as in a
//! `serde_json::Value`: the last one wins.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::number::number;

/// Why an attribute value could not be read, and where (`NewImage.items.0.price`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unreadable {
    /// Where, from the image's name: dot-separated names and list indices.
    pub(super) path: String,
    /// What is wrong.
    pub(super) problem: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// An item (`Keys`, `NewImage`, `OldImage`: a map of attribute values) held as a `Value` → a
/// JSON object. `root` names the map in errors.
#[cfg(test)]
pub(super) fn unmarshal_item(item: Value, root: &str) -> Result<Map<String, Value>, Unreadable> {
    match ItemSeed.deserialize(item) {
        Ok(item) => item.map_err(|p| p.under(root)),
        // A `Value` always deserializes; kept for the signature's sake.
        Err(e) => Err(Problem::new(e.to_string()).under(root)),
    }
}

/// What is wrong, with the path to it built on the way out (innermost part first), so reading
/// a good item allocates nothing for paths.
#[derive(Debug)]
pub(super) struct Problem {
    reversed_path: Vec<String>,
    text: String,
}

impl Problem {
    fn new(text: impl Into<String>) -> Self {
        Self {
            reversed_path: Vec::new(),
            text: text.into(),
        }
    }

    fn at(mut self, part: impl ToString) -> Self {
        self.reversed_path.push(part.to_string());
        self
    }

    /// The problem named from `root` (`dynamodb.NewImage`).
    pub(super) fn under(self, root: &str) -> Unreadable {
        let mut path = root.to_owned();
        for part in self.reversed_path.iter().rev() {
            path.push('.');
            path.push_str(part);
        }
        Unreadable {
            path,
            problem: self.text,
        }
    }
}

/// The visits of the kinds of JSON value a visitor does not want: each is read through (an array
/// or an object entirely) and answered with `self.wrong(<kind>)`, the problem.
macro_rules! wrong_bool {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.wrong("a boolean"))
        }
    };
}
macro_rules! wrong_number {
    () => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.wrong("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.wrong("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.wrong("a number"))
        }
    };
}
macro_rules! wrong_str {
    () => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.wrong("a string"))
        }
    };
}
macro_rules! wrong_unit {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.wrong("null"))
        }
    };
}
macro_rules! wrong_seq {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(self.wrong("an array"))
        }
    };
}
macro_rules! wrong_map {
    () => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(self.wrong("an object"))
        }
    };
}

/// An item: a map of attribute values, read into plain JSON.
pub(super) struct ItemSeed;

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Result<Map<String, Value>, Problem>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ItemVisitor { prefix: "is" })
    }
}

/// A map of attribute values where one is wanted: an item (`is an array, not a map`) or the
/// value of an `M` (`M is an array, not a map`).
struct ItemVisitor {
    prefix: &'static str,
}

impl ItemVisitor {
    fn wrong(&self, found: &str) -> Result<Map<String, Value>, Problem> {
        Err(Problem::new(format!("{} {found}, not a map", self.prefix)))
    }
}

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Result<Map<String, Value>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    /// A name repeated keeps its last value (as a `Value` map would); the problem reported is
    /// the one of the first name, in sorted order, whose value is wrong.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut item = Map::new();
        let mut wrong: BTreeMap<String, Problem> = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            match map.next_value_seed(AttributeSeed)? {
                Ok(value) => {
                    wrong.remove(&name);
                    item.insert(name, value);
                }
                Err(problem) => {
                    item.remove(&name);
                    wrong.insert(name, problem);
                }
            }
        }
        Ok(match wrong.into_iter().next() {
            Some((name, problem)) => Err(problem.at(name)),
            None => Ok(item),
        })
    }

    wrong_bool!();
    wrong_number!();
    wrong_str!();
    wrong_unit!();
    wrong_seq!();
}

/// One attribute value (`{"<type>": <value>}`) → plain JSON.
struct AttributeSeed;

impl<'de> DeserializeSeed<'de> for AttributeSeed {
    type Value = Result<Value, Problem>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl AttributeSeed {
    fn wrong(&self, found: &str) -> Result<Value, Problem> {
        Err(Problem::new(format!("is {found}, not an attribute value")))
    }
}

impl<'de> Visitor<'de> for AttributeSeed {
    type Value = Result<Value, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    /// The one type key and its value. A repeated type key keeps its last value; more than one
    /// distinct key is a problem (their values are still read through).
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(tag) = map.next_key::<Tag>()? else {
            return Ok(Err(Problem::new(
                "an attribute value has one type key, not 0",
            )));
        };
        let mut value = map.next_value_seed(TypedSeed(&tag))?;
        let mut others: Vec<Tag> = Vec::new();
        while let Some(key) = map.next_key::<Tag>()? {
            if key == tag {
                value = map.next_value_seed(TypedSeed(&tag))?;
            } else {
                map.next_value::<IgnoredAny>()?;
                if !others.contains(&key) {
                    others.push(key);
                }
            }
        }
        if others.is_empty() {
            return Ok(value);
        }
        Ok(Err(Problem::new(format!(
            "an attribute value has one type key, not {}",
            others.len() + 1
        ))))
    }

    wrong_bool!();
    wrong_number!();
    wrong_str!();
    wrong_unit!();
    wrong_seq!();
}

/// An attribute value's type key, read without allocating it (the types are known words).
#[derive(Debug, PartialEq, Eq)]
enum Tag {
    Known(&'static str),
    Other(String),
}

impl<'de> de::Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl Visitor<'_> for TagVisitor {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute value type")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                Ok(Tag::Known(match v {
                    "S" => "S",
                    "N" => "N",
                    "M" => "M",
                    "L" => "L",
                    "B" => "B",
                    "BOOL" => "BOOL",
                    "NULL" => "NULL",
                    "SS" => "SS",
                    "NS" => "NS",
                    "BS" => "BS",
                    other => return Ok(Tag::Other(other.to_owned())),
                }))
            }
        }
        deserializer.deserialize_str(TagVisitor)
    }
}

/// The value of type key `.0` (`S`, `N`, `M`, ...).
struct TypedSeed<'t>(&'t Tag);

impl<'de> DeserializeSeed<'de> for TypedSeed<'_> {
    type Value = Result<Value, Problem>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            Tag::Known(tag @ ("S" | "B" | "N" | "BOOL" | "NULL")) => {
                deserializer.deserialize_any(Scalar { tag })
            }
            Tag::Known("M") => deserializer
                .deserialize_any(ItemVisitor { prefix: "M is" })
                .map(|item| item.map(Value::Object)),
            Tag::Known(tag) => deserializer.deserialize_any(List { tag }),
            Tag::Other(other) => {
                <IgnoredAny as de::Deserialize>::deserialize(deserializer)?;
                Ok(Err(Problem::new(format!(
                    "{:?} is not an attribute value type (S, N, B, BOOL, NULL, M, L, SS, NS, BS)",
                    &other[..other.floor_char_boundary(20)]
                ))))
            }
        }
    }
}

/// `S`, `B`, `N` (a string) and `BOOL`, `NULL` (a boolean).
struct Scalar<'t> {
    tag: &'t str,
}

impl Scalar<'_> {
    fn wrong(&self, found: &str) -> Result<Value, Problem> {
        let wanted = match self.tag {
            "BOOL" | "NULL" => "a boolean",
            _ => "a string",
        };
        Err(Problem::new(format!(
            "{} is {found}, not {wanted}",
            self.tag
        )))
    }
}

impl<'de> Visitor<'de> for Scalar<'_> {
    type Value = Result<Value, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.tag {
            "S" | "B" => Ok(Value::String(v.to_owned())),
            "N" => number(v).map_err(Problem::new),
            _ => self.wrong("a string"),
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(match self.tag {
            "S" | "B" => Ok(Value::String(v)),
            "N" => number(&v).map_err(Problem::new),
            _ => self.wrong("a string"),
        })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(match self.tag {
            "BOOL" => Ok(Value::Bool(v)),
            "NULL" => Ok(Value::Null),
            _ => self.wrong("a boolean"),
        })
    }

    wrong_number!();
    wrong_unit!();
    wrong_seq!();
    wrong_map!();
}

/// `L` (attribute values), `SS` and `BS` (strings), `NS` (numbers' texts). Every element is read;
/// the problem reported is the first element's.
struct List<'t> {
    tag: &'t str,
}

impl List<'_> {
    fn wrong(&self, found: &str) -> Result<Value, Problem> {
        Err(Problem::new(format!(
            "{} is {found}, not an array",
            self.tag
        )))
    }
}

impl<'de> Visitor<'de> for List<'_> {
    type Value = Result<Value, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut first_wrong: Option<Problem> = None;
        let mut i = 0;
        loop {
            let element = if self.tag == "L" {
                seq.next_element_seed(AttributeSeed)?
            } else {
                seq.next_element_seed(SetElement { tag: self.tag })?
            };
            match element {
                None => break,
                Some(Ok(value)) => list.push(value),
                Some(Err(problem)) => {
                    first_wrong.get_or_insert_with(|| problem.at(i));
                }
            }
            i += 1;
        }
        Ok(match first_wrong {
            Some(problem) => Err(problem),
            None => Ok(Value::Array(list)),
        })
    }

    wrong_bool!();
    wrong_number!();
    wrong_str!();
    wrong_unit!();
    wrong_map!();
}

/// One element of `SS`, `BS` (a string) or `NS` (a number's text).
struct SetElement<'t> {
    tag: &'t str,
}

impl<'de> DeserializeSeed<'de> for SetElement<'_> {
    type Value = Result<Value, Problem>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl SetElement<'_> {
    fn wrong(&self, found: &str) -> Result<Value, Problem> {
        Err(Problem::new(format!(
            "{} is {found}, not a string",
            self.tag
        )))
    }
}

impl<'de> Visitor<'de> for SetElement<'_> {
    type Value = Result<Value, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.tag {
            "NS" => number(v).map_err(Problem::new),
            _ => Ok(Value::String(v.to_owned())),
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(match self.tag {
            "NS" => number(&v).map_err(Problem::new),
            _ => Ok(Value::String(v)),
        })
    }

    wrong_bool!();
    wrong_number!();
    wrong_unit!();
    wrong_seq!();
    wrong_map!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The item held as a `Value`, unmarshalled; read from its text instead, it must be the same.
    fn plain(item: Value) -> Result<Value, String> {
        let held = unmarshal_item(item.clone(), "NewImage")
            .map(Value::Object)
            .map_err(|e| e.to_string());
        let text = item.to_string();
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let read = ItemSeed
            .deserialize(&mut deserializer)
            .unwrap()
            .map(Value::Object)
            .map_err(|p| p.under("NewImage").to_string());
        assert_eq!(held, read, "{text}");
        held
    }

    #[test]
    fn every_type_becomes_plain_json() {
        let item = json!({
            "s": {"S": "x"},
            "n": {"N": "129.90"},
            "big": {"N": "12345678901234567891"},
            "b": {"B": "AAEqQQ=="},
            "yes": {"BOOL": true},
            "nothing": {"NULL": true},
            "m": {"M": {"inner": {"L": [{"S": "a"}, {"N": "1"}, {"M": {}}]}}},
            "ss": {"SS": ["Giraffe", "Zebra"]},
            "ns": {"NS": ["1234", "567.8", "1e40000"]},
            "bs": {"BS": ["AAEqQQ==", "QSoBAA=="]},
            "empty": {"SS": []}
        });
        assert_eq!(
            plain(item),
            Ok(json!({
                "s": "x",
                "n": 129.9,
                "big": "12345678901234567891",
                "b": "AAEqQQ==",
                "yes": true,
                "nothing": null,
                "m": {"inner": ["a", 1, {}]},
                "ss": ["Giraffe", "Zebra"],
                "ns": [1234, 567.8, "1e40000"],
                "bs": ["AAEqQQ==", "QSoBAA=="],
                "empty": []
            }))
        );
    }

    #[test]
    fn a_bad_attribute_value_is_an_error_naming_where() {
        for (item, expected) in [
            (json!([]), "NewImage: is an array, not a map"),
            (
                json!({"a": "x"}),
                "NewImage.a: is a string, not an attribute value",
            ),
            (
                json!({"a": {}}),
                "NewImage.a: an attribute value has one type key, not 0",
            ),
            (
                json!({"a": {"S": "x", "N": "1"}}),
                "NewImage.a: an attribute value has one type key, not 2",
            ),
            (
                json!({"a": {"X": 1}}),
                "NewImage.a: \"X\" is not an attribute value type (S, N, B, BOOL, NULL, M, L, SS, NS, BS)",
            ),
            (
                json!({"a": {"S": 1}}),
                "NewImage.a: S is a number, not a string",
            ),
            (
                json!({"a": {"N": "abc"}}),
                "NewImage.a: \"abc\" is not a number",
            ),
            (
                json!({"a": {"BOOL": "yes"}}),
                "NewImage.a: BOOL is a string, not a boolean",
            ),
            (
                json!({"a": {"M": []}}),
                "NewImage.a: M is an array, not a map",
            ),
            (
                json!({"a": {"M": {"b": {"L": [{"S": "ok"}, {"N": "x1"}]}}}}),
                "NewImage.a.b.1: \"x1\" is not a number",
            ),
            (
                json!({"a": {"SS": ["x", 2]}}),
                "NewImage.a.1: SS is a number, not a string",
            ),
            (
                json!({"a": {"NS": ["1", "two"]}}),
                "NewImage.a.1: \"two\" is not a number",
            ),
        ] {
            assert_eq!(plain(item.clone()), Err(expected.to_owned()), "{item}");
        }
    }
}
