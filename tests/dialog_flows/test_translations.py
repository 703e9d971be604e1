"""Tests for dialog_flows.translations: catalogs, fallback to Swedish, plurals, drafts.

The first part builds small catalogs in memory; the second checks the shipped catalogs
by structure (coverage, draft marks, plural rules), not by their wording.
"""

from __future__ import annotations

import gettext

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from dialog_flows import texts
from dialog_flows.library import DEFAULT_LOCALES_DIR, DOMAIN, Library
from dialog_flows.lint import lint_library
from dialog_flows.texts import SystemText
from dialog_flows.translations import LanguageCatalog, Translations, is_draft

WHERE = ("karlslund/where:text", "Var känner du dig otrygg?")
WHEN = ("karlslund/when:text", "När känner du dig otrygg?")
HEADING = texts.PLACE_HEADING  # "Plats {number}: {name}"
REMINDER = texts.REMINDER  # plural, with {count} and {stop}


def make_catalog(
    locale: str,
    singular: dict[tuple[str, str], str] | None = None,
    *,
    fuzzy: dict[tuple[str, str], str] | None = None,
    header_comment: str | None = None,
) -> Catalog:
    catalog = Catalog(locale=locale, domain=DOMAIN, fuzzy=False)
    if header_comment is not None:
        catalog.header_comment = header_comment
    for (context, source), string in (singular or {}).items():
        catalog.add(source, string, context=context)
    for (context, source), string in (fuzzy or {}).items():
        catalog.add(source, string, context=context, flags=["fuzzy"])
    return catalog


def translations(*catalogs: tuple[str, Catalog]) -> Translations:
    return Translations.from_catalogs(
        LanguageCatalog.from_catalog(language, catalog) for language, catalog in catalogs
    )


# -- singular look-up and fallback --------------------------------------------------------


def test_a_translated_message_is_used() -> None:
    tr = translations(("en", make_catalog("en", {WHERE: "Where do you feel unsafe?"})))
    assert tr.text("en", *WHERE) == "Where do you feel unsafe?"
    assert tr.is_translated("en", *WHERE)


def test_the_context_selects_the_translation() -> None:
    # The same Swedish text in two places may be translated differently.
    other_place = ("karlslund-lattlast/where:text", WHERE[1])
    tr = translations(
        ("en", make_catalog("en", {WHERE: "Where?", other_place: "Where are you afraid?"}))
    )
    assert tr.text("en", *WHERE) == "Where?"
    assert tr.text("en", *other_place) == "Where are you afraid?"
    assert tr.text("en", "karlslund/elsewhere:text", WHERE[1]) == WHERE[1]


def test_a_missing_message_falls_back_to_the_swedish_source() -> None:
    tr = translations(("en", make_catalog("en", {WHERE: "Where do you feel unsafe?"})))
    shown = tr.text("en", *WHEN)
    assert shown == WHEN[1]
    assert shown and shown != WHEN[0]
    assert not tr.is_translated("en", *WHEN)
    # A language without any catalog, and a system text, also fall back.
    assert tr.text("xx", *WHERE) == WHERE[1]
    assert tr.system("en", texts.HELP) == texts.HELP.source


def test_a_fuzzy_translation_is_ignored() -> None:
    tr = translations(("en", make_catalog("en", fuzzy={WHERE: "Where (old text)?"})))
    assert tr.text("en", *WHERE) == WHERE[1]
    assert not tr.is_translated("en", *WHERE)


@pytest.mark.parametrize("empty", ["", "   ", "\n"])
def test_an_empty_translation_is_ignored(empty: str) -> None:
    tr = translations(("en", make_catalog("en", {WHERE: empty})))
    assert tr.text("en", *WHERE) == WHERE[1]
    assert not tr.is_translated("en", *WHERE)


@pytest.mark.parametrize(
    "translation",
    [
        "Place {nummer}: {name}",  # a translated placeholder name
        "Place {number}",  # a dropped placeholder
        "Place {number}: {name} {extra}",  # an added one
    ],
)
def test_a_translation_with_other_placeholders_is_ignored(translation: str) -> None:
    tr = translations(("en", make_catalog("en", {(HEADING.context, HEADING.source): translation})))
    assert tr.system("en", HEADING) == HEADING.source
    assert tr.system("en", HEADING).format(number=1, name="Badet") == "Plats 1: Badet"


def test_a_translation_may_reorder_its_placeholders() -> None:
    good = "{name} (place {number})"
    tr = translations(("en", make_catalog("en", {(HEADING.context, HEADING.source): good})))
    assert tr.system("en", HEADING) == good


# -- plurals ------------------------------------------------------------------------------


def plural_catalog(locale: str, forms: tuple[str, ...]) -> Catalog:
    catalog = Catalog(locale=locale, domain=DOMAIN, fuzzy=False)
    catalog.add((REMINDER.source, REMINDER.plural or ""), forms, context=REMINDER.context)
    return catalog


def test_arabic_plural_forms_follow_cldr() -> None:
    rule = get_plural("ar")
    assert rule.num_plurals == 6
    index_of = gettext.c2py(rule.plural_expr)
    arabic = Locale("ar")
    # Label each msgstr[i] with the CLDR category of the numbers that Plural-Forms sends
    # to it, as a translator's tool does, and write the form for that category.
    category = {index_of(n): arabic.plural_form(n) for n in range(200)}
    assert sorted(category) == list(range(6))
    forms = tuple(f"{category[i]}: {{count}} / {{stop}}" for i in range(6))
    catalog = plural_catalog("ar", forms)
    assert catalog.num_plurals == 6
    tr = translations(("ar", catalog))
    expected = {0: "zero", 1: "one", 2: "two", 5: "few", 11: "many", 100: "other"}
    for n, cldr in expected.items():
        assert arabic.plural_form(n) == cldr
        assert tr.system("ar", REMINDER, count=n).startswith(f"{cldr}:"), n
    # The index comes from the catalog's Plural-Forms (Babel's order puts 100-102 at 4).
    ar = tr.catalogs["ar"]
    assert [ar.plural_index(n) for n in (0, 1, 2, 5, 11, 100)] == [0, 1, 2, 3, 5, 4]


