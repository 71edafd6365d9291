//! Shared test helpers: paths to the repository's sample files.

use std::path::PathBuf;

/// A path inside the repository (`events/…`, `rules.yaml`).
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Every sample invocation payload in `events/`, sorted by name.
pub fn sample_events() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("events"))
        .expect("events/ exists")
        .map(|entry| entry.expect("readable events/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}
