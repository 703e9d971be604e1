"""``trygg export``: the answers, one row per respondent, and participant statistics.

What goes out is what the ``respondents`` and ``answers`` tables hold: a random
respondent id, the campaign, flow and version, channel, language, source, times, status
and the answers by id. Nothing about contacts (addresses, preferences, the återkoppling)
is read here, so nothing about them can leak into a file.

Formats:

- **JSON**: an array of objects with the fields of ``shared/CONTRACT.md`` plus ``status``,
  ``last_step`` and ``tags`` (question id -> the analysts' theme tags, sorted). Values
  are raw: ids, lists of ids, text, numbers.
- **CSV**: one row per respondent, fixed columns then one column per question id, in the
  order the questions appear in the flows. Multiple choices are joined with ``;``. The
  file is plain UTF-8 (no byte order mark), which Excel may misread as another encoding:
  Excel users should take the XLSX export. After each free-text question, a column
  ``<question>_tags`` holds the analysts' theme tags, joined with ``; ``.
- **XLSX**: the same table on the sheet "Svar", and the Swedish question texts and
  choice labels on the sheet "Etiketter".

The parts, each with its own reason:

- ``rows``: reads respondents, answers and tags (and stored flow versions) once; the JSON.
- ``flows``: which flows label the export and the order of the question columns.
- ``tables``: the CSV and XLSX layout and the formula guard (a text cell that a
  spreadsheet would run as a formula gets a leading ``'``).
- ``stats``: participant counts, with small counts hidden as ``<N`` and, where a total
  would give one away, one more hidden as ``x``.

This package re-exports the public names, so callers keep ``from trygg import export``.
"""

from __future__ import annotations

from trygg.export.flows import question_order, text_questions
from trygg.export.rows import ResponseExport, collect, export_rows, iso_utc, json_text, to_json
from trygg.export.stats import (
    CHANNEL_NAMES,
    CHANNELS,
    DEFAULT_MIN_CELL,
    HIDDEN,
    StatRow,
    Stats,
    StatTable,
    build_stats,
    participant_stats,
    suppress,
)
from trygg.export.tables import (
    FIXED_COLUMNS,
    LABEL_COLUMNS,
    LABELS_SHEET,
    MULTIPLE_SEPARATOR,
    RESPONSES_SHEET,
    TAG_SEPARATOR,
    TAGS_SUFFIX,
    label_rows,
    neutralise,
    table,
    to_csv,
    to_xlsx,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES",
    "DEFAULT_MIN_CELL",
    "FIXED_COLUMNS",
    "HIDDEN",
    "LABELS_SHEET",
    "LABEL_COLUMNS",
    "MULTIPLE_SEPARATOR",
    "RESPONSES_SHEET",
    "TAGS_SUFFIX",
    "TAG_SEPARATOR",
    "ResponseExport",
    "StatRow",
    "StatTable",
    "Stats",
    "build_stats",
    "collect",
    "export_rows",
    "iso_utc",
    "json_text",
    "label_rows",
    "neutralise",
    "participant_stats",
    "question_order",
    "suppress",
    "table",
    "text_questions",
    "to_csv",
    "to_json",
    "to_xlsx",
]
