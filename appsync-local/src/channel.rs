//! Channel paths: AppSync's validation rules, normalisation to `/ns/a/b`, and trailing-`*`
//! subscription wildcards.
//!
//! AppSync's documented regex allows an optional leading and trailing `/`, 1–5 segments, each
//! 1–50 characters of `[A-Za-z0-9-]` starting and ending alphanumeric. Wildcards are a subscribe
//! feature: only a trailing `*` segment after a literal namespace (`/ns/*`, `/ns/a/*`) is
//! accepted here; other forms (`/*`, `/ns/a*`, `*` mid-path) are UNVERIFIED on AWS and refused.

/// A channel has at most five segments, the namespace included.
pub const MAX_SEGMENTS: usize = 5;

/// A segment has at most 50 characters.
pub const MAX_SEGMENT_CHARS: usize = 50;

/// Why a channel path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The path breaks AppSync's channel format.
    #[error("invalid channel format")]
    Format,
    /// A wildcard was used where only concrete channels are allowed (publishing).
    #[error("wildcards are not allowed when publishing")]
    Wildcard,
}

/// A validated channel path or subscription pattern, held as its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPath {
    segments: Vec<String>,
    wildcard: bool,
}

impl ChannelPath {
    /// Parses a concrete channel, as publishing requires.
    pub fn concrete(path: &str) -> Result<Self, ChannelError> {
        let parsed = Self::pattern(path)?;
        if parsed.wildcard {
            return Err(ChannelError::Wildcard);
        }
        Ok(parsed)
    }

    /// Parses a subscription pattern: a concrete channel, or one ending in a `*` segment.
    pub fn pattern(path: &str) -> Result<Self, ChannelError> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let parts: Vec<&str> = trimmed.split('/').collect();
        if trimmed.is_empty() || parts.len() > MAX_SEGMENTS {
            return Err(ChannelError::Format);
        }
        let (last, init) = match parts.split_last() {
            Some(split) => split,
            None => return Err(ChannelError::Format),
        };
        let wildcard = *last == "*";
        if wildcard && init.is_empty() {
            // `/*` would span namespaces; AppSync scopes everything by namespace.
            return Err(ChannelError::Format);
        }
        let literal = if wildcard { init } else { &parts[..] };
        if !literal.iter().all(|s| is_valid_segment(s)) {
            return Err(if literal.iter().any(|s| s.contains('*')) {
                ChannelError::Wildcard
            } else {
                ChannelError::Format
            });
        }
        Ok(Self {
            segments: literal.iter().map(|s| (*s).to_owned()).collect(),
            wildcard,
        })
    }

    /// The namespace: the first segment.
    pub fn namespace(&self) -> &str {
        self.segments
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// True for a trailing-`*` pattern.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// True when an event published to `channel` reaches a subscription to `self`.
    /// `/ns/*` matches every channel strictly below `/ns`; a concrete path matches itself.
    pub fn matches(&self, channel: &ChannelPath) -> bool {
        if self.wildcard {
            channel.segments.len() > self.segments.len()
                && channel.segments[..self.segments.len()] == self.segments[..]
        } else {
            self.segments == channel.segments
        }
    }
}

impl std::fmt::Display for ChannelPath {
    /// The normalised form: leading `/`, no trailing `/`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in &self.segments {
            write!(f, "/{s}")?;
        }
        if self.wildcard {
            write!(f, "/*")?;
        }
        Ok(())
    }
}

/// True when `segment` satisfies AppSync's segment rule.
pub fn is_valid_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= MAX_SEGMENT_CHARS
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concrete(p: &str) -> ChannelPath {
        ChannelPath::concrete(p).unwrap()
    }

    #[test]
    fn leading_and_trailing_slashes_are_optional_and_normalised_away() {
        assert_eq!(concrete("default/channel").to_string(), "/default/channel");
        assert_eq!(
            concrete("/default/channel/").to_string(),
            "/default/channel"
        );
        assert_eq!(concrete("/default").namespace(), "default");
    }

    #[test]
    fn invalid_channels_are_refused() {
        for bad in [
            "",
            "/",
            "//",
            "/a//b",
            "/a/b/c/d/e/f",
            "/-a",
            "/a-",
            "/a_b",
            "/a.b",
            "/é",
            &format!("/{}", "a".repeat(51)),
        ] {
            assert_eq!(
                ChannelPath::pattern(bad),
                Err(ChannelError::Format),
                "{bad:?}"
            );
        }
        assert!(ChannelPath::concrete(&format!("/{}", "a".repeat(50))).is_ok());
        assert!(ChannelPath::concrete("/a/b/c/d/e").is_ok());
    }

    #[test]
    fn publishing_to_a_wildcard_is_refused_as_a_wildcard() {
        assert_eq!(
            ChannelPath::concrete("/default/*"),
            Err(ChannelError::Wildcard)
        );
        assert_eq!(
            ChannelPath::concrete("/default/a*"),
            Err(ChannelError::Wildcard)
        );
    }

    #[test]
    fn only_a_trailing_star_after_a_namespace_is_a_pattern() {
        assert!(ChannelPath::pattern("/ns/*").unwrap().is_wildcard());
        assert!(ChannelPath::pattern("/ns/a/*").is_ok());
        assert!(ChannelPath::pattern("/*").is_err());
        assert!(ChannelPath::pattern("/ns/*/a").is_err());
        assert!(ChannelPath::pattern("/ns/a*").is_err());
        assert!(ChannelPath::pattern("/a/b/c/d/e/*").is_err());
    }

    #[test]
    fn a_wildcard_matches_every_channel_strictly_below_its_prefix() {
        let all = ChannelPath::pattern("/ns/*").unwrap();
        let a = ChannelPath::pattern("/ns/a/*").unwrap();
        assert!(all.matches(&concrete("/ns/a")));
        assert!(all.matches(&concrete("/ns/a/b/c")));
        assert!(!all.matches(&concrete("/ns")));
        assert!(!all.matches(&concrete("/other/a")));
        assert!(a.matches(&concrete("/ns/a/b")));
        assert!(!a.matches(&concrete("/ns/a")));
        assert!(!a.matches(&concrete("/ns/ab/c")));
    }

    #[test]
    fn a_concrete_subscription_matches_only_its_channel() {
        let sub = ChannelPath::pattern("/ns/a").unwrap();
        assert!(sub.matches(&concrete("ns/a/")));
        assert!(!sub.matches(&concrete("/ns/a/b")));
        assert!(!sub.matches(&concrete("/ns/A")));
    }
}
