"""Golden transcripts: a script of inputs, and the exact conversation it must produce.

Each ``golden/NAME.yaml`` names a flow, a channel and the inputs; ``golden/NAME.txt`` is
the transcript, rendered as a text-only channel shows it, with the events after each
turn. A change in wording or behaviour shows up as a readable diff. After an intended
change, regenerate with ``TRYGG_UPDATE_GOLDEN=1 scripts/test -k golden`` and read the diff
before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialog_flows.engine import respond
from dialog_flows.library import Library
from dialog_flows.render_text import render_plain
from dialog_flows.session import Context, Event, Inbound, SessionState, Start, Tick, UserMessage

GOLDEN = Path(__file__).parent / "golden"
SCRIPTS = sorted(GOLDEN.glob("*.yaml"))


def to_event(item: Any) -> tuple[Inbound, str]:
    if isinstance(item, str | int):
        return UserMessage(str(item)), str(item)
    if "start" in item:
        start = item["start"] or {}
        return Start(start.get("source"), start.get("language")), f"[start {start}]"
    if "tap" in item:
        return UserMessage("", payload=item["tap"]), f"[tap {item['tap']}]"
    if "tick_hours" in item:
        return Tick(), f"[{item['tick_hours']} hours pass]"
    if "photo" in item:
        return UserMessage("", has_attachment=True), "[photo]"
    raise ValueError(f"unknown script item {item!r}")


def describe(event: Event) -> str:
    details = [
        f"{name}={value!r}"
        for name in ("step_id", "value", "language", "deliver", "address")
        if (value := getattr(event, name)) is not None
    ]
    return f"{event.kind}({', '.join(details)})"


def run_script(library: Library, script: dict[str, Any]) -> str:
    lines: list[str] = []
    state: SessionState | None = None
    now = 1_790_000_000.0
    for item in script["inputs"]:
        event, shown = to_event(item)
        now += item["tick_hours"] * 3600 if isinstance(item, dict) and "tick_hours" in item else 30
        campaign = library.campaign(script.get("campaign"))
        if state is not None and state.active:
            flow = library.flow(state.flow_id, state.flow_version)
        else:
            source = event.source if isinstance(event, Start) else state.source if state else None
            flow = library.flow(script.get("flow") or campaign.flow_for(source))
        assert flow is not None
        context = Context(
            now=now,
            channel=script["channel"],
            translations=library.translations,
            language_hint=script.get("language_hint"),
            feedback=script.get("feedback"),
        )
        turn = respond(flow, state, event, context)
        state = turn.state
        lines.append(f"> {shown}")
        for message in turn.messages:
            header = f"< [{message.language} {message.direction}"
            header += f" {message.input} {message.step_id}]" if message.step_id else "]"
            lines.append(header)
            rendered = render_plain(message, for_sms=script["channel"] == "sms")
            lines.extend(f"  {line}" if line else "" for line in rendered.splitlines())
            buttons = [o.payload for o in message.options if o.number is None]
            if buttons:
                lines.append(f"  (buttons: {', '.join(buttons)})")
            ticked = [o.payload for o in message.options if o.selected]
            if ticked:
                lines.append(f"  (ticked: {', '.join(ticked)})")
        if turn.events:
            lines.append(f"  = {'; '.join(describe(event) for event in turn.events)}")
        lines.append("")
    final = state.to_dict() if state else None
    if final:
        lines.append(
            f"final: status={final['status']} language={final['language']} source={final['source']}"
        )
        lines.append(f"answers: {final['answers']}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("script_path", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_golden_transcript(library: Library, script_path: Path) -> None:
    script = yaml.safe_load(script_path.read_text(encoding="utf-8"))
    actual = run_script(library, script)
    expected_path = script_path.with_suffix(".txt")
    if os.environ.get("TRYGG_UPDATE_GOLDEN") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), "no transcript yet; run with TRYGG_UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_there_are_transcripts_in_swedish_english_and_arabic() -> None:
    languages = set()
    for path in SCRIPTS:
        languages.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("languages", []))
    assert {"sv", "en", "ar"} <= languages
