"""``python -m benchmarks``: one benchmark that fails does not cost the others' figures."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

import benchmarks.__main__ as runner
from tests.benchmarks import runner_samples


def test_a_failing_benchmark_is_reported_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = types.ModuleType("tests.benchmarks.runner_broken")
    broken.run = runner_samples.broken.run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests.benchmarks.runner_broken", broken)
    monkeypatch.setattr(
        runner,
        "BENCHMARKS",
        {"first": "tests.benchmarks.runner_broken", "second": "tests.benchmarks.runner_samples"},
    )
    results = tmp_path / "latest.json"
    monkeypatch.setattr(runner, "RESULTS", results)
    assert runner.main(["--size", "quick"]) == 1
    saved = json.loads(results.read_text())["figures"]
    assert [(f["benchmark"], f["name"], f["met"]) for f in saved] == [
        ("first", "failed", False),
        ("sample", "quick measure", None),
    ]
    assert saved[1]["ratio"] == 0.5
    err = capsys.readouterr().err
    assert "the fake provider did not start" in err and "== second (quick)" in err
