#!/usr/bin/env bash
# The benchmark suite in one command (BENCHMARKS.md):
#
#   scripts/bench.sh            # everything, ~7 min on 2 cores once the release build exists
#   QUICK=1 scripts/bench.sh    # smaller grid and fewer runs, for checking the script itself
#
# 1. Criterion micro benches (routing, input parsing, publish path, patterns), short warm-up and
#    measurement times;
# 2. the end-to-end load grid (examples/load.rs): batch size x concurrency x added latency, and
#    10,000-record Kinesis and DynamoDB Streams batches (ordered per key) at 20 ms;
# 3. whole-process CPU per event (examples/cpu.rs): the release bridge under a Runtime API stub
#    against the floor (examples/floor.rs) sending the same request bodies, API key and SigV4;
# 4. init time and peak RSS under a Lambda Runtime API stub (examples/runtime_stub.rs), for the
#    release bridge (rules as `sam build` packages them: compact JSON; and as YAML) and a bare
#    lambda_runtime hello-world built with the same profile; peak RSS for 6 MB SQS, Kinesis and
#    DynamoDB batches; binary sizes;
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
    rounds=1
    cpu_runs=3
    criterion=(--warm-up-time 1 --measurement-time 1)
else
    records=100,1000,10000
    concurrency=4,8,16,64
    repeat=3
    runs=15
    rounds=5
    cpu_runs=11
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

note "release builds: appsync-bridge, examples hello, runtime_stub, load, cpu, floor"
# The bridge on its own, as `cargo lambda build` and `sam build` build it: built in one command with
# the examples, it would get the dev-dependencies' features (tokio's test-util, hyper's server, ...)
# and be about 0.5 MB larger than the shipped binary.
cargo build --release --bin appsync-bridge
cargo build --release --example hello --example runtime_stub --example load --example cpu \
    --example floor
{
    echo "{\"bin\":\"appsync-bridge\",\"bytes\":$(stat -c %s target/release/appsync-bridge)}"
    echo "{\"bin\":\"hello\",\"bytes\":$(stat -c %s target/release/examples/hello)}"
} >"$raw/binary-sizes.jsonl"
# The rules as `sam build` packages them (scripts/rules-layer/Makefile): checked, compact JSON.
target/release/appsync-bridge check --rules rules.yaml --json-out "$raw/rules.json" >/dev/null

note "criterion benches"
# The bench profile inherits the release profile (lto, codegen-units = 1), like the shipped binary.
cargo bench --bench routing --bench publish --bench pattern -- "${criterion[@]}" \
    2>&1 | tee "$raw/criterion.txt"

note "load grid: records $records x concurrency $concurrency x latency 0,20 ms"
target/release/examples/load --records "$records" --concurrency "$concurrency" \
    --latency-ms 0,20 --repeat "$repeat" --json "$raw/load.jsonl" | tee "$raw/load.txt"

note "load: 10,000-record stream batches (Kinesis, DynamoDB), ordered per key, x concurrency $concurrency at 20 ms"
target/release/examples/load --records 10000 --source kinesis,dynamodb --concurrency "$concurrency" \
    --latency-ms 20 --repeat "$repeat" --json "$raw/load.jsonl" | tee -a "$raw/load.txt"

note "cpu per event: the bridge against the floor of its HTTP stack, API key and SigV4"
target/release/examples/cpu --bridge target/release/appsync-bridge \
    --floor target/release/examples/floor --runs "$cpu_runs" \
    --json "$raw/cpu.jsonl" | tee "$raw/cpu.txt"

note "init: hello-world vs appsync-bridge (interleaved rounds of fresh processes)"
# Rounds alternate the binaries so that other load on the machine hits them alike. The bridge
# reads the rules as deployed (JSON) and, for comparison, as the YAML the repository keeps.
for _ in $(seq "$rounds"); do
    target/release/examples/runtime_stub --bin target/release/examples/hello --runs "$runs" \
        --event events/eventbridge-order-status.json >>"$raw/init-hello.jsonl"
    target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs "$runs" \
        --event events/eventbridge-order-status.json --env BRIDGE_RULES_FILE="$raw/rules.json" \
        >>"$raw/init-bridge.jsonl"
    target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs "$runs" \
        --event events/eventbridge-order-status.json >>"$raw/init-bridge-yaml.jsonl"
done

