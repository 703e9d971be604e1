"""The inbound benchmark's machinery at a tiny size: the scripts move people through the
questionnaire, the signed webhooks are accepted, every acknowledged message is in the
database once, the figures are built, and no server is left running. No speed is asserted.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from benchmarks.inbound import figures_of, floor_figures, servers
from benchmarks.inbound.webhooks import CHANNELS, script
from dialog_flows.library import load_library
from trygg.settings import Settings

POSTGRES = os.environ.get("TRYGG_TEST_POSTGRES_URL")
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


@pytest.mark.skipif(POSTGRES is None, reason="TRYGG_TEST_POSTGRES_URL is not set")
def test_the_floor_does_each_messages_writes_once(tmp_path: Path) -> None:
    """The floor reference (the same SQL through a bare asyncpg pool) writes one dedup key,
    one outbox row and one answer per acknowledged message, like ours."""
    assert POSTGRES is not None
    with servers.postgres_database(POSTGRES) as url:
        with servers.floor(1, url, tmp_path) as started:
            floor = servers.load(started, TINY | {"fractions": ""})
            processes = [server.process for server in started]
        counts = servers.run_sql(
            url,
            [
                "SELECT count(*) FROM inbound_keys",
                "SELECT count(*) FROM outbox",
                "SELECT count(*) FROM answers",
                "SELECT count(DISTINCT contact_id) FROM dialogs",
            ],
        )
    assert all(process.poll() is not None for process in processes)
    phases = floor["phases"]
    assert set(phases) == {"closed"} and not phases["closed"]["failed"]
    acknowledged = floor["warmup"]["ok"] + phases["closed"]["ok"]
    keys, outbox, answers, people = counts
    assert keys == outbox == answers == acknowledged
    assert 0 < people <= floor["people"]["created"]
    bare = {"phases": {"closed": {"rate": 2 * phases["closed"]["rate"]}}}
    lowest, ours = floor_figures(1, {"phases": {"closed": {"rate": 1.0}}}, floor, bare)
    assert lowest.ratio == pytest.approx(0.5, abs=0.01)
    assert ours.reference == round(phases["closed"]["rate"], 1)
