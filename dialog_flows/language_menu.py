"""The language menu: each offered language under its own name (CLDR's autonym).

The menu is for people who may not read the current language, so its heading is given
in the first three languages of the flow (Swedish, English, Arabic in Karlslund), and an
answer is understood as a number, the autonym, the English name or the code.
"""

from __future__ import annotations

from dialog_flows import payloads, texts
from dialog_flows.languages import autonym, english_name
from dialog_flows.matching import normalise, parse_integer
from dialog_flows.model import Flow
from dialog_flows.session import Option
from dialog_flows.translations import Translations


def menu_text(flow: Flow, tr: Translations) -> str:
    headings: list[str] = []
    for code in flow.languages[:3]:
        heading = tr.system(code, texts.LANGUAGE_MENU)
        if heading not in headings:
            headings.append(heading)
    return " / ".join(headings)


def menu_options(flow: Flow) -> tuple[Option, ...]:
    return tuple(
        Option(code, autonym(code), payloads.encode(payloads.LANGUAGE_MENU, code), number)
        for number, code in enumerate(flow.languages, start=1)
    )


def match_answer(flow: Flow, answer: str) -> str | None:
    offered = flow.languages
    if answer in offered:
        return answer
    number = parse_integer(answer)
    if number is not None:
        return offered[number - 1] if 1 <= number <= len(offered) else None
    wanted = normalise(answer)
    for code in offered:
        if wanted in {normalise(autonym(code)), normalise(english_name(code)), code.lower()}:
            return code
    return None
