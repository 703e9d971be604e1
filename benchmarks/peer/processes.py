"""Starting, measuring and killing the two bots' processes, and running the driver.

Every server runs in its own session (process group), so a kill -9 takes the whole of it,
and the caller's ``finally`` can always end it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    command: list[str], env: dict[str, str], log: Path, health: str
) -> subprocess.Popen[bytes]:
    """Start a server and wait until ``health`` answers 200."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:3]} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(health, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{command[:3]} did not answer {health} in 90 s; see {log}")


def kill9(process: subprocess.Popen[bytes]) -> None:
    """What a power cut or the OOM killer does: no shutdown code runs."""
    _signal_group(process, signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen[bytes]) -> None:
    """A clean stop (SIGTERM), then SIGKILL if it does not end in 20 s."""
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill9(process)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MiB (from /proc)."""
    total_kb = 0
    for member in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = [int(child) for child in children]
    return found + [grand for child in found for grand in _descendants(child)]


def drive(
    url: str, secret: str, people: int, concurrency: int, drain: str | None = None
) -> dict[str, Any]:
    """Run the load driver in its own process; its JSON result."""
    command = [sys.executable, "-m", "benchmarks.peer.driver", "--url", url, "--secret", secret,
               "--people", str(people), "--concurrency", str(concurrency)]  # fmt: skip
    if drain is not None:
        command += ["--drain", drain]
    done = subprocess.run(command, capture_output=True, check=True, timeout=1800)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def trygg_command() -> str:
    """The ``trygg`` console script installed beside this Python."""
    beside = Path(sys.executable).parent / "trygg"
    return str(beside) if beside.exists() else "trygg"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any TRYGG_ setting (the caller's channels, database...),
    plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRYGG_")}
    return env | extra
