"""A Babel extraction method for flow files, registered as ``trygg_flow``.

With it, the standard tools work on flows as on code::

    pybabel extract -F babel.cfg -k T:1c,2 -k NT:1c,2,3 -c Translators: -o locales/trygg.pot .

Each text becomes a message whose context is FLOW/STEP[/CHOICE]:FIELD and whose msgid is
the Swedish source; the author's ``note`` becomes the translator comment. Campaign files
hold staff-facing names only and yield nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from dialog_flows.flow_texts import flow_texts
from dialog_flows.loader import load_flow_text
from dialog_flows.yaml_source import parse_yaml

# Babel 2.x: (lineno, funcname, messages, comments); "pgettext" carries the context.
Extracted = tuple[int, str, tuple[str, str], list[str]]

# What ``trygg i18n extract`` passes for the system texts in texts.py.
PYTHON_KEYWORDS: Mapping[str, Any] = {"T": ((1, "c"), 2), "NT": ((1, "c"), 2, 3)}
COMMENT_TAGS = ("Translators:",)


def extract_flow(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    raw = fileobj.read()
    name = getattr(fileobj, "name", "<flow>")
    data = parse_yaml(raw).data
    if isinstance(data, dict) and "campaign" in data:
        return
    flow = load_flow_text(raw, str(name))  # a broken flow stops extraction with its problems
    for text in flow_texts(flow):
        comments = [text.comment] if text.comment else []
        yield text.line, "pgettext", (text.context, text.source), comments
