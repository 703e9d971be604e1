"""Tests for dialog_flows.lint: coverage per flow and language, SMS cost of every prompt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from babel.messages.catalog import Catalog

from dialog_flows import texts
from dialog_flows.flow_texts import flow_texts
from dialog_flows.library import Library
from dialog_flows.limits import SMS_MAX_CHARACTERS
from dialog_flows.lint import LanguageReport, lint_flow, lint_library
from dialog_flows.model import Flow
from dialog_flows.sms_encoding import is_gsm7, sms_cost
from dialog_flows.translations import LanguageCatalog, Translations

TINY = """
flow: tiny
version: 1
title: Liten
languages: [sv, en, ar]
steps:
  - id: q
    type: single_choice
    text: Hur mår du?
    choices:
      - id: good
        label: Bra
      - id: bad
        label: Dåligt
  - id: bye
    type: message
    text: Tack!
"""
Q = ("tiny/q:text", "Hur mår du?")


@pytest.fixture
def tiny(make_flow: Callable[[str], Flow]) -> Flow:
    return make_flow(TINY)


def catalogs(**by_language: Mapping[tuple[str, Any], Any]) -> Translations:
    made = []
    for language, messages in by_language.items():
        catalog = Catalog(locale=language, fuzzy=False)
        for (context, source), string in messages.items():
            catalog.add(source, string, context=context)
        made.append(LanguageCatalog.from_catalog(language, catalog))
    return Translations.from_catalogs(made)


def by_language(reports: list[LanguageReport]) -> dict[str, LanguageReport]:
    return {report.language: report for report in reports}


def prompt_text(report: LanguageReport, step_id: str) -> str:
    return next(prompt.text for prompt in report.prompts if prompt.step_id == step_id)


def test_one_report_per_language_of_the_flow(tiny: Flow) -> None:
    reports = lint_flow(tiny, Translations())
    assert [(r.flow_id, r.flow_version, r.language) for r in reports] == [
        ("tiny", 1, "sv"),
        ("tiny", 1, "en"),
        ("tiny", 1, "ar"),
    ]
    assert all([p.step_id for p in r.prompts] == ["q", "bye"] for r in reports)


def test_coverage_counts_flow_texts_and_system_texts(tiny: Flow) -> None:
    tr = catalogs(en={Q: "How are you?", ("tiny/q/good:label", "Bra"): "Good"})
    reports = by_language(lint_flow(tiny, tr))
    total = len(list(flow_texts(tiny))) + len(texts.ALL_TEXTS)
    source, english, arabic = reports["sv"], reports["en"], reports["ar"]
    assert (source.translated, source.total, source.coverage) == (total, total, 1.0)
    assert source.missing == []
    assert (english.translated, english.total) == (2, total)
    assert english.coverage == pytest.approx(2 / total)
    assert "tiny/q/bad:label" in english.missing
    assert "tiny/q:text" not in english.missing
    assert texts.HELP.context in english.missing
    assert texts.REMINDER.context in english.missing  # plural texts count too
    assert arabic.translated == 0
    assert len(arabic.missing) == total


def test_a_plural_system_text_counts_once_translated(tiny: Flow) -> None:
    reminder = texts.REMINDER
    forms = ("One question left ({count}), {stop}", "{count} questions left, {stop}")
    tr = catalogs(en={(reminder.context, (reminder.source, reminder.plural or "")): forms})
    assert tr.is_translated_plural("en", reminder.context, reminder.source)
    assert not tr.is_translated_plural("ar", reminder.context, reminder.source)
    assert not tr.is_translated("en", reminder.context, reminder.source)
    reports = by_language(lint_flow(tiny, tr))
    assert reminder.context not in reports["en"].missing
    assert reports["en"].translated == 1
    assert reminder.context in reports["ar"].missing


def test_prompts_are_rendered_and_costed_per_language(tiny: Flow) -> None:
    arabic_q = "كيف حالك؟"
    tr = catalogs(
        en={Q: "How are you?", ("tiny/q/good:label", "Bra"): "Good – fine"},
        ar={Q: arabic_q},
    )
    reports = by_language(lint_flow(tiny, tr))
    for report in reports.values():
        assert report.errors == []
        for prompt in report.prompts:
            assert prompt.cost == sms_cost(prompt.text)
        assert report.segments == sum(prompt.cost.segments for prompt in report.prompts)
    assert prompt_text(reports["sv"], "q") == "Hur mår du?\n\n1 Bra\n2 Dåligt"
    # Rendered for SMS: the typographic dash of the translation became GSM-7.
    assert prompt_text(reports["en"], "q") == "How are you?\n\n1 Good - fine\n2 Dåligt"
    assert {p.cost.encoding for p in reports["en"].prompts} == {"GSM-7"}
    assert prompt_text(reports["ar"], "q").startswith(arabic_q)
    costs = {prompt.step_id: prompt.cost for prompt in reports["ar"].prompts}
    assert costs["q"].encoding == "UCS-2"
    assert costs["bye"].encoding == "GSM-7"  # untranslated: the Swedish "Tack!"


def test_segments_add_up_over_long_prompts(tiny: Flow) -> None:
    long_english = "Please tell us how you are. " * 20  # 560 GSM-7 characters
    reports = by_language(lint_flow(tiny, catalogs(en={Q: long_english.strip()})))
    q_cost = next(p.cost for p in reports["en"].prompts if p.step_id == "q")
    assert q_cost.encoding == "GSM-7"
    assert q_cost.segments == 4  # 153 septets per concatenated segment
    assert reports["en"].segments == q_cost.segments + 1
    assert reports["sv"].segments == 2


def test_a_translated_prompt_longer_than_an_sms_allows_is_flagged(tiny: Flow) -> None:
    source_prompt = prompt_text(by_language(lint_flow(tiny, Translations()))["en"], "q")
    room = SMS_MAX_CHARACTERS - (len(source_prompt) - len(Q[1]))  # for the translated text

    fits = by_language(lint_flow(tiny, catalogs(en={Q: "x" * room})))
    assert len(prompt_text(fits["en"], "q")) == SMS_MAX_CHARACTERS
    assert fits["en"].errors == []

    too_long = by_language(lint_flow(tiny, catalogs(en={Q: "x" * (room + 1)}, ar={Q: "ي" * 2000})))
    assert too_long["sv"].errors == []
    (english_error,) = too_long["en"].errors
    assert "step 'q'" in english_error
    assert "language en" in english_error
    assert f"{SMS_MAX_CHARACTERS + 1} characters" in english_error
    (arabic_error,) = too_long["ar"].errors
    assert "language ar" in arabic_error
    assert str(SMS_MAX_CHARACTERS) in arabic_error


def test_lint_library_reports_every_current_flow_and_language(library: Library) -> None:
    reports = lint_library(library)
    expected = [(f.id, f.version, code) for f in library.current_flows() for code in f.languages]
    assert [(r.flow_id, r.flow_version, r.language) for r in reports] == expected
    assert ("karlslund", 1, "ar") in expected
    for report in reports:
        flow = library.flow(report.flow_id, report.flow_version)
        assert flow is not None
        assert [prompt.step_id for prompt in report.prompts] == [step.id for step in flow.steps]
        assert report.errors == []


def test_the_swedish_karlslund_prompts_are_all_gsm7(library: Library) -> None:
    (report,) = [r for r in lint_library(library) if (r.flow_id, r.language) == ("karlslund", "sv")]
    assert len(report.prompts) >= 15
    assert [p.step_id for p in report.prompts if p.cost.encoding != "GSM-7"] == []
    # Not only after conversion: the Swedish source avoids – … ’ in the first place.
    flow = library.flow("karlslund")
    assert flow is not None
    assert [t.context for t in flow_texts(flow) if not is_gsm7(t.source)] == []
    where = prompt_text(report, "where")
    assert "1 Kopparängen" in where
    assert report.segments == sum(p.cost.segments for p in report.prompts)
