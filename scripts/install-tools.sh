#!/usr/bin/env bash
# Installs the deploy tooling into one virtualenv outside the repository, pinned to versions that
# work together here: cfn-lint and the AWS SAM CLI (what CI needs), and with `--cargo-lambda` also
# cargo-lambda (brings zig, ~400 MB; `sam build` finds it when it sits in the same virtualenv).
#
#   scripts/install-tools.sh [--cargo-lambda]     then: export PATH="$(scripts/install-tools.sh --print-bin):$PATH"
#
# The virtualenv is APPSYNC_BRIDGE_TOOLS_VENV, default ~/.cache/appsync-bridge/venv. Re-running is
# cheap: pip leaves satisfied pins alone.
set -euo pipefail

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2

venv="${APPSYNC_BRIDGE_TOOLS_VENV:-$HOME/.cache/appsync-bridge/venv}"

with_cargo_lambda=false
for arg in "$@"; do
  case "$arg" in
    --cargo-lambda) with_cargo_lambda=true ;;
    --print-bin) echo "$venv/bin"; exit 0 ;;
    *) echo "install-tools: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# A virtualenv whose interpreter went away (a new Python) is rebuilt rather than patched.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi

packages=("cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION")
if $with_cargo_lambda; then
  packages+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
echo "$venv/bin"
