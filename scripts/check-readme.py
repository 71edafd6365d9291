#!/usr/bin/env python3
"""Runs the README's shell blocks in order, as a newcomer would paste them, and fails when one fails.

    scripts/check-readme.py [--shared-target] [--in-place] [--with-cargo-lambda] [--list] [--keep]

Every fenced block whose language is `sh` (or `bash`, `shell`) runs, in README order, from the
root of a fresh copy of the repository's tracked files (untracked files, such as a stray
`handlers/chat.js` or a `.env.local`, cannot make a documented command work by accident), with an
empty target directory: a clean build, as a new clone gets. The environment is the caller's
without any APPSYNC_*, BRIDGE_*, AWS_* or RUST_LOG variable and without TMPDIR or
CARGO_TARGET_DIR, so a block that needs a variable must set it itself.

A block runs in its own `bash -e -o pipefail` (a new terminal: nothing carries over from an earlier
block) and must exit 0. In it, `curl` fails on an HTTP error status (`--fail-with-body`), so a
documented request that gets a 4xx or 5xx fails the check instead of printing an error body.

An HTML comment on the line before the fence says more about the block; GitHub does not show it:

    <!-- readme-check: skip (the reason) -->   not run; the reason is printed
    <!-- readme-check: background port=8787 --> a server: started in the background, in its own
                                               process group; the check goes on once something
                                               accepts connections on the port (the first build
                                               may take minutes). A later background block for
                                               the same port first stops it with SIGINT, as
                                               Ctrl-C would; so does the end of the run. A server
                                               that does not stop within 20 s fails the check
    <!-- readme-check: output -->               the comment lines that follow a command are its
                                               output: each must appear, in order, in what the
                                               block printed (for a background block: in the
                                               server's stdout); `…` stands for any text on the
                                               line, and a line `...` or `…` for lines left out
    <!-- readme-check: needs=cargo-lambda -->   runs only when cargo-lambda is installed (the
                                               tools' virtualenv), or with --with-cargo-lambda;
                                               otherwise skipped, with a message

Keys combine: `<!-- readme-check: needs=cargo-lambda background port=9000 output -->`.

--shared-target builds in this checkout's target directory instead (fast, for iterating on the
README; cargo then reuses binaries built here, whose `env!("CARGO_MANIFEST_DIR")` paths, as in the
demo, name this checkout rather than the copy). --in-place runs in this checkout instead of a copy
(untracked files then count).
--with-cargo-lambda runs the cargo-lambda blocks even when it is not installed yet (the
README's own install block installs it), as CI does. --list prints the plan and runs nothing.
--keep leaves the copy and the logs in place.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"sh", "bash", "shell"}
MARKER = re.compile(r"^<!--\s*readme-check:\s*(.*?)\s*-->\s*$")
DROPPED_PREFIXES = ("APPSYNC_", "BRIDGE_", "AWS_")
DROPPED = {"RUST_LOG", "TMPDIR", "CARGO_TARGET_DIR"}
FOREGROUND_TIMEOUT = 1800  # seconds: the first `cargo test --workspace` builds everything
READY_TIMEOUT = 1800  # seconds a server may take to listen: its first build
STOP_TIMEOUT = 20
PRELUDE = 'curl() { command curl --fail-with-body "$@"; }\n'


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    heading: str
    text: str
    skip: str | None = None
    background_port: int | None = None
    output: bool = False
    needs_cargo_lambda: bool = False
    expected: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.heading})"


def parse(readme: str) -> list[Block]:
    """The README's shell blocks, with what their markers say."""
    blocks: list[Block] = []
    lines = readme.splitlines()
    heading = "top"
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip()
        fence = re.match(r"^(```+)\s*([\w-]*)", line)
        if not fence:
            i += 1
            continue
        ticks, language = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and not lines[end].startswith(ticks):
            end += 1
        if language in SHELLS:
            block = Block(line=i + 1, heading=heading, text="\n".join(lines[i + 1 : end]) + "\n")
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            if marker:
                apply_marker(block, marker.group(1))
            if block.output:
                block.expected = expected_output(block.text)
            blocks.append(block)
        i = end + 1
    return blocks


