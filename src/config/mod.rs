//! Configuration: read once at start-up through an injectable lookup, validated into typed
//! settings, with every problem reported together.
//!
//! The variable names are a stable contract (README, "Configuration reference"): deployments
//! and tests outside this repository rely on them.

mod endpoint;
mod publish;
mod rules_document;

use std::fmt;

use crate::problem::Problem;
use crate::rules::RuleSet;
pub use endpoint::Endpoint;
pub use publish::{Auth, AuthMode, DEFAULT_METRICS_NAMESPACE, PublishSettings, Secret, Tuning};
pub use rules_document::{RULES_FILE_VAR, RULES_VAR, RulesDocument, RulesOrigin};

/// A way to read a variable. Production passes `std::env::var`; tests pass a map, so no test
/// mutates the process environment.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment; the lookup production code uses.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
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

/// Everything the Lambda needs, validated once at init.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where and how to publish, and the tuning knobs.
    pub publish: PublishSettings,
    /// The compiled rules.
    pub rules: RuleSet,
}

impl Config {
    /// Reads and validates the whole configuration. Every problem of the publish settings and of
    /// the rules document is collected into one error.
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Config, ConfigError> {
        let publish = PublishSettings::from_lookup(lookup);
        let rules = RulesDocument::from_lookup(lookup).and_then(|document| document.compile());
        match (publish, rules) {
            (Ok(publish), Ok(rules)) => Ok(Config { publish, rules }),
            (publish, rules) => {
                let mut problems = publish.err().unwrap_or_default();
                problems.extend(rules.err().unwrap_or_default());
                Err(ConfigError { problems })
            }
        }
    }
}
