//! An in-memory [`Publisher`] for relay unit tests: records every request and answers from a
//! script (one entry per request, in order), from rules matching event text, or with success.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::publish::{Publisher, RawResponse, SendError};

/// A scripted answer to one request.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// An HTTP status with an `errors` body (2xx: every event successful).
    Status(u16),
    /// 200 with these indices in `failed[]` carrying `code`.
    FailEvents { indices: Vec<usize>, code: u16 },
    /// 200 with each `(index, code)` in `failed[]`.
    FailEach(Vec<(usize, u16)>),
    /// A transport error.
    Transport,
    /// Never answers (the caller's timeout must fire).
    Hang,
    /// This status and body exactly (a malformed or odd answer).
    Raw { status: u16, body: &'static str },
}

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub channel: String,
    pub events: Vec<String>,
}

#[derive(Default)]
pub struct FakePublisher {
    script: Mutex<VecDeque<Scripted>>,
    /// Events whose text contains the needle fail with the code (checked when the script is empty).
    fail_matching: Mutex<Vec<(String, u16)>>,
    seen: Mutex<Vec<SeenRequest>>,
}

impl FakePublisher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn script(self, answers: impl IntoIterator<Item = Scripted>) -> Self {
        self.script.lock().unwrap().extend(answers);
        self
    }

    pub fn fail_matching(self, needle: &str, code: u16) -> Self {
        self.fail_matching
            .lock()
            .unwrap()
            .push((needle.to_owned(), code));
        self
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }

    fn answer(&self, events: &[&str]) -> Option<Scripted> {
        if let Some(s) = self.script.lock().unwrap().pop_front() {
            return Some(s);
        }
        let rules = self.fail_matching.lock().unwrap();
        let failures: Vec<(usize, u16)> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                rules
                    .iter()
                    .find(|(n, _)| e.contains(n.as_str()))
                    .map(|(_, c)| (i, *c))
            })
            .collect();
        (!failures.is_empty()).then_some(Scripted::FailEach(failures))
    }
}

fn ok_body(events: usize, failed: &[(usize, u16)]) -> Vec<u8> {
    let successful: Vec<_> = (0..events)
        .filter(|i| !failed.iter().any(|(f, _)| f == i))
        .map(|i| serde_json::json!({"identifier": format!("id-{i}"), "index": i}))
        .collect();
    let failed: Vec<_> = failed
        .iter()
        .map(|(i, code)| serde_json::json!({"identifier": format!("id-{i}"), "index": i, "code": code, "message": "scripted"}))
        .collect();
    serde_json::to_vec(&serde_json::json!({"successful": successful, "failed": failed})).unwrap()
}

impl Publisher for FakePublisher {
    async fn publish(&self, channel: &str, events: &[&str]) -> Result<RawResponse, SendError> {
        self.seen.lock().unwrap().push(SeenRequest {
            channel: channel.to_owned(),
            events: events.iter().map(|e| e.to_string()).collect(),
        });
        match self.answer(events) {
            None => Ok(RawResponse {
                status: 200,
                body: ok_body(events.len(), &[]),
            }),
            Some(Scripted::Status(status)) if (200..300).contains(&status) => Ok(RawResponse {
                status,
                body: ok_body(events.len(), &[]),
            }),
            Some(Scripted::Status(status)) => Ok(RawResponse {
                status,
                body: br#"{"errors":[{"errorType":"Scripted","message":"scripted"}]}"#.to_vec(),
            }),
            Some(Scripted::FailEvents { indices, code }) => Ok(RawResponse {
                status: 200,
                body: ok_body(
                    events.len(),
                    &indices.iter().map(|&i| (i, code)).collect::<Vec<_>>(),
                ),
            }),
            Some(Scripted::FailEach(failures)) => Ok(RawResponse {
                status: 200,
                body: ok_body(events.len(), &failures),
            }),
            Some(Scripted::Transport) => Err(SendError::Transport("connection reset".into())),
            Some(Scripted::Hang) => std::future::pending().await,
            Some(Scripted::Raw { status, body }) => Ok(RawResponse {
                status,
                body: body.as_bytes().to_vec(),
            }),
        }
    }
}
