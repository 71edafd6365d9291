//! CloudWatch Embedded Metric Format: one metrics line per invocation, no API calls.
