//! A configuration problem: where it is and what is wrong. The one vocabulary configuration, the
//! rules compiler and the CLI report start-up errors in, so a user fixes everything in one pass.

use std::fmt;

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

/// The problems of a document, each location led by where the document came from.
pub fn located(problems: Vec<Problem>, origin: &str) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem::new(format!("{origin}: {}", p.location), p.message))
        .collect()
}
