#!/usr/bin/env bash
# The benchmark suite in one command (BENCHMARKS.md):
#
#   scripts/bench.sh            # everything, ~10-15 min on 2 cores once the release build exists
#   QUICK=1 scripts/bench.sh    # smaller grid and fewer runs, for checking the script itself
#
# 1. Criterion micro benches (routing, input parsing, publish path, patterns), short warm-up and
#    measurement times;
# 2. the end-to-end load grid (examples/load.rs): batch size x concurrency x added latency;
# 3. init time and peak RSS under a Lambda Runtime API stub (examples/runtime_stub.rs), for the
#    release bridge and a bare lambda_runtime hello-world built with the same profile;
# then writes docs/benchmarks/results.json and docs/benchmarks/throughput.png.
#
# Release builds happen once (cargo reuses them); a first release build takes several minutes.
# Needs python3 for the summary; the chart needs matplotlib, installed into a venv under
# ~/.cache/appsync-bridge-bench on first use (set NO_CHART=1 to skip it).
# Nothing here runs in CI: `cargo test` and `cargo clippy` only compile the benches and examples.
set -euo pipefail

cd "$(dirname "$0")/.."
out=docs/benchmarks
raw=$out/raw
mkdir -p "$raw"
rm -f "$raw"/*.jsonl "$raw"/*.txt

if [[ -n "${QUICK:-}" ]]; then
    records=100,1000
    concurrency=4,16
    repeat=1
    runs=3
    criterion=(--warm-up-time 1 --measurement-time 1)
else
    records=100,1000,10000
    concurrency=4,16,64
    repeat=3
    runs=9
    criterion=(--warm-up-time 1 --measurement-time 3)
fi

note() { printf '\n== %s\n' "$*" >&2; }

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "nproc: $(nproc)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
    echo "rustc: $(rustc --version)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw/machine.txt"

note "release builds: appsync-bridge, examples hello, runtime_stub, load"
cargo build --release --bin appsync-bridge --example hello --example runtime_stub --example load

note "criterion benches"
# The bench profile inherits the release profile (lto, codegen-units = 1), like the shipped binary.
cargo bench --bench routing --bench publish --bench pattern -- "${criterion[@]}" \
    2>&1 | tee "$raw/criterion.txt"

note "load grid: records $records x concurrency $concurrency x latency 0,20 ms"
target/release/examples/load --records "$records" --concurrency "$concurrency" \
    --latency-ms 0,20 --repeat "$repeat" --json "$raw/load.jsonl" | tee "$raw/load.txt"

note "init: hello-world vs appsync-bridge ($runs fresh processes each)"
target/release/examples/runtime_stub --bin target/release/examples/hello --runs "$runs" \
    --event events/eventbridge-order-status.json >"$raw/init-hello.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs "$runs" \
    --event events/eventbridge-order-status.json >"$raw/init-bridge.jsonl"

note "peak RSS: 10 x 1 KB and a ~6 MB batch, each in a fresh process"
# VmHWM only grows, so each batch gets its own process.
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 10240 --sqs-records 10 >"$raw/rss-small.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 6000000 --sqs-records 10000 >"$raw/rss-large.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 6000000 --sqs-records 8000 >"$raw/rss-6mb.jsonl"

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/machine.txt"

note "summary: $out/results.json"
python3 - "$out" <<'PY'
import json, pathlib, re, sys

out = pathlib.Path(sys.argv[1])
raw = out / "raw"
crit = pathlib.Path("target/criterion")

# Criterion keeps each benchmark's estimates under target/criterion/<dir>/new/, with its id.
medians, throughputs = {}, {}
for path in crit.glob("**/new/benchmark.json"):
    bench = json.loads(path.read_text())
    full_id = bench.get("full_id")
    estimates = path.parent / "estimates.json"
    if full_id and estimates.exists():
        medians[full_id] = json.loads(estimates.read_text())["median"]["point_estimate"]
        throughputs[full_id] = bench.get("throughput") or {}

def estimate(group, name):
    """Criterion's median estimate in ns for one benchmark, or None."""
    return medians.get(f"{group}/{name}")

def lines(name):
    p = raw / name
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()] if p.exists() else []

def summary(name):
    return next((l for l in lines(name) if l.get("summary")), {})

machine = dict(l.split(": ", 1) for l in (raw / "machine.txt").read_text().splitlines())

route_ns = estimate("route", "10 rules, 1 KB event, 2 matches")
publish_ns = estimate("publish_path", "build_sign_classify_5_events")
parse_ns = estimate("input", "10,000-record sqs batch from bytes")
def mb_per_s(group, name):
    """Decimal MB/s from a benchmark declared with Throughput::Bytes."""
    ns, bytes_ = estimate(group, name), throughputs.get(f"{group}/{name}", {}).get("Bytes")
    return bytes_ / ns * 1000 if ns and bytes_ else None

