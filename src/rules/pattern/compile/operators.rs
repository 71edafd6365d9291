//! The operators of a match expression (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
//! `anything-but`, `numeric`, `exists`, `cidr`): each operand checked the way EventBridge checks
//! it, and compiled into its matcher.

use serde_json::{Map, Value};

use super::super::ops::{AnythingBut, Bound, Cidr, Matcher, Range, Wildcard, fold};
use super::{Errors, child, index};
use crate::json::kind;

/// The single key/operand pair of an operator object, or an error.
fn single<'a>(
    object: &'a Map<String, Value>,
    path: &str,
    errors: &mut Errors,
) -> Option<(&'a str, &'a Value)> {
    let mut iter = object.iter();
    match (iter.next(), iter.next()) {
        (Some((key, value)), None) => Some((key.as_str(), value)),
        (None, _) => {
            errors.push(path, "empty objects are not allowed");
            None
        }
        (Some(_), Some(_)) => {
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            errors.push(
                path,
                format!(
                    "a match expression has exactly one operator, found {}",
                    keys.join(", ")
                ),
            );
            None
        }
    }
}

pub(super) fn operator(
    object: &Map<String, Value>,
    path: &str,
    errors: &mut Errors,
) -> Option<Matcher> {
    let (name, operand) = single(object, path, errors)?;
    let here = child(path, name);
    let here = here.as_str();
    match name {
        "prefix" => affix(
            operand,
            here,
            errors,
            Matcher::Prefix,
            Matcher::PrefixIgnoreCase,
        ),
        "suffix" => affix(
            operand,
            here,
            errors,
            Matcher::Suffix,
            Matcher::SuffixIgnoreCase,
        ),
        "equals-ignore-case" => {
            string(operand, here, errors).map(|s| Matcher::EqualsIgnoreCase(fold(s)))
        }
        "wildcard" => wildcard(operand, here, errors).map(Matcher::Wildcard),
        "anything-but" => anything_but(operand, here, errors).map(Matcher::AnythingBut),
        "numeric" => numeric(operand, here, errors).map(Matcher::Numeric),
        "cidr" => {
            let text = string(operand, here, errors)?;
            match Cidr::parse(text) {
                Ok(cidr) => Some(Matcher::Cidr(cidr)),
                Err(message) => {
                    errors.push(here, message);
                    None
                }
            }
        }
        "exists" => match operand {
            Value::Bool(b) => Some(Matcher::Exists(*b)),
            _ => {
                errors.push(here, "exists takes true or false");
                None
            }
        },
        other => {
            errors.push(path, format!("unknown operator `{other}`"));
            None
        }
    }
}

fn string<'a>(operand: &'a Value, path: &str, errors: &mut Errors) -> Option<&'a str> {
    match operand.as_str() {
        Some(s) => Some(s),
        None => {
            errors.push(path, format!("expected a string, found {}", kind(operand)));
            None
        }
    }
}

/// `prefix` / `suffix`: a string, or `{"equals-ignore-case": string}`.
fn affix(
    operand: &Value,
    path: &str,
    errors: &mut Errors,
    exact: fn(Box<str>) -> Matcher,
    ignore_case: fn(Box<str>) -> Matcher,
) -> Option<Matcher> {
    match operand {
        Value::String(s) => Some(exact(s.as_str().into())),
        Value::Object(object) => {
            let (name, inner) = single(object, path, errors)?;
            let here = child(path, name);
            if name != "equals-ignore-case" {
                errors.push(
                    &here,
                    format!("unsupported operator `{name}` here: only equals-ignore-case"),
                );
                return None;
            }
            string(inner, &here, errors).map(|s| ignore_case(fold(s)))
        }
        _ => {
            errors.push(
                path,
                format!(
                    "expected a string or {{\"equals-ignore-case\": ...}}, found {}",
                    kind(operand)
                ),
            );
            None
        }
    }
}

fn wildcard(operand: &Value, path: &str, errors: &mut Errors) -> Option<Wildcard> {
    let text = string(operand, path, errors)?;
    match Wildcard::parse(text) {
        Ok(w) => Some(w),
        Err(message) => {
            errors.push(path, message);
            None
        }
    }
}

