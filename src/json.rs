//! Small facts about JSON values shared by the steps that explain bad input: what kind of value
//! was found where another was expected.

use serde_json::Value;

/// The kind of a JSON value with its article (`"a string"`, `"null"`), for error messages such as
/// `expected an object, found an array`.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_reads_as_a_noun_phrase() {
        let cases = [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1.5), "a number"),
            (json!("x"), "a string"),
            (json!([1]), "an array"),
            (json!({"a": 1}), "an object"),
        ];
        for (value, expected) in cases {
            assert_eq!(kind(&value), expected);
        }
    }
}
