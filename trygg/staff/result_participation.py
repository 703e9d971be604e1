"""Who took part, how far they got, and when: the counts as the page shows them.

Every table here is built from ``aggregates.Counts`` and hidden as ``small_cells``
describes: each is a partition of the page's total (at least 5, so shown), or of a
count another table shows or hides.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from trygg.staff.aggregates import ACTIVE, COMPLETED, ENDED, Counts
from trygg.staff.crossed_cells import Breakdown, hide_crossed
from trygg.staff.result_filters import Filters
from trygg.staff.result_questions import Questionnaire
from trygg.staff.small_cells import (
    Cell,
    hide_each,
    hide_line,
    shown_total,
)

SHORT_MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun",
                "jul", "aug", "sep", "okt", "nov", "dec")  # fmt: skip
DAYS_PER_DAY_CHART = 42  # a longer range is counted per ISO week
DAYS_PER_WEEK_CHART = 730  # and a range longer than that per month
LONGEST_RANGE = 5 * 366  # days; a longer range typed in the form is cut to the data
BEFORE_FIRST = "Före första frågan"
Key = TypeVar("Key", bound=str | None)  # a category's id: a source may be None


@dataclass(frozen=True)
class CountRow:
    key: str | None
    label: str
    cell: Cell


@dataclass(frozen=True)
class CountTable:
    rows: list[CountRow]
    total: Cell

    def bars(self) -> list[tuple[str, Cell]]:
        return [(row.label, row.cell) for row in self.rows]


def partition(
    categories: Sequence[tuple[Key, str]], values: Mapping[Key, int], total: Cell
) -> CountTable:
    """Categories that add up to ``total``, each with its share of it."""
    numbers = [values.get(key, 0) for key, _ in categories]
    cells = hide_line(numbers, total)
    rows = [
        CountRow(key, label, found.with_share_of(total))
        for (key, label), found in zip(categories, cells, strict=True)
    ]
    return CountTable(rows, total)


def status_table(counts: Counts) -> CountTable:
    categories = [
        (COMPLETED, "Svarade klart"),
        (ACTIVE, "Svarar fortfarande"),
        (ENDED, "Slutade innan de var klara"),
    ]
    return partition(categories, counts.by_status, shown_total(counts.total))


# -- over time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: dt.date
    label: str  # in the table: 2026-11-24, v. 48 2026, nov 2026
    short: str  # under a column: 24/11, v48, nov


@dataclass(frozen=True)
class Series:
    key: str | None
    label: str
    total: Cell
    cells: list[Cell]  # one per bucket


@dataclass(frozen=True)
class Timeline:
    unit: str  # "dag", "vecka" or "månad"
    buckets: list[Bucket]
    totals: list[Cell]  # everyone, per bucket
    series: list[Series]  # the chosen breakdown's keys whose total is shown

    def columns(self, cells: list[Cell]) -> list[tuple[str, Cell]]:
        return [(bucket.short, each) for bucket, each in zip(self.buckets, cells, strict=True)]

    @property
    def largest(self) -> int:
        """The largest shown count of any series: the small multiples share one scale,
        so their heights compare."""
        return max((each.count or 0 for item in self.series for each in item.cells), default=0)


def bucket_of(day: dt.date, unit: str) -> dt.date:
    if unit == "vecka":
        return day - dt.timedelta(days=day.weekday())
    if unit == "månad":
        return day.replace(day=1)
    return day


def _bucket(start: dt.date, unit: str) -> Bucket:
    if unit == "vecka":
        year, week, _ = start.isocalendar()
        return Bucket(start, f"v. {week} {year}", f"v{week}")
    if unit == "månad":
        month = SHORT_MONTHS[start.month - 1]
        return Bucket(start, f"{month} {start.year}", month)
    return Bucket(start, start.isoformat(), f"{start.day}/{start.month}")


def _buckets(first: dt.date, last: dt.date) -> tuple[str, list[Bucket]]:
    span = (last - first).days
    if span < DAYS_PER_DAY_CHART:
        unit = "dag"
    else:
        unit = "vecka" if span < DAYS_PER_WEEK_CHART else "månad"
    starts: list[dt.date] = []
    day = bucket_of(first, unit)
    while day <= last:
        starts.append(day)
        if unit == "månad":
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            day += dt.timedelta(days=7 if unit == "vecka" else 1)
    return unit, [_bucket(start, unit) for start in starts]


@dataclass(frozen=True)
class Participation:
    dimensions: dict[str, CountTable]  # "source", "channel", "language"
    timeline: Timeline


def participation(
    counts: Counts,
    filters: Filters,
    categories: Mapping[str, Sequence[tuple[str | None, str]]],
) -> Participation:
    """Respondents per source, channel and language, and per local day, week or month:
    in total and per key of the chosen breakdown (keys whose total is shown).

    The three breakdowns over time are hidden together (``crossed_cells``), so the key
    totals here are the same whichever breakdown the page shows."""
    per_day: dict[str, Counter[tuple[dt.date, str | None]]] = {
        name: Counter() for name in categories
    }
    for (day, source, channel, language), number in counts.by_day.items():
        for name, key in (("source", source), ("channel", channel), ("language", language)):
            per_day[name][(day, key)] += number
    days = sorted({day for day, _ in per_day["source"]})
    first = filters.date_from or days[0]
    last = filters.date_to or days[-1]
    if (last - first).days > LONGEST_RANGE:
        # A range of decades would be hundreds of empty columns: the data's own span.
        first, last = max(first, days[0]), min(last, days[-1])
    unit, buckets = _buckets(first, last)
    position = {bucket.start: index for index, bucket in enumerate(buckets)}
    parts: dict[str, Breakdown] = {}
    for name, keys in categories.items():
        column = {key: index for index, (key, _) in enumerate(keys)}
        grid = [[0] * len(keys) for _ in buckets]
        for (day, key), number in per_day[name].items():
            grid[position[bucket_of(day, unit)]][column[key]] += number
        parts[name] = Breakdown(
            [sum(row[index] for row in grid) for index in column.values()], grid
        )
    times = [sum(row) for row in parts["source"].grid]
    hidden = hide_crossed(times, parts)
    total = shown_total(counts.total)
    dimensions = {
        name: CountTable(
            [
                CountRow(key, label, found.with_share_of(total))
                for (key, label), found in zip(keys, hidden.keys[name], strict=True)
            ],
            total,
        )
        for name, keys in categories.items()
    }
    chosen = categories[filters.by]
    series = [
        Series(key, label, found, [row[index] for row in hidden.grids[filters.by]])
        for index, ((key, label), found) in enumerate(
            zip(chosen, hidden.keys[filters.by], strict=True)
        )
        if not found.hidden
    ]
    return Participation(dimensions, Timeline(unit, buckets, hidden.times, series))


# -- how far people got --------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    key: str | None
    label: str
    answered: Cell | None  # None for the row before the first question
    ended_here: Cell
    active_here: Cell


def answered_cells(counts: Counts, questions: Questionnaire) -> dict[str, Cell]:
    """Per question, the people who answered it, with their share of everyone.

    These counts do not add up to anything (one person answers many questions), so only
    small ones are hidden. The people who did not answer are not a row of their own on
    this page: a question's results are about those who answered it."""
    ids = [question.id for question in questions.questions]
    ids += sorted(set(counts.answered) - set(ids))
    total = shown_total(counts.total)
    cells = hide_each([counts.answered.get(question_id, 0) for question_id in ids])
    return {
        question_id: found.with_share_of(total)
        for question_id, found in zip(ids, cells, strict=True)
    }


def step_table(
    counts: Counts, questions: Questionnaire, answered: dict[str, Cell], status: CountTable
) -> list[StepRow]:
    """Each question with who answered it and who stopped there (their last answered or
    skipped step), split into those who ended and those who may still go on. Each of
    those two columns is a partition of its row in the status table."""
    ids = list(answered)
    ids += sorted({step for step, _ in counts.last_steps if step and step not in answered})
    categories: list[tuple[str | None, str]] = [(None, BEFORE_FIRST)]
    categories += [(question_id, questions.question(question_id).label) for question_id in ids]
    status_cells = {row.key: row.cell for row in status.rows}
    stopped = {
        group: partition(
            categories,
            {step: n for (step, kind), n in counts.last_steps.items() if kind == group},
            status_cells[group],
        )
        for group in (ENDED, ACTIVE)
    }
    return [
        StepRow(
            key,
            label,
            answered.get(key) if key else None,
            stopped[ENDED].rows[index].cell,
            stopped[ACTIVE].rows[index].cell,
        )
        for index, (key, label) in enumerate(categories)
    ]
