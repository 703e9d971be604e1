"""Small-cell suppression of the time tables, where counts are crossed.

The page counts respondents per time bucket (the *time totals*), per source, channel and
language (each breakdown's *key totals*), and per bucket and key (one two-way *grid* per
breakdown). In a grid, a row adds up to its time total and a column to its key total,
so a reader can combine lines: a column whose shown cells already make its total shows
its hidden cells to be 0, and a row whose other hidden cells are 0 then gives its last
hidden cell away. So, beyond ``small_cells.hide_line``:

- every line with a known total (a shown margin) must hide either nothing, or cells that
  together hold 0 or at least 5 people, and never only one cell that holds anyone;
- a grid line that cannot keep that (nothing shown is left to hide in it) gets its
  total hidden instead, and that margin is checked again as a line of its own;
- the margins must keep the export's rule too (never exactly one hidden cell).

All three grids are decided together, whichever the page shows, so that choosing
another breakdown never shows a time total or a key total differently: two views of the
same filters could otherwise be combined.

This is a careful heuristic, as the export's rule is, not a proof against every
combination of lines; it stops the differences a reader can take by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trygg.staff.small_cells import MIN_CELL, Cell, cell, hide_next, needs_more


@dataclass(frozen=True)
class Breakdown:
    keys: list[int]  # each key's total
    grid: list[list[int]]  # one row per time bucket, one column per key


@dataclass(frozen=True)
class CrossedCells:
    times: list[Cell]
    keys: dict[str, list[Cell]]
    grids: dict[str, list[list[Cell]]]


def _settle_margin(values: Sequence[int], hidden: list[bool]) -> bool:
    """A margin adds up to the page's total, which is shown. Whether it changed."""
    changed = False
    while needs_more(values, hidden, crossed=True, export=True) and hide_next(values, hidden):
        changed = True
    return changed


def _settle_inner(values: Sequence[int], hidden: list[bool]) -> tuple[bool, bool]:
    """A grid line with a shown total: whether it changed, and whether it is stuck (it
    still gives something away and has nothing shown left to hide)."""
    changed = False
    while needs_more(values, hidden, crossed=True):
        if not hide_next(values, hidden):
            return changed, True
        changed = True
    return changed, False


def _settle_grid(
    part: Breakdown, hidden: list[list[bool]], times_hidden: list[bool], keys_hidden: list[bool]
) -> bool:
    changed = False
    for row, (values, flags) in enumerate(zip(part.grid, hidden, strict=True)):
        if times_hidden[row]:
            continue
        moved, stuck = _settle_inner(values, flags)
        if stuck:
            times_hidden[row] = True
        changed = changed or moved or stuck
    for column, total_hidden in enumerate(keys_hidden):
        if total_hidden:
            continue
        values = [line[column] for line in part.grid]
        flags = [line[column] for line in hidden]
        moved, stuck = _settle_inner(values, flags)
        for line, flag in zip(hidden, flags, strict=True):
            line[column] = flag
        if stuck:
            keys_hidden[column] = True
        changed = changed or moved or stuck
    return changed


def hide_crossed(times: Sequence[int], breakdowns: Mapping[str, Breakdown]) -> CrossedCells:
    """The time totals, each breakdown's key totals and grid, hidden together.

    Hiding only ever grows, so the loop ends."""
    times_hidden = [value < MIN_CELL for value in times]
    _settle_margin(times, times_hidden)
    keys_hidden: dict[str, list[bool]] = {}
    grids_hidden: dict[str, list[list[bool]]] = {}
    for name, part in breakdowns.items():
        keys_hidden[name] = [value < MIN_CELL for value in part.keys]
        _settle_margin(part.keys, keys_hidden[name])
        grids_hidden[name] = [[value < MIN_CELL for value in row] for row in part.grid]
    changed = True
    while changed:
        changed = False
        for name, part in breakdowns.items():
            changed |= _settle_grid(part, grids_hidden[name], times_hidden, keys_hidden[name])
        changed |= _settle_margin(times, times_hidden)
        for name, part in breakdowns.items():
            changed |= _settle_margin(part.keys, keys_hidden[name])
    return CrossedCells(
        times=_cells(times, times_hidden),
        keys={name: _cells(part.keys, keys_hidden[name]) for name, part in breakdowns.items()},
        grids={
            name: [
                _cells(row, flags) for row, flags in zip(part.grid, grids_hidden[name], strict=True)
            ]
            for name, part in breakdowns.items()
        },
    )


def _cells(values: Sequence[int], hidden: Sequence[bool]) -> list[Cell]:
    return [cell(value, is_hidden) for value, is_hidden in zip(values, hidden, strict=True)]
