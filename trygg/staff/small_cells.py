"""Small-cell suppression on the results page: the statistics export's rule, and more.

The rule:

- Any count of fewer than ``MIN_CELL`` (5) respondents is shown as "färre än 5", never as
  the number, and its bar is not drawn to scale (a hatched marker stands in for it).
- A table's cells that add up to a shown total (a *partition*: statuses, one question's
  choices, sources) get complementary suppression. First as
  ``trygg.export.stats.suppress`` does it: when only one cell would be hidden, the total
  minus the shown cells would give it away, so the next smallest cell is hidden too,
  shown as "dold" (hidden; it is not small, so "färre än 5" would be untrue). Then
  further: the hidden cells of a partition must add up to 0 or to at least 5, or the
  total minus the shown cells would tell how many people the small cells hold together
  (and, where other lines show the other hidden cells to be 0, one small cell's number).
  Until they do, the next smallest shown cell is hidden too.
- Partitions nest: a single-choice question's answers add up to the people who
  answered it; the ones who ended add up to the "ended" row of the status table. An
  inner partition whose total is hidden needs no complement of its own, because its
  total is not known. Counts that add up to nothing shown (the choices of a multiple
  choice, the people who answered each question) only hide the small ones.
- The people who did not answer a question are not a count of their own on the page:
  a question's results are about those who answered it.
- The time tables (buckets × source, channel or language) and their totals (the time
  series, and the participants per source, channel and language) are decided together,
  in ``crossed_cells``: there a line's hidden zeros may be shown to be 0 by the lines
  across it, so more is hidden.
- A share (percentage) is shown only when both its count and the count it is a share of
  are shown. A hidden count has no share, so no share gives it away.
- When the filtered total is under 5, the page shows nothing but that.
- What this does not stop: two views with different filters (one day more, one source
  less) are different tables, and their difference is not hidden. That holds for any
  statistics that can be filtered; the export, which cannot, has none of it.

A hidden count is dropped here: ``Cell.count`` is None, so no template or chart can
show it by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trygg.export.stats import DEFAULT_MIN_CELL, suppress

MIN_CELL = DEFAULT_MIN_CELL
SMALL_TEXT = f"färre än {MIN_CELL}"
HIDDEN_TEXT = "dold"
NBSP = "\u00a0"


def format_count(value: int) -> str:
    """Swedish digit grouping: 12 345, with a non-breaking space."""
    return f"{value:,}".replace(",", NBSP)


def format_share(share: float) -> str:
    """A whole percentage in Swedish typography: 45 %."""
    return f"{round(share * 100)}{NBSP}%"


@dataclass(frozen=True)
class Cell:
    """One count as the page may show it."""

    count: int | None  # None: hidden; the number itself never leaves this module
    small: bool = False  # hidden because it is under MIN_CELL (not only as a complement)
    share: float | None = None

    @property
    def hidden(self) -> bool:
        return self.count is None

    @property
    def text(self) -> str:
        if self.count is None:
            return SMALL_TEXT if self.small else HIDDEN_TEXT
        return format_count(self.count)

    @property
    def share_text(self) -> str:
        return "" if self.share is None else format_share(self.share)

    def with_share_of(self, whole: Cell) -> Cell:
        """This cell with its share of ``whole``, if both are shown."""
        if self.count is None or whole.count is None or whole.count == 0:
            return Cell(self.count, self.small)
        return Cell(self.count, self.small, self.count / whole.count)


def cell(value: int, hidden: bool) -> Cell:
    if hidden:
        return Cell(None, small=value < MIN_CELL)
    return Cell(value)


def shown_total(value: int) -> Cell:
    """A total that is shown by construction (the page's filtered total, at least 5)."""
    return Cell(value)


def needs_more(
    values: Sequence[int], hidden: Sequence[bool], *, crossed: bool = False, export: bool = False
) -> bool:
    """Whether a line with a known total gives away what it hides: hidden cells that hold
    1 to 4 people together; with ``export``, exactly one hidden cell (the export's rule);
    in a two-way table (``crossed``), only one hidden cell that holds anyone. There other
    lines may show the hidden zeros to be 0, and the one cell, hidden to protect a small
    cell of its other line, would be known."""
    shut = [value for value, is_hidden in zip(values, hidden, strict=True) if is_hidden]
    lone = (export and len(shut) == 1) or (crossed and sum(1 for value in shut if value) == 1)
    return lone or 0 < sum(shut) < MIN_CELL


def hide_next(values: Sequence[int], hidden: list[bool]) -> bool:
    """Hide the smallest shown cell; False when none is left."""
    shown = [place for place, is_hidden in enumerate(hidden) if not is_hidden]
    if not shown:
        return False
    hidden[min(shown, key=lambda place: (values[place], place))] = True
    return True


def hide_line(values: Sequence[int], total: Cell | None) -> list[Cell]:
    """One partition: ``values`` add up to ``total`` (None: the page's total, shown).

    With the total hidden, small cells are hidden and nothing more: the total is not
    known, so it cannot give away a cell."""
    if total is not None and total.hidden:
        return hide_each(values)
    hidden, _ = suppress(values, sum(values), MIN_CELL)
    while needs_more(values, hidden) and hide_next(values, hidden):
        pass
    return [cell(value, is_hidden) for value, is_hidden in zip(values, hidden, strict=True)]


def hide_each(values: Sequence[int]) -> list[Cell]:
    """Counts that do not add up to anything shown (the choices of a multiple-choice
    question: one person may tick several), so only small ones are hidden."""
    return [cell(value, value < MIN_CELL) for value in values]
