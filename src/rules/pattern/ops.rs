//! The leaf matchers of a compiled pattern: one typed value per comparison operator, each
//! answering "does this leaf value of the event satisfy me" without allocating.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Number, Value};

/// One element of a leaf array in a pattern (`"state": [ <matcher>, <matcher> ]`).
#[derive(Debug, Clone)]
pub(super) enum Matcher {
    /// A literal string, number, boolean or null.
    Exact(Literal),
    /// `{"prefix": "..."}`.
    Prefix(Box<str>),
    /// `{"prefix": {"equals-ignore-case": "..."}}`; holds the lowercased prefix.
    PrefixIgnoreCase(Box<str>),
    /// `{"suffix": "..."}`.
    Suffix(Box<str>),
    /// `{"suffix": {"equals-ignore-case": "..."}}`; holds the lowercased suffix.
    SuffixIgnoreCase(Box<str>),
    /// `{"equals-ignore-case": "..."}`; holds the lowercased value.
    EqualsIgnoreCase(Box<str>),
    /// `{"wildcard": "..."}`.
    Wildcard(Wildcard),
    /// `{"anything-but": ...}`.
    AnythingBut(AnythingBut),
    /// `{"numeric": [...]}`.
    Numeric(Range),
    /// `{"cidr": "..."}`.
    Cidr(Cidr),
    /// `{"exists": true|false}`: decided by presence, never by a value.
    Exists(bool),
}

impl Matcher {
    /// Whether one leaf value of the event (never an object or array) satisfies this matcher.
    /// `Exists` is answered by the caller, which knows about presence.
    pub(super) fn matches_leaf(&self, leaf: &Value) -> bool {
        match self {
            Matcher::Exact(lit) => lit.matches(leaf),
            Matcher::Prefix(p) => leaf.as_str().is_some_and(|s| s.starts_with(&**p)),
            Matcher::PrefixIgnoreCase(p) => leaf.as_str().is_some_and(|s| starts_with_folded(s, p)),
            Matcher::Suffix(p) => leaf.as_str().is_some_and(|s| s.ends_with(&**p)),
            Matcher::SuffixIgnoreCase(p) => leaf.as_str().is_some_and(|s| ends_with_folded(s, p)),
            Matcher::EqualsIgnoreCase(p) => leaf.as_str().is_some_and(|s| equals_folded(s, p)),
            Matcher::Wildcard(w) => leaf.as_str().is_some_and(|s| w.matches(s)),
            Matcher::AnythingBut(a) => a.matches(leaf),
            Matcher::Numeric(r) => leaf.as_f64().is_some_and(|n| r.contains(n)),
            Matcher::Cidr(c) => leaf.as_str().is_some_and(|s| c.contains(s)),
            Matcher::Exists(_) => false,
        }
    }
}

/// A literal value in a pattern.
#[derive(Debug, Clone)]
pub(super) enum Literal {
    String(Box<str>),
    Number(Num),
    Bool(bool),
    Null,
}

impl Literal {
    fn matches(&self, leaf: &Value) -> bool {
        match (self, leaf) {
            (Literal::String(want), Value::String(got)) => **want == **got,
            (Literal::Number(want), Value::Number(got)) => *want == Num::from(got),
            (Literal::Bool(want), Value::Bool(got)) => want == got,
            (Literal::Null, Value::Null) => true,
            _ => false,
        }
    }
}

/// A JSON number as it was written, as far as `serde_json` keeps it: integers and numbers
/// written with a fraction or exponent stay apart.
///
/// EventBridge matches exact numbers "at the string representation level", so `300` and `300.0`
/// are different values. `serde_json` (without `arbitrary_precision`) no longer knows whether a
/// float was written `300.0` or `3.0e2`, so those two are equal here (documented divergence).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    Int(i128),
    Float(f64),
}

