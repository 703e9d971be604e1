"""Tests for dialog_flows.render_text: neutral messages as plain text for SMS and console."""

from __future__ import annotations

from dialog_flows.render_text import render_plain
from dialog_flows.session import Option, Outgoing
from dialog_flows.sms_encoding import is_gsm7


def option(number: int | None, label: str, choice_id: str | None = None) -> Option:
    choice_id = choice_id or label.lower()
    return Option(id=choice_id, label=label, payload=f"q:{choice_id}", number=number)


def message(
    text: str,
    *options: Option,
    text_hint: str | None = None,
    language: str = "sv",
) -> Outgoing:
    return Outgoing(
        text=text,
        language=language,
        direction="rtl" if language == "ar" else "ltr",
        options=options,
        input="single" if options else "none",
        step_id="q",
        text_hint=text_hint,
    )


def test_a_message_without_options_is_its_text() -> None:
    assert render_plain(message("Tack för dina svar!")) == "Tack för dina svar!"


def test_options_are_numbered_after_a_blank_line() -> None:
    rendered = render_plain(
        message("Om något händer, brukar du berätta det?", option(1, "Ja"), option(2, "Nej"))
    )
    assert rendered == "Om något händer, brukar du berätta det?\n\n1 Ja\n2 Nej"


def test_the_number_is_the_options_own_number_not_its_position() -> None:
    rendered = render_plain(message("Fråga", option(3, "Tre"), option(7, "Sju")))
    assert rendered.splitlines()[2:] == ["3 Tre", "7 Sju"]


def test_unnumbered_options_are_left_out_and_the_text_hint_is_appended() -> None:
    rendered = render_plain(
        message(
            "Var känner du dig otrygg?\nDu kan välja flera.",
            option(1, "Kopparängen"),
            option(2, "Ingenstans"),
            option(None, "Klar", "done"),
            text_hint="Svara med en eller flera siffror, till exempel 1,3.",
        )
    )
    assert "Klar" not in rendered
    assert rendered.splitlines() == [
        "Var känner du dig otrygg?",
        "Du kan välja flera.",
        "",
        "1 Kopparängen",
        "2 Ingenstans",
        "Svara med en eller flera siffror, till exempel 1,3.",
    ]


def test_a_text_hint_without_numbered_options() -> None:
    rendered = render_plain(
        message(
            "Beskriv platsen.",
            option(None, "Hoppa över", "skip"),
            text_hint="Vill du hoppa över frågan? Skriv HOPPA.",
        )
    )
    assert rendered == "Beskriv platsen.\nVill du hoppa över frågan? Skriv HOPPA."


TYPOGRAPHIC = "Det är ”viktigt” – och ’svårt’… Tack."


def test_the_console_keeps_typographic_characters() -> None:
    assert render_plain(message(TYPOGRAPHIC)) == TYPOGRAPHIC


def test_for_sms_typographic_quotes_dashes_and_ellipsis_become_gsm7() -> None:
    rendered = render_plain(
        message(TYPOGRAPHIC, option(1, "Ja – gärna"), text_hint="Svara ”1”…"), for_sms=True
    )
    assert is_gsm7(rendered)
    assert rendered == 'Det är "viktigt" - och \'svårt\'... Tack.\n\n1 Ja - gärna\nSvara "1"...'
    # Swedish letters are GSM-7 and stay.
    assert "är" in rendered
    assert "gärna" in rendered


def test_for_sms_leaves_arabic_untouched() -> None:
    text = "«مرحبًا» – هل تشعر بالأمان… ’هنا‘؟"
    arabic = message(text, option(1, "نعم – دائمًا"), text_hint="اكتب ”1“", language="ar")
    assert render_plain(arabic, for_sms=True) == render_plain(arabic)
    assert render_plain(arabic, for_sms=True) == f"{text}\n\n1 نعم – دائمًا\nاكتب ”1“"
