"""A printable A4 poster for one source in one language, as SVG.

The words come from the translation catalogs, never from staff-written Swedish: the
flow's title, the flow's own "who asks and why" text (the one HJÄLP shows: the police and
the municipality ask, answers are gathered without names, this is not how to report a
crime), and two fixed poster texts. A text not yet translated falls back to Swedish, as
in the dialog, and is then marked as Swedish, so a screen reader and a printer's font
choice get it right.

Right-to-left languages get ``direction="rtl"``, text anchored at the right margin and
the QR codes in right-to-left order. The layout shrinks a little when the texts are long,
so nothing runs off the sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from dialog_flows import texts
from dialog_flows.flow_texts import flow_context, step_context
from dialog_flows.languages import direction
from dialog_flows.library import Library
from dialog_flows.model import Campaign, Flow, Source, StepKind
from dialog_flows.texts import SystemText
from trygg.settings import Settings
from trygg.staff.entry_points import EntryPoint, entry_points
from trygg.staff.poster_layout import (
    NO_BREAK,
    TextStyle,
    isolate_ltr,
    number,
    qr_code,
    text_lines,
    text_width,
    wrap,
)

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 210.0, 297.0, 16.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
ACCENT = "#00468c"  # the staff pages' blue; dark enough to print as near-black in grey
FOOTER_TOP = PAGE_HEIGHT - 14
# Names, addresses, numbers and ids are in no language (BCP 47 "zxx"): a screen reader
# or a font choice should not treat "Telegram" or "+46 70" as Arabic on an Arabic poster.
NO_LANGUAGE = "zxx"
SCALES = (1.12, 1.06, 1.0, 0.93, 0.86, 0.8, 0.74, 0.68)


@dataclass(frozen=True)
class Words:
    """A text and the language it really is in (Swedish when not yet translated)."""

    text: str
    language: str


@dataclass(frozen=True)
class Poster:
    campaign: Campaign
    source: Source
    flow: Flow
    language: str
    title: Words
    invitation: Words
    scan: Words
    sms: Words | None
    codes: tuple[EntryPoint, ...]  # scanned: Telegram, Messenger, the web chat
    sms_point: EntryPoint | None

    @property
    def filename(self) -> str:
        return f"{self.campaign.id}-{self.source.id}-{self.language}.svg"


def poster_for(
    library: Library, settings: Settings, campaign: Campaign, source_id: str, language: str
) -> Poster | None:
    """The poster, or None when the campaign has no such source or its flow does not
    offer the language."""
    source = campaign.source(source_id)
    flow = library.flow(campaign.flow_for(source.id)) if source else None
    if source is None or flow is None or language not in flow.languages:
        return None
    tr = library.translations

    def words(context: str, swedish: str) -> Words:
        if language == flow.source_language or tr.is_translated(language, context, swedish):
            return Words(tr.text(language, context, swedish), language)
        return Words(swedish, flow.source_language)

    def system(text: SystemText) -> Words:
        return words(text.context, text.source)

    points = [p for p in entry_points(settings, campaign, source, language) if p.on]
    sms_point = next((p for p in points if p.channel == "sms"), None)
    sms = None
    if sms_point is not None:
        template = system(texts.POSTER_SMS)
        rtl = direction(template.language) == "rtl"
        keyword, phone = (
            isolate_ltr(text) if rtl else text.replace(" ", NO_BREAK)
            for text in (sms_point.sms_text or "", sms_point.sms_number or "")
        )
        sms = Words(template.text.format(keyword=keyword, number=phone), template.language)
    return Poster(
        campaign, source, flow, language,
        title=words(flow_context(flow, "title"), flow.title),
        invitation=_invitation(flow, words),
        scan=system(texts.POSTER_SCAN),
        sms=sms,
        codes=tuple(p for p in points if p.channel != "sms"),
        sms_point=sms_point,
    )  # fmt: skip


def _invitation(flow: Flow, words: Callable[[str, str], Words]) -> Words:
    """Who asks and why: the flow's help text, else its first message (the intro)."""
    if flow.help:
        return words(flow_context(flow, "help"), flow.help)
    for step in flow.steps:
        if step.kind is StepKind.MESSAGE:
            return words(step_context(flow, step, "text"), step.text)
    return words(flow_context(flow, "title"), flow.title)


