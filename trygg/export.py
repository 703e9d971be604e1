"""``trygg export``: the answers, one row per respondent, and participant statistics.

What goes out is what the ``respondents`` and ``answers`` tables hold: a random
respondent id, the campaign, flow and version, channel, language, source, times, status
and the answers by id. Nothing about contacts (addresses, preferences, the återkoppling)
is read here, so nothing about them can leak into a file.

Formats:

- **JSON**: an array of objects with the fields of ``shared/CONTRACT.md`` plus ``status``
  and ``last_step``. Values are raw: ids, lists of ids, text, numbers.
- **CSV**: one row per respondent, fixed columns then one column per question id, in the
  order the questions appear in the flows. Multiple choices are joined with ``;``. The
  file is plain UTF-8 (no byte order mark), which Excel may misread as another encoding:
  Excel users should take the XLSX export.
- **XLSX**: the same table on the sheet "Svar", and the Swedish question texts and
  choice labels on the sheet "Etiketter".

In CSV and XLSX, a text cell that begins with ``= + - @``, a tab or a carriage return gets
a leading ``'`` (OWASP's advice on CSV injection), so a spreadsheet shows free text such
as ``=HYPERLINK(...)`` as text instead of running it as a formula.

Statistics count participants per source, channel, language, age group and gender, and
how many of them completed. A count under the threshold N is shown as ``<N``, never as
the number. When a column would hide only one count, the total minus the others would
give it away, so the next smallest count is hidden too, shown as ``x``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dialog_flows.languages import english_name
from dialog_flows.library import Library
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Campaign, Flow, Step
from dialog_flows.problems import FlowError
from dialog_flows.questions import choice_label, step_text
from dialog_flows.translations import Translations
from storage.database import Database
from storage.models import Answer, FlowSnapshot, Respondent
from trygg.service.runtime import Runtime

CHANNELS = ("telegram", "sms", "facebook", "web", "console")
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "sms": "SMS",
    "facebook": "Messenger",
    "web": "Web chat",
    "console": "Terminal (trygg chat)",
}
FIXED_COLUMNS = (
    "respondent",
    "campaign",
    "flow",
    "flow_version",
    "channel",
    "language",
    "source",
    "status",
    "started_at",
    "completed_at",
    "last_step",
)
LABEL_COLUMNS = ("flow", "flow_version", "question_id", "question_text", "choice_id", "label")
RESPONSES_SHEET = "Svar"
LABELS_SHEET = "Etiketter"
MULTIPLE_SEPARATOR = ";"
DEFAULT_MIN_CELL = 5
HIDDEN = "x"  # a count hidden only so that a small one cannot be worked out from the total

# OWASP, CSV injection: cells starting with these are formulas in Excel, LibreOffice and
# Google Sheets. The full-width forms are included because some spreadsheets fold them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# XML 1.0 forbids these control characters; openpyxl refuses them in a cell.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_CELL_LIMIT = 32767
# No catalogs: every text in the flow's own source language (Swedish).
_SOURCE_ONLY = Translations()


# -- collecting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseExport:
    """The rows, the question columns in order, and the flows that label them."""

    rows: list[dict[str, Any]]
    questions: list[str]
    flows: list[Flow] = field(default_factory=list)


async def export_rows(runtime: Runtime, *, campaign: str | None = None) -> list[dict[str, Any]]:
    """One object per respondent (all campaigns, or one), oldest first."""
    return (await collect(runtime.database, runtime.library, campaign=campaign)).rows


async def collect(
    database: Database, library: Library, *, campaign: str | None = None
) -> ResponseExport:
    async with database.sessions() as session:
        query = select(Respondent).order_by(Respondent.started_at, Respondent.id)
        answer_query = (
            select(Answer.respondent_id, Answer.question_id, Answer.value)
            .join(Respondent, Respondent.id == Answer.respondent_id)
            .order_by(Answer.respondent_id, Answer.answered_at)
        )
        if campaign is not None:
            query = query.where(Respondent.campaign_id == campaign)
            answer_query = answer_query.where(Respondent.campaign_id == campaign)
        respondents = list((await session.execute(query)).scalars().all())
        answers: dict[str, dict[str, Any]] = {respondent.id: {} for respondent in respondents}
        for respondent_id, question_id, value in (await session.execute(answer_query)).all():
            if respondent_id in answers:
                answers[respondent_id][question_id] = _stored_value(value)
        used = {(r.flow_id, r.flow_version) for r in respondents}
        stored = await _stored_flows(session, used - set(library.flows))
    flows = _label_flows(library, campaign, used, stored)
    questions = question_order(_campaign_flows(library, campaign, used), answers.values())
    position = {question_id: index for index, question_id in enumerate(questions)}
    rows = [
        _row(respondent, dict(sorted(answers[respondent.id].items(), key=lambda a: position[a[0]])))
        for respondent in respondents
    ]
    return ResponseExport(rows, questions, flows)


def _stored_value(value: Any) -> Any:
    return value.get("v") if isinstance(value, dict) else value


async def _stored_flows(session: AsyncSession, pairs: set[tuple[str, int]]) -> list[Flow]:
    """Versions that left the folder: their stored source, for their labels."""
    if not pairs:
        return []
    query = select(FlowSnapshot).where(
        tuple_(FlowSnapshot.flow_id, FlowSnapshot.version).in_(sorted(pairs))
    )
    flows = []
    for snapshot in (await session.execute(query)).scalars():
        try:
            flows.append(
                load_flow_text(snapshot.source_text, f"{snapshot.flow_id} v{snapshot.version}")
            )
        except FlowError:
            continue  # a snapshot the current loader refuses: its ids still export, unlabelled
    return sorted(flows, key=lambda flow: (flow.id, -flow.version))


def _row(respondent: Respondent, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "respondent": respondent.id,
        "campaign": respondent.campaign_id,
        "flow": respondent.flow_id,
        "flow_version": respondent.flow_version,
        "channel": respondent.channel,
        "language": respondent.language.replace("_", "-"),
        "source": respondent.source or None,
        "status": respondent.status,
        "started_at": iso_utc(respondent.started_at),
        "completed_at": iso_utc(respondent.completed_at),
        "last_step": respondent.last_step,
        "answers": answers,
    }


def iso_utc(value: dt.datetime | None) -> str | None:
    """``2026-11-24T12:00:00Z``; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- which flows, in which order -----------------------------------------------------------


