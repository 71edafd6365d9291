//! What becomes of each event of a publish that passed auth and validation: delivered, failed
//! (a `failed[]` entry) or unlisted (dropped, in neither list), with the identifier it is
//! answered under.

/// `failed[]` code and message used for random per-event failures.
pub const EVENT_FAILURE_CODE: u16 = 500;
pub(crate) const EVENT_FAILURE_MESSAGE: &str = "Event processing failed";

/// What becomes of one event of a publish that passed auth and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Accepted: logged, fanned out with this JSON text, listed in `successful[]`.
    Deliver(String),
    /// Listed in `failed[]` with this code and message; not fanned out.
    Fail { code: u16, message: String },
    /// In neither list and not fanned out (what a filtering `onPublish` handler leaves).
    Unlisted,
}

/// A fresh identifier per event: what `successful[]`/`failed[]` answer and handlers see as `id`.
pub(crate) fn event_ids(n: usize) -> Vec<String> {
    (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect()
}

impl Fate {
    /// Every event delivered, except those in `failed` (a `failed[]` entry with `code`) and those
    /// in `unlisted`; each with a fresh identifier.
    pub(crate) fn plan(
        events: Vec<String>,
        failed: &[usize],
        code: u16,
        unlisted: &[usize],
    ) -> Vec<(String, Fate)> {
        let ids = event_ids(events.len());
        let fates = events.into_iter().enumerate().map(|(index, event)| {
            if unlisted.contains(&index) {
                Fate::Unlisted
            } else if failed.contains(&index) {
                let message = if code == EVENT_FAILURE_CODE {
                    EVENT_FAILURE_MESSAGE
                } else {
                    "Event failed"
                };
                Fate::Fail {
                    code,
                    message: message.to_owned(),
                }
            } else {
                Fate::Deliver(event)
            }
        });
        ids.into_iter().zip(fates).collect()
    }
}
