//! The one integration-test binary: runs the real handler and CLI against real local servers on
//! port 0, fed from `events/*.json`.

mod answers;
mod cli;
mod handler;
mod helpers;
mod namespace_handler;
mod publish;
mod routing;
mod streams;