def poster_svg(poster: Poster) -> str:
    """The whole sheet; the largest text size at which everything fits above the footer."""
    for scale in SCALES:
        body, bottom = _draw(poster, scale)
        if bottom <= FOOTER_TOP:
            break
    side = direction(poster.language)
    footer, _ = text_lines(
        [f"{poster.campaign.id} · {poster.source.id} · {poster.language}"],
        x=_start_x(side), top=PAGE_HEIGHT - 10, style=TextStyle(2.8, fill="#4a4a4a"),
        language=NO_LANGUAGE, direction=side,
    )  # fmt: skip
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" '
        f'viewBox="0 0 {number(PAGE_WIDTH)} {number(PAGE_HEIGHT)}" '
        f"xml:lang={quoteattr(poster.language)} lang={quoteattr(poster.language)}>"
        f"<title>{escape(poster.title.text)}</title>"
        f'<rect width="{number(PAGE_WIDTH)}" height="{number(PAGE_HEIGHT)}" fill="#ffffff"/>'
        f'<rect width="{number(PAGE_WIDTH)}" height="9" fill="{ACCENT}"/>'
    )
    return head + "".join(body) + footer + "</svg>\n"


def _start_x(side: str) -> float:
    return MARGIN if side == "ltr" else PAGE_WIDTH - MARGIN


def _block(
    words: Words, top: float, style: TextStyle, width: float = CONTENT_WIDTH
) -> tuple[str, float]:
    side = direction(words.language)
    lines = wrap(words.text, width * 0.97, style.size, bold=style.bold)
    return text_lines(
        lines, x=_start_x(side), top=top, style=style, language=words.language, direction=side
    )


def _draw(poster: Poster, scale: float) -> tuple[list[str], float]:
    parts: list[str] = []
    title, y = _block(poster.title, 22, TextStyle(12 * scale, 1.2, bold=True, fill=ACCENT))
    invitation, y = _block(poster.invitation, y + 7 * scale, TextStyle(6.2 * scale, 1.5))
    scan, y = _block(poster.scan, y + 10 * scale, TextStyle(6.4 * scale, 1.3, bold=True))
    parts += [title, invitation, scan]
    row, y = _qr_row(poster, y + 6 * scale, scale)
    parts += row
    if poster.sms_point is not None and poster.sms is not None:
        box, y = _sms_box(poster, poster.sms_point, poster.sms, y + 10 * scale, scale)
        parts.append(box)
    return parts, y


def _qr_row(poster: Poster, top: float, scale: float) -> tuple[list[str], float]:
    """The codes side by side in reading order, each with its name or address below."""
    codes = list(poster.codes)
    if direction(poster.language) == "rtl":
        codes.reverse()
    slot = CONTENT_WIDTH / 3
    size = min(52 * scale, slot - 6)
    left = MARGIN + (CONTENT_WIDTH - slot * len(codes)) / 2
    parts: list[str] = []
    bottom = top
    for index, point in enumerate(codes):
        assert point.url is not None
        middle = left + slot * index + slot / 2
        parts.append(
            qr_code(
                point.url, x=middle - size / 2, y=top, size=size, element_id=f"qr-{point.channel}"
            )
        )
        label, below = _label(point, middle, top + size + 2, slot - 4, scale)
        parts.append(label)
        bottom = max(bottom, below)
    return parts, bottom


