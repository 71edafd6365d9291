#!/usr/bin/env bash
# Proves that `sam build` checks and packages the rules (template.yaml's RulesLayer, built by
# scripts/rules-layer/Makefile), without building the function or touching AWS:
#
#   scripts/check-rules-layer.sh
#
#   1. `sam build RulesLayer` packages rules.yaml as compact JSON (one line, read by serde_json at
#      init), and the bridge's own `check` reads the packaged file with the same rules;
#   2. with an invalid document (RULES=docs/broken-rules.yaml, which the Makefile takes from the
#      environment) `sam build RulesLayer` fails, its output names every problem `check` names,
#      and no rules.json is left in the layer.
# Needs the SAM CLI (scripts/install-tools.sh installs it) and builds the bridge's debug CLI
# (the Makefile runs `cargo run`).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'check-rules-layer: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

tools_bin="$(scripts/install-tools.sh --print-bin)"
[[ -x "$tools_bin/sam" ]] || fail "the SAM CLI is not installed (scripts/install-tools.sh)"
export SAM_CLI_TELEMETRY=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cargo build --quiet --bin appsync-bridge
bridge="${CARGO_TARGET_DIR:-$PWD/target}/debug/appsync-bridge"

say "1. sam build RulesLayer with rules.yaml"
"$tools_bin/sam" build RulesLayer --template-file template.yaml --build-dir "$tmp/good" \
  >"$tmp/good.log" 2>&1 || { cat "$tmp/good.log" >&2; fail "sam build RulesLayer failed"; }
packaged="$tmp/good/RulesLayer/rules.json"
[[ -f "$packaged" ]] || fail "no rules.json in the layer ($(ls "$tmp/good/RulesLayer"))"
[[ "$(head -c 1 "$packaged")" == "{" && "$(wc -l <"$packaged")" -le 1 ]] \
  || fail "rules.json is not one line of JSON"
# `check` prints one line per rule; the packaged document must give the same lines.
"$bridge" check --rules rules.yaml >"$tmp/yaml.txt"
"$bridge" check --rules "$packaged" >"$tmp/json.txt"
diff <(grep -v '^rules document:' "$tmp/yaml.txt") <(grep -v '^rules document:' "$tmp/json.txt") >&2 \
  || fail "the packaged rules differ from rules.yaml"
say "   ok: $(wc -c <"$packaged") bytes of JSON, $(grep -c . "$tmp/json.txt") lines of check output alike"

say "2. sam build RulesLayer with docs/broken-rules.yaml"
if RULES="$PWD/docs/broken-rules.yaml" "$tools_bin/sam" build RulesLayer \
  --template-file template.yaml --build-dir "$tmp/bad" >"$tmp/bad.log" 2>&1; then
  fail "sam build succeeded with an invalid rules document"
fi
[[ ! -e "$tmp/bad/RulesLayer/rules.json" ]] || fail "an invalid document was packaged"
"$bridge" check --rules docs/broken-rules.yaml >/dev/null 2>"$tmp/problems.txt" && fail "check accepted docs/broken-rules.yaml"
problems=0
while IFS= read -r line; do
  [[ "$line" == *"docs/broken-rules.yaml:"* ]] || continue
  problem="${line#*docs/broken-rules.yaml:}"
  grep -qF -- "$problem" "$tmp/bad.log" || { cat "$tmp/bad.log" >&2; fail "sam build's output lacks: $problem"; }
  problems=$((problems + 1))
done <"$tmp/problems.txt"
(( problems > 1 )) || { cat "$tmp/problems.txt" >&2; fail "expected several problems from check, got $problems"; }
say "   ok: sam build failed naming all $problems problems, nothing packaged"
