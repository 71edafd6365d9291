//! CloudWatch Embedded Metric Format: one metrics line per invocation on stdout, no API calls.
//! CloudWatch Logs turns the line into metrics (namespace from `BRIDGE_METRICS_NAMESPACE`).
//!
//! Dimensions stay bounded: the function-level line has none; a second set per rule name (rules
//! are configuration, so their number is fixed). Channels are never a dimension: they are
//! rendered from event data and would explode the metric count.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::limits::MAX_EMF_VALUES;
use crate::report::Stats;

/// Where an invocation's EMF lines go.
#[derive(Debug, Clone, Default)]
pub enum MetricsSink {
    /// Standard output, which Lambda ships to CloudWatch Logs, where the lines become metrics.
    #[default]
    Stdout,
    /// Nowhere: the CLI's `invoke` and the demo keep stdout for their own output.
    Off,
    /// Kept in memory, so tests can parse exactly what an invocation emitted.
    Memory(Arc<Mutex<Vec<String>>>),
}

impl MetricsSink {
    /// False when lines would be thrown away, so callers can skip building them.
    pub fn is_on(&self) -> bool {
        !matches!(self, MetricsSink::Off)
    }

    /// Writes the lines. Metrics are best effort: a closed stdout or a poisoned lock never fails
    /// an invocation.
    pub fn write(&self, lines: Vec<String>) {
        match self {
            MetricsSink::Stdout => {
                let mut out = std::io::stdout().lock();
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
            }
            MetricsSink::Off => {}
            MetricsSink::Memory(kept) => {
                if let Ok(mut kept) = kept.lock() {
                    kept.extend(lines);
                }
            }
        }
    }
}

/// The EMF lines for one invocation: one function-level line, then one line per rule that
/// published or failed events. Each line is one JSON document.
///
/// The function-level line carries at most [`MAX_EMF_VALUES`] `PublishLatency` values; the rest
/// follow in extra lines of at most as many that declare only `PublishLatency`, so CloudWatch
/// rejects none of them.
pub fn emf_lines(namespace: &str, stats: &Stats, timestamp_ms: u64) -> Vec<String> {
    let latencies: Vec<f64> = stats
        .latencies_ms
        .iter()
        .map(|ms| (ms * 1000.0).round() / 1000.0)
        .collect();
    let mut chunks = latencies.chunks(MAX_EMF_VALUES);
    let first: &[f64] = chunks.next().unwrap_or(&[]);
    let mut lines = Vec::with_capacity(1 + stats.per_rule.len());
    let function = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "RecordsIn", "Unit": "Count"},
                    {"Name": "EventsPublished", "Unit": "Count"},
                    {"Name": "RecordsFailed", "Unit": "Count"},
                    {"Name": "Retries", "Unit": "Count"},
                    {"Name": "Unmatched", "Unit": "Count"},
                    {"Name": "Unlisted", "Unit": "Count"},
                    {"Name": "PublishLatency", "Unit": "Milliseconds"},
                ],
            }],
        },
        "RecordsIn": stats.records,
        "EventsPublished": stats.events_published,
        "RecordsFailed": stats.records_failed,
        "Retries": stats.retries,
        "Unmatched": stats.unmatched,
        "Unlisted": stats.unlisted,
        "PublishLatency": first,
    });
    lines.push(function.to_string());
    for more in chunks {
        let line = json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [[]],
                    "Metrics": [{"Name": "PublishLatency", "Unit": "Milliseconds"}],
                }],
            },
            "PublishLatency": more,
        });
        lines.push(line.to_string());
    }
    for (rule, counts) in &stats.per_rule {
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [["Rule"]],
                    "Metrics": [
                        {"Name": "EventsPublished", "Unit": "Count"},
                        {"Name": "EventsFailed", "Unit": "Count"},
                    ],
                }],
            }),
        );
        line.insert("Rule".into(), Value::from(rule.as_str()));
        line.insert("EventsPublished".into(), Value::from(counts.published));
        line.insert("EventsFailed".into(), Value::from(counts.failed));
        lines.push(Value::Object(line).to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RuleStats;

    #[test]
    fn a_mixed_batch_gives_its_counts_and_a_per_rule_line() {
        let mut stats = Stats {
            records: 5,
            events_published: 4,
            records_failed: 1,
            retries: 2,
            unmatched: 1,
            unlisted: 1,
            latencies_ms: vec![12.5, 30.0],
            ..Stats::default()
        };
        stats.per_rule.insert(
            "order-status".into(),
            RuleStats {
                published: 3,
                failed: 1,
            },
        );
        stats.per_rule.insert(
            "presence".into(),
            RuleStats {
                published: 1,
                failed: 0,
            },
        );
        let lines = emf_lines("AppSyncBridge", &stats, 1_700_000_000_000);
        assert_eq!(lines.len(), 3);
        let f: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(
            f["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "AppSyncBridge"
        );
        assert_eq!(f["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(f["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(f["RecordsIn"], 5);
        assert_eq!(f["EventsPublished"], 4);
        assert_eq!(f["RecordsFailed"], 1);
        assert_eq!(f["Retries"], 2);
        assert_eq!(f["Unmatched"], 1);
        assert_eq!(f["Unlisted"], 1);
        assert_eq!(f["PublishLatency"], json!([12.5, 30.0]));
        // Every declared metric has a value in the document, as EMF requires.
        for m in f["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
        {
            assert!(f.get(m["Name"].as_str().unwrap()).is_some());
        }
        let r: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(r["Rule"], "order-status");
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Rule"]])
        );
        assert_eq!(r["EventsPublished"], 3);
        assert_eq!(r["EventsFailed"], 1);
        assert!(!lines.iter().any(|l| l.contains("\"Channel\"")));
    }

    #[test]
    fn latencies_are_split_into_documents_of_at_most_a_hundred_values() {
        let latencies: Vec<f64> = (0..250).map(f64::from).collect();
        let mut stats = Stats {
            records: 1,
            latencies_ms: latencies.clone(),
            ..Stats::default()
        };
        stats.per_rule.insert("r".into(), RuleStats::default());
        let lines = emf_lines("NS", &stats, 1);
        let docs: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let with_latency: Vec<&Value> = docs
            .iter()
            .filter(|d| d.get("PublishLatency").is_some())
            .collect();
        let sizes: Vec<usize> = with_latency
            .iter()
            .map(|d| d["PublishLatency"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let all: Vec<f64> = with_latency
            .iter()
            .flat_map(|d| d["PublishLatency"].as_array().unwrap().clone())
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(all, latencies);
        assert_eq!(with_latency[0]["RecordsIn"], 1);
        for extra in &with_latency[1..] {
            let metrics = &extra["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(metrics["Namespace"], "NS");
            assert_eq!(
                metrics["Metrics"],
                json!([{"Name": "PublishLatency", "Unit": "Milliseconds"}])
            );
            assert!(extra.get("RecordsIn").is_none());
        }
        // Every array in every document stays within the limit.
        for d in &docs {
            for v in d.as_object().unwrap().values() {
                if let Some(a) = v.as_array() {
                    assert!(a.len() <= MAX_EMF_VALUES);
                }
            }
        }
        assert_eq!(docs.len(), 4, "three latency documents and one rule line");
    }
}
