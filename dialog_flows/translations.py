"""Translated texts from gettext catalogs, with a per-message fallback to Swedish.

Flow texts and system texts share one catalog per language
(``locales/<lang>/LC_MESSAGES/trygg.po``). Each message's context names where it comes
from (``karlslund/where:text``, ``trygg:help``), and its msgid is the Swedish source.

A translation is used only when it exists, is not fuzzy, is not empty and keeps the same
``{placeholders}`` as the Swedish. Otherwise the Swedish text is shown: a person never
gets an empty string, a context key or a text with a broken placeholder.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from babel.messages.catalog import Catalog

from dialog_flows.texts import SystemText

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
DRAFT_MARK = "DRAFT"  # a header comment line "# DRAFT: awaiting review by a native speaker"


def is_draft(catalog: Catalog) -> bool:
    # Babel keeps the header comment but drops unknown header fields, so the mark that
    # a catalog awaits review by a native speaker lives in the comment.
    lines = (line.lstrip("# ").upper() for line in (catalog.header_comment or "").splitlines())
    return any(line.startswith(DRAFT_MARK) for line in lines)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@dataclass(frozen=True)
class LanguageCatalog:
    language: str
    singular: Mapping[tuple[str | None, str], str]
    plural: Mapping[tuple[str | None, str], tuple[str, ...]]
    plural_index: Callable[[int], int]
    draft: bool = False

    @classmethod
    def from_catalog(cls, language: str, catalog: Catalog) -> LanguageCatalog:
        singular: dict[tuple[str | None, str], str] = {}
        plural: dict[tuple[str | None, str], tuple[str, ...]] = {}
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple | list):
                forms = tuple(message.string or ())
                msgid = message.id[0]
                if (
                    forms
                    and all(forms)
                    and all(placeholders(form) == placeholders(msgid) for form in forms)
                ):
                    plural[(message.context, msgid)] = forms
            elif (
                isinstance(message.string, str)
                and message.string.strip()
                and placeholders(message.string) == placeholders(message.id)
            ):
                singular[(message.context, message.id)] = message.string
        # The Plural-Forms expression comes from CLDR via Babel when a catalog is made;
        # gettext compiles it without eval of arbitrary code (it parses C syntax only).
        plural_index = gettext.c2py(catalog.plural_expr or "(n != 1)")
        return cls(language, singular, plural, plural_index, draft=is_draft(catalog))

    def lookup(self, context: str | None, msgid: str) -> str | None:
        return self.singular.get((context, msgid))

    def lookup_plural(self, context: str | None, msgid: str, count: int) -> str | None:
        forms = self.plural.get((context, msgid))
        if not forms:
            return None
        index = self.plural_index(count)
        return forms[index] if 0 <= index < len(forms) else None


@dataclass(frozen=True)
class Translations:
    """All catalogs. Immutable, so one instance is shared by every session."""

    catalogs: Mapping[str, LanguageCatalog] = field(default_factory=dict)
    source_language: str = "sv"

    @classmethod
    def from_catalogs(cls, catalogs: Iterable[LanguageCatalog]) -> Translations:
        return cls({catalog.language: catalog for catalog in catalogs})

    def languages(self) -> list[str]:
        return sorted(self.catalogs)

    def is_draft(self, language: str) -> bool:
        catalog = self.catalogs.get(language)
        return bool(catalog and catalog.draft)

    def text(self, language: str, context: str | None, source: str) -> str:
        catalog = self.catalogs.get(language)
        translated = catalog.lookup(context, source) if catalog else None
        return translated if translated is not None else source

    def is_translated(self, language: str, context: str | None, source: str) -> bool:
        catalog = self.catalogs.get(language)
        return bool(catalog and catalog.lookup(context, source) is not None)

    def is_translated_plural(self, language: str, context: str | None, source: str) -> bool:
        catalog = self.catalogs.get(language)
        return bool(catalog and catalog.plural.get((context, source)))

    def system(self, language: str, text: SystemText, count: int | None = None) -> str:
        if text.plural is not None and count is not None:
            catalog = self.catalogs.get(language)
            translated = (
                catalog.lookup_plural(text.context, text.source, count) if catalog else None
            )
            if translated is not None:
                return translated
            return text.source if count == 1 else text.plural
        return self.text(language, text.context, text.source)

    def system_everywhere(self, text: SystemText) -> set[str]:
        """The text in the source language and every catalog: for keywords."""
        values = {text.source}
        for catalog in self.catalogs.values():
            translated = catalog.lookup(text.context, text.source)
            if translated:
                values.add(translated)
        return values
