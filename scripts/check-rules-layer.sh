#!/usr/bin/env bash
# Proves that `sam build` checks and packages the rules (template.yaml's RulesLayer, built by
# scripts/rules-layer/Makefile), without building the function or touching AWS:
#
#   scripts/check-rules-layer.sh
#
#   1. `sam build RulesLayer` packages rules.yaml as compact JSON (one line, read by serde_json at
#      init) holding the same document (compared as data with PyYAML, which the SAM CLI's
#      virtualenv has), and the bridge's own `check` reads the packaged file with the same rules;
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
# The same document, patterns and payloads included (YAML's data model, as JSON).
"$tools_bin/python" - rules.yaml "$packaged" <<'PY' || fail "the packaged document is not rules.yaml's"
import json, sys, yaml
with open(sys.argv[1]) as yaml_file, open(sys.argv[2]) as json_file:
    sys.exit(0 if yaml.safe_load(yaml_file) == json.load(json_file) else 1)
PY
# `check` prints the rules, namespaces and channels; the packaged document must give the same.
"$bridge" check --rules rules.yaml >"$tmp/yaml.txt" || fail "check refused rules.yaml"
"$bridge" check --rules "$packaged" >"$tmp/json.txt" || fail "check refused the packaged rules.json"
diff <(grep -v '^rules document:' "$tmp/yaml.txt") <(grep -v '^rules document:' "$tmp/json.txt") >&2 \
  || fail "the packaged rules differ from rules.yaml"
say "   ok: $(wc -c <"$packaged") bytes of JSON, the same document, $(grep -c . "$tmp/json.txt") lines of check output alike"

say "2. sam build RulesLayer with docs/broken-rules.yaml"
if RULES="$PWD/docs/broken-rules.yaml" "$tools_bin/sam" build RulesLayer \
  --template-file template.yaml --build-dir "$tmp/bad" >"$tmp/bad.log" 2>&1; then
  fail "sam build succeeded with an invalid rules document"
fi
[[ ! -e "$tmp/bad/RulesLayer/rules.json" ]] || fail "an invalid document was packaged"
# check exits 2 for an invalid configuration; anything else (a crash, a missing binary) is not that.
rc=0
"$bridge" check --rules docs/broken-rules.yaml >/dev/null 2>"$tmp/problems.txt" || rc=$?
(( rc == 2 )) || { cat "$tmp/problems.txt" >&2; fail "check exited $rc on docs/broken-rules.yaml, not 2"; }
expected=$(sed -n 's/.*invalid configuration (\([0-9]*\) problems).*/\1/p' "$tmp/problems.txt")
problems=0
while IFS= read -r line; do
  [[ "$line" == *"docs/broken-rules.yaml:"* ]] || continue
  problem="${line#*docs/broken-rules.yaml:}"
  grep -qF -- "$problem" "$tmp/bad.log" || { cat "$tmp/bad.log" >&2; fail "sam build's output lacks: $problem"; }
  problems=$((problems + 1))
done <"$tmp/problems.txt"
(( problems > 1 && problems == ${expected:-0} )) \
  || { cat "$tmp/problems.txt" >&2; fail "check listed $problems problems, its summary says ${expected:-none}"; }
say "   ok: sam build failed naming all $problems problems, nothing packaged"
