"""Shared fixtures: the shipped library, and flows written inline for one test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from dialog_flows.library import Library, load_library
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Flow


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture
def make_flow() -> Callable[[str], Flow]:
    def make(yaml_text: str, file: str = "test.yaml") -> Flow:
        return load_flow_text(textwrap.dedent(yaml_text), file)

    return make