/// `anything-but`: a string, a number, a non-empty list of only strings or only numbers, or
/// one of `prefix`, `suffix`, `equals-ignore-case` (string or list), `wildcard`.
fn anything_but(operand: &Value, path: &str, errors: &mut Errors) -> Option<AnythingBut> {
    match operand {
        Value::String(s) => Some(AnythingBut::Strings(Box::new([s.as_str().into()]))),
        Value::Number(n) => Some(AnythingBut::Numbers(Box::new([number(n)]))),
        Value::Array(items) => {
            if items.is_empty() {
                errors.push(path, "empty arrays are not allowed");
                return None;
            }
            if let Some(strings) = all_strings(items) {
                Some(AnythingBut::Strings(strings))
            } else if items.iter().all(Value::is_number) {
                Some(AnythingBut::Numbers(
                    items
                        .iter()
                        .filter_map(Value::as_number)
                        .map(number)
                        .collect(),
                ))
            } else {
                errors.push(
                    path,
                    "an anything-but list must hold only strings or only numbers",
                );
                None
            }
        }
        Value::Object(object) => {
            let (name, inner) = single(object, path, errors)?;
            let here = child(path, name);
            let here = here.as_str();
            if !matches!(
                name,
                "prefix" | "suffix" | "equals-ignore-case" | "wildcard"
            ) {
                errors.push(
                    here,
                    format!(
                        "unsupported operator `{name}` inside anything-but: \
                         use prefix, suffix, equals-ignore-case or wildcard"
                    ),
                );
                return None;
            }
            // Each nested form takes a string or a non-empty list of strings.
            let strings: Vec<&str> = match inner {
                Value::String(s) => vec![s.as_str()],
                Value::Array(items) if !items.is_empty() => {
                    match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                        Some(strings) => strings,
                        None => {
                            errors.push(here, "expected only strings");
                            return None;
                        }
                    }
                }
                _ => {
                    errors.push(here, "expected a string or a non-empty list of strings");
                    return None;
                }
            };
            match name {
                "prefix" | "suffix" => {
                    if strings.iter().any(|s| s.is_empty()) {
                        errors.push(here, "an empty prefix or suffix is not allowed here");
                        return None;
                    }
                    let set = strings.into_iter().map(Box::from).collect();
                    Some(if name == "prefix" {
                        AnythingBut::Prefix(set)
                    } else {
                        AnythingBut::Suffix(set)
                    })
                }
                "equals-ignore-case" => Some(AnythingBut::EqualsIgnoreCase(
                    strings.into_iter().map(fold).collect(),
                )),
                _ => {
                    let wanted = strings.len();
                    let mut set = Vec::with_capacity(wanted);
                    for text in strings {
                        match Wildcard::parse(text) {
                            Ok(w) => set.push(w),
                            Err(message) => errors.push(here, message),
                        }
                    }
                    (set.len() == wanted).then(|| AnythingBut::Wildcard(set.into()))
                }
            }
        }
        Value::Bool(_) | Value::Null => {
            errors.push(
                path,
                format!("anything-but does not take {}", kind(operand)),
            );
            None
        }
    }
}

fn all_strings(items: &[Value]) -> Option<Box<[Box<str>]>> {
    items.iter().map(|v| v.as_str().map(Box::from)).collect()
}

fn number(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// `numeric`: `[op, n]`, or a lower bound followed by an upper bound (`[">", a, "<=", b]`),
/// as EventBridge parses it: `=`, `<` and `<=` end the expression, and the bottom must be below
/// the top.
fn numeric(operand: &Value, path: &str, errors: &mut Errors) -> Option<Range> {
    let Some(items) = operand.as_array() else {
        errors.push(
            path,
            format!(
                "expected an array like [\">\", 0, \"<=\", 5], found {}",
                kind(operand)
            ),
        );
        return None;
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        errors.push(
            path,
            "expected an operator and a number, or a lower and an upper bound like [\">\", 0, \"<=\", 5]",
        );
        return None;
    }
    let mut ok = true;
    let mut pairs = Vec::with_capacity(2);
    for (pair, chunk) in items.chunks(2).enumerate() {
        let [op, value] = chunk else { continue };
        let op_path = index(path, pair * 2);
        let op = match op.as_str() {
            Some(op @ ("=" | "<" | "<=" | ">" | ">=")) => Some(op),
            _ => {
                errors.push(
                    &op_path,
                    format!("unknown numeric operator {op}: use =, <, <=, > or >="),
                );
                None
            }
        };
        let n = value.as_number().map(number);
        if n.is_none() {
            errors.push(
                &index(path, pair * 2 + 1),
                format!("expected a number, found {}", kind(value)),
            );
        }
        match (op, n) {
            (Some(op), Some(n)) => pairs.push((op, n, op_path)),
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let bound = |value: f64, inclusive: bool| Some(Bound { value, inclusive });
    match pairs.as_slice() {
        [("=", n, _)] => Some(Range::Equal(*n)),
        [(op, n, _)] => {
            let (lower, upper) = match *op {
                ">" => (bound(*n, false), None),
                ">=" => (bound(*n, true), None),
                "<" => (None, bound(*n, false)),
                _ => (None, bound(*n, true)),
            };
            Some(Range::Between { lower, upper })
        }
        [(low_op, low, low_path), (high_op, high, high_path)] => {
            if !matches!(*low_op, ">" | ">=") {
                errors.push(
                    low_path,
                    "a range starts with its lower bound (> or >=); =, < and <= stand alone",
                );
                return None;
            }
            if !matches!(*high_op, "<" | "<=") {
                errors.push(high_path, "the second bound of a range must be < or <=");
                return None;
            }
            if low >= high {
                errors.push(path, "the lower bound must be below the upper bound");
                return None;
            }
            Some(Range::Between {
                lower: bound(*low, *low_op == ">="),
                upper: bound(*high, *high_op == "<="),
            })
        }
        _ => None,
    }
}
