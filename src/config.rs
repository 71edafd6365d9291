//! Configuration: read once at start-up through an injectable lookup, validated into typed
//! settings, with every problem reported together.
//!
//! The variable names are the contract in `../shared/design.md` ("Configuration contract").

use std::fmt;

/// A way to read a variable. Production passes `std::env::var`; tests pass a map, so no test
/// mutates the process environment.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment; the lookup production code uses.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One configuration problem: where it is (a variable, or `rule[2] "name": field`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable or the rule and field the problem is in.
    pub location: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl Problem {
    /// A problem at `location`.
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Start-up failed: every problem found, so a user fixes them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// All problems, in the order they were found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.problems.len())?;
        if self.problems.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}
