"""Tests for the Babel extractor of flow files and for trygg.i18n_catalogs.

Catalog tests work on copies of the shipped folders in tmp_path, never on locales/.
"""

from __future__ import annotations

import gettext
import io
import shutil
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural

import dialog_flows
from dialog_flows import texts
from dialog_flows.flow_texts import flow_texts
from dialog_flows.i18n_extract import COMMENT_TAGS, PYTHON_KEYWORDS, extract_flow
from dialog_flows.library import DEFAULT_FLOWS_DIR, DEFAULT_LOCALES_DIR, Library
from dialog_flows.translations import LanguageCatalog, Translations, is_draft
from trygg import i18n_catalogs

ROOT = Path(dialog_flows.__file__).resolve().parent.parent
KARLSLUND = DEFAULT_FLOWS_DIR / "karlslund.yaml"
CAMPAIGN = DEFAULT_FLOWS_DIR / "karlslund.campaign.yaml"
WHERE_SOURCE = "Var känner du dig otrygg?"
WHEN_SOURCE = "När känner du dig otrygg?"


def extract(path: Path) -> list[tuple[int, str, tuple[str, str], list[str]]]:
    with path.open("rb") as handle:
        return list(extract_flow(handle, (), (), {}))


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.strip() == needle)


# -- the extractor ------------------------------------------------------------------------


def test_extract_flow_yields_pgettext_messages_with_contexts() -> None:
    found = extract(KARLSLUND)
    assert found
    assert {funcname for _, funcname, _, _ in found} == {"pgettext"}
    by_context = {context: (line, msgid, comments) for line, _, (context, msgid), comments in found}
    assert len(by_context) == len(found), "contexts must be unique within a flow"

    line, msgid, _ = by_context["karlslund/where:text"]
    assert msgid == WHERE_SOURCE
    assert line == line_of(KARLSLUND, "- id: where")
    assert by_context["karlslund/where/kopparangen:label"][1] == "Kopparängen"
    assert by_context["karlslund/place_1:place"][1] == "Korsningen Emaljgatan och Koppargården"
    assert by_context["karlslund/place_1:text"][1] == "Hur trygg känner du dig här?"
    assert by_context["karlslund:title"][1] == "Trygghet i Karlslund"
    assert by_context["karlslund/feedback/sms:ask_address"][1].startswith("Skriv ditt mobilnummer.")
    # The rating scale of a place comes from texts.py, not from each place step.
    assert not [context for context in by_context if context.startswith("karlslund/place_1/")]


def test_extract_flow_turns_notes_into_translator_comments() -> None:
    by_context = {context: comments for _, _, (context, _), comments in extract(KARLSLUND)}
    assert by_context["karlslund/where/nowhere:label"] == [
        "The person does not feel unsafe anywhere."
    ]
    assert by_context["karlslund/problems:text"][0].startswith("Open question, asked first")
    # Without a note a choice still tells the translator which question it belongs to.
    assert WHERE_SOURCE in by_context["karlslund/where/kopparangen:label"][0]


def test_extract_flow_agrees_with_flow_texts(library: Library) -> None:
    flow = library.flow("karlslund")
    assert flow is not None
    extracted = [(context, msgid) for _, _, (context, msgid), _ in extract(KARLSLUND)]
    assert extracted == [(text.context, text.source) for text in flow_texts(flow)]


def test_a_campaign_file_yields_nothing() -> None:
    assert CAMPAIGN.is_file()
    assert extract(CAMPAIGN) == []


def test_a_broken_flow_stops_extraction() -> None:
    broken = io.BytesIO(b"flow: x\nversion: 1\nsteps: []\n")
    with pytest.raises(ValueError, match="steps"):
        list(extract_flow(broken, (), (), {}))


def test_the_extractor_is_registered_as_an_entry_point() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["entry-points"]["babel.extractors"]
    assert declared["trygg_flow"] == "dialog_flows.i18n_extract:extract_flow"
    found = entry_points(group="babel.extractors", name="trygg_flow")
    assert len(found) == 1
    assert next(iter(found)).load() is extract_flow


