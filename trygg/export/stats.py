"""Participant statistics, with small counts suppressed so no person can be singled out.

Statistics count participants per source, channel, language, age group and gender, and
how many of them completed. A count under the threshold N is shown as ``<N``, never as
the number. When a column would hide only one count, the total minus the others would
give it away, so the next smallest count is hidden too, shown as ``x``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialog_flows.languages import english_name
from dialog_flows.library import Library
from dialog_flows.model import Flow, Step
from dialog_flows.questions import choice_label
from trygg.export.flows import SOURCE_ONLY, campaign_flows, selected_campaigns
from trygg.export.rows import ResponseExport, collect
from trygg.export.tables import MULTIPLE_SEPARATOR
from trygg.service.runtime import Runtime

CHANNELS = ("telegram", "sms", "facebook", "web", "console")
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "sms": "SMS",
    "facebook": "Messenger",
    "web": "Web chat",
    "console": "Terminal (trygg chat)",
}
DEFAULT_MIN_CELL = 5
HIDDEN = "x"  # a count hidden only so that a small one cannot be worked out from the total


@dataclass(frozen=True)
class StatRow:
    key: str | None  # None: no source, or the question not answered
    label: str
    respondents: int | str  # a count, or "<N" when hidden
    completed: int | str


@dataclass(frozen=True)
class StatTable:
    name: str
    title: str
    rows: list[StatRow]
    total_respondents: int | str
    total_completed: int | str


@dataclass(frozen=True)
class Stats:
    campaign: str | None
    min_cell: int
    tables: list[StatTable]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "min_cell": self.min_cell,
            "counted": "respondents whose dialog was not restarted",
            "legend": {
                f"<{self.min_cell}": f"fewer than {self.min_cell}, hidden",
                HIDDEN: "hidden so that a small count cannot be worked out from the total",
            },
            "tables": [
                {
                    "name": item.name,
                    "title": item.title,
                    "rows": [
                        {
                            "key": row.key,
                            "label": row.label,
                            "respondents": row.respondents,
                            "completed": row.completed,
                        }
                        for row in item.rows
                    ],
                    "total": {
                        "respondents": item.total_respondents,
                        "completed": item.total_completed,
                    },
                }
                for item in self.tables
            ],
        }


# -- suppression ---------------------------------------------------------------------------


def suppress(values: Sequence[int], total: int, min_cell: int) -> tuple[list[bool], bool]:
    """Which cells of one column (and whether its total) to hide.

    A cell under ``min_cell`` is hidden. If that leaves exactly one hidden cell, the
    total minus the shown cells would give it away, so the next smallest cell is hidden
    too (or the total, when there is no other cell)."""
    hidden = [value < min_cell for value in values]
    total_hidden = total < min_cell
    return _complement(values, hidden, total_hidden)


def _complement(
    values: Sequence[int], hidden: list[bool], total_hidden: bool
) -> tuple[list[bool], bool]:
    hidden = list(hidden)
    if not total_hidden and sum(hidden) == 1:
        shown = [index for index, is_hidden in enumerate(hidden) if not is_hidden]
        if shown:
            hidden[min(shown, key=lambda index: (values[index], index))] = True
        else:
            total_hidden = True
    return hidden, total_hidden


def _count_table(
    name: str,
    title: str,
    categories: list[tuple[str | None, str]],
    counted: list[tuple[str | None, bool]],
    min_cell: int,
) -> StatTable:
    known = {key for key, _ in categories}
    others = sorted({key for key, _ in counted if key not in known and key is not None})
    categories = [*categories, *((key, key) for key in others)]
    if any(key is None for key, _ in counted) and None not in known:
        categories.append((None, "(none)"))
    respondents = [sum(1 for key, _ in counted if key == cat) for cat, _ in categories]
    completed = [sum(1 for key, done in counted if key == cat and done) for cat, _ in categories]
    total, total_done = len(counted), sum(1 for _, done in counted if done)
    hidden, total_hidden = suppress(respondents, total, min_cell)
    # completed <= respondents: a shown completed count would bound a hidden one.
    done_hidden = [h or value < min_cell for h, value in zip(hidden, completed, strict=True)]
    done_hidden, done_total_hidden = _complement(completed, done_hidden, total_done < min_cell)
    rows = [
        StatRow(
            key,
            label,
            _shown(respondents[index], hidden[index], min_cell),
            _shown(completed[index], done_hidden[index], min_cell),
        )
        for index, (key, label) in enumerate(categories)
    ]
    return StatTable(
        name,
        title,
        rows,
        _shown(total, total_hidden, min_cell),
        _shown(total_done, done_total_hidden, min_cell),
    )


def _shown(value: int, hidden: bool, min_cell: int) -> int | str:
    """The count, ``<N`` for a small one, or ``x`` for one hidden only so that a small
    one cannot be worked out (it is not small, so ``<N`` would be untrue)."""
    if not hidden:
        return value
    return f"<{min_cell}" if value < min_cell else HIDDEN


# -- counting ------------------------------------------------------------------------------


def _choices(flows: Sequence[Flow], question_id: str) -> list[tuple[str | None, str]]:
    categories: list[tuple[str | None, str]] = []
    seen: set[str] = set()
    for flow in flows:
        if not flow.has_step(question_id):
            continue
        step: Step = flow.step(question_id)
        for choice in step.choices:
            if choice.id not in seen:
                seen.add(choice.id)
                categories.append(
                    (
                        choice.id,
                        choice_label(SOURCE_ONLY, flow.source_language, flow, step, choice),
                    )
                )
    return categories


def _answer_key(value: Any) -> str | None:
    if value is None or value in ([], ""):
        return None
    if isinstance(value, list):
        return MULTIPLE_SEPARATOR.join(str(item) for item in value)
    return str(value)


def build_stats(
    export: ResponseExport,
    library: Library,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    campaign: str | None = None,
) -> Stats:
    """Counts of participants, a restarted dialog not counted twice (its person went on
    in a new one)."""
    rows = [row for row in export.rows if row["status"] != "restarted"]
    flows = campaign_flows(library, campaign)
    campaigns = selected_campaigns(library, campaign)
    done = [row["completed_at"] is not None for row in rows]

    def pairs(key: str) -> list[tuple[str | None, bool]]:
        return [(row[key], finished) for row, finished in zip(rows, done, strict=True)]

    def answers(question: str) -> list[tuple[str | None, bool]]:
        return [
            (_answer_key(row["answers"].get(question)), finished)
            for row, finished in zip(rows, done, strict=True)
        ]

    sources: list[tuple[str | None, str]] = []
    for item in campaigns:
        sources += [(s.id, s.name) for s in item.sources if s.id not in {k for k, _ in sources}]
    sources.append((None, "(no source)"))
    languages: list[str] = []
    for flow in flows:
        languages += [code for code in flow.languages if code not in languages]
    not_answered = (None, "(not answered)")
    tables = [
        _count_table("source", "Respondents per source", sources, pairs("source"), min_cell),
        _count_table(
            "channel",
            "Respondents per channel",
            [(channel, CHANNEL_NAMES[channel]) for channel in CHANNELS],
            pairs("channel"),
            min_cell,
        ),
        _count_table(
            "language",
            "Respondents per language",
            [(code, english_name(code)) for code in languages],
            pairs("language"),
            min_cell,
        ),
        _count_table(
            "age_group",
            "Respondents per age group",
            [*_choices(flows, "age_group"), not_answered],
            answers("age_group"),
            min_cell,
        ),
        _count_table(
            "gender",
            "Respondents per gender",
            [*_choices(flows, "gender"), not_answered],
            answers("gender"),
            min_cell,
        ),
    ]
    return Stats(campaign, min_cell, tables)


async def participant_stats(
    runtime: Runtime, *, min_cell: int = DEFAULT_MIN_CELL, campaign: str | None = None
) -> Stats:
    export = await collect(runtime.database, runtime.library, campaign=campaign)
    return build_stats(export, runtime.library, min_cell=min_cell, campaign=campaign)
