#!/usr/bin/env bash
# Installs the deploy tooling into one virtualenv outside the repository, pinned to versions that
# work together here: cfn-lint and the AWS SAM CLI (what CI needs), and with `--cargo-lambda` also
# cargo-lambda (brings zig, ~400 MB; `sam build` finds it when it sits in the same virtualenv).
#
#   scripts/install-tools.sh [--cargo-lambda]     then: export PATH="$(scripts/install-tools.sh --print-bin):$PATH"
#
# The virtualenv is APPSYNC_BRIDGE_TOOLS_VENV, default ~/.cache/appsync-bridge/venv. Re-running is
# cheap and offline once the pins are installed. Progress goes to stderr; stdout is only the
# virtualenv's bin directory, so `tools_bin="$(scripts/install-tools.sh)"` works.
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

say() { printf 'install-tools: %s\n' "$*" >&2; }

# A virtualenv whose interpreter went away (a new Python) is rebuilt rather than patched.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "creating the virtualenv $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi

packages=("cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION")
if $with_cargo_lambda; then
  packages+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
fi

# Pins already installed need no network and no pip run at all.
installed="$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true)"
missing=()
for package in "${packages[@]}"; do
  grep -qixF "$package" <<<"$installed" || missing+=("$package")
done
if (( ${#missing[@]} == 0 )); then
  say "already installed in $venv: ${packages[*]}"
else
  size="about 380 MB on disk"
  if [[ " ${missing[*]} " == *" cargo-lambda=="* ]]; then
    size="about 790 MB on disk, 410 MB of it cargo-lambda's zig"
  fi
  say "installing ${missing[*]} into $venv ($size; a minute or two the first time); pip's progress follows"
  started=$SECONDS
  # pip's progress, shortened to the packages asked for and the large downloads, goes to
  # stderr (stdout stays the bin directory); its errors come through whole.
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    "${missing[@]}" 2>&1 | awk '
      /^Collecting / && !/\(from / { print "  collecting " $2; fflush(); next }
      /^ *Downloading .*\([0-9.]+ MB\)/ { sub(/^ */, ""); print "  " $0; fflush(); next }
      /^(ERROR|error|WARNING: Retrying)/ { print; fflush() }
    ' >&2 || true
  # The pipeline hides pip's exit status: check that what was asked for is there.
  installed="$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true)"
  for package in "${missing[@]}"; do
    if ! grep -qixF "$package" <<<"$installed"; then
      say "failed: $package is not installed (run: $venv/bin/python -m pip install $package)"
      exit 1
    fi
  done
  say "installed in $((SECONDS - started)) s"
fi
echo "$venv/bin"