def _versions(library: Library, flow_id: str) -> list[Flow]:
    """Every version of a flow in the folder, newest first."""
    flows = [flow for (fid, _), flow in library.flows.items() if fid == flow_id]
    return sorted(flows, key=lambda flow: -flow.version)


def _campaigns(library: Library, campaign: str | None) -> list[Campaign]:
    return [c for c in library.campaigns if campaign is None or c.id == campaign]


def _campaign_flows(
    library: Library, campaign: str | None, used: Iterable[tuple[str, int]] = ()
) -> list[Flow]:
    """The campaigns' flows in the folder: each main flow first, then the sources' flows,
    then flows that respondents used but no campaign names any more."""
    ordered: list[Flow] = []
    seen: set[tuple[str, int]] = set()

    def add(flow_id: str) -> None:
        for flow in _versions(library, flow_id):
            if (flow.id, flow.version) not in seen:
                seen.add((flow.id, flow.version))
                ordered.append(flow)

    for item in _campaigns(library, campaign):
        add(item.flow)
        for source in item.sources:
            if source.flow:
                add(source.flow)
    for flow_id, _version in sorted(used):
        add(flow_id)
    return ordered


def _label_flows(
    library: Library, campaign: str | None, used: set[tuple[str, int]], stored: list[Flow]
) -> list[Flow]:
    flows = _campaign_flows(library, campaign, used)
    known = {(flow.id, flow.version) for flow in flows}
    return flows + [flow for flow in stored if (flow.id, flow.version) not in known]