impl From<&Number> for Num {
    fn from(n: &Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Num::Int(i128::from(u))
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

/// The forms of `anything-but`.
#[derive(Debug, Clone)]
pub(super) enum AnythingBut {
    /// Any value except these strings (`"x"` or `["x", "y"]`).
    Strings(Box<[Box<str>]>),
    /// Any value except these numbers, compared numerically (`300` excludes `300.0`).
    Numbers(Box<[f64]>),
    /// Any value except strings starting with one of these.
    Prefix(Box<[Box<str>]>),
    /// Any value except strings ending with one of these.
    Suffix(Box<[Box<str>]>),
    /// Any value except these strings in any letter case (lowercased).
    EqualsIgnoreCase(Box<[Box<str>]>),
    /// Any value except strings matching one of these wildcards.
    Wildcard(Box<[Wildcard]>),
}

impl AnythingBut {
    /// Anything-but is the negation of the positive operator; a value of another type than
    /// the operand (a number against a string list, say) is "anything but" and matches.
    fn matches(&self, leaf: &Value) -> bool {
        match self {
            AnythingBut::Strings(set) => match leaf.as_str() {
                Some(s) => !set.iter().any(|x| **x == *s),
                None => true,
            },
            AnythingBut::Numbers(set) => match leaf.as_f64() {
                Some(n) => !set.contains(&n),
                None => true,
            },
            AnythingBut::Prefix(set) => match leaf.as_str() {
                Some(s) => !set.iter().any(|p| s.starts_with(&**p)),
                None => true,
            },
            AnythingBut::Suffix(set) => match leaf.as_str() {
                Some(s) => !set.iter().any(|p| s.ends_with(&**p)),
                None => true,
            },
            AnythingBut::EqualsIgnoreCase(set) => match leaf.as_str() {
                Some(s) => !set.iter().any(|x| equals_folded(s, x)),
                None => true,
            },
            AnythingBut::Wildcard(set) => match leaf.as_str() {
                Some(s) => !set.iter().any(|w| w.matches(s)),
                None => true,
            },
        }
    }
}

/// A numeric range: `=`, or at most one lower and one upper bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Range {
    Equal(f64),
    Between {
        lower: Option<Bound>,
        upper: Option<Bound>,
    },
}

/// One end of a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bound {
    pub(super) value: f64,
    pub(super) inclusive: bool,
}

impl Range {
    fn contains(&self, n: f64) -> bool {
        match *self {
            Range::Equal(v) => n == v,
            Range::Between { lower, upper } => {
                let above = lower.is_none_or(|b| {
                    if b.inclusive {
                        n >= b.value
                    } else {
                        n > b.value
                    }
                });
                let below = upper.is_none_or(|b| {
                    if b.inclusive {
                        n <= b.value
                    } else {
                        n < b.value
                    }
                });
                above && below
            }
        }
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cidr {
    V4 { network: u32, mask: u32 },
    V6 { network: u128, mask: u128 },
}

impl Cidr {
    /// Parses `address/length`. Like EventBridge ("Nonstandard IP address"), an address with
    /// host bits set (`10.0.0.7/24`) is rejected rather than masked.
    pub(super) fn parse(text: &str) -> Result<Cidr, String> {
        let Some((addr, len)) = text.split_once('/') else {
            return Err(format!(
                "`{text}` is not a CIDR block (address/prefix-length)"
            ));
        };
        let len: u32 = len
            .parse()
            .map_err(|_| format!("`{text}` has an invalid prefix length"))?;
        match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if len <= 32 => {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                let network = u32::from(a);
                if network & !mask != 0 {
                    return Err(host_bits(text));
                }
                Ok(Cidr::V4 { network, mask })
            }
            Ok(IpAddr::V6(a)) if len <= 128 => {
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                let network = u128::from(a);
                if network & !mask != 0 {
                    return Err(host_bits(text));
                }
                Ok(Cidr::V6 { network, mask })
            }
            Ok(_) => Err(format!(
                "`{text}` has a prefix length too long for its address"
            )),
            Err(_) => Err(format!("`{text}` does not start with an IP address")),
        }
    }

    /// Whether the event string is an address of this family inside the network. Strings that
    /// are not IP addresses never match.
    fn contains(&self, text: &str) -> bool {
        match *self {
            Cidr::V4 { network, mask } => text
                .parse::<Ipv4Addr>()
                .is_ok_and(|a| u32::from(a) & mask == network),
            Cidr::V6 { network, mask } => text
                .parse::<Ipv6Addr>()
                .is_ok_and(|a| u128::from(a) & mask == network),
        }
    }
}

fn host_bits(text: &str) -> String {
    format!("`{text}` has host bits set: write the network address")
}

/// A wildcard pattern: literal pieces separated by `*`, each `*` matching any run of
/// characters (including none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wildcard {
    /// The literal pieces between stars (escapes resolved); `pieces.len() == stars + 1`.
    pieces: Box<[Box<str>]>,
}

