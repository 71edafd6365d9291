//! Where the rules document comes from: exactly one of `BRIDGE_RULES` (inline) and
//! `BRIDGE_RULES_FILE` (a path), blank counting as unset, or the CLI's `--rules` file. Compiling
//! it leads every problem with that origin, so a user knows which document to fix.

use std::fmt;
use std::path::Path;

use super::Lookup;
use crate::problem::{Problem, located};
use crate::rules::RuleSet;

/// The variable holding the rules document inline.
pub const RULES_VAR: &str = "BRIDGE_RULES";
/// The variable holding a path to the rules document.
pub const RULES_FILE_VAR: &str = "BRIDGE_RULES_FILE";

/// Where a rules document was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesOrigin {
    /// `BRIDGE_RULES`.
    Inline,
    /// The path in `BRIDGE_RULES_FILE`.
    EnvFile(String),
    /// A path given on the command line.
    File(String),
}

impl RulesOrigin {
    /// What a problem's location inside the document starts with.
    fn prefix(&self) -> &str {
        match self {
            RulesOrigin::Inline => RULES_VAR,
            RulesOrigin::EnvFile(path) | RulesOrigin::File(path) => path,
        }
    }
}

impl fmt::Display for RulesOrigin {
    /// As the CLI names it: `BRIDGE_RULES`, `BRIDGE_RULES_FILE=<path>` or the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesOrigin::Inline => f.write_str(RULES_VAR),
            RulesOrigin::EnvFile(path) => write!(f, "{RULES_FILE_VAR}={path}"),
            RulesOrigin::File(path) => f.write_str(path),
        }
    }
}

/// A rules document's text and where it came from, not yet compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesDocument {
    /// The document (YAML or JSON).
    pub text: String,
    /// Where it was read from.
    pub origin: RulesOrigin,
}

/// A variable's value, with an empty or blank value counted as unset.
fn given(lookup: Lookup<'_>, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.trim().is_empty())
}

impl RulesDocument {
    /// True when neither `BRIDGE_RULES` nor `BRIDGE_RULES_FILE` is set (blank counts as unset):
    /// the CLI then asks for its `--rules` flag instead of naming the variables.
    pub fn none_given(lookup: Lookup<'_>) -> bool {
        given(lookup, RULES_VAR).is_none() && given(lookup, RULES_FILE_VAR).is_none()
    }

    /// Reads exactly one of `BRIDGE_RULES` and `BRIDGE_RULES_FILE`. An empty or blank value counts
    /// as unset (deployment templates often pass `""` for an unused parameter).
    pub fn from_lookup(lookup: Lookup<'_>) -> Result<RulesDocument, Vec<Problem>> {
        match (given(lookup, RULES_VAR), given(lookup, RULES_FILE_VAR)) {
            (Some(_), Some(_)) => Err(vec![Problem::new(
                format!("{RULES_VAR}, {RULES_FILE_VAR}"),
                "both are set; set exactly one",
            )]),
            (None, None) => Err(vec![Problem::new(
                format!("{RULES_VAR}, {RULES_FILE_VAR}"),
                "neither is set; set exactly one (the rules document inline, or its path)",
            )]),
            (Some(text), None) => Ok(RulesDocument {
                text,
                origin: RulesOrigin::Inline,
            }),
            (None, Some(path)) => match std::fs::read_to_string(&path) {
                Ok(text) => Ok(RulesDocument {
                    text,
                    origin: RulesOrigin::EnvFile(path),
                }),
                Err(e) => Err(vec![Problem::new(
                    RULES_FILE_VAR,
                    format!("cannot read {path}: {e}"),
                )]),
            },
        }
    }