def test_english_plural_forms() -> None:
    tr = translations(("en", plural_catalog("en", ("one {count} {stop}", "many {count} {stop}"))))
    assert tr.system("en", REMINDER, count=1) == "one {count} {stop}"
    for n in (0, 2, 5, 11, 100):
        assert tr.system("en", REMINDER, count=n) == "many {count} {stop}"


def test_a_missing_plural_falls_back_to_the_swedish_forms() -> None:
    tr = translations(("en", make_catalog("en")))
    assert tr.system("en", REMINDER, count=1) == REMINDER.source
    assert tr.system("en", REMINDER, count=3) == REMINDER.plural


def test_a_plural_with_an_empty_form_or_other_placeholders_is_ignored() -> None:
    empty_form = translations(("en", plural_catalog("en", ("one {count} {stop}", ""))))
    assert empty_form.system("en", REMINDER, count=1) == REMINDER.source
    bad = translations(("en", plural_catalog("en", ("one {stop}", "many {count} {stop}"))))
    assert bad.system("en", REMINDER, count=5) == REMINDER.plural


# -- drafts and keywords ------------------------------------------------------------------


def test_draft_detection_reads_the_header_comment() -> None:
    draft = make_catalog("so", header_comment="# DRAFT: awaiting review\n# Somali translations")
    reviewed = make_catalog("en", header_comment="# English translations for Trygg.")
    mentioned = make_catalog("en", header_comment="# English translations.\n# Not a DRAFT")
    assert is_draft(draft)
    assert not is_draft(reviewed)
    assert not is_draft(mentioned)  # only a line that starts with the mark counts
    tr = translations(("so", draft), ("en", reviewed))
    assert tr.is_draft("so")
    assert not tr.is_draft("en")
    assert not tr.is_draft("xx")


def test_system_everywhere_returns_the_source_and_every_translation() -> None:
    stop = texts.KEYWORD_STOP
    key = (stop.context, stop.source)
    tr = translations(
        ("en", make_catalog("en", {key: "STOP, END"})),
        ("ar", make_catalog("ar", {key: "توقف"})),
        ("so", make_catalog("so", fuzzy={key: "JOOJI"})),
        ("pl", make_catalog("pl")),
    )
    assert tr.system_everywhere(stop) == {stop.source, "STOP, END", "توقف"}
    other = SystemText("trygg:keyword_other", "ANNAT")
    assert tr.system_everywhere(other) == {"ANNAT"}


# -- the shipped catalogs -----------------------------------------------------------------


def test_english_and_arabic_cover_every_shipped_flow_and_system_text(library: Library) -> None:
    reports = lint_library(library)
    for language in ("en", "ar"):
        mine = [report for report in reports if report.language == language]
        offering = [flow.id for flow in library.current_flows() if language in flow.languages]
        assert sorted(report.flow_id for report in mine) == sorted(offering)
        assert offering, f"no shipped flow offers {language}"
        for report in mine:
            assert report.missing == [], (language, report.flow_id)
            assert report.coverage == 1.0
            assert not report.draft
            assert not library.translations.is_draft(language)
        for text in texts.ALL_TEXTS:
            if text.plural is None:
                assert library.translations.is_translated(language, text.context, text.source)
            else:
                catalog = library.translations.catalogs[language]
                for n in range(0, 30):
                    assert catalog.lookup_plural(text.context, text.source, n), (text, n)


def test_at_least_four_other_languages_are_drafts(library: Library) -> None:
    languages = library.translations.languages()
    drafts = [code for code in languages if library.translations.is_draft(code)]
    assert {"en", "ar"} <= set(languages)
    assert "en" not in drafts
    assert "ar" not in drafts
    assert len(drafts) >= 4, drafts


def shipped_catalogs() -> list[tuple[str, Catalog]]:
    found = []
    for path in sorted(DEFAULT_LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = path.parent.parent.name
        with path.open("rb") as handle:
            found.append((language, read_po(handle, locale=language.replace("-", "_"))))
    return found


def test_every_shipped_catalog_has_cldr_plural_forms(library: Library) -> None:
    catalogs = shipped_catalogs()
    assert len(catalogs) >= 6
    for language, catalog in catalogs:
        rule = get_plural(language.replace("-", "_"))
        assert catalog.num_plurals == rule.num_plurals, language
        expected = gettext.c2py(rule.plural_expr)
        loaded = library.translations.catalogs[language.replace("_", "-")]
        assert [loaded.plural_index(n) for n in range(300)] == [expected(n) for n in range(300)]
        for message in catalog:
            if message.pluralizable:
                assert isinstance(message.string, tuple | list), message.id
                assert len(message.string) == rule.num_plurals, (language, message.id)


def test_arabic_language_keyword_contains_the_word_for_language(library: Library) -> None:
    arabic = library.translations.system("ar", texts.KEYWORD_LANGUAGE)
    assert "اللغة" in arabic
    assert arabic in library.translations.system_everywhere(texts.KEYWORD_LANGUAGE)
