"""Benchmark 2 (the peer) at a tiny size: its machinery works and its counts add up.

No speed is asserted: only that both bots took everyone through the questionnaire from
the same updates, that what each kept after kill -9 is counted, and that no process is
left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.peer import Size, figures, measure
from benchmarks.peer.people import ANSWERS_PER_PERSON, UPDATES_PER_PERSON, bodies

PEOPLE = 4


def _children() -> list[str]:
    pid = os.getpid()
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_updates_are_the_same_for_both_and_unique() -> None:
    everyone = bodies(PEOPLE)
    assert [len(person) for person in everyone] == [UPDATES_PER_PERSON] * PEOPLE
    assert sum(answer for person in everyone for _, answer in person) == PEOPLE * 13
    assert len({body for person in everyone for body, _ in person}) == PEOPLE * UPDATES_PER_PERSON


def test_peer_benchmark_runs_and_adds_up() -> None:
    before = _children()
    found = measure(Size(PEOPLE, 2))
    answers = PEOPLE * ANSWERS_PER_PERSON
    for outcome in (found.trygg, found.peer, found.documented):
        assert outcome.load["errors"] == 0
        assert outcome.load["acknowledged"] == PEOPLE * UPDATES_PER_PERSON
        assert outcome.load["answers_acknowledged"] == answers
        assert outcome.rss_mb > 10
        assert outcome.api_errors == 0
    # Both peers handled everyone in memory, and the Bot API accepted every call ...
    for peer in (found.peer, found.documented):
        assert peer.handled["completed"] == PEOPLE
        assert peer.handled["answers"] == answers
    # ... but a run shorter than PicklePersistence's 60 s interval leaves nothing on disk,
    assert found.peer.kept["answers"] == 0
    # while Trygg committed every acknowledged answer.
    assert found.trygg.kept == {"respondents": PEOPLE, "completed": PEOPLE, "answers": answers}
    table = figures(found)
    assert len(table) == 9
    assert all(figure.value >= 0 for figure in table)
    assert _children() == before  # every server and driver process is gone
