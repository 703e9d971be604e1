"""The response table as CSV and XLSX, and the formula guard both share.

One row per respondent: fixed columns, then one column per question id in the order the
questions appear in the flows. Multiple choices are joined with ``;``. Right after each
free-text question comes ``<question>_tags``: the themes analysts tagged the answer with,
joined with ``; ``. The CSV is plain
UTF-8 (no byte order mark), which Excel may misread as another encoding: Excel users
should take the XLSX export, which holds the same table on the sheet "Svar" and the
Swedish question texts and choice labels on the sheet "Etiketter".

A text cell that begins with ``= + - @``, a tab or a carriage return gets a leading ``'``
(OWASP's advice on CSV injection), so a spreadsheet shows free text such as
``=HYPERLINK(...)`` as text instead of running it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from dialog_flows.model import Flow
from dialog_flows.questions import choice_label, step_text
from trygg.export.flows import SOURCE_ONLY, text_questions
from trygg.export.rows import ResponseExport

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
    "via",
)
LABEL_COLUMNS = ("flow", "flow_version", "question_id", "question_text", "choice_id", "label")
RESPONSES_SHEET = "Svar"
LABELS_SHEET = "Etiketter"
MULTIPLE_SEPARATOR = ";"
TAG_SEPARATOR = "; "
TAGS_SUFFIX = "_tags"

# OWASP, CSV injection: cells starting with these are formulas in Excel, LibreOffice and
# Google Sheets. The full-width forms are included because some spreadsheets fold them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# XML 1.0 forbids these control characters; openpyxl refuses them in a cell.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_CELL_LIMIT = 32767


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


def _tag_cell(tags: list[str] | None) -> str | None:
    return neutralise(TAG_SEPARATOR.join(tags)) if tags else None


def table(export: ResponseExport) -> tuple[list[str], list[list[str | int | float | None]]]:
    """The header and the cells of the CSV and of the sheet "Svar"."""
    # Text questions of the flows, and any question that has tags (from a flow version
    # that could not be read), so no tag is ever left out of the table.
    tagged = text_questions(export.flows) | {
        question for row in export.rows for question in row.get("tags", {})
    }
    header: list[str] = [*FIXED_COLUMNS]
    for question in export.questions:
        header += [question, question + TAGS_SUFFIX] if question in tagged else [question]
    cells = []
    for row in export.rows:
        line = [_cell(row[column]) for column in FIXED_COLUMNS]
        tags = row.get("tags", {})
        for question in export.questions:
            line.append(_cell(row["answers"].get(question)))
            if question in tagged:
                line.append(_tag_cell(tags.get(question)))
        cells.append(line)
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
            text = step_text(SOURCE_ONLY, language, flow, step)
            if not step.choices:
                rows.append([flow.id, flow.version, step.id, text, None, None])
            for choice in step.choices:
                label = choice_label(SOURCE_ONLY, language, flow, step, choice)
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
