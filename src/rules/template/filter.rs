//! Filters (`{path|slug}`, `{path|hash}`): turn any value into a valid channel segment.

use sha2::{Digest, Sha256};

/// Number of hex characters the `hash` filter keeps (64 bits of SHA-256).
pub(super) const HASH_HEX_CHARS: usize = 16;

/// A filter applied to a placeholder's value before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Lowercase ASCII; every run of characters other than `[a-z0-9]` becomes one `-`; leading
    /// and trailing `-` trimmed; truncated so the segment fits 50 characters. Empty fails in a
    /// channel. `"Jane.Doe+VIP@Example.com"` → `jane-doe-vip-example-com`.
    Slug,
    /// The first 16 lowercase hex characters of the SHA-256 of the value's text (a string's UTF-8
    /// bytes; a number or boolean's JSON text). Stable across versions and languages: the same
    /// value gives the same segment in `sha256sum` or any client.
    Hash,
}

impl Filter {
    pub(super) fn parse(name: &str) -> Option<Filter> {
        match name {
            "slug" => Some(Filter::Slug),
            "hash" => Some(Filter::Hash),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Filter::Slug => "slug",
            Filter::Hash => "hash",
        }
    }
}

/// Applies the `slug` filter, keeping at most `max` characters.
pub(super) fn slug(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= max {
                break;
            }
        } else {
            pending_dash = true;
        }
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Applies the `hash` filter.
pub(super) fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..HASH_HEX_CHARS / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_first_sixteen_hex_of_sha256() {
        // sha256("Jane.Doe+VIP@Example.com"), checked with `printf %s ... | sha256sum`.
        let full = hex::encode(Sha256::digest(b"Jane.Doe+VIP@Example.com"));
        assert_eq!(hash("Jane.Doe+VIP@Example.com"), full[..16]);
        assert_eq!(hash("abc"), "ba7816bf8f01cfea");
    }

    #[test]
    fn slug_lowercases_collapses_trims_and_truncates() {
        assert_eq!(slug("  Hello,  World!  ", 50), "hello-world");
        assert_eq!(slug("BRK.B", 50), "brk-b");
        assert_eq!(slug("---", 50), "");
        assert_eq!(slug(&"ab".repeat(40), 50).len(), 50);
        assert_eq!(slug("abcd-efgh", 5), "abcd");
    }
}
