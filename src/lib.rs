//! appsync-bridge: forwards domain events from EventBridge, SQS, SNS, Kinesis, DynamoDB Streams
//! and EventBridge Pipes to AWS AppSync Events channels.
//!
//! # Layout
//!
//! The data flow of one invocation, in pipeline order, one concept per file:
//!
//! - [`config`]: environment → validated settings ([`config::PublishSettings`], the endpoint,
//!   where the rules document comes from), every [`problem`] reported together.
//! - [`rules`]: the rules document → compiled rules; [`rules::pattern`] (EventBridge patterns) and
//!   [`rules::template`] (placeholders, filters, channel and payload templates).
//! - [`input`]: invocation payload → records and the event documents rules see (EventBridge,
//!   SQS, Kinesis, DynamoDB Streams, SNS, EventBridge Pipes), each with its identity and
//!   [`ordering`] key.
//! - [`route`]: event document × rules → events to publish, each with its channel and origin.
//! - [`relay`]: the invocation's data flow — route each record, batch, publish with retries inside
//!   the deadline: channel lanes, ordered records (per message group, partition key, item), one
//!   request's attempts.
//! - [`publish`]: the `Publisher` boundary and the steps batch → build → sign → send → classify →
//!   retry (the decision apart from backoff).
//! - [`report`]: what happened to each record, and the invocation's counters.
//! - [`metrics`]: CloudWatch Embedded Metric Format from the report.
//! - [`handler`]: the Lambda handler, the application state built once at init, the trigger's
//!   answer.
//! - [`cli`]: `check`, `route` and `invoke` for a laptop; [`logging`]: both tracing subscribers.
//! - Leaves: [`limits`] (AWS limits, named), [`json`] (what kind of JSON value was found),
//!   [`ordering`] (ordering keys and how texts name them), [`problem`] (a configuration problem).
//!
//! Modules are public so the integration tests, benches and examples can reach the steps; a
//! user of the Lambda needs none of them.

pub mod cli;
pub mod config;
pub mod handler;
pub mod input;
pub mod json;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod ordering;
pub mod problem;
pub mod publish;
pub mod relay;
pub mod report;
pub mod route;
pub mod rules;
