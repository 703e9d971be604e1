"""Choice questions, place ratings and demographics as the page shows them.

A question's choices are counted among the people who answered it; that count comes
from ``result_participation.answered_cells``, so every table that shows it hides it the
same way. A single choice's answers add up to the people who
answered (a partition); a multiple choice's do not (one person may tick several), so
only its small counts are hidden, and its shares are of the people who answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dialog_flows.model import PLACE_RATINGS, StepKind
from trygg.staff.aggregates import Counts
from trygg.staff.result_participation import CountRow, CountTable, partition
from trygg.staff.result_questions import CHOICE_KINDS, DEMOGRAPHICS, Question, Questionnaire
from trygg.staff.small_cells import Cell, hide_each

OTHER_ANSWER = "Annat svar"  # a stored value no choice has any more (an older flow)
SAFE, NO_OPINION, UNSAFE = PLACE_RATINGS


@dataclass(frozen=True)
class ChoiceResult:
    question: Question
    table: CountTable  # the choices; its total is the people who answered

    @property
    def answered(self) -> Cell:
        return self.table.total


def choice_result(question: Question, counts: Counts, answered: Cell) -> ChoiceResult:
    found: Mapping[str, int] = counts.choices.get(question.id, {})
    known = list(question.choices)
    ids = {key for key, _ in known}
    categories = [*known, *((key, key) for key in sorted(set(found) - ids))]
    values = {key: found.get(key, 0) for key, _ in categories}
    if question.multiple:
        cells = hide_each([values[key] for key, _ in categories])
        rows = [
            CountRow(key, label, each.with_share_of(answered))
            for (key, label), each in zip(categories, cells, strict=True)
        ]
        return ChoiceResult(question, CountTable(rows, answered))
    # The answers add up to the people who answered; a value that names no choice (kept
    # from an older flow's odd answer) is "another answer", so the sum still holds.
    other = counts.answered.get(question.id, 0) - sum(values.values())
    if other > 0:
        categories.append(("", OTHER_ANSWER))
        values[""] = other
    return ChoiceResult(question, partition(categories, values, answered))


def choice_results(
    counts: Counts, questions: Questionnaire, answered: dict[str, Cell]
) -> list[ChoiceResult]:
    """Every choice question but the demographics, as the flows ask them."""
    return [
        choice_result(question, counts, answered[question.id])
        for question in questions.of_kind(*CHOICE_KINDS)
        if question.id not in DEMOGRAPHICS
    ]


def demographics(
    counts: Counts, questions: Questionnaire, answered: dict[str, Cell]
) -> list[ChoiceResult]:
    found = [questions.question(question_id) for question_id in DEMOGRAPHICS]
    return [
        choice_result(question, counts, answered[question.id])
        for question in found
        if question.kind is StepKind.SINGLE_CHOICE
    ]


@dataclass(frozen=True)
class PlaceResult:
    question: Question
    result: ChoiceResult  # green, yellow, red among those who rated the place
    rank: int | None  # 1: the largest shown share of "unsafe"; None: cannot be ranked

    def rating(self, rating: str) -> CountRow:
        for row in self.result.table.rows:
            if row.key == rating:
                return row
        raise KeyError(rating)

    def segments(self) -> list[tuple[str, str, Cell]]:
        """Unsafe first, as the ranking reads: (rating, its name, its cell)."""
        rows = [self.rating(rating) for rating in (UNSAFE, NO_OPINION, SAFE)]
        return [(str(row.key), row.label, row.cell) for row in rows]


def place_results(
    counts: Counts, questions: Questionnaire, answered: dict[str, Cell]
) -> list[PlaceResult]:
    """The places, most unsafe first: by the share who rated it unsafe (red), then the
    smaller share who rated it safe. A place whose unsafe share is hidden cannot be
    ranked without giving it away, so those come last, in the flow's order."""
    results = [
        choice_result(question, counts, answered[question.id])
        for question in questions.of_kind(StepKind.PLACE_RATING)
    ]

    def order(item: tuple[int, ChoiceResult]) -> tuple[bool, float, float, int]:
        index, result = item
        shares = {row.key: row.cell.share for row in result.table.rows}
        unsafe, safe = shares.get(UNSAFE), shares.get(SAFE)
        return (unsafe is None, -(unsafe or 0.0), 1.0 if safe is None else safe, index)

    ranked = sorted(enumerate(results), key=order)
    places: list[PlaceResult] = []
    for position, (_, result) in enumerate(ranked, start=1):
        unsafe = next((row.cell.share for row in result.table.rows if row.key == UNSAFE), None)
        rank = position if unsafe is not None else None
        places.append(PlaceResult(result.question, result, rank))
    return places