    /// Reads a rules document from a file (the CLI's `--rules`).
    pub fn from_file(path: &Path) -> Result<RulesDocument, Vec<Problem>> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(RulesDocument {
                text,
                origin: RulesOrigin::File(shown),
            }),
            Err(e) => Err(vec![Problem::new(
                shown,
                format!("cannot read the rules document: {e}"),
            )]),
        }
    }

    /// Compiles the document; every problem's location starts with the origin.
    pub fn compile(&self) -> Result<RuleSet, Vec<Problem>> {
        RuleSet::parse(&self.text).map_err(|problems| located(problems, self.origin.prefix()))
    }

    /// Compiles the document and gives it back as compact JSON too: what a deployment can ship
    /// instead of YAML, read at init about twenty times faster into the same `Value`, so the
    /// same rules.
    pub fn compile_with_json(&self) -> Result<(RuleSet, String), Vec<Problem>> {
        let locate = |problems| located(problems, self.origin.prefix());
        let document = RuleSet::read_document(&self.text).map_err(locate)?;
        let rules = RuleSet::from_value(&document).map_err(locate)?;
        Ok((rules, document.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lookup: Lookup<'_>) -> Result<RuleSet, Vec<Problem>> {
        RulesDocument::from_lookup(lookup)?.compile()
    }

    const SAMPLE: &str = "rules:\n  - {name: a, channel: /n/x}\n  - {name: b, channel: /n/y}\n";

    #[test]
    fn exactly_one_rules_variable_must_be_set() {
        let neither = |_: &str| None;
        let err = rules(&neither).unwrap_err();
        assert!(err[0].message.contains("neither is set"));

        let both = |_: &str| Some("rules: []".to_owned());
        let err = rules(&both).unwrap_err();
        assert!(err[0].message.contains("both are set"));

        let blank_file = |name: &str| match name {
            RULES_VAR => Some("rules: [{name: a, channel: /n/x}]".to_owned()),
            _ => Some("  ".to_owned()),
        };
        assert_eq!(rules(&blank_file).unwrap().len(), 1);
    }

    #[test]
    fn inline_rules_problems_name_the_variable() {
        let inline = |name: &str| (name == RULES_VAR).then(|| "rules: []".to_owned());
        let err = rules(&inline).unwrap_err();
        assert_eq!(err[0].location, "BRIDGE_RULES: rules");
    }

    #[test]
    fn rules_file_is_read_and_unreadable_files_are_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.yaml");
        std::fs::write(&path, SAMPLE).unwrap();
        let path_text = path.display().to_string();
        let file = |name: &str| (name == RULES_FILE_VAR).then(|| path_text.clone());
        assert_eq!(rules(&file).unwrap().len(), 2);

        let missing = dir.path().join("nope.yaml").display().to_string();
        let absent = |name: &str| (name == RULES_FILE_VAR).then(|| missing.clone());
        let err = rules(&absent).unwrap_err();
        assert_eq!(err[0].location, RULES_FILE_VAR);
        assert!(err[0].message.contains("cannot read"));
    }

    #[test]
    fn a_valid_document_converts_to_compact_json_that_compiles_to_the_same_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.yaml");
        std::fs::write(
            &path,
            "rules:\n  - name: a\n    pattern: { source: [s] }\n    channel: /n/{detail.x|slug}\n    payload: { v: '{detail.v}' }\nunmatched: fail\n",
        )
        .unwrap();
        let yaml = RulesDocument::from_file(&path).unwrap();
        let (from_yaml, json) = yaml.compile_with_json().unwrap();
        assert!(json.starts_with('{') && !json.contains('\n'), "{json}");
        let from_json = RuleSet::parse(&json).unwrap();
        assert_eq!(from_json.names().collect::<Vec<_>>(), ["a"]);
        assert_eq!(format!("{from_json:?}"), format!("{from_yaml:?}"));

        std::fs::write(&path, "rules: []").unwrap();
        let err = RulesDocument::from_file(&path)
            .unwrap()
            .compile_with_json()
            .unwrap_err();
        assert_eq!(err[0].location, format!("{}: rules", path.display()));
    }

    #[test]
    fn each_origin_leads_its_problems_and_names_itself_as_the_cli_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, "rules: []").unwrap();
        let shown = path.display().to_string();
        let flag = RulesDocument::from_file(&path).unwrap();
        assert_eq!(flag.origin.to_string(), shown);
        assert_eq!(
            flag.compile().unwrap_err()[0].location,
            format!("{shown}: rules")
        );
        let env = |name: &str| (name == RULES_FILE_VAR).then(|| shown.clone());
        let env = RulesDocument::from_lookup(&env).unwrap();
        assert_eq!(env.origin.to_string(), format!("BRIDGE_RULES_FILE={shown}"));
        assert_eq!(
            env.compile().unwrap_err()[0].location,
            format!("{shown}: rules")
        );
        let missing = dir.path().join("nope.yaml");
        let err = RulesDocument::from_file(&missing).unwrap_err();
        assert_eq!(err[0].location, missing.display().to_string());
        assert!(err[0].message.contains("cannot read the rules document"));
    }
}