if command -v valgrind >/dev/null; then
    note "init instruction counts (callgrind; independent of machine load)"
    tmp=$(mktemp -d)
    for bin in target/release/examples/hello target/release/appsync-bridge; do
        name=$(basename "$bin")
        # Not exec'd: the stub kills the wrapper after the first /next; valgrind then sees the
        # Runtime API go away, the runtime exits, and callgrind writes its counts.
        printf '#!/bin/sh\n%s --tool=callgrind --callgrind-out-file=%s/%s.out %s 2>%s/%s.log\n' \
            "$(command -v valgrind)" "$tmp" "$name" "$PWD/$bin" "$tmp" "$name" >"$tmp/$name.sh"
        chmod +x "$tmp/$name.sh"
        target/release/examples/runtime_stub --bin "$tmp/$name.sh" --local --runs 1 \
            --env BRIDGE_RULES_FILE="$PWD/$raw/rules.json" >/dev/null
        for _ in $(seq 60); do grep -q "I   refs" "$tmp/$name.log" 2>/dev/null && break; sleep 0.5; done
        refs=$(sed -n 's/.*I *refs: *//p' "$tmp/$name.log" | tr -d ,)
        echo "{\"bin\":\"$bin\",\"init_instructions\":${refs:-null}}" >>"$raw/init-instructions.jsonl"
    done
    rm -rf "$tmp"
fi

if command -v valgrind >/dev/null; then
    note "allocations while matching patterns (DHAT: blocks allocated at 1 s and 3 s of iterations)"
    # If matching allocated, the block count would grow with the iterations; equal counts mean
    # every allocation belongs to set-up. Replaces a counting global allocator (unsafe) in the bench.
    bench_bin=$(ls -t target/release/deps/pattern-* | grep -v '\.d$' | head -1)
    for bench in pattern/typical pattern/heavy pattern/ten_rules; do
        counts=()
        for seconds in 1 3; do
            blocks=$(valgrind --tool=dhat --dhat-out-file=/dev/null "$bench_bin" --bench \
                --profile-time "$seconds" "$bench" 2>&1 | sed -n 's/.*Total: .* in \([0-9,]*\) blocks/\1/p' \
                | tr -d , | sort -n | tail -1)
            counts+=("${blocks:-null}")
        done
        echo "{\"bench\":\"$bench\",\"blocks_1s\":${counts[0]},\"blocks_3s\":${counts[1]}}" \
            >>"$raw/pattern-allocations.jsonl"
    done
fi

note "peak RSS: 10 x 1 KB and a ~6 MB batch, each in a fresh process"
# VmHWM only grows, so each batch gets its own process.
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 10240 --sqs-records 10 >"$raw/rss-small.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 6000000 --sqs-records 10000 >"$raw/rss-large.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --sqs-batch 6000000 --sqs-records 8000 >"$raw/rss-6mb.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --kinesis-batch 6000000 --stream-records 8000 >"$raw/rss-6mb-kinesis.jsonl"
target/release/examples/runtime_stub --bin target/release/appsync-bridge --local --runs 3 \
    --dynamodb-batch 6000000 --stream-records 8000 >"$raw/rss-6mb-dynamodb.jsonl"

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
def mb_per_s(group, name):
    """Decimal MB/s from a benchmark declared with Throughput::Bytes."""
    ns, bytes_ = estimate(group, name), throughputs.get(f"{group}/{name}", {}).get("Bytes")
    return bytes_ / ns * 1000 if ns and bytes_ else None

parse_mbs = mb_per_s("input", "10,000-record sqs batch from bytes, as the handler reads it")

def init_runs(name):
    return sorted(l["init_ms"] for l in lines(name) if "init_ms" in l)

