//! EventBridge event patterns, compiled once and evaluated against event documents with
//! EventBridge's own semantics.
//!
//! [`Pattern::compile`] validates a pattern the way EventBridge does (reporting every problem
//! with its path) and turns it into a tree of typed matchers; [`Pattern::matches`] walks that
//! tree against a `serde_json::Value` without allocating. `docs/patterns.md` is the user-facing
//! reference, including where EventBridge's behaviour is subtle and what this matcher chose.
//!
//! - `compile`: pattern JSON → a tree of fields and matchers, with [`PatternError`]s.
//! - `ops`: the leaf matchers (exact, prefix, suffix, equals-ignore-case, wildcard,
//!   anything-but, numeric, cidr, exists).

mod compile;
mod ops;

#[cfg(test)]
mod doc_cases;

use serde_json::{Map, Value};

use ops::Matcher;

/// A compiled EventBridge event pattern.
///
/// Compiled once when the rules are loaded so that matching each record is a walk over typed
/// matchers, never a re-interpretation of the pattern's JSON.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Fields,
}

/// Why a pattern is not one EventBridge would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PatternError {
    /// Where in the pattern, dot-separated (`detail.status[0]`), empty for the root.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Pattern {
    /// Compiles a pattern, reporting every problem found.
    pub fn compile(pattern: &Value) -> Result<Pattern, Vec<PatternError>> {
        compile::compile(pattern).map(|root| Pattern { root })
    }

    /// True when the event matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.matches(event.as_object())
    }
}

/// The fields of one object level of a pattern: every entry must match (AND), and for each
/// `$or` group at least one alternative must match.
#[derive(Debug, Clone)]
struct Fields {
    entries: Box<[(Box<str>, Node)]>,
    any_of: Box<[Box<[Fields]>]>,
}

/// What a pattern field holds: a leaf array of matchers, or a nested object.
#[derive(Debug, Clone)]
enum Node {
    Leaf(Box<[Matcher]>),
    Object(Fields),
}

impl Fields {
    /// Matches this level against an event object; `None` stands for "no object here" (the
    /// field is absent or is a scalar), where only `exists: false` can still be satisfied.
    fn matches(&self, object: Option<&Map<String, Value>>) -> bool {
        self.entries.iter().all(|(key, node)| {
            let value = object.and_then(|o| o.get(&**key));
            node.matches(value)
        }) && self
            .any_of
            .iter()
            .all(|alternatives| alternatives.iter().any(|alt| alt.matches(object)))
    }
}

impl Node {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Node::Leaf(matchers) => leaf_matches(matchers, value),
            Node::Object(fields) => object_matches(fields, value),
        }
    }
}

/// A nested pattern object against an event value. Arrays of objects match when one element
/// matches the whole nested pattern (array-consistent, like Event Ruler's `rulesForJSONEvent`);
/// scalar elements are ignored; an array with no object element is treated as absent.
fn object_matches(fields: &Fields, value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(o)) => fields.matches(Some(o)),
        Some(Value::Array(items)) => {
            let mut saw_object = false;
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) if contains_object(item) => {
                        saw_object = true;
                        if object_matches(fields, Some(item)) {
                            return true;
                        }
                    }
                    _ => {}
                }
            }
            !saw_object && fields.matches(None)
        }
        _ => fields.matches(None),
    }
}

fn contains_object(value: &Value) -> bool {
    match value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().any(contains_object),
        _ => false,
    }
}

/// A leaf array against an event value. The value's leaves are the value itself when it is a
/// scalar, or the scalars anywhere inside it when it is an array; objects are not leaves
/// ("exists matching only works on leaf nodes"), so a field holding only objects is absent.
fn leaf_matches(matchers: &[Matcher], value: Option<&Value>) -> bool {
    let value = value.filter(|v| has_leaf(v));
    matchers.iter().any(|m| match (m, value) {
        (Matcher::Exists(want), v) => *want == v.is_some(),
        (_, None) => false,
        (m, Some(v)) => any_leaf(v, m),
    })
}

fn has_leaf(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().any(has_leaf),
        _ => true,
    }
}

