"""The drawing pieces of a printed poster: wrapped text lines and QR codes, as SVG.

Lengths are millimetres (the poster's viewBox is the A4 sheet in mm). SVG does not wrap
text, so lines are broken here from an estimate of each character's width. The estimate
is generous on purpose: a line that ends early looks fine, one that runs off the sheet
or into a QR code does not.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import segno

from dialog_flows.languages import Direction

SANS = "DejaVu Sans, Noto Sans, Noto Naskh Arabic, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Noto Sans Mono, Consolas, monospace"
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
NO_BREAK = "\u00a0"
# Unicode isolates: a Latin keyword or a +46 number inside Arabic text keeps its own
# left-to-right order (the "+" would otherwise move to the number's other end).
LTR_ISOLATE, POP_ISOLATE = "\u2066", "\u2069"


def number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def char_width(char: str) -> float:
    """Roughly how wide a character is, in em, erring wide (DejaVu Sans is a wide face)."""
    if unicodedata.category(char) in {"Mn", "Me", "Cf"}:
        return 0.0  # Arabic vowel marks, isolates, joiners take no room of their own
    if char in {" ", NO_BREAK}:
        return 0.34
    if char in ".,:;!|'il()[]":
        return 0.36
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return 1.0
    if char.isupper() or char.isdigit() or char in "mwMW@%&":
        return 0.8
    if "\u0600" <= char <= "\u06ff":
        return 0.55  # Arabic script letters join and are narrower than Latin ones
    return 0.6


def text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    if mono:
        return len([c for c in text if char_width(c) > 0]) * 0.62 * size
    width = sum(char_width(char) for char in text) * size
    return width * 1.1 if bold else width


def wrap(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: at spaces (never at a no-break
    space), and inside a word only when the word alone is too wide."""
    lines: list[str] = []
    line = ""
    # Split at plain spaces only: str.split() would also split at a no-break space.
    for word in (w for w in text.replace("\n", " ").split(" ") if w):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size, bold=bold) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        rest = word
        while text_width(rest, size, bold=bold) > width:
            cut = _fitting_prefix(rest, width, size, bold)
            lines.append(rest[:cut])
            rest = rest[cut:]
        line = rest
    if line:
        lines.append(line)
    return lines


def _fitting_prefix(word: str, width: float, size: float, bold: bool) -> int:
    for end in range(len(word), 0, -1):
        if text_width(word[:end], size, bold=bold) <= width:
            return end
    return 1


@dataclass(frozen=True)
class TextStyle:
    size: float
    line_height: float = 1.3  # times the size
    bold: bool = False
    mono: bool = False
    fill: str = "#000000"


def text_lines(
    lines: list[str],
    *,
    x: float,
    top: float,
    style: TextStyle,
    language: str,
    direction: Direction,
    anchor: str = "start",
) -> tuple[str, float]:
    """One ``<text>`` with a ``<tspan>`` per line, first line's top at ``top``. With
    ``direction="rtl"`` the start is the right end, so ``x`` is then the right edge.
    Returns the SVG and the y just below the last line."""
    step = style.size * style.line_height
    first = top + style.size * 1.0  # the baseline sits about one size below the top
    family = MONO if style.mono else SANS
    weight = ' font-weight="bold"' if style.bold else ""
    spans = "".join(
        f'<tspan x="{number(x)}" y="{number(first + index * step)}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    svg = (
        f"<text xml:lang={quoteattr(language)} lang={quoteattr(language)} "
        f'direction="{direction}" text-anchor="{anchor}" font-family="{family}" '
        f'font-size="{number(style.size)}"{weight} fill="{style.fill}">{spans}</text>'
    )
    bottom = first + (len(lines) - 1) * step + style.size * 0.4
    return svg, bottom


def qr_modules(url: str) -> list[bytearray]:
    # Error correction M survives a scuffed or partly covered poster; never Micro QR,
    # which many phone cameras do not read.
    return list(segno.make_qr(url, error="m").matrix)


def qr_path(matrix: list[bytearray]) -> str:
    """The dark modules as one path in module units: one rectangle per run in a row."""
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(parts)


def qr_code(url: str, *, x: float, y: float, size: float, element_id: str) -> str:
    """A QR code with its quiet zone, ``size`` mm square with the top left at (x, y)."""
    matrix = qr_modules(url)
    modules = len(matrix) + 2 * QUIET_ZONE
    scale = size / modules
    return (
        f'<g id={quoteattr(element_id)} transform="translate({number(x)} {number(y)}) '
        f'scale({scale:.5f})" role="img" aria-label={quoteattr(url)}>'
        f'<rect width="{modules}" height="{modules}" fill="#ffffff"/>'
        f'<path transform="translate({QUIET_ZONE} {QUIET_ZONE})" fill="#000000" '
        f'shape-rendering="crispEdges" d="{qr_path(matrix)}"/></g>'
    )


def isolate_ltr(text: str) -> str:
    """Left-to-right inside right-to-left text, and never broken across lines."""
    return LTR_ISOLATE + text.replace(" ", NO_BREAK) + POP_ISOLATE