def _label(
    point: EntryPoint, middle: float, top: float, width: float, scale: float
) -> tuple[str, float]:
    """A brand name, or the web address itself (to type when a camera will not scan)."""
    assert point.url is not None
    style = TextStyle(5.4 * scale, 1.3, bold=True)
    if point.channel != "web":
        return text_lines(
            [point.label], x=middle, top=top, style=style, language=NO_LANGUAGE, direction="ltr",
            anchor="middle",
        )  # fmt: skip
    address = point.url.removeprefix("https://")
    host, _, rest = address.partition("/")
    small = TextStyle(4.0 * scale, 1.3)
    # A host name reads best unbroken: smaller rather than split at a dot.
    fitting = style.size * width / max(width, text_width(host, style.size, bold=True))
    style = TextStyle(max(fitting, 3.6 * scale), 1.3, bold=True)
    hosts, below = text_lines(
        wrap(host, width, style.size, bold=True), x=middle, top=top, style=style,
        language=NO_LANGUAGE, direction="ltr", anchor="middle",
    )  # fmt: skip
    pieces = ("/" + rest).replace("?", " ?").replace("&", " &").split(" ") if rest else []
    lines = _join_pieces(pieces, width, small.size)
    paths, below = text_lines(
        lines, x=middle, top=below + 0.5, style=small, language=NO_LANGUAGE, direction="ltr",
        anchor="middle",
    )  # fmt: skip
    return hosts + paths, below


def _join_pieces(pieces: list[str], width: float, size: float) -> list[str]:
    """Put the parts of an address (path, ?query, &query) together on as few lines as fit."""
    lines: list[str] = []
    for piece in pieces:
        if lines and text_width(lines[-1] + piece, size) <= width:
            lines[-1] += piece
        else:
            lines.extend(wrap(piece, width, size) or [piece])
    return lines


def _sms_box(
    poster: Poster, point: EntryPoint, sentence: Words, top: float, scale: float
) -> tuple[str, float]:
    """The SMS keyword and number, large enough to copy by hand, and an ``sms:`` code."""
    assert point.url is not None
    pad, size = 6.0, 38 * scale
    text_width_mm = CONTENT_WIDTH - 2 * pad - size - 8
    side = direction(poster.language)
    rtl = side == "rtl"
    text_x = PAGE_WIDTH - MARGIN - pad if rtl else MARGIN + pad
    qr_x = MARGIN + pad if rtl else PAGE_WIDTH - MARGIN - pad - size
    lines = wrap(sentence.text, text_width_mm * 0.97, 5.6 * scale)
    said, y = text_lines(
        lines, x=text_x, top=top + pad, style=TextStyle(5.6 * scale, 1.45),
        language=sentence.language, direction=direction(sentence.language),
    )  # fmt: skip
    keyword = point.sms_text or ""
    keyword_size = min(9 * scale, text_width_mm / max(1, len(keyword) * 0.62))
    # Latin letters and digits read left to right, so right-align them on an RTL poster.
    anchor = "end" if rtl else "start"
    typed, y = text_lines(
        [keyword], x=text_x, top=y + 3 * scale, style=TextStyle(keyword_size, bold=True, mono=True),
        language=NO_LANGUAGE, direction="ltr", anchor=anchor,
    )  # fmt: skip
    phone, y = text_lines(
        [point.sms_number or ""], x=text_x, top=y + 1.5 * scale,
        style=TextStyle(7 * scale, bold=True), language=NO_LANGUAGE, direction="ltr",
        anchor=anchor,
    )  # fmt: skip
    height = max(size, y - top - pad) + 2 * pad
    code = qr_code(point.url, x=qr_x, y=top + (height - size) / 2, size=size, element_id="qr-sms")
    frame = (
        f'<rect x="{number(MARGIN)}" y="{number(top)}" width="{number(CONTENT_WIDTH)}" '
        f'height="{number(height)}" rx="3" fill="none" stroke="{ACCENT}" stroke-width="0.6"/>'
    )
    return frame + said + typed + phone + code, top + height
