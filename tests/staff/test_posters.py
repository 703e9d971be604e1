"""Printable posters: A4 SVG that parses, QR codes that hold the right links (checked by
comparing the drawn modules with segno's own matrix), right-to-left where the language
asks for it, and refusals for what does not exist. HTTP tests run on both databases."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest
import segno

from dialog_flows.library import Library
from dialog_flows.translations import LanguageCatalog, Translations
from tests.staff.staff_helpers import anonymous_client, staff_client
from tests.staff.test_campaign_pages import CHANNELS, configure
from trygg.service.runtime import Runtime
from trygg.settings import Settings
from trygg.staff.poster_layout import QUIET_ZONE, text_width, wrap
from trygg.staff.posters import poster_for, poster_svg

SVG = "{http://www.w3.org/2000/svg}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")
ARABIC = re.compile(r"[\u0600-\u06ff]")
POSTERS = "/staff/campaigns/karlslund/posters"


def expected_urls(source: str, language: str) -> dict[str, str]:
    return {
        "qr-telegram": f"https://t.me/TryggKarlslundBot?start={source}",
        "qr-facebook": f"https://m.me/landskronastad?ref={source}",
        "qr-web": f"https://trygg.example.se/chat?source={source}&lang={language}",
        "qr-sms": f"sms:+46701234567?body=TRYGG%20{source.upper()}",
    }


def dark_modules(url: str) -> set[tuple[int, int]]:
    matrix = segno.make(url, error="m").matrix
    return {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}


def drawn_modules(group: ET.Element) -> set[tuple[int, int]]:
    """The modules a QR group's path paints: one rectangle per run of dark modules."""
    path = group.find(f"{SVG}path")
    assert path is not None
    assert path.get("transform") == f"translate({QUIET_ZONE} {QUIET_ZONE})"
    d = path.get("d", "")
    assert RUN.sub("", d) == "", "the path holds only whole-module runs"
    drawn: set[tuple[int, int]] = set()
    for x, y, width, back in RUN.findall(d):
        assert width == back
        drawn.update((int(x) + i, int(y)) for i in range(int(width)))
    return drawn


def qr_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("qr-")}


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


def words(element: ET.Element) -> str:
    """The text's lines (one tspan each) joined by spaces."""
    return " ".join(" ".join(element.itertext()).split())


async def get_poster(runtime: Runtime, path: str, **settings: object) -> tuple[int, str, dict]:
    async with staff_client(runtime, "viewer") as client:
        configure(runtime, **settings)
        answer = await client.http.get(path)
    return answer.status_code, answer.text, dict(answer.headers)


async def test_the_arabic_poster_is_a4_right_to_left_with_codes_for_each_channel(
    runtime: Runtime,
) -> None:
    status, body, headers = await get_poster(runtime, f"{POSTERS}/badet/ar.svg", **CHANNELS)
    assert status == 200
    assert headers["content-type"].startswith("image/svg+xml")
    assert headers["content-disposition"] == 'attachment; filename="karlslund-badet-ar.svg"'
    root = ET.fromstring(body.encode())
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")
    assert root.get("viewBox") == "0 0 210 297"

    groups = qr_groups(root)
    assert set(groups) == set(expected_urls("badet", "ar"))
    for element_id, url in expected_urls("badet", "ar").items():
        assert drawn_modules(groups[element_id]) == dark_modules(url), element_id
        quiet = groups[element_id].find(f"{SVG}rect")
        assert quiet is not None
        assert quiet.get("width") == str(len(segno.make(url, error="m").matrix) + 2 * QUIET_ZONE)

    arabic = [t for t in texts(root) if ARABIC.search(words(t))]
    assert len(arabic) >= 4  # title, invitation, "scan a code", the SMS sentence
    for text in arabic:
        assert text.get("direction") == "rtl"
        assert text.get(XML_LANG) == "ar" and text.get("lang") == "ar"
        assert all(float(span.get("x", "0")) > 150 for span in text.iter(f"{SVG}tspan"))
    everything = " ".join(words(t) for t in texts(root))
    assert "الشرطة" in everything  # the police: who asks, from the flow's own text
    assert "TRYGG BADET" in everything and "+46 70 123 45 67" in everything
    assert "\u2066TRYGG\u00a0BADET\u2069" in body  # kept left to right inside Arabic
    assert "trygg.example.se" in everything  # the address, to type by hand


