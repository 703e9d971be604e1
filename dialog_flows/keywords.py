"""Keywords that work at any point, as the whole message, in every language we speak.

The words come from the catalogs (each language's translation of ``keyword_stop`` and
so on), so a translator adds the words their readers type. Twilio's standard English
opt-out words are always understood as well, whatever catalogs are loaded, because
people use them out of habit on every SMS service.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from dialog_flows import texts
from dialog_flows.matching import keyword_forms, normalise
from dialog_flows.translations import Translations

MAX_KEYWORD_LENGTH = 40


class Keyword(StrEnum):
    STOP = "stop"
    HELP = "help"
    LANGUAGE = "language"
    RESTART = "restart"
    ERASE = "erase"
    RESULTS = "results"


_LISTINGS: dict[Keyword, texts.SystemText] = {
    Keyword.STOP: texts.KEYWORD_STOP,
    Keyword.HELP: texts.KEYWORD_HELP,
    Keyword.LANGUAGE: texts.KEYWORD_LANGUAGE,
    Keyword.RESTART: texts.KEYWORD_RESTART,
    Keyword.ERASE: texts.KEYWORD_ERASE,
    Keyword.RESULTS: texts.KEYWORD_RESULTS,
}

ALWAYS: dict[Keyword, tuple[str, ...]] = {
    Keyword.STOP: (
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
        "opt out",
    ),
    Keyword.HELP: ("help", "info"),
    Keyword.LANGUAGE: ("language",),
    Keyword.RESTART: ("restart", "start over"),
    Keyword.ERASE: ("delete", "delete my data"),
    Keyword.RESULTS: ("results",),
}  # fmt: skip


# Twilio's opt-in words. They mean something only to a person on the opt-out list: to
# anyone else "yes" may well be an answer.
OPT_IN_ALWAYS = ("start", "yes", "unstop")


def is_opt_in(text: str, tr: Translations) -> bool:
    """Whether the whole message is an opt-in word (START, YES, UNSTOP, or any
    catalog's translation of ``keyword_start``)."""
    if not text or len(text) > MAX_KEYWORD_LENGTH:
        return False
    words = {normalise(word) for word in OPT_IN_ALWAYS}
    for translated in tr.system_everywhere(texts.KEYWORD_START):
        words.update(keyword_forms(translated))
    return normalise(text) in words


def keyword_table(tr: Translations) -> Mapping[str, Keyword]:
    """Every normalised keyword form, in every loaded language, to what it means.

    Built once per catalogs: every inbound message looks its text up here, and building
    the table (a few hundred forms) cost more than the rest of the engine's turn."""
    cached = _TABLES.get(id(tr))
    if cached is not None and cached[0] is tr:  # the very same (immutable) catalogs
        return cached[1]
    table = MappingProxyType(_build_table(tr))
    _TABLES[id(tr)] = (tr, table)
    while len(_TABLES) > _TABLES_KEPT:
        _TABLES.popitem(last=False)
    return table


# Translations is immutable but not hashable (it holds dicts), so the cache is by identity,
# and holds the instance so that its id cannot be reused by another while it is cached.
_TABLES: OrderedDict[int, tuple[Translations, Mapping[str, Keyword]]] = OrderedDict()
_TABLES_KEPT = 8  # a server has one; tests make many


def _build_table(tr: Translations) -> dict[str, Keyword]:
    table: dict[str, Keyword] = {}
    for keyword, words in ALWAYS.items():
        for word in words:
            table[normalise(word)] = keyword
    for keyword, listing in _LISTINGS.items():
        for translated in sorted(tr.system_everywhere(listing)):
            for form in keyword_forms(translated):
                table.setdefault(form, keyword)
    return table


def detect_keyword(text: str, tr: Translations) -> Keyword | None:
    if not text or len(text) > MAX_KEYWORD_LENGTH:
        return None
    return keyword_table(tr).get(normalise(text))