parse_mbs = mb_per_s("input", "10,000-record sqs batch from bytes, as the handler reads it")

hello, bridge = summary("init-hello.jsonl"), summary("init-bridge.jsonl")
init_ratio = bridge["init_ms_median"] / hello["init_ms_median"] if hello and bridge else None

def rss(name):
    s = summary(name)
    peaks = s.get("peak_rss_kib_max") or [{}]
    p = peaks[-1]
    if not p:
        return None
    budget_kib = (3 * p["payload_bytes"] + 16 * 1024 * 1024) / 1024
    return {"payload_bytes": p["payload_bytes"], "peak_rss_kib": p["peak_rss_kib"],
            "budget_kib": round(budget_kib), "ok": p["peak_rss_kib"] <= budget_kib}

load = lines("load.jsonl")
big = [l for l in load if l["records"] == 10000 and l["latency_ms"] == 20]

results = {
    "machine": machine,
    "targets": {
        "route_us_per_record": {"value": route_ns and route_ns / 1000, "target": "<= 2"},
        "publish_us_per_event": {"value": publish_ns and publish_ns / 5000, "target": "<= 5"},
        "parse_mb_per_s": {"value": parse_mbs, "target": ">= 100"},
        "init_ratio_to_hello": {"value": init_ratio, "target": "<= 1.3",
                                 "hello_ms": hello.get("init_ms_median"), "bridge_ms": bridge.get("init_ms_median")},
        "load_10000_at_20ms_ratio_to_ideal": {"value": {str(l["concurrency"]): l["ratio_to_ideal"] for l in big}, "target": "<= 1.2"},
        "rss_small": rss("rss-small.jsonl"),
        "rss_6mb": rss("rss-6mb.jsonl"),
        "rss_10000_records": rss("rss-large.jsonl"),
    },
    "criterion_ns": {
        "route/2 matches": route_ns,
        "route/no match": estimate("route", "10 rules, no match"),
        "input/from bytes, as the handler reads it": estimate("input", "10,000-record sqs batch from bytes, as the handler reads it"),
        "input/from bytes through one Value": parse_ns,
        "input/parse_invocation only": estimate("input", "10,000-record sqs batch, parse_invocation only"),
        "publish_path/5 events": publish_ns,
        "pattern/typical": estimate("pattern", "typical"),
        "pattern/heavy": estimate("pattern", "heavy"),
        "pattern/ten_rules": estimate("pattern", "ten_rules"),
    },
    "load": load,
    "init": {"hello": hello, "bridge": bridge},
}
(out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results["targets"], indent=2))
PY

if [[ -z "${NO_CHART:-}" ]]; then
    venv="$HOME/.cache/appsync-bridge-bench"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv" && "$venv/bin/pip" install --quiet matplotlib
    fi
    note "chart: $out/throughput.png"
    "$venv/bin/python" - "$out" <<'PY'
import json, pathlib, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = pathlib.Path(sys.argv[1])
load = json.loads((out / "results.json").read_text())["load"]
latencies = sorted({l["latency_ms"] for l in load})
concs = sorted({l["concurrency"] for l in load})
fig, axes = plt.subplots(2, len(latencies), figsize=(6 * len(latencies), 8), squeeze=False)
for col, lat in enumerate(latencies):
    for conc in concs:
        rows = sorted((l for l in load if l["latency_ms"] == lat and l["concurrency"] == conc),
                      key=lambda l: l["records"])
        xs = [l["records"] for l in rows]
        axes[0][col].plot(xs, [l["events_per_s"] for l in rows], marker="o", label=f"concurrency {conc}")
        axes[1][col].plot(xs, [l["wall_ms"] for l in rows], marker="o", label=f"concurrency {conc}")
        if lat > 0:
            axes[1][col].plot(xs, [l["ideal_ms"] for l in rows], linestyle=":", color=axes[1][col].lines[-1].get_color(),
                              label=f"ideal bound, concurrency {conc}")
    axes[0][col].set_title(f"throughput, {lat} ms added latency")
    axes[0][col].set_ylabel("events/s")
    axes[1][col].set_title(f"invocation duration, {lat} ms added latency")
    axes[1][col].set_ylabel("ms")
    for row in (0, 1):
        ax = axes[row][col]
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("records per SQS batch (1 event each)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
fig.suptitle("appsync-bridge handler vs appsync-local on loopback (examples/load.rs)")
fig.tight_layout()
fig.savefig(out / "throughput.png", dpi=100)
PY
fi
note "done: $out/results.json, $out/throughput.png, raw output in $raw/"
