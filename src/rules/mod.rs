//! The rules document: parsed once from `BRIDGE_RULES` / `BRIDGE_RULES_FILE`, validated with every
//! problem reported, and compiled into a [`RuleSet`] that routing evaluates per record.

pub mod pattern;
pub mod template;

use crate::config::{Lookup, Problem};

/// What to do with a record no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmatched {
    /// Drop and count it (default).
    #[default]
    Drop,
    /// Fail the record.
    Fail,
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// What happens to records no rule matches.
    pub unmatched: Unmatched,
}

impl RuleSet {
    /// Parses a rules document (YAML or JSON).
    pub fn parse(_text: &str) -> Result<RuleSet, Vec<Problem>> {
        unimplemented!("issue 2: rules document")
    }

    /// Reads exactly one of `BRIDGE_RULES` and `BRIDGE_RULES_FILE` and parses it.
    pub fn from_lookup(_lookup: Lookup<'_>) -> Result<RuleSet, Vec<Problem>> {
        unimplemented!("issue 2: rules document")
    }
}