impl Wildcard {
    /// Parses EventBridge's wildcard syntax: `*` is the wildcard, `\*` a literal star, `\\` a
    /// literal backslash; any other escape, a trailing `\`, and consecutive `**` are rejected,
    /// as EventBridge rejects them.
    pub(super) fn parse(text: &str) -> Result<Wildcard, String> {
        let mut pieces = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        let mut previous_was_star = false;
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if previous_was_star {
                        return Err("consecutive wildcard characters are not allowed".into());
                    }
                    pieces.push(std::mem::take(&mut current).into_boxed_str());
                    previous_was_star = true;
                    continue;
                }
                '\\' => match chars.next() {
                    Some(e @ ('*' | '\\')) => current.push(e),
                    Some(other) => {
                        return Err(format!(
                            "invalid escape `\\{other}`: only `\\*` and `\\\\` are allowed"
                        ));
                    }
                    None => return Err("a trailing backslash escapes nothing".into()),
                },
                other => current.push(other),
            }
            previous_was_star = false;
        }
        pieces.push(current.into_boxed_str());
        Ok(Wildcard {
            pieces: pieces.into_boxed_slice(),
        })
    }

    /// Star-only globbing: the first piece anchors the start, the last the end, and each middle
    /// piece is taken at its leftmost position, which is optimal when `*` is the only wildcard.
    pub(super) fn matches(&self, text: &str) -> bool {
        let pieces = &*self.pieces;
        let (first, rest) = match pieces.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return text == &**first;
        };
        let Some(mut remaining) = text.strip_prefix(&**first) else {
            return false;
        };
        for piece in middle {
            let after = remaining
                .find(&**piece)
                .and_then(|at| remaining.get(at + piece.len()..));
            match after {
                Some(rest) => remaining = rest,
                None => return false,
            }
        }
        remaining.len() >= last.len() && remaining.ends_with(&**last)
    }
}

/// Lowercases the way the matchers compare: per character, full Unicode lowercase mapping.
pub(super) fn fold(text: &str) -> Box<str> {
    text.chars()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .into_boxed_str()
}

fn ascii_folded_eq(text: &[u8], folded: &[u8]) -> bool {
    text.len() == folded.len()
        && text
            .iter()
            .zip(folded)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

fn equals_folded(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        return ascii_folded_eq(text.as_bytes(), folded.as_bytes());
    }
    text.chars().flat_map(char::to_lowercase).eq(folded.chars())
}

fn starts_with_folded(text: &str, folded: &str) -> bool {
    // Fast path: when the compared region is ASCII on both sides, ASCII lowercasing is the
    // full Unicode mapping. (A non-ASCII character can lowercase to ASCII, e.g. the Kelvin sign,
    // so the region of the event must be checked too.)
    if folded.is_ascii()
        && let Some(head) = text.as_bytes().get(..folded.len())
        && head.is_ascii()
    {
        return ascii_folded_eq(head, folded.as_bytes());
    }
    let mut lowered = text.chars().flat_map(char::to_lowercase);
    folded.chars().all(|want| lowered.next() == Some(want))
}