fn any_leaf(value: &Value, matcher: &Matcher) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().any(|v| any_leaf(v, matcher)),
        leaf => matcher.matches_leaf(leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(pattern: Value, event: Value) -> bool {
        match Pattern::compile(&pattern) {
            Ok(p) => p.matches(&event),
            Err(e) => panic!("pattern {pattern} did not compile: {e:?}"),
        }
    }

    fn errors(pattern: Value) -> Vec<PatternError> {
        match Pattern::compile(&pattern) {
            Ok(_) => panic!("pattern {pattern} compiled but should not"),
            Err(e) => e,
        }
    }

    #[test]
    fn pattern_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<Pattern>();
    }

    #[test]
    fn exact_values_of_every_type_match_only_themselves() {
        let p = json!({"a": ["x", 5, true, null]});
        assert!(matches(p.clone(), json!({"a": "x"})));
        assert!(matches(p.clone(), json!({"a": 5})));
        assert!(matches(p.clone(), json!({"a": true})));
        assert!(matches(p.clone(), json!({"a": null})));
        assert!(!matches(p.clone(), json!({"a": "5"})));
        assert!(!matches(p.clone(), json!({"a": false})));
        assert!(!matches(p.clone(), json!({"a": "null"})));
        assert!(!matches(p, json!({})));
    }

    #[test]
    fn integer_and_float_spellings_of_a_number_do_not_match_exactly() {
        assert!(!matches(json!({"a": [300]}), json!({"a": 300.0})));
        assert!(!matches(json!({"a": [300.0]}), json!({"a": 300})));
        assert!(matches(json!({"a": [300.0]}), json!({"a": 300.0})));
        // numeric compares values, so both spellings satisfy `=`.
        assert!(matches(
            json!({"a": [{"numeric": ["=", 300]}]}),
            json!({"a": 300.0})
        ));
    }

    #[test]
    fn strings_are_matched_case_sensitively_and_exactly() {
        assert!(!matches(json!({"a": ["Alice"]}), json!({"a": "alice"})));
        assert!(!matches(json!({"a": ["Alice"]}), json!({"a": "Alice "})));
    }

    #[test]
    fn empty_string_matches_only_the_empty_string() {
        let p = json!({"LastName": [""]});
        assert!(matches(p.clone(), json!({"LastName": ""})));
        assert!(!matches(p.clone(), json!({"LastName": null})));
        assert!(!matches(p, json!({})));
    }

    #[test]
    fn array_event_fields_match_when_any_element_matches() {
        let p = json!({"resources": ["b", "z"]});
        assert!(matches(p.clone(), json!({"resources": ["a", "b"]})));
        assert!(!matches(p.clone(), json!({"resources": ["a", "c"]})));
        assert!(!matches(p.clone(), json!({"resources": []})));
        assert!(matches(p, json!({"resources": [["a"], ["z"]]})));
    }

    #[test]
    fn arrays_of_objects_must_match_within_one_element() {
        let event = json!({"employees": [
            {"firstName": "John", "lastName": "Doe"},
            {"firstName": "Anna", "lastName": "Smith"},
            {"firstName": "Peter", "lastName": "Jones"}
        ]});
        assert!(matches(
            json!({"employees": {"firstName": ["Anna"]}}),
            event.clone()
        ));
        assert!(matches(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
            event.clone()
        ));
        assert!(!matches(
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            event.clone()
        ));
        let nested = json!({"employees": [[{"firstName": "Peter"}], [{"firstName": "Anna"}]]});
        assert!(matches(
            json!({"employees": {"firstName": ["Anna"]}}),
            nested
        ));
    }

    #[test]
    fn nested_pattern_objects_need_the_same_nesting_in_the_event() {
        let p = json!({"detail": {"state": ["running"]}});
        assert!(matches(p.clone(), json!({"detail": {"state": "running"}})));
        assert!(!matches(p.clone(), json!({"state": "running"})));
        assert!(!matches(p.clone(), json!({"detail": "running"})));
        assert!(!matches(p, json!({"detail": {"state": {"x": "running"}}})));
    }

    #[test]
    fn exists_true_needs_a_leaf_and_exists_false_needs_its_absence() {
        let yes = json!({"detail": {"c": [{"exists": true}]}});
        let no = json!({"detail": {"c": [{"exists": false}]}});
        for (event, present) in [
            (json!({"detail": {"c": 1}}), true),
            (json!({"detail": {"c": null}}), true),
            (json!({"detail": {"c": ""}}), true),
            (json!({"detail": {"c": [1]}}), true),
            (json!({"detail": {"c": []}}), false),
            (json!({"detail": {"c": {"c1": 100}}}), false),
            (json!({"detail": {"c": [{"c1": 100}]}}), false),
            (json!({"detail": {}}), false),
            (json!({"detail": "scalar"}), false),
            (json!({}), false),
        ] {
            assert_eq!(
                matches(yes.clone(), event.clone()),
                present,
                "exists:true {event}"
            );
            assert_eq!(
                matches(no.clone(), event.clone()),
                !present,
                "exists:false {event}"
            );
        }
    }

    #[test]
    fn exists_false_is_evaluated_per_element_in_arrays_of_objects() {
        let p = json!({"a": {"b": [{"exists": false}]}});
        assert!(matches(p.clone(), json!({"a": [{"b": 1}, {"c": 2}]})));
        assert!(!matches(p.clone(), json!({"a": [{"b": 1}]})));
        assert!(!matches(p.clone(), json!({"a": [1, {"b": 1}]})));
        assert!(matches(p, json!({"a": []})));
    }

    #[test]
    fn prefix_and_suffix_only_match_strings() {
        assert!(matches(
            json!({"a": [{"prefix": "us-"}]}),
            json!({"a": "us-east-1"})
        ));
        assert!(!matches(
            json!({"a": [{"prefix": "us-"}]}),
            json!({"a": "eu-west-1"})
        ));
        assert!(!matches(json!({"a": [{"prefix": "1"}]}), json!({"a": 123})));
        assert!(matches(
            json!({"a": [{"suffix": ".png"}]}),
            json!({"a": "x.png"})
        ));
        assert!(!matches(
            json!({"a": [{"suffix": ".png"}]}),
            json!({"a": "x.PNG"})
        ));
        assert!(matches(json!({"a": [{"prefix": ""}]}), json!({"a": ""})));
    }

    #[test]
    fn prefix_and_suffix_ignore_case_forms_fold_both_sides() {
        let p = json!({"s": [{"prefix": {"equals-ignore-case": "EventB"}}]});
        assert!(matches(p.clone(), json!({"s": "eventbridge"})));
        assert!(matches(p.clone(), json!({"s": "EVENTBRIDGE"})));
        assert!(!matches(p, json!({"s": "lambda"})));
        let s = json!({"s": [{"suffix": {"equals-ignore-case": "tBridge"}}]});
        assert!(matches(s.clone(), json!({"s": "EventBRIDGE"})));
        assert!(!matches(s, json!({"s": "EventBus"})));
    }

    #[test]
    fn equals_ignore_case_matches_strings_in_any_case_only() {
        let p = json!({"n": [{"equals-ignore-case": "alice"}]});
        assert!(matches(p.clone(), json!({"n": "ALICE"})));
        assert!(matches(p.clone(), json!({"n": "aLiCe"})));
        assert!(!matches(p.clone(), json!({"n": "alicia"})));
        assert!(!matches(p, json!({"n": ["bob", 3]})));
    }

    #[test]
    fn anything_but_excludes_values_and_needs_the_field() {
        let p = json!({"state": [{"anything-but": "initializing"}]});
        assert!(matches(p.clone(), json!({"state": "running"})));
        assert!(!matches(p.clone(), json!({"state": "initializing"})));
        assert!(!matches(p.clone(), json!({})));
        assert!(matches(p.clone(), json!({"state": 5})));
        assert!(matches(p.clone(), json!({"state": null})));
        // One element that is not excluded is enough in an array.
        assert!(matches(
            p.clone(),
            json!({"state": ["initializing", "running"]})
        ));
        assert!(!matches(p, json!({"state": ["initializing"]})));
    }

    #[test]
    fn anything_but_numbers_compare_numerically() {
        let p = json!({"x": [{"anything-but": [100, 200, 300]}]});
        assert!(matches(p.clone(), json!({"x": 301.8})));
        assert!(!matches(p.clone(), json!({"x": 300})));
        assert!(!matches(p.clone(), json!({"x": 300.0})));
        assert!(matches(p, json!({"x": "300"})));
    }

    #[test]
    fn anything_but_nested_forms_negate_their_operator() {
        let prefix = json!({"r": [{"anything-but": {"prefix": "us-"}}]});
        assert!(matches(prefix.clone(), json!({"r": "eu-west-1"})));
        assert!(!matches(prefix, json!({"r": "us-east-1"})));
        let suffix = json!({"f": [{"anything-but": {"suffix": ".png"}}]});
        assert!(matches(suffix.clone(), json!({"f": "a.jpg"})));
        assert!(!matches(suffix, json!({"f": "a.png"})));
        let eic =
            json!({"s": [{"anything-but": {"equals-ignore-case": ["stopped", "Overloaded"]}}]});
        assert!(!matches(eic.clone(), json!({"s": "STOPPED"})));
        assert!(!matches(eic.clone(), json!({"s": "overloaded"})));
        assert!(matches(eic, json!({"s": "running"})));
        let wc = json!({"p": [{"anything-but": {"wildcard": "*/lib/*"}}]});
        assert!(matches(wc.clone(), json!({"p": "/usr/bin/env"})));
        assert!(!matches(wc, json!({"p": "/usr/lib/x.so"})));
    }

    #[test]
    fn numeric_ranges_compare_json_numbers_only() {
        let p = json!({"c": [{"numeric": [">", 0, "<=", 5]}]});
        assert!(matches(p.clone(), json!({"c": 5})));
        assert!(matches(p.clone(), json!({"c": 0.5})));
        assert!(!matches(p.clone(), json!({"c": 0})));
        assert!(!matches(p.clone(), json!({"c": 5.01})));
        assert!(!matches(p.clone(), json!({"c": "3"})));
        assert!(!matches(p, json!({"c": true})));
        assert!(matches(
            json!({"d": [{"numeric": ["<", 10]}]}),
            json!({"d": -3})
        ));
        assert!(matches(
            json!({"d": [{"numeric": [">=", 10]}]}),
            json!({"d": 10})
        ));
        assert!(matches(
            json!({"x": [{"numeric": ["=", 3.018e2]}]}),
            json!({"x": 301.8})
        ));
    }

    #[test]
    fn numeric_ranges_are_written_lower_bound_first_like_eventbridge() {
        let errors = errors(json!({"c": [{"numeric": ["<", 10, ">=", 2]}]}));
        assert_eq!(errors[0].path, "c[0].numeric[0]");
        let p = json!({"c": [{"numeric": [">=", 2, "<", 10]}]});
        assert!(matches(p.clone(), json!({"c": 2})));
        assert!(!matches(p, json!({"c": 10})));
    }

    #[test]
    fn anything_but_nested_forms_take_lists() {
        let prefix = json!({"r": [{"anything-but": {"prefix": ["us-", "eu-"]}}]});
        assert!(matches(prefix.clone(), json!({"r": "ap-south-1"})));
        assert!(!matches(prefix.clone(), json!({"r": "eu-west-1"})));
        assert!(matches(prefix, json!({"r": 7})));
        let suffix = json!({"f": [{"anything-but": {"suffix": [".png", ".jpg"]}}]});
        assert!(!matches(suffix.clone(), json!({"f": "a.jpg"})));
        assert!(matches(suffix, json!({"f": "a.gif"})));
        let wc = json!({"p": [{"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}]});
        assert!(!matches(wc.clone(), json!({"p": "x.tmp"})));
        assert!(matches(wc, json!({"p": "/usr/bin/env"})));
    }

    #[test]
    fn operator_names_cannot_be_fields_inside_or() {
        let e = errors(json!({"$or": [{"numeric": [1]}, {"detail": {"prefix": ["a"]}}]}));
        let mut paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["$or[0].numeric", "$or[1].detail.prefix"]);
        // Outside $or they are ordinary field names.
        assert!(matches(json!({"numeric": [1]}), json!({"numeric": 1})));
    }

    #[test]
    fn cidr_matches_ip_strings() {
        let p = json!({"ip": [{"cidr": "10.0.0.0/24"}]});
        assert!(matches(p.clone(), json!({"ip": "10.0.0.7"})));
        assert!(!matches(p.clone(), json!({"ip": "10.0.1.7"})));
        assert!(!matches(p, json!({"ip": 10})));
        let v6 = json!({"ip": [{"cidr": "2001:db8::/32"}]});
        assert!(matches(v6, json!({"ip": "2001:db8::1"})));
    }

    #[test]
    fn wildcard_matches_strings() {
        let p = json!({"f": [{"wildcard": "dir/*.png"}]});
        assert!(matches(p.clone(), json!({"f": "dir/a.png"})));
        assert!(!matches(p, json!({"f": "dir/a.jpg"})));
    }

    #[test]
    fn or_combines_alternatives_with_the_other_fields() {
        let p = json!({
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {"namespace": ["AWS/EC2"], "metricType": ["MetricType"]}
            ]
        });
        assert!(matches(
            p.clone(),
            json!({"source": "aws.cloudwatch", "metricName": "CPUUtilization"})
        ));
        assert!(matches(
            p.clone(),
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2", "metricType": "MetricType"})
        ));
        assert!(!matches(
            p.clone(),
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2"})
        ));
        assert!(!matches(
            p,
            json!({"source": "aws.ec2", "metricName": "CPUUtilization"})
        ));
    }

    #[test]
    fn or_works_nested_and_in_parallel() {
        let p = json!({
            "$or": [{"a": [1]}, {"b": [2]}],
            "detail": {
                "$or": [
                    {"c": [3]},
                    {"d": [4], "$or": [{"e": [5]}, {"f": [6]}]}
                ]
            }
        });
        assert!(matches(p.clone(), json!({"a": 1, "detail": {"c": 3}})));
        assert!(matches(
            p.clone(),
            json!({"b": 2, "detail": {"d": 4, "f": 6}})
        ));
        assert!(!matches(p.clone(), json!({"b": 2, "detail": {"d": 4}})));
        assert!(!matches(p, json!({"detail": {"c": 3}})));
    }

    #[test]
    fn non_object_events_only_match_absence() {
        let p = json!({"a": [{"exists": false}]});
        assert!(matches(p.clone(), json!("text")));
        assert!(matches(p, json!([1, 2])));
        assert!(!matches(json!({"a": ["x"]}), json!(null)));
    }

    #[test]
    fn a_non_object_pattern_is_rejected_at_the_root() {
        for p in [json!([]), json!("x"), json!(null), json!(1)] {
            let e = errors(p);
            assert_eq!(e.len(), 1);
            assert_eq!(e[0].path, "");
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let e = errors(json!({
            "source": "aws.ec2",
            "detail": {
                "state": [],
                "count": [{"numeric": [">", 5, "<", 1]}],
                "ip": [{"cidr": "10.0.0.0/40"}],
                "name": [{"wildcard": "a**"}, {"shellstyle": "a*"}]
            },
            "$or": [{"a": ["x"]}]
        }));
        let mut paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "$or",
                "detail.count[0].numeric",
                "detail.ip[0].cidr",
                "detail.name[0].wildcard",
                "detail.name[1]",
                "detail.state",
                "source",
            ],
            "{e:#?}"
        );
    }

    #[test]
    fn error_messages_are_lowercase_without_trailing_period() {
        let e = errors(json!({"a": [{"numeric": ["~", "x"]}], "b": {}, "c": [[1]]}));
        assert!(!e.is_empty());
        for err in e {
            let first = err.message.chars().next().unwrap_or(' ');
            assert!(!first.is_uppercase(), "{err}");
            assert!(!err.message.ends_with('.'), "{err}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Keys that exercise the operators as well as plain fields, so random patterns reach
    /// every branch of the compiler.
    const KEYS: &[&str] = &[
        "a",
        "b",
        "$or",
        "prefix",
        "suffix",
        "equals-ignore-case",
        "anything-but",
        "numeric",
        "exists",
        "wildcard",
        "cidr",
        "detail",
    ];

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop::sample::select(vec![
                "",
                "*",
                "**",
                "a*b",
                "\\",
                "\\*",
                "10.0.0.0/24",
                "::/0",
                "=",
                ">",
                "<=",
                "x",
                "ÉCOLE",
                "ß",
                "İ",
            ])
            .prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(
                    |entries| {
                        Value::Object(
                            entries
                                .into_iter()
                                .map(|(k, v)| (k.to_owned(), v))
                                .collect(),
                        )
                    }
                ),
            ]
        })
    }

    proptest! {
        #[test]
        fn compiling_and_matching_arbitrary_json_never_panics(pattern in json(), event in json()) {
            match Pattern::compile(&pattern) {
                Ok(p) => {
                    let _ = p.matches(&event);
                    let _ = p.matches(&pattern);
                }
                Err(errors) => prop_assert!(!errors.is_empty()),
            }
        }

        #[test]
        fn a_compiled_exact_pattern_matches_the_event_it_was_taken_from(
            key in "[a-z]{1,6}",
            value in scalar(),
        ) {
            let event = serde_json::json!({ "detail": { key.clone(): value.clone() } });
            let pattern = serde_json::json!({ "detail": { key: [value.clone()] } });
            let compiled = Pattern::compile(&pattern);
            prop_assert!(compiled.is_ok());
            if let Ok(p) = compiled {
                // NaN-free floats and every other scalar equal themselves.
                prop_assert!(p.matches(&event), "{pattern} vs {event}");
            }
        }
    }

    proptest! {
        #[test]
        fn a_value_and_anything_but_that_value_split_present_leaves(
            excluded in ".{0,4}",
            leaf in scalar(),
        ) {
            let exact = Pattern::compile(&serde_json::json!({"f": [excluded.clone()]}));
            let but = Pattern::compile(&serde_json::json!({"f": [{"anything-but": excluded}]}));
            prop_assert!(exact.is_ok() && but.is_ok());
            if let (Ok(exact), Ok(but)) = (exact, but) {
                let event = serde_json::json!({"f": leaf});
                prop_assert_ne!(exact.matches(&event), but.matches(&event));
            }
        }
    }
}