async def test_the_swedish_poster_reads_left_to_right(runtime: Runtime) -> None:
    status, body, headers = await get_poster(runtime, f"{POSTERS}/badet/sv.svg", **CHANNELS)
    assert status == 200
    assert headers["content-disposition"] == 'attachment; filename="karlslund-badet-sv.svg"'
    root = ET.fromstring(body.encode())
    for text in texts(root):
        assert text.get("direction") == "ltr"
        # Swedish, or names and addresses in no language (Telegram, +46 70 ..., the URL)
        assert text.get(XML_LANG) in {"sv", "zxx"}
    assert sum(1 for text in texts(root) if text.get(XML_LANG) == "sv") == 4
    title = texts(root)[0]
    assert words(title) == "Trygghet i Karlslund"
    assert all(float(span.get("x", "0")) < 60 for span in title.iter(f"{SVG}tspan"))
    everything = " ".join(words(t) for t in texts(root))
    assert "Polisen och Landskrona stad" in everything
    assert "Skanna en kod med mobilens kamera" in everything
    groups = qr_groups(root)
    assert drawn_modules(groups["qr-web"]) == dark_modules(expected_urls("badet", "sv")["qr-web"])


async def test_with_no_channel_on_the_poster_has_the_web_chat_only(runtime: Runtime) -> None:
    status, body, _ = await get_poster(runtime, f"{POSTERS}/lss/sv.svg")
    assert status == 200
    root = ET.fromstring(body.encode())
    groups = qr_groups(root)
    assert list(groups) == ["qr-web"]
    url = "http://127.0.0.1:8000/chat?source=lss&lang=sv"
    assert drawn_modules(groups["qr-web"]) == dark_modules(url)
    everything = " ".join(words(t) for t in texts(root))
    assert "lättläst" in everything  # the easy-read flow's own title
    assert "SMS" not in everything


@pytest.mark.parametrize(
    "path",
    [
        f"{POSTERS}/nowhere/sv.svg",  # no such source
        f"{POSTERS}/lss/ar.svg",  # the easy-read flow is Swedish only
        f"{POSTERS}/badet/xx.svg",  # no such language
        "/staff/campaigns/nowhere/posters/badet/sv.svg",
    ],
)
async def test_what_does_not_exist_is_404(runtime: Runtime, path: str) -> None:
    status, body, _ = await get_poster(runtime, path)
    assert status == 404
    assert "<svg" not in body


async def test_anonymous_gets_no_poster(runtime: Runtime) -> None:
    async with anonymous_client(runtime) as http:
        answer = await http.get(f"{POSTERS}/badet/sv.svg")
    assert answer.status_code == 303
    assert "<svg" not in answer.text


# -- without the HTTP stack -----------------------------------------------------------------


def test_untranslated_texts_fall_back_to_swedish_marked_as_swedish(library: Library) -> None:
    bare = dataclasses.replace(library, translations=Translations())
    poster = poster_for(bare, Settings(), bare.campaign(), "badet", "ar")
    assert poster is not None
    root = ET.fromstring(poster_svg(poster).encode())
    assert root.get("lang") == "ar"
    worded = [text for text in texts(root) if text.get("lang") != "zxx"]
    assert len(worded) == 3  # title, invitation, "scan a code"; no SMS without Twilio
    for text in worded:
        assert (text.get("lang"), text.get("direction")) == ("sv", "ltr")
    assert words(texts(root)[0]) == "Trygghet i Karlslund"


def test_text_from_a_catalog_is_escaped(library: Library) -> None:
    flow = library.flow("karlslund")
    assert flow is not None
    title = 'Trygg & "säker" <i Karlslund>'
    catalog = LanguageCatalog(
        "en", {("karlslund:title", flow.title): title}, {}, lambda n: 0 if n == 1 else 1
    )
    changed = dataclasses.replace(library, translations=Translations.from_catalogs([catalog]))
    poster = poster_for(changed, Settings(), changed.campaign(), "badet", "en")
    assert poster is not None
    root = ET.fromstring(poster_svg(poster).encode())
    assert words(texts(root)[0]) == title
    assert root.findtext(f"{SVG}title") == title


def test_wrap_keeps_lines_narrow_and_no_break_spaces_whole() -> None:
    number = "+46\u00a070\u00a0123\u00a045\u00a067"
    text = f"Eller skicka ett SMS med texten TRYGG\u00a0BADET till {number}."
    lines = wrap(text, 60, 5)
    assert len(lines) > 1
    assert all(text_width(line, 5) <= 60 for line in lines)
    assert " ".join(lines) == text
    assert any("TRYGG\u00a0BADET" in line for line in lines)
    assert any(f"{number}." in line for line in lines)
    long_word = "x" * 80
    assert all(text_width(line, 5) <= 60 for line in wrap(long_word, 60, 5))
    assert "".join(wrap(long_word, 60, 5)) == long_word
