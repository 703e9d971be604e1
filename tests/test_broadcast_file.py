"""Reading a broadcast from a YAML file of per-language texts (trygg.broadcast_file)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trygg.broadcast_file import BroadcastFileError, parse
from trygg.service.broadcast_spec import BroadcastSpec

KARLSLUND = ("sv", "en", "ar", "so", "fa", "pl", "tr", "uk", "bs")


def write(tmp_path: Path, text: str, name: str = "texts.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def read(path: Path, campaign: str = "karlslund") -> BroadcastSpec:
    return parse(path).spec(campaign, KARLSLUND)


def problems(path: Path) -> str:
    with pytest.raises(BroadcastFileError) as caught:
        read(path)
    message = str(caught.value)
    assert message.startswith(str(path))  # every message names the file
    return message


def test_a_full_file_with_language_names_becomes_a_spec(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: Återkoppling Karlslund hösten 2026
        campaign: karlslund
        link: https://example.se/karlslund
        image: https://example.se/poster.png
        audience: {sources: [badet], channels: [sms], languages: [arabiska]}
        texts:
          svenska: |
            Tack för att du var med!
          Arabic: |
            شكراً لمشاركتك!
          العربية الفصحى: ignored
          so: Mahadsanid!
          Persian: متشکریم
        """,
    )
    with pytest.raises(BroadcastFileError, match="'العربية الفصحى' is not one of"):
        read(path)
    path.write_text(path.read_text("utf-8").replace("  العربية الفصحى: ignored\n", ""), "utf-8")
    found = parse(path)
    assert found.campaign == "karlslund"
    spec = found.spec("karlslund", KARLSLUND)
    assert spec.name == "Återkoppling Karlslund hösten 2026"
    assert spec.texts == {
        "sv": "Tack för att du var med!\n",
        "ar": "شكراً لمشاركتك!\n",
        "so": "Mahadsanid!",
        "fa": "متشکریم",
    }
    assert (spec.link, spec.image) == (
        "https://example.se/karlslund",
        "https://example.se/poster.png",
    )
    assert (spec.sources, spec.channels, spec.languages) == (("badet",), ("sms",), ("ar",))


def test_the_language_in_its_own_script_and_regional_codes_are_understood(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: Resultat
        texts:
          sv-SE: Hej
          العربية: مرحبا
          polski: Cześć
          Ukrainian: Привіт
        """,
    )
    assert sorted(read(path).texts) == ["ar", "pl", "sv", "uk"]
    assert parse(path).campaign is None  # --campaign, or the only campaign, decides


def test_every_problem_is_named_with_its_line_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: Resultat
        texts:
          sv: Hej
          klingon: Qapla'
          en: 12
          ar:
        """,
    )
    message = problems(path)
    assert "line 4: texts: 'klingon' is not one of the campaign's languages (sv, en, ar" in message
    assert "line 5: text en: must be text, not a number" in message
    assert "line 6: text ar: empty" in message


def test_the_same_language_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: R\ntexts:\n  sv: Hej\n  svenska: Hejsan\n")
    assert "'svenska' and 'sv' are both sv; keep one of them" in problems(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: R\ntexts: [sv, en\n", "line 3: invalid YAML"),
        ("- a list\n- of things\n", "expected name: and texts:"),
        ("", "expected name: and texts:"),
        ("name: R\n", "texts: missing"),
        ("name: R\ntexts: Hej alla\n", "texts: must list one text per language"),
        ("texts:\n  sv: Hej\n", "name: missing"),
        ("name: R\ntext:\n  sv: Hej\n", "line 2: unknown key 'text'"),
        ("name: R\ntexts:\n  sv: [Hej]\n", "line 3: text sv: must be text, not a list"),
        ("name: [R]\ntexts:\n  sv: Hej\n", "line 1: name: must be text, not a list"),
        ("name: R\ntexts: {sv: Hej}\naudience: [sms]\n", "line 3: audience: expected"),
        ("name: R\ntexts: {sv: Hej}\naudience: {who: [x]}\n", "audience: unknown key 'who'"),
        ("name: R\ntexts: {sv: Hej}\naudience: {languages: [xx]}\n", "'xx' is not one of"),
        ("name: R\ntexts: {sv: Hej}\nlink: 7\n", "link: must be text, not a number"),
        ("a: &x 1\nb: *x\n", "anchor"),
    ],
)
def test_bad_files_give_one_clear_message(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert expected in problems(path)


def test_a_missing_or_binary_file_is_named(tmp_path: Path) -> None:
    assert "cannot read the file" in problems(tmp_path / "nowhere.yaml")
    binary = tmp_path / "texts.docx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    assert "not UTF-8" in problems(binary)
