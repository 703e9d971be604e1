"""The inbound benchmark's machinery at a tiny size: the scripts move people through the
questionnaire, the signed webhooks are accepted, every acknowledged message is in the
database once, the figures are built, and no server is left running. No speed is asserted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.inbound import figures_of, servers
from benchmarks.inbound.webhooks import CHANNELS, script
from dialog_flows.library import load_library
from trygg.settings import Settings

TINY = {"people": 12, "concurrency": 4, "warmup": 0.5, "duration": 1.5}


def test_every_script_ends_the_questionnaire() -> None:
    settings = Settings()
    library = load_library([settings.flows_dir], settings.locales_dir)
    for channel in CHANNELS:
        for language in ("sv", "ar"):
            said = script(library, channel, language)  # raises if the flow never ends
            assert said[0].kind == "start"
            assert len(said) > 10


def test_a_tiny_run_adds_up(tmp_path: Path) -> None:
    database = tmp_path / "inbound.db"
    with servers.bare(1, tmp_path) as started:
        bare = servers.load(started, TINY)
        bare_processes = [server.process for server in started]
    with servers.ours(1, f"sqlite+aiosqlite:///{database}", tmp_path) as started:
        ours = servers.load(started, TINY)
        our_processes = [server.process for server in started]
    for process in bare_processes + our_processes:
        assert process.poll() is not None, "a server was left running"

    phases = ours["phases"]
    assert set(phases) == {"closed", "open_0.5", "open_0.9"}
    assert all(not phase["failed"] for phase in phases.values()), phases
    assert not ours["warmup"]["failed"]
    assert phases["closed"]["ok"] > 0 and phases["closed"]["rate"] > 0
    acknowledged = ours["warmup"]["ok"] + sum(phase["ok"] for phase in phases.values())
    with sqlite3.connect(database) as db:
        (keys,) = db.execute("SELECT count(*) FROM inbound_keys").fetchone()
        (respondents,) = db.execute("SELECT count(*) FROM respondents").fetchone()
        (completed,) = db.execute(
            "SELECT count(*) FROM respondents WHERE status = 'completed'"
        ).fetchone()
        (answers,) = db.execute("SELECT count(*) FROM answers").fetchone()
    # Every acknowledged webhook was recorded once; everyone who wrote has a respondent.
    assert keys == acknowledged
    assert TINY["people"] <= respondents <= ours["people"]["created"]
    assert completed == ours["people"]["completed"]
    assert answers > 0

    figures = figures_of("sqlite", 1, ours, bare, "test")
    assert figures[0].unit == "msg/s" and figures[0].reference and figures[0].ratio
    assert [f.name.split(": ")[1].split(" at ")[0] for f in figures[1:]] == [
        "p50 latency",
        "p99 latency",
        "p50 latency",
        "p99 latency",
    ]
    assert figures[2].target is not None and figures[2].met is not None