def median(values):
    return values[len(values) // 2] if values else None

hello_runs, bridge_runs = init_runs("init-hello.jsonl"), init_runs("init-bridge.jsonl")
yaml_runs = init_runs("init-bridge-yaml.jsonl")
hello = {"init_ms_median": median(hello_runs), "init_ms_min": hello_runs[0] if hello_runs else None, "runs": len(hello_runs)}
bridge = {"init_ms_median": median(bridge_runs), "init_ms_min": bridge_runs[0] if bridge_runs else None, "runs": len(bridge_runs)}
init_ratio = bridge["init_ms_median"] / hello["init_ms_median"] if hello_runs and bridge_runs else None
instructions = {l["bin"].rsplit("/", 1)[-1]: l["init_instructions"] for l in lines("init-instructions.jsonl")}
sizes = {l["bin"]: l["bytes"] for l in lines("binary-sizes.jsonl")}

def cpu(mode):
    """Medians of the bridge's and the floor's CPU per event, and their ratio."""
    rows = [l for l in lines("cpu.jsonl") if l["mode"] == mode]
    if not rows:
        return None
    bridge_ms, floor_ms = median(sorted(r["bridge_cpu_ms"] for r in rows)), median(sorted(r["floor_cpu_ms"] for r in rows))
    events = rows[0]["events"]
    return {"bridge_us_per_event": bridge_ms * 1000 / events, "floor_us_per_event": floor_ms * 1000 / events,
            "ratio": bridge_ms / floor_ms, "runs": len(rows), "events": events}

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
big = [l for l in load if l["records"] == 10000 and l["latency_ms"] == 20 and l.get("source", "sqs") == "sqs"]
streams = [l for l in load if l["records"] == 10000 and l["latency_ms"] == 20 and l.get("source", "sqs") != "sqs"]
record_sqs = estimate("record", "sqs record, same content and size, read and routed")
record_sqs_padded = estimate("record", "sqs record, same size, one state and padding, read and routed")
record_ddb = estimate("record", "dynamodb record, new and old image, read and routed")

results = {
    "machine": machine,
    "pattern_allocations": lines("pattern-allocations.jsonl"),
    "targets": {
        "route_us_per_record": {"value": route_ns and route_ns / 1000, "target": "<= 2"},
        "publish_us_per_event": {"value": publish_ns and publish_ns / 5000, "target": "<= 5"},
        "parse_mb_per_s": {"value": parse_mbs, "target": ">= 100"},
        "cpu_api_key_ratio_to_floor": {"value": (cpu("api-key") or {}).get("ratio"), "target": "<= 1.3", **(cpu("api-key") or {})},
        "cpu_sigv4_ratio_to_floor": {"value": (cpu("iam") or {}).get("ratio"), "target": "<= 1.5", **(cpu("iam") or {})},
        "init_ratio_to_hello": {"value": init_ratio, "target": "<= 1.3",
                                 "hello_ms": hello["init_ms_median"], "bridge_ms": bridge["init_ms_median"],
                                 "bridge_yaml_rules_ms": median(yaml_runs), "binary_bytes": sizes,
                                 "ratio_of_minimums": bridge["init_ms_min"] / hello["init_ms_min"] if hello_runs and bridge_runs else None,
                                 "instructions": instructions},
        "load_10000_at_20ms_ratio_to_ideal": {"value": {str(l["concurrency"]): l["ratio_to_ideal"] for l in big}, "target": "<= 1.2"},
        "load_10000_stream_at_20ms_ratio_to_ideal": {"value": {f'{l["source"]} {l["concurrency"]}': l["ratio_to_ideal"] for l in streams}, "target": "<= 1.2"},
        "dynamodb_record_routing_ratio_to_sqs": {"value": record_ddb / record_sqs if record_ddb and record_sqs else None, "target": "<= 1.5",
                                                  "ratio_to_padded_sqs": record_ddb / record_sqs_padded if record_ddb and record_sqs_padded else None,
                                                  "sqs_same_content_us_per_record": record_sqs and record_sqs / 1e6,
                                                  "sqs_padded_us_per_record": record_sqs_padded and record_sqs_padded / 1e6,
                                                  "dynamodb_us_per_record": record_ddb and record_ddb / 1e6},
        "rss_small": rss("rss-small.jsonl"),
        "rss_6mb": rss("rss-6mb.jsonl"),
        "rss_6mb_kinesis": rss("rss-6mb-kinesis.jsonl"),
        "rss_6mb_dynamodb": rss("rss-6mb-dynamodb.jsonl"),
        "rss_10000_records": rss("rss-large.jsonl"),
    },
    "criterion_ns": {
        "route/2 matches": route_ns,
        "route/no match": estimate("route", "10 rules, no match"),
        "input/from bytes, as the handler reads it": estimate("input", "10,000-record sqs batch from bytes, as the handler reads it"),
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
load = [l for l in json.loads((out / "results.json").read_text())["load"] if l.get("source", "sqs") == "sqs"]
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
        ax.legend(fontsize=8, loc="upper left")
fig.suptitle("appsync-bridge handler vs appsync-local on loopback (examples/load.rs)")
fig.tight_layout()
fig.savefig(out / "throughput.png", dpi=100)
PY
fi
note "done: $out/results.json, $out/throughput.png, raw output in $raw/"
