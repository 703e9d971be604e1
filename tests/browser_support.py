"""Debian's Chromium for the browser tests, launched headless through Playwright; the
``browser`` fixture in conftest.py gives one per test module."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def launched() -> Iterator[Browser]:
    """Chromium, or a skip where it is missing; in CI (CI=true) missing is a failure."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install it with scripts/install-browser"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; in CI, skipping the browser tests is a failure")
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
