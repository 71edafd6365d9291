//! The top-level data flow of one invocation: input → route → batch → publish with retries →
//! per-record outcomes, inside the deadline and in FIFO group order.