def question_order(flows: Sequence[Flow], answers: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Question ids as the flows ask them (union, in the order given), then ids that only
    old versions had, sorted."""
    order: list[str] = []
    seen: set[str] = set()
    for flow in flows:
        for step in flow.steps:
            if step.answers and step.id not in seen:
                seen.add(step.id)
                order.append(step.id)
    extra = {question_id for given in answers for question_id in given} - seen
    return order + sorted(extra)


# -- JSON, CSV, XLSX -----------------------------------------------------------------------


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def to_json(rows: list[dict[str, Any]]) -> str:
    """The contract's JSON: an array with one object per respondent."""
    return json_text(rows)


def neutralise(text: str) -> str:
    """Keep spreadsheets from reading text as a formula (OWASP: prefix a single quote)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(value: Any) -> str | int | float | None:
    """One value as a spreadsheet cell: numbers stay numbers, every text is neutralised."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return neutralise(MULTIPLE_SEPARATOR.join(str(item) for item in value))
    if isinstance(value, dict):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(str(value))


def table(export: ResponseExport) -> tuple[list[str], list[list[str | int | float | None]]]:
    """The header and the cells of the CSV and of the sheet "Svar"."""
    header = [*FIXED_COLUMNS, *export.questions]
    cells = [
        [_cell(row[column]) for column in FIXED_COLUMNS]
        + [_cell(row["answers"].get(question)) for question in export.questions]
        for row in export.rows
    ]
    return header, cells


def to_csv(export: ResponseExport) -> str:
    """RFC 4180 CSV (comma, CRLF), plain UTF-8. For Excel, prefer the XLSX export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header, cells = table(export)
    writer.writerow(header)
    for row in cells:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def label_rows(flows: Sequence[Flow]) -> list[list[str | int | None]]:
    """Every question and choice with its Swedish text, for the sheet "Etiketter"."""
    rows: list[list[str | int | None]] = []
    for flow in flows:
        language = flow.source_language
        for step in flow.steps:
            if not step.answers:
                continue
            text = step_text(_SOURCE_ONLY, language, flow, step)
            if not step.choices:
                rows.append([flow.id, flow.version, step.id, text, None, None])
            for choice in step.choices:
                label = choice_label(_SOURCE_ONLY, language, flow, step, choice)
                rows.append([flow.id, flow.version, step.id, text, choice.id, label])
    return rows


def _xlsx_value(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, str):
        value = _XML_ILLEGAL.sub("", value)[:_EXCEL_CELL_LIMIT]
    return value


def to_xlsx(export: ResponseExport) -> bytes:
    """A workbook: "Svar" (as the CSV) and "Etiketter" (question texts and labels)."""
    # A slow import, for this format only; openpyxl ships no type hints (types-openpyxl).
    from openpyxl import Workbook  # type: ignore[import-untyped]  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]  # noqa: PLC0415

    workbook = Workbook()
    responses = workbook.active
    responses.title = RESPONSES_SHEET
    header, cells = table(export)
    labels = workbook.create_sheet(LABELS_SHEET)
    sheets = (
        (responses, header, cells, 40),
        (labels, list(LABEL_COLUMNS), label_rows(export.flows), 70),
    )
    for sheet, columns, body, widest in sheets:
        sheet.append(columns)
        for row in body:
            sheet.append([_xlsx_value(value) for value in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        if body:
            sheet.auto_filter.ref = sheet.dimensions
        _fit_columns(sheet, columns, body, widest)
    for row in labels.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fit_columns(sheet: Any, header: list[str], body: Sequence[Sequence[Any]], widest: int) -> None:
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]  # noqa: PLC0415

    for index, name in enumerate(header):
        longest = len(name)
        for row in body[:1000]:  # enough to judge; keeps big exports fast
            value = row[index]
            if value is not None:
                longest = max(longest, *(len(line) for line in str(value).split("\n")))
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest, longest + 2)


# -- participant statistics ----------------------------------------------------------------


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
                        choice_label(_SOURCE_ONLY, flow.source_language, flow, step, choice),
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
    flows = _campaign_flows(library, campaign)
    campaigns = _campaigns(library, campaign)
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