def apply_marker(block: Block, spec: str) -> None:
    if spec.startswith("skip"):
        block.skip = spec[len("skip") :].strip(" -—()") or "marked skip"
        return
    for word in spec.split():
        if word == "output":
            block.output = True
        elif word == "background":
            pass  # the port comes with port=N
        elif word.startswith("port="):
            block.background_port = int(word[len("port=") :])
        elif word == "needs=cargo-lambda":
            block.needs_cargo_lambda = True
        else:
            raise SystemExit(f"check-readme: README.md:{block.line - 1}: unknown marker word {word!r}")
    if "background" in spec.split() and block.background_port is None:
        raise SystemExit(f"check-readme: README.md:{block.line - 1}: background needs port=N")


def expected_output(text: str) -> list[str]:
    """The comment lines after the block's first command: what it prints."""
    expected, seen_command = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            if seen_command:
                shown = line.lstrip()[1:]
                shown = shown[1:] if shown.startswith(" ") else shown
                if shown.strip() not in ("...", "…"):
                    expected.append(shown)
        elif line.strip():
            seen_command = True
    return expected


def missing_output(expected: list[str], actual: str) -> str | None:
    """The first expected line not found, in order, in `actual`; None when all are there."""
    position = 0
    for line in expected:
        pattern = "[^\n]*?".join(re.escape(part) for part in line.rstrip().split("…"))
        found = re.compile(pattern).search(actual, position)
        if not found:
            return line
        position = found.end()
    return None


def say(text: str) -> None:
    print(text, flush=True)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text[-lines:])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Run:
    def __init__(self, workdir: Path, env: dict[str, str], logs: Path):
        self.workdir, self.env, self.logs = workdir, env, logs
        self.servers: dict[int, tuple[subprocess.Popen, Block, Path]] = {}
        self.failures: list[str] = []
        self.skipped: list[str] = []
        self.ran = 0

    def fail(self, block: Block, why: str) -> None:
        self.failures.append(f"{block.where}: {why}")
        say(f"    FAILED: {why}")

    def foreground(self, block: Block) -> None:
        log = self.logs / f"block-{block.line}.log"
        started = time.monotonic()
        with log.open("w") as out:
            try:
                done = subprocess.run(
                    ["bash", "-e", "-o", "pipefail", "-c", PRELUDE + block.text],
                    cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                    timeout=FOREGROUND_TIMEOUT,
                )
                code = done.returncode
            except subprocess.TimeoutExpired:
                code = None
        took = time.monotonic() - started
        printed = log.read_text(errors="replace")
        if code != 0:
            status = "timed out" if code is None else f"exit code {code}"
            self.fail(block, f"{status} after {took:.0f} s; the last lines it printed:\n{tail(log)}")
            return
        if block.output and (line := missing_output(block.expected, printed)) is not None:
            self.fail(block, f"the README shows {line!r}, which is not in what it printed:\n{tail(log)}")
            return
        say(f"    ok ({took:.0f} s)")

    def background(self, block: Block) -> None:
        port = block.background_port
        assert port is not None
        self.stop(port)
        if port_open(port):
            self.fail(block, f"port {port} is already in use by something else; the README's commands need it")
            return
        log = self.logs / f"server-{block.line}.out"
        err = self.logs / f"server-{block.line}.err"
        server = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", PRELUDE + block.text],
            cwd=self.workdir, env=self.env, stdout=log.open("w"), stderr=err.open("w"),
            start_new_session=True,
        )
        self.servers[port] = (server, block, log)
        started = time.monotonic()
        next_note = started + 30
        while not port_open(port):
            if server.poll() is not None:
                self.fail(block, f"exited with code {server.returncode} before listening on {port}:\n{tail(err)}")
                del self.servers[port]
                return
            if time.monotonic() - started > READY_TIMEOUT:
                self.fail(block, f"nothing listened on {port} within {READY_TIMEOUT} s:\n{tail(err)}")
                return
            if time.monotonic() > next_note:
                say(f"    waiting for port {port} ({time.monotonic() - started:.0f} s; the first build takes minutes)")
                next_note += 30
            time.sleep(0.2)
        if block.output:
            # The banner is written in one go once the port is bound; give it a moment.
            deadline = time.monotonic() + 5
            while (line := missing_output(block.expected, log.read_text(errors="replace"))) is not None:
                if time.monotonic() > deadline:
                    self.fail(block, f"the README shows {line!r}, which the server did not print:\n{tail(log)}")
                    return
                time.sleep(0.1)
        say(f"    listening on {port} after {time.monotonic() - started:.0f} s (running in the background)")

    def stop(self, port: int) -> None:
        """Stops the server on `port` as Ctrl-C would: SIGINT to its process group."""
        entry = self.servers.pop(port, None)
        if entry is None:
            return
        server, block, _ = entry
        if server.poll() is not None:
            return
        say(f"    stopping the server from {block.where} on {port} (Ctrl-C)")
        try:
            os.killpg(server.pid, signal.SIGINT)
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(block, f"did not stop within {STOP_TIMEOUT} s of Ctrl-C")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        except ProcessLookupError:
            pass
        # Give the kernel a moment to release the port for the next server.
        deadline = time.monotonic() + 5
        while port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop_all(self) -> None:
        for port in list(self.servers):
            self.stop(port)


