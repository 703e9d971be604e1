"""Real ``trygg worker`` processes for the broadcast benchmark, and their CPU time.

Each worker is its own process (own interpreter, own event loop), as in production, so
the figures include what one worker costs and what two of them contend for. Their output
goes to files (a pipe nobody reads would fill and stall them on a burst of warnings).
They are stopped with SIGTERM, as a service manager does, and killed if that fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

READY = "worker running"
TRYGG_WORKER = [sys.executable, "-c", "from trygg.cli import main; main()", "worker"]
TICK = os.sysconf("SC_CLK_TCK")


def environment(settings: Mapping[str, Any]) -> dict[str, str]:
    """The process environment that gives ``trygg worker`` these settings fields."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRYGG_")}
    for field, value in settings.items():
        env["TRYGG_" + field.upper()] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Workers:
    """``count`` worker processes with the same environment, started together."""

    def __init__(self, count: int, env: Mapping[str, str], folder: Path) -> None:
        self.count = count
        self.env = dict(env)
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, timeout: float = 60.0) -> Self:
        for number in range(self.count):
            log = self.folder / f"worker-{number}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    TRYGG_WORKER,
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as one
                )
            self.processes.append(process)
            self.logs.append(log)
        deadline = time.monotonic() + timeout
        while not all(READY in log.read_text(errors="replace") for log in self.logs):
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"worker exited early:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start in time")
            time.sleep(0.05)
        return self

    def cpu_seconds(self) -> float:
        """User and system CPU of the running workers so far (Linux /proc)."""
        total = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / TICK

    def errors(self) -> list[str]:
        """Lines the workers logged as errors (a round that failed, a crash)."""
        found = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            found += [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
        return found

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