def test_extract_from_dir_with_babel_cfg() -> None:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    assert ("dialog_flows/flows/*.yaml", "trygg_flow") in method_map
    keywords = {**DEFAULT_KEYWORDS, **PYTHON_KEYWORDS}
    found = list(
        extract_from_dir(
            str(ROOT),
            method_map,
            options_map,
            keywords=keywords,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
        )
    )
    files = {Path(filename).as_posix() for filename, *_ in found}
    assert "dialog_flows/texts.py" in files
    assert "dialog_flows/flows/karlslund.yaml" in files
    assert "dialog_flows/flows/karlslund.campaign.yaml" not in files
    messages = {(context, message) for _, _, message, _, context in found}
    assert ("karlslund/where:text", WHERE_SOURCE) in messages
    assert ("karlslund/where/kopparangen:label", "Kopparängen") in messages
    for text in texts.ALL_TEXTS:
        message = (text.source, text.plural) if text.plural else text.source
        assert (text.context, message) in messages, text.context
    stop = next(entry for entry in found if entry[4] == texts.KEYWORD_STOP.context)
    assert stop[3] and stop[3][0].startswith("keyword lists are")


# -- the template -------------------------------------------------------------------------


def test_build_template_holds_every_flow_text_and_system_text(library: Library) -> None:
    template = i18n_catalogs.build_template([DEFAULT_FLOWS_DIR], ROOT)
    assert template.fuzzy is False
    flows = list(library.flows.values())
    assert {flow.id for flow in flows} >= {"karlslund", "karlslund-lattlast"}
    expected: set[tuple[str, str]] = set()
    for flow in flows:
        for text in flow_texts(flow):
            message = template.get(text.source, text.context)
            assert message is not None, text.context
            assert message.id == text.source
            expected.add((text.context, text.source))
    for system in texts.ALL_TEXTS:
        message = template.get(system.source, system.context)
        assert message is not None, system.context
        if system.plural is None:
            assert message.id == system.source
        else:
            assert message.pluralizable
            assert message.id == (system.source, system.plural)
        assert message.locations[0][0] == "dialog_flows/texts.py"
        expected.add((system.context, system.source))
    assert len(template) == len(expected)
    where = template.get(WHERE_SOURCE, "karlslund/where:text")
    assert where is not None
    assert where.locations == [
        ("dialog_flows/flows/karlslund.yaml", line_of(KARLSLUND, "- id: where"))
    ]
    stop = template.get(texts.KEYWORD_STOP.source, texts.KEYWORD_STOP.context)
    assert stop is not None
    assert stop.auto_comments[0].startswith("keyword lists are")  # "Translators:" is stripped


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A root with copies of the shipped flows and catalogs: (root, flows, locales)."""
    flows = tmp_path / "flows"
    locales = tmp_path / "locales"
    shutil.copytree(DEFAULT_FLOWS_DIR, flows)
    shutil.copytree(DEFAULT_LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo", "*.py"))
    return tmp_path, flows, locales


def set_translation(locales: Path, language: str, context: str, msgid: str, string: str) -> None:
    path = i18n_catalogs.catalog_path(locales, language)
    catalog = i18n_catalogs.read_catalog(path, language)
    message = catalog.get(msgid, context)
    assert message is not None, context
    message.string = string
    message.flags.discard("fuzzy")
    i18n_catalogs.write_catalog(catalog, path)


def read(locales: Path, language: str) -> Catalog:
    return i18n_catalogs.read_catalog(i18n_catalogs.catalog_path(locales, language), language)


def test_update_keeps_translations_and_marks_a_changed_source_fuzzy(
    workspace: tuple[Path, Path, Path],
) -> None:
    root, flows, locales = workspace
    set_translation(locales, "en", "karlslund/where:text", WHERE_SOURCE, "TEST: where?")
    set_translation(locales, "en", "karlslund/when:text", WHEN_SOURCE, "TEST: when?")
    flow_file = flows / "karlslund.yaml"
    original = flow_file.read_text(encoding="utf-8")
    changed_source = "Var i Karlslund känner du dig otrygg?"
    assert original.count(f"text: {WHERE_SOURCE}") == 1
    flow_file.write_text(
        original.replace(f"text: {WHERE_SOURCE}", f"text: {changed_source}"), encoding="utf-8"
    )
    languages_before = sorted(p.parent.parent.name for p in locales.glob("*/LC_MESSAGES/*.po"))
    drafts_before = {code for code in languages_before if is_draft(read(locales, code))}

    template = i18n_catalogs.build_template([flows], root)
    updated = i18n_catalogs.update_catalogs(template, locales)

    assert sorted(path.parent.parent.name for path in updated) == languages_before
    catalog = read(locales, "en")
    kept = catalog.get(WHEN_SOURCE, "karlslund/when:text")
    assert kept is not None
    assert (kept.string, kept.fuzzy) == ("TEST: when?", False)
    changed = catalog.get(changed_source, "karlslund/where:text")
    assert changed is not None
    assert changed.fuzzy
    assert changed.string == "TEST: where?"
    assert catalog.get(WHERE_SOURCE, "karlslund/where:text") is None
    # A fuzzy translation is not shown: the person gets the new Swedish text.
    tr = Translations.from_catalogs([LanguageCatalog.from_catalog("en", catalog)])
    assert tr.text("en", "karlslund/where:text", changed_source) == changed_source
    assert tr.text("en", "karlslund/when:text", WHEN_SOURCE) == "TEST: when?"
    # Draft marks and plural rules survive an update.
    assert {code for code in languages_before if is_draft(read(locales, code))} == drafts_before
    assert read(locales, "ar").num_plurals == 6


def test_init_catalog_creates_a_draft_with_cldr_plural_forms(tmp_path: Path) -> None:
    template = i18n_catalogs.build_template([DEFAULT_FLOWS_DIR], ROOT)
    for language, draft in (("ti", True), ("ar", True), ("pl", False)):
        path = i18n_catalogs.init_catalog(template, tmp_path, language, draft=draft)
        assert path == tmp_path / language / "LC_MESSAGES" / "trygg.po"
        assert path.is_file()
        text = path.read_text(encoding="utf-8")
        rule = get_plural(language)
        assert f'"Plural-Forms: nplurals={rule.num_plurals}; plural=' in text
        catalog = read(tmp_path, language)  # parses the header of the file just written
        assert catalog.num_plurals == rule.num_plurals
        assert catalog.plural_expr == rule.plural_expr
        assert is_draft(catalog) is draft
        assert text.startswith("# DRAFT") is draft
        assert len(catalog) == len(template)
        assert all(
            not message.string for message in catalog if message.id and not message.pluralizable
        )
        reminder = catalog.get(texts.REMINDER.source, texts.REMINDER.context)
        assert reminder is not None
        assert reminder.pluralizable


def test_init_catalog_refuses_an_existing_language(workspace: tuple[Path, Path, Path]) -> None:
    root, flows, locales = workspace
    template = i18n_catalogs.build_template([flows], root)
    before = i18n_catalogs.catalog_path(locales, "ar").read_bytes()
    with pytest.raises(FileExistsError):
        i18n_catalogs.init_catalog(template, locales, "ar", draft=True)
    assert i18n_catalogs.catalog_path(locales, "ar").read_bytes() == before


def test_compile_catalogs_writes_mo_files_that_gettext_reads(tmp_path: Path) -> None:
    template = i18n_catalogs.build_template([DEFAULT_FLOWS_DIR], ROOT)
    for language in ("en", "ar"):
        i18n_catalogs.init_catalog(template, tmp_path, language, draft=False)
    set_translation(tmp_path, "en", "karlslund/where:text", WHERE_SOURCE, "Where?")
    set_translation(tmp_path, "ar", "karlslund/where:text", WHERE_SOURCE, "أين؟")
    path = i18n_catalogs.catalog_path(tmp_path, "ar")
    catalog = i18n_catalogs.read_catalog(path, "ar")
    reminder = catalog.get(texts.REMINDER.source, texts.REMINDER.context)
    assert reminder is not None
    reminder.string = tuple(f"ar{i} {{count}} {{stop}}" for i in range(6))
    i18n_catalogs.write_catalog(catalog, path)

    assert i18n_catalogs.compile_catalogs(tmp_path) == []

    for language, expected in (("en", "Where?"), ("ar", "أين؟")):
        mo_path = i18n_catalogs.catalog_path(tmp_path, language).with_suffix(".mo")
        with mo_path.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        assert compiled.pgettext("karlslund/where:text", WHERE_SOURCE) == expected
        # Untranslated messages fall back to the Swedish source, as in the service.
        assert compiled.pgettext("karlslund/when:text", WHEN_SOURCE) == WHEN_SOURCE
    with (tmp_path / "ar" / "LC_MESSAGES" / "trygg.mo").open("rb") as handle:
        arabic = gettext.GNUTranslations(handle)
    forms = [
        arabic.npgettext(
            texts.REMINDER.context, texts.REMINDER.source, texts.REMINDER.plural or "", n
        )
        for n in (0, 1, 2, 5, 100, 11)
    ]
    assert [form.split()[0] for form in forms] == ["ar0", "ar1", "ar2", "ar3", "ar4", "ar5"]


def test_compile_catalogs_compiles_every_shipped_catalog(
    workspace: tuple[Path, Path, Path],
) -> None:
    _, _, locales = workspace
    i18n_catalogs.compile_catalogs(locales)
    for po in locales.glob("*/LC_MESSAGES/trygg.po"):
        with po.with_suffix(".mo").open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        assert compiled.info()["language"] == po.parent.parent.name
