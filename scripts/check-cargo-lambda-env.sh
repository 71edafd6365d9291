#!/usr/bin/env bash
# Proves that the README's `cargo lambda watch` set-up takes overrides: the function's local
# environment comes from local.env (`--env-file local.env`), and `--env-var NAME=VALUE` after it
# wins. (Values in Cargo.toml's [package.metadata.lambda.env] would not: cargo-lambda 1.9.2
# re-reads them before every start of the function and lets them win over --env-var, --env-file
# and the shell, which is why the repository has none.)
#
#   scripts/check-cargo-lambda-env.sh
#
# Against appsync-local on a free port, it runs `cargo lambda watch --env-file local.env` twice:
#   1. with --env-var APPSYNC_HTTP_ENDPOINT=<that server>: the publishes reach it (200), so the
#      override of the file's endpoint took effect and the file's key da2-local was used;
#   2. adding --env-var APPSYNC_API_KEY=da2-wrong: the same server answers 401.
# Skips (exit 0, with a message) when cargo-lambda is not installed. Ports are picked free, so
# it runs beside a server you already have on 8787/9000.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'check-cargo-lambda-env: %s\n' "$*" >&2; }

tools_bin="$(scripts/install-tools.sh --print-bin)"
if [[ -d "$tools_bin" ]]; then
  export PATH="$tools_bin:$PATH"
fi
if ! cargo lambda --version >/dev/null 2>&1; then
  say "skipped: cargo-lambda is not installed (scripts/install-tools.sh --cargo-lambda installs it)"
  exit 0
fi
say "using $(cargo lambda --version)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work="$(mktemp -d)"
pids=()
cleanup() {
  # Each background process leads its own process group (setsid): stop the group, as Ctrl-C
  # in its terminal would, so cargo-lambda's function instance goes too.
  for pid in "${pids[@]}"; do
    kill -INT -- "-$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

say "building the function and the local server first (cargo build; the first build takes minutes)"
cargo build --quiet --bin appsync-bridge
cargo build --quiet -p appsync-local --bin appsync-local
target="${CARGO_TARGET_DIR:-$PWD/target}"

server_port="$(free_port)"
setsid "$target/debug/appsync-local" --port "$server_port" --api-key da2-local \
  --namespaces-from rules.yaml >"$work/server.out" 2>"$work/server.err" &
pids+=("$!")
for _ in $(seq 100); do
  grep -q '^  auth:' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^  auth:' "$work/server.out" || { say "appsync-local did not start:"; cat "$work/server.err" >&2; exit 1; }
server="http://127.0.0.1:$server_port"
say "appsync-local on $server"

wait_for_port() {
  python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

statuses() { curl -sS "$server/_local/requests" | python3 -c 'import json, sys; print(" ".join(str(r["status"]) for r in json.load(sys.stdin)))'; }

# Runs `cargo lambda watch --env-file local.env "$@"` on a free port, invokes the function once
# with the EventBridge sample, stops the emulator, and sets `got` to the statuses the server saw
# for that invocation's publishes.
got=""
watch_and_invoke() {
  local port log before
  port="$(free_port)"
  log="$work/watch-$port.log"
  say "cargo lambda watch -P $port --env-file local.env $*"
  setsid cargo lambda watch -P "$port" --env-file local.env "$@" >"$log" 2>&1 &
  local watch_pid=$!
  pids+=("$watch_pid")
  # The emulator listens once cargo-lambda has read the project (a second or two).
  if ! wait_for_port "$port"; then
    say "cargo lambda watch did not listen on $port; its log:"
    cat "$log" >&2
    exit 1
  fi
  before="$(statuses | wc -w)"
  # The function was built above, so it starts in seconds; the timeout only guards a hang.
  local rc=0
  timeout 120 cargo lambda invoke -A 127.0.0.1 -P "$port" appsync-bridge \
    --data-file events/eventbridge-order-status.json >"$work/invoke.out" 2>&1 || rc=$?
  kill -INT -- "-$watch_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
  if (( rc == 124 )); then
    say "cargo lambda invoke timed out; the emulator's log:"
    cat "$log" >&2
    exit 1
  fi
  got="$(statuses | cut -d' ' -f"$((before + 1))"-)"
}

watch_and_invoke --env-var "APPSYNC_HTTP_ENDPOINT=$server/event"
if [[ "$got" != "200 200" ]]; then
  say "FAILED: with the endpoint overridden the server saw statuses '$got', expected '200 200'"
  cat "$work/invoke.out" >&2
  exit 1
fi
say "ok: --env-var APPSYNC_HTTP_ENDPOINT took effect (publishes reached $server, with the key from local.env)"

watch_and_invoke --env-var "APPSYNC_HTTP_ENDPOINT=$server/event" --env-var APPSYNC_API_KEY=da2-wrong
if [[ "$got" != "401 401" ]]; then
  say "FAILED: with the key overridden the server saw statuses '$got', expected '401 401'"
  cat "$work/invoke.out" >&2
  exit 1
fi
say "ok: --env-var APPSYNC_API_KEY took effect (the server refused da2-wrong with 401)"
