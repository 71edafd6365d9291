//! appsync-bridge: forwards domain events from EventBridge and SQS to AWS AppSync Events channels.
//!
//! # Layout
//!
//! The data flow of one invocation, one concept per file:
//!
//! - [`config`]: environment → validated settings, every problem reported together.
//! - [`rules`]: the rules document → compiled rules; [`rules::pattern`] (EventBridge patterns) and
//!   [`rules::template`] (channel and payload templates).
//! - [`input`]: invocation payload → records and the event documents rules see.
//! - [`route`]: event document × rules → events to publish, each with its channel and origin.
//! - [`publish`]: the `Publisher` boundary and the steps batch → build → sign → send → classify.
//! - [`relay`]: the invocation's data flow: route, batch, publish with retries inside the deadline,
//!   FIFO group order, per-record outcomes.
//! - [`handler`]: the Lambda handler and the application state built once at init.
//! - [`metrics`], [`logging`]: CloudWatch Embedded Metric Format and tracing set-up.
//! - [`cli`]: `check`, `route` and `invoke` for a laptop.
//! - [`limits`]: AWS limits, named; [`json`]: what kind of JSON value was found.

pub mod cli;
pub mod config;
pub mod handler;
pub mod input;
pub mod json;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod problem;
pub mod publish;
pub mod relay;
pub mod report;
pub mod route;
pub mod rules;