fn ends_with_folded(text: &str, folded: &str) -> bool {
    if folded.is_ascii()
        && let Some(start) = text.len().checked_sub(folded.len())
        && let Some(tail) = text.as_bytes().get(start..)
        && tail.is_ascii()
    {
        return ascii_folded_eq(tail, folded.as_bytes());
    }
    let mut lowered = text.chars().rev().flat_map(|c| c.to_lowercase().rev());
    folded
        .chars()
        .rev()
        .all(|want| lowered.next() == Some(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_without_stars_is_an_exact_match() {
        let w = Wildcard::parse("abc").unwrap();
        assert!(w.matches("abc"));
        assert!(!w.matches("abcd"));
        assert!(!w.matches(""));
    }

    #[test]
    fn wildcard_star_matches_any_run_including_none() {
        let w = Wildcard::parse("dir/*.png").unwrap();
        assert!(w.matches("dir/a.png"));
        assert!(w.matches("dir/.png"));
        assert!(w.matches("dir/sub/x.png"));
        assert!(!w.matches("dir/a.jpg"));
        assert!(!w.matches("other/a.png"));
    }

    #[test]
    fn wildcard_pieces_may_not_overlap_between_prefix_and_suffix() {
        let w = Wildcard::parse("ab*ba").unwrap();
        assert!(!w.matches("aba"));
        assert!(w.matches("abba"));
    }

    #[test]
    fn wildcard_middle_pieces_are_found_in_order() {
        let w = Wildcard::parse("*a*b*c*").unwrap();
        assert!(w.matches("xxaxxbxxcxx"));
        assert!(!w.matches("cba"));
        let lone = Wildcard::parse("*").unwrap();
        assert!(lone.matches(""));
        assert!(lone.matches("anything"));
    }

    #[test]
    fn wildcard_escapes_make_literal_stars_and_backslashes() {
        let w = Wildcard::parse(r"a\*b*").unwrap();
        assert!(w.matches("a*bzzz"));
        assert!(!w.matches("axbzzz"));
        let b = Wildcard::parse(r"c:\\*").unwrap();
        assert!(b.matches(r"c:\windows"));
    }

    #[test]
    fn wildcard_rejects_double_stars_bad_escapes_and_trailing_backslash() {
        assert!(Wildcard::parse("a**b").is_err());
        assert!(Wildcard::parse(r"a\b").is_err());
        assert!(Wildcard::parse("a\\").is_err());
        // An escaped star next to a wildcard is not two wildcards.
        assert!(Wildcard::parse(r"*\**").is_ok());
    }

    #[test]
    fn cidr_matches_addresses_of_its_family_inside_the_network() {
        let v4 = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(v4.contains("10.0.0.255"));
        assert!(!v4.contains("10.0.1.0"));
        assert!(!v4.contains("::1"));
        assert!(!v4.contains("not an ip"));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::1"));
        assert!(!v6.contains("2001:db9::1"));
        assert!(!v6.contains("10.0.0.1"));
    }

    #[test]
    fn cidr_with_zero_and_full_prefix_lengths_works() {
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"));
        let host = Cidr::parse("192.168.1.7/32").unwrap();
        assert!(host.contains("192.168.1.7"));
        assert!(!host.contains("192.168.1.8"));
        assert!(Cidr::parse("::/0").unwrap().contains("fe80::1"));
    }

    #[test]
    fn cidr_rejects_host_bits_like_eventbridge() {
        assert!(Cidr::parse("10.0.0.7/24").is_err());
        assert!(Cidr::parse("2001:db8::1/32").is_err());
        assert!(Cidr::parse("10.0.0.7/32").is_ok());
    }

    #[test]
    fn cidr_rejects_malformed_blocks() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/24",
            "x/8",
            "10.0.0.0/-1",
            "/8",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn folded_comparisons_handle_unicode_and_ascii() {
        assert!(equals_folded("ÉCOLE", &fold("école")));
        assert!(equals_folded("Alice", &fold("ALICE")));
        assert!(!equals_folded("Alicia", &fold("alice")));
        assert!(starts_with_folded("EventBridge", &fold("eventb")));
        assert!(!starts_with_folded("Ev", &fold("eventb")));
        assert!(ends_with_folded("EventBridge", &fold("tBridge")));
        assert!(!ends_with_folded("dge", &fold("tbridge")));
        // Non-ASCII characters whose lowercase is ASCII take the slow path correctly.
        assert!(starts_with_folded("\u{212A}ey", &fold("key")));
        assert!(ends_with_folded("wor\u{212A}", &fold("WORK")));
        assert!(starts_with_folded("İx", &fold("i\u{307}")));
        assert!(!starts_with_folded("éa", &fold("ea")));
    }

    #[test]
    fn ranges_respect_inclusive_and_exclusive_bounds() {
        let r = Range::Between {
            lower: Some(Bound {
                value: 0.0,
                inclusive: false,
            }),
            upper: Some(Bound {
                value: 5.0,
                inclusive: true,
            }),
        };
        assert!(!r.contains(0.0));
        assert!(r.contains(0.000001));
        assert!(r.contains(5.0));
        assert!(!r.contains(5.000001));
        assert!(Range::Equal(301.8).contains(301.8));
    }

    #[test]
    fn exact_numbers_keep_integers_and_floats_apart() {
        let int = Literal::Number(Num::Int(300));
        assert!(int.matches(&serde_json::json!(300)));
        assert!(!int.matches(&serde_json::json!(300.0)));
        assert!(!int.matches(&serde_json::json!("300")));
        let float = Literal::Number(Num::Float(300.5));
        assert!(float.matches(&serde_json::json!(300.5)));
    }

    proptest::proptest! {
        #[test]
        fn folded_comparisons_agree_with_lowercasing_both_strings(
            text in "[a-zA-Z\u{212A}\u{130}ÉéßΣς ]{0,8}",
            other in "[a-zA-Z\u{212A}\u{130}ÉéßΣς ]{0,4}",
        ) {
            let folded = fold(&other);
            let lowered = fold(&text);
            proptest::prop_assert_eq!(equals_folded(&text, &folded), *lowered == *folded);
            proptest::prop_assert_eq!(starts_with_folded(&text, &folded), lowered.starts_with(&*folded));
            proptest::prop_assert_eq!(ends_with_folded(&text, &folded), lowered.ends_with(&*folded));
        }

        #[test]
        fn wildcard_without_escapes_agrees_with_a_reference_matcher(
            pattern in "[ab*]{0,6}",
            text in "[ab]{0,8}",
        ) {
            if let Ok(w) = Wildcard::parse(&pattern) {
                proptest::prop_assert_eq!(w.matches(&text), reference_glob(pattern.as_bytes(), text.as_bytes()));
            } else {
                proptest::prop_assert!(pattern.contains("**"));
            }
        }
    }

    /// Textbook recursive glob, for checking the greedy matcher.
    fn reference_glob(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| reference_glob(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && reference_glob(rest, &t[1..]),
        }
    }
}
