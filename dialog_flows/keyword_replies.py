"""What the bot says to HJÄLP (help), RESULTAT (results) and to people on the opt-out
list, in the person's language."""

from __future__ import annotations

from collections.abc import Mapping

from dialog_flows import texts
from dialog_flows.flow_texts import flow_context
from dialog_flows.languages import direction
from dialog_flows.matching import first_keyword
from dialog_flows.model import Flow
from dialog_flows.session import Outgoing
from dialog_flows.translations import Translations


def help_text(flow: Flow, tr: Translations, language: str) -> str:
    """Who asks and why (the flow's own help), then the keywords in this language."""
    parts: list[str] = []
    if flow.help:
        parts.append(tr.text(language, flow_context(flow, "help"), flow.help))

    def word(listing: texts.SystemText) -> str:
        return first_keyword(tr.system(language, listing))

    parts.append(
        tr.system(language, texts.HELP).format(
            stop=word(texts.KEYWORD_STOP),
            language=word(texts.KEYWORD_LANGUAGE),
            restart=word(texts.KEYWORD_RESTART),
            erase=word(texts.KEYWORD_ERASE),
            results=word(texts.KEYWORD_RESULTS),
        )
    )
    return "\n\n".join(parts)


def opted_out_notice(tr: Translations, language: str) -> Outgoing:
    """To someone on the opt-out list who wrote: how to opt in again."""
    start = first_keyword(tr.system(language, texts.KEYWORD_START))
    text = tr.system(language, texts.OPTED_OUT_NOTICE).format(start=start)
    return Outgoing(text=text, language=language, direction=direction(language))


def opted_in_confirmation(tr: Translations, language: str) -> Outgoing:
    """They wrote START (or an entry keyword) after opting out: say so, and how to stop."""
    stop = first_keyword(tr.system(language, texts.KEYWORD_STOP))
    text = tr.system(language, texts.OPTED_IN).format(stop=stop)
    return Outgoing(text=text, language=language, direction=direction(language))


def results_text(flow: Flow, tr: Translations, language: str, feedback: Mapping[str, str]) -> str:
    """The latest återkoppling in this language (or Swedish), or "not published yet"."""
    text = feedback.get(language) or feedback.get(flow.source_language)
    if not text:
        return tr.system(language, texts.RESULTS_NONE)
    return f"{tr.system(language, texts.RESULTS_INTRO)}\n\n{text}"
