"""RSS of a served web process and a worker process at a size, and of this process.

``trygg serve --no-worker`` and ``trygg worker`` run as they do in production, as child
processes against the seeded database. Their RSS is read from ``/proc`` after startup,
then after one results page and one free-text page requested as a logged-in analyst
(the real login form, as ``tests/staff/staff_helpers.py`` does it), which also gives
those pages' wall time through the whole HTTP stack. Each child is in its own process
group, killed with it whatever happens.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.scale.seed import SECRET

PASSWORD = "benchmark horse battery staple"
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')
TRYGG = [sys.executable, "-c", "from trygg.cli import main; main()"]
STARTUP_SECONDS = 120.0
SETTLE_SECONDS = 2.0  # after startup: imports done, first loops run
PAGE_TIMEOUT = 600.0


def _status_kib(pid: int | str, field: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int | str = "self") -> float:
    """The highest RSS the process has had (VmHWM)."""
    return _status_kib(pid, "VmHWM") / 1024


@dataclass(frozen=True)
class ProcessMemory:
    web_started_mib: float
    web_after_mib: float
    web_peak_mib: float
    worker_started_mib: float
    worker_after_mib: float
    results_seconds: float  # the results page, through HTTP
    free_text_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGG_")}
    return env | {"TRYGG_DATABASE_URL": database_url, "TRYGG_SECRET_KEY": SECRET}


def create_user(database_url: str, username: str) -> None:
    subprocess.run(
        [*TRYGG, "staff", "create-user", username, "--role", "analyst", "--password-stdin"],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True,
        env=environment(database_url), timeout=STARTUP_SECONDS,
    )  # fmt: skip


@contextmanager
def started(
    arguments: list[str], database_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*TRYGG, *arguments], env=environment(database_url), stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for(check: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        if callable(check) and check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start in {STARTUP_SECONDS:.0f} s")


def _web_up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/staff/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _timed_get(http: httpx.Client, path: str) -> float:
    began = time.perf_counter()
    answer = http.get(path)
    took = time.perf_counter() - began
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return took


def measure_processes(database_url: str, username: str) -> ProcessMemory:
    """Start both processes, log in, open the two pages, read RSS; stop them."""
    create_user(database_url, username)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="trygg-scale-") as folder:
        web_log, worker_log = Path(folder, "web.log"), Path(folder, "worker.log")
        serve = ["serve", "--no-worker", "--port", str(port)]
        with (
            started(serve, database_url, web_log) as web,
            started(["worker"], database_url, worker_log) as worker,
        ):
            _wait_for(lambda: _web_up(base), "trygg serve", web, web_log)
            _wait_for(lambda: "worker running" in worker_log.read_text(), "worker", worker,
                      worker_log)  # fmt: skip
            time.sleep(SETTLE_SECONDS)
            web_started, worker_started = rss_mib(web.pid), rss_mib(worker.pid)
            with httpx.Client(base_url=base, timeout=PAGE_TIMEOUT) as http:
                form = http.get("/staff/login")
                found = CSRF_IN_PAGE.search(form.text)
                if found is None:
                    raise RuntimeError("the login page has no CSRF field")
                login = {"username": username, "password": PASSWORD, "csrf_token": found[1]}
                if http.post("/staff/login", data=login).status_code != 303:
                    raise RuntimeError("could not log in")
                results = _timed_get(http, "/staff/campaigns/karlslund/results")
                free_text = _timed_get(http, "/staff/campaigns/karlslund/free-text")
            time.sleep(SETTLE_SECONDS)
            return ProcessMemory(
                web_started, rss_mib(web.pid), peak_rss_mib(web.pid), worker_started,
                rss_mib(worker.pid), results, free_text,
            )  # fmt: skip
