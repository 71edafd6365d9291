//! A DynamoDB number (`{"N": "129.90"}`, decimal text of up to 38 significant digits) → JSON: a
//! number when an IEEE-754 double holds it without changing its value as a decimal (the
//! double's shortest decimal form is the same number: `129.90` → `129.9`, `1E+2` → `100`,
//! `0.1` → `0.1`), otherwise the text as a string (`12345678901234567891`,
//! `3.14159265358979323846`), so no digit a client would see is ever lost (README, "DynamoDB
//! Streams").

use serde_json::{Number, Value};

/// Largest magnitude below which an integral double converts to `i64` exactly (2^63).
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// Significant digits every decimal of at most this many keeps through a double and back
/// (`DBL_DIG`): distinct 15-digit decimals are further apart than doubles are, so the double's
/// shortest text is the decimal itself.
const DOUBLE_DIGITS: usize = 15;

/// Decimal exponents of a leading digit well inside the doubles' normal range, where the
/// 15-digit guarantee holds (subnormals and overflow take the slow path).
const NORMAL_EXPONENTS: std::ops::RangeInclusive<i64> = -290..=290;

/// The JSON value of a DynamoDB number's text, or why the text is not a number.
pub(super) fn number(text: &str) -> Result<Value, String> {
    let Some(decimal) = Decimal::parse(text) else {
        return Err(format!("{:?} is not a number", shorten(text)));
    };
    // Fast path: a plain integer of at most 15 digits is below 2^53, always exact.
    if decimal.plain_integer
        && decimal.whole.len() <= DOUBLE_DIGITS
        && let Ok(n) = text.parse::<i64>()
    {
        return Ok(Value::Number(Number::from(n)));
    }
    let Ok(double) = text.parse::<f64>() else {
        return Ok(Value::String(text.to_owned()));
    };
    if !double.is_finite() {
        return Ok(Value::String(text.to_owned()));
    }
    let exact = match decimal.significant() {
        // Zero, whatever its sign or exponent.
        None => true,
        Some((digits, leading))
            if digits <= DOUBLE_DIGITS && NORMAL_EXPONENTS.contains(&leading) =>
        {
            true
        }
        // Slow path: does the double's shortest text hold the same decimal?
        Some(_) => {
            let mut buffer = ryu::Buffer::new();
            let shortest = buffer.format_finite(double);
            Decimal::parse(shortest).is_some_and(|d| d.value() == decimal.value())
        }
    };
    if !exact {
        return Ok(Value::String(text.to_owned()));
    }
    if double.fract() == 0.0 && double.abs() < I64_LIMIT {
        // Integral and in range: the conversion is exact, and the JSON text has no `.0`.
        return Ok(Value::Number(Number::from(double as i64)));
    }
    Ok(Number::from_f64(double).map_or_else(|| Value::String(text.to_owned()), Value::Number))
}

/// A decimal's text, checked: an optional sign, digits with an optional point (at least one
/// digit), an optional exponent. Borrows the text: the common numbers allocate nothing.
struct Decimal<'a> {
    negative: bool,
    /// The digits before the point.
    whole: &'a str,
    /// The digits after the point.
    fraction: &'a str,
    /// The exponent written after `e`/`E` (0 without one).
    exponent: i64,
    /// No point, no exponent: a candidate for the integer fast path.
    plain_integer: bool,
}

impl<'a> Decimal<'a> {
    fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent_text) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction, point) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, fraction, true),
            None => (mantissa, "", false),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let exponent: i64 = match exponent_text {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) {
                    return None;
                }
                // An exponent too large for i64 is a number no double holds: keep it as text.
                e.parse().unwrap_or(if e.starts_with('-') {
                    i64::MIN / 2
                } else {
                    i64::MAX / 2
                })
            }
        };
        Some(Decimal {
            negative,
            whole,
            fraction,
            exponent,
            plain_integer: !point && exponent_text.is_none(),
        })
    }

    /// Every digit, the point removed.
    fn digits(&self) -> impl Iterator<Item = u8> + Clone + '_ {
        self.whole.bytes().chain(self.fraction.bytes())
    }

    /// The exponent of the last digit: value = digits × 10^scale.
    fn scale(&self) -> i64 {
        let fraction = i64::try_from(self.fraction.len()).unwrap_or(i64::MAX / 2);
        self.exponent.saturating_sub(fraction)
    }

    /// How many significant digits, and the decimal exponent of the first; `None` for zero.
    fn significant(&self) -> Option<(usize, i64)> {
        let length = self.whole.len() + self.fraction.len();
        let first = self.digits().position(|d| d != b'0')?;
        let from_end = self
            .fraction
            .bytes()
            .rev()
            .chain(self.whole.bytes().rev())
            .position(|d| d != b'0')?;
        let last = length - 1 - from_end;
        let leading = self
            .scale()
            .saturating_add(i64::try_from(length - 1 - first).unwrap_or(i64::MAX / 2));
        Some((last - first + 1, leading))
    }

    /// The value in a canonical form: sign, significant digits (no leading or trailing zeros)
    /// and the exponent of the last one; zero is `(false, [], 0)` whatever its sign.
    fn value(&self) -> (bool, Vec<u8>, i64) {
        let digits: Vec<u8> = self.digits().skip_while(|d| *d == b'0').collect();
        let significant = digits.iter().rposition(|d| *d != b'0').map_or(0, |i| i + 1);
        if significant == 0 {
            return (false, Vec::new(), 0);
        }
        let trailing = i64::try_from(digits.len() - significant).unwrap_or(0);
        (
            self.negative,
            digits[..significant].to_vec(),
            self.scale().saturating_add(trailing),
        )
    }
}

/// At most 40 characters of a text, for error messages.
fn shorten(text: &str) -> &str {
    &text[..text.floor_char_boundary(40)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_a_double_holds_become_json_numbers() {
        for (text, expected) in [
            ("0", json!(0)),
            ("-0", json!(0)),
            ("42", json!(42)),
            ("-17", json!(-17)),
            ("007", json!(7)),
            ("+5", json!(5)),
            ("129.90", json!(129.9)),
            ("0.1", json!(0.1)),
            ("1E+2", json!(100)),
            ("1e2", json!(100)),
            ("2.5e-3", json!(0.0025)),
            ("9007199254740992", json!(9_007_199_254_740_992_i64)),
            ("1E-130", json!(1e-130)),
            ("1e30", json!(1e30)),
            (".5", json!(0.5)),
            ("5.", json!(5)),
            ("123456789012345", json!(123_456_789_012_345_i64)),
        ] {
            assert_eq!(number(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn numbers_a_double_would_change_stay_strings() {
        for text in [
            "12345678901234567891",
            "9007199254740993",
            "1152921504606846976",
            "3.14159265358979323846",
            "0.1000000000000000055511151231257827",
            "9.9999999999999999999999999999999999999E+125",
            "1e400",
            "1e-400",
            "1e99999999999999999999999",
        ] {
            assert_eq!(number(text), Ok(json!(text)), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_a_decimal_is_an_error() {
        for text in [
            "", "-", "abc", "1.2.3", "1e", "e5", ".", "NaN", "Infinity", "1 ", "0x10",
        ] {
            assert!(number(text).is_err(), "{text:?}");
        }
        assert_eq!(number("abc"), Err("\"abc\" is not a number".to_owned()));
    }
}
