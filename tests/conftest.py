"""Shared fixtures: the shipped library, and flows written inline for one test."""

from __future__ import annotations

import os
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dialog_flows.library import Library, load_library
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Flow
from trygg.service.runtime import Runtime


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for the browser tests of one module (tests/browser_support.py)."""
    from tests.browser_support import launched

    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture
def make_flow() -> Callable[[str], Flow]:
    def make(yaml_text: str, file: str = "test.yaml") -> Flow:
        return load_flow_text(textwrap.dedent(yaml_text), file)

    return make


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the throwaway PostgreSQL 15 database that scripts/test starts."""
    url = os.environ.get("TRYGG_TEST_POSTGRES_URL")
    if url:
        return url
    message = (
        "TRYGG_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a "
        "throwaway PostgreSQL cluster (scripts/postgres-cluster) and sets it"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; in CI, skipping the PostgreSQL tests is a failure", pytrace=False)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage and service test runs on both databases."""
    if request.param == "sqlite":
        from tests.service_helpers import sqlite_url

        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    """A real runtime (shipped flows, migrated database, vault) with a movable clock."""
    from tests.service_helpers import Clock, drop_runtime, make_runtime

    clock = Clock()
    built = await make_runtime(database_url, clock)
    try:
        yield built
    finally:
        await drop_runtime(built)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every test must run: a skip (no PostgreSQL, no Chromium) fails the run."""
    if os.environ.get("CI") != "true" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; in CI that is a failure", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
