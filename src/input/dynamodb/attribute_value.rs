//! DynamoDB's attribute-value JSON (`{"S": "x"}`, `{"M": {...}}`) → plain JSON, as rules and
//! templates read it: `S` a string, `N` a number or its text ([`number`]), `BOOL`, `NULL`, `M`
//! an object, `L` an array, the sets `SS`/`NS`/`BS` arrays (in the order the stream gives them),
//! `B` and `BS` elements the base64 text as delivered. Values are moved, not copied. Checked
//! against boto3's `TypeDeserializer` (`tests/fixtures/dynamodb/`).

use serde_json::{Map, Value};

use super::number::number;
use crate::json::kind;

/// Why an attribute value could not be read, and where (`NewImage.items.0.price`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unreadable {
    /// Where, from the image's name: dot-separated names and list indices.
    pub(super) path: String,
    /// What is wrong.
    pub(super) problem: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// An item (`Keys`, `NewImage`, `OldImage`: a map of attribute values) → a JSON object.
/// `root` names the map in errors.
pub(super) fn unmarshal_item(item: Value, root: &str) -> Result<Map<String, Value>, Unreadable> {
    let result = match item {
        Value::Object(map) => unmarshal_map(map),
        other => Err(Problem::new(format!("is {}, not a map", kind(&other)))),
    };
    result.map_err(|problem| {
        let mut path = root.to_owned();
        for part in problem.reversed_path.iter().rev() {
            path.push('.');
            path.push_str(part);
        }
        Unreadable {
            path,
            problem: problem.text,
        }
    })
}

/// What is wrong, with the path to it built on the way out (innermost part first), so reading
/// a good item allocates nothing for paths.
struct Problem {
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
}

fn unmarshal_map(map: Map<String, Value>) -> Result<Map<String, Value>, Problem> {
    let mut out = Map::new();
    for (name, value) in map {
        match unmarshal(value) {
            Ok(plain) => {
                out.insert(name, plain);
            }
            Err(problem) => return Err(problem.at(name)),
        }
    }
    Ok(out)
}

/// One attribute value → plain JSON.
fn unmarshal(value: Value) -> Result<Value, Problem> {
    let Value::Object(map) = value else {
        return Err(Problem::new(format!(
            "is {}, not an attribute value",
            kind(&value)
        )));
    };
    let keys = map.len();
    let mut entries = map.into_iter();
    let (Some((tag, inner)), 1) = (entries.next(), keys) else {
        return Err(Problem::new(format!(
            "an attribute value has one type key, not {keys}"
        )));
    };
    let wrong = |inner: &Value, wanted: &str| {
        Problem::new(format!("{tag} is {}, not {wanted}", kind(inner)))
    };
    match (tag.as_str(), inner) {
        ("S" | "B", Value::String(s)) => Ok(Value::String(s)),
        ("N", Value::String(n)) => number(&n).map_err(Problem::new),
        ("BOOL", Value::Bool(b)) => Ok(Value::Bool(b)),
        ("NULL", Value::Bool(_)) => Ok(Value::Null),
        ("M", Value::Object(m)) => unmarshal_map(m).map(Value::Object),
        ("L", Value::Array(list)) => list
            .into_iter()
            .enumerate()
            .map(|(i, element)| unmarshal(element).map_err(|p| p.at(i)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        ("SS" | "BS", Value::Array(set)) => match set.iter().position(|e| !e.is_string()) {
            Some(i) => Err(wrong(&set[i], "a string").at(i)),
            None => Ok(Value::Array(set)),
        },
        ("NS", Value::Array(set)) => set
            .into_iter()
            .enumerate()
            .map(|(i, element)| {
                match element {
                    Value::String(n) => number(&n).map_err(Problem::new),
                    other => Err(wrong(&other, "a string")),
                }
                .map_err(|p| p.at(i))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        ("S" | "B" | "N", inner) => Err(wrong(&inner, "a string")),
        ("BOOL" | "NULL", inner) => Err(wrong(&inner, "a boolean")),
        ("M", inner) => Err(wrong(&inner, "a map")),
        ("L" | "SS" | "NS" | "BS", inner) => Err(wrong(&inner, "an array")),
        (other, _) => Err(Problem::new(format!(
            "{:?} is not an attribute value type (S, N, B, BOOL, NULL, M, L, SS, NS, BS)",
            &other[..other.floor_char_boundary(20)]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(item: Value) -> Result<Value, String> {
        unmarshal_item(item, "NewImage")
            .map(Value::Object)
            .map_err(|e| e.to_string())
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
