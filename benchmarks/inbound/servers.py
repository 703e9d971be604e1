"""Starting and stopping the processes a measurement needs: ``trygg serve --no-worker``
(one or several, on their own ports, sharing one database), the two reference apps (bare
and floor), the load generator, and a fresh PostgreSQL database per run.

Every server runs in a session (process group) of its own and is stopped with its group,
on error too, so nothing is left listening after a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.inbound.webhooks import server_env
from storage.database import migrate_blocking

STARTUP_SECONDS = 90.0


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def trygg_command() -> list[str]:
    script = Path(sys.executable).with_name("trygg")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from trygg.cli import main; main()"]


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any TRYGG_ setting of its own, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRYGG_")}
    return env | dict(extra)


def _start(command: list[str], env: Mapping[str, str], folder: Path, name: str) -> Server:
    port = free_port()
    log = folder / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=dict(env),
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def _wait_healthy(servers: Sequence[Server]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    for server in servers:
        while True:
            if server.process.poll() is not None:
                tail = server.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{server.url} exited at start:\n{tail}")
            with (
                suppress(OSError),
                urllib.request.urlopen(server.url + "/healthz", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.url} did not become healthy")
            time.sleep(0.2)


def stop(servers: Sequence[Server]) -> None:
    for server in servers:
        with suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        _wait_healthy(servers)
        yield servers
    finally:
        stop(servers)


@contextmanager
def ours(count: int, database_url: str, folder: Path) -> Iterator[list[Server]]:
    """``count`` × ``trygg serve --no-worker`` on one database, all channels on."""
    env = _clean_env(
        server_env(free_port())  # nothing listens there: no reply ever leaves
        | {"TRYGG_DATABASE_URL": database_url, "TRYGG_SECRET_KEY": "bench-" + "k" * 40}
    )
    command = [*trygg_command(), "serve", "--no-worker"]
    servers: list[Server] = []
    try:
        # The first migrates the database; the others then start on a ready schema (they
        # would wait on the migration lock anyway).
        servers.append(_start(command, env, folder, "trygg"))
        _wait_healthy(servers)
        servers.extend(_start(command, env, folder, "trygg") for _ in range(count - 1))
    except BaseException:
        stop(servers)
        raise
    with running(servers) as started:
        yield started


@contextmanager
def bare(count: int, folder: Path) -> Iterator[list[Server]]:
    command = [sys.executable, "-m", "benchmarks.inbound.bare"]
    servers: list[Server] = []
    try:
        servers.extend(_start(command, _clean_env({}), folder, "bare") for _ in range(count))
    except BaseException:
        stop(servers)
        raise
    with running(servers) as started:
        yield started


@contextmanager
def floor(count: int, database_url: str, folder: Path) -> Iterator[list[Server]]:
    """``count`` × the floor reference (``floor.py``) on one migrated PostgreSQL database."""
    migrate_blocking(database_url)
    command = [sys.executable, "-m", "benchmarks.inbound.floor"]
    env = _clean_env({"TRYGG_DATABASE_URL": database_url})
    servers: list[Server] = []
    try:
        servers.extend(_start(command, env, folder, "floor") for _ in range(count))
    except BaseException:
        stop(servers)
        raise
    with running(servers) as started:
        yield started


def load(servers: Sequence[Server], options: Mapping[str, object]) -> dict[str, Any]:
    """Run the load generator against ``servers``; its JSON result."""
    command = [sys.executable, "-m", "benchmarks.inbound.load"]
    command += ["--targets", ",".join(server.url for server in servers)]
    command += ["--pids", ",".join(str(server.process.pid) for server in servers)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- PostgreSQL: a database of its own per run ---------------------------------------------


async def _admin(url: str, statements: Sequence[str]) -> list[Any]:
    """Each statement's single value (None for those that return no rows)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    values: list[Any] = []
    try:
        async with engine.connect() as connection:
            for sql in statements:
                result = await connection.execute(text(sql))
                values.append(result.scalar() if result.returns_rows else None)
    finally:
        await engine.dispose()
    return values


@contextmanager
def postgres_database(cluster_url: str) -> Iterator[str]:
    """A new, empty database on the cluster of ``cluster_url``, dropped afterwards."""
    name = "trygg_inbound_" + secrets.token_hex(6)
    asyncio.run(_admin(cluster_url, [f"CREATE DATABASE {name}"]))
    try:
        url = make_url(cluster_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(cluster_url, [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]))


def run_sql(url: str, statements: Sequence[str]) -> list[Any]:
    """Each statement's single value, on the database of ``url``."""
    return asyncio.run(_admin(url, statements))


def postgres_settings(url: str) -> dict[str, str]:
    """Whether commits are durable on this cluster (a throwaway test cluster may not be)."""
    names = ("fsync", "synchronous_commit", "server_version")
    values = asyncio.run(_admin(url, [f"SHOW {name}" for name in names]))
    return {name: str(value) for name, value in zip(names, values, strict=True)}