def cargo_lambda_installed(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["cargo", "lambda", "--version"], env=env, capture_output=True).returncode == 0
    except OSError:
        return False


def copy_tracked(destination: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if not source.exists():  # deleted in the working tree
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-target", action="store_true")
    parser.add_argument("--in-place", action="store_true")
    parser.add_argument("--with-cargo-lambda", action="store_true")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    blocks = parse((ROOT / "README.md").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES) and k not in DROPPED}
    env["CARGO_TERM_COLOR"] = "never"
    tools_bin = subprocess.run(
        ["scripts/install-tools.sh", "--print-bin"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    probe_env = dict(env, PATH=f"{tools_bin}:{env.get('PATH', '')}")
    with_cargo_lambda = args.with_cargo_lambda or cargo_lambda_installed(probe_env)

    if args.list:
        for block in blocks:
            kind = (
                f"skip ({block.skip})" if block.skip
                else ("needs cargo-lambda, " if block.needs_cargo_lambda else "")
                + (f"background on {block.background_port}" if block.background_port else "run")
                + (f", {len(block.expected)} output lines checked" if block.output else "")
            )
            say(f"{block.where}: {kind}")
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="check-readme-"))
    logs = scratch / "logs"
    logs.mkdir()
    if args.in_place:
        workdir = ROOT
    else:
        workdir = scratch / "repo"
        copy_tracked(workdir)
    if args.shared_target:
        env["CARGO_TARGET_DIR"] = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
        build = f"builds in {env['CARGO_TARGET_DIR']}"
    elif args.in_place:
        env["CARGO_TARGET_DIR"] = str(scratch / "target")
        build = "a clean build"
    else:
        build = "a clean build"  # the copy's own, empty target/
    say(f"check-readme: running the README's shell blocks in {workdir}, {build} (logs in {logs})")
    if not with_cargo_lambda:
        say("check-readme: cargo-lambda is not installed: its section is skipped "
            "(scripts/install-tools.sh --cargo-lambda, or pass --with-cargo-lambda)")

    run = Run(workdir, env, logs)
    try:
        for block in blocks:
            if block.skip:
                run.skipped.append(f"{block.where}: {block.skip}")
                say(f"==> {block.where}: skipped: {block.skip}")
                continue
            if block.needs_cargo_lambda and not with_cargo_lambda:
                run.skipped.append(f"{block.where}: cargo-lambda is not installed")
                say(f"==> {block.where}: skipped: cargo-lambda is not installed")
                continue
            kind = f"background, port {block.background_port}" if block.background_port else "run"
            say(f"==> {block.where}: {kind}")
            for line in block.text.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    say(f"    $ {line}")
            run.ran += 1
            if block.background_port:
                run.background(block)
            else:
                run.foreground(block)
            if run.failures:
                break  # later blocks depend on earlier ones, as they do for a reader
    finally:
        run.stop_all()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    say(f"\ncheck-readme: {run.ran} blocks run, {len(run.skipped)} skipped, {len(run.failures)} failed")
    for failure in run.failures:
        say(f"  FAILED {failure.splitlines()[0]}")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
