"""Charts as inline SVG, drawn on the server: no script, nothing loaded from elsewhere.

Each builder is a pure function from cells (``small_cells.Cell``) to SVG markup. The
charts are meant to be read in grayscale and by screen readers:

- meaning never rests on colour alone: every bar carries its number as text, the
  place ratings also differ in pattern (stripes, dots, solid) and are named in a legend;
- a hidden count has no number to draw: it gets a short hatched marker of fixed size and
  the words "färre än 5" (or "dold"), never a bar to scale;
- the SVG is ``role="img"`` named by its ``<title>`` (the chart's caption), and the
  page puts the same numbers in a real table after it.

The element ids inside a chart start with its ``chart_id``, so charts can share a page.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from markupsafe import Markup

from trygg.staff.small_cells import Cell

INK = "#1b1b1b"
MUTED = "#4a4a4a"
BAR = "#2f4b7c"  # one series: a dark blue that is a dark grey in grayscale
LABEL_SIZE = 14
HIDDEN_MARKER = 28  # px: the same for every hidden count, so it says nothing about it
LONGEST_LABEL = 90  # characters; the table beside the chart has the whole text

# The place ratings: colour for those who see it, a pattern and a name for everyone.
RATING_STYLE = {
    "red": ("#b2182b", "stripes"),
    "yellow": ("#fee08b", "dots"),
    "green": ("#1b7837", "solid"),
}


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str | float) -> ET.Element:
    # Python names for SVG attributes: class_ is class, font_size is font-size.
    names = {name: name.rstrip("_").replace("_", "-") for name in attrs}
    values = {
        names[name]: _n(value) if isinstance(value, float) else str(value)
        for name, value in attrs.items()
    }
    element = ET.SubElement(parent, tag, values)
    if text is not None:
        element.text = text
    return element


def _svg(width: float, height: float, title: str) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {_n(width)} {_n(height)}",
            "width": _n(width),
            "height": _n(height),
            "role": "img",
            "focusable": "false",
            "class": "chart",
        },
    )
    # The name a screen reader reads for the picture; the numbers are in the table.
    _el(svg, "title", title)
    return svg


def _markup(svg: ET.Element) -> Markup:
    return Markup(
        ET.tostring(svg, encoding="unicode", short_empty_elements=True)
    )  # ElementTree escaped it


def _patterns(svg: ET.Element, chart_id: str, ratings: bool = False) -> None:
    """The hatching of hidden counts and, for place ratings, the rating patterns."""
    defs = _el(svg, "defs")
    hidden = _el(
        defs, "pattern", id=f"{chart_id}-hidden", width=6, height=6,
        patternUnits="userSpaceOnUse", patternTransform="rotate(45)",
    )  # fmt: skip
    _el(hidden, "rect", width=6, height=6, fill="#ffffff")
    _el(hidden, "line", x1=0, y1=0, x2=0, y2=6, stroke=MUTED, stroke_width=3)
    if not ratings:
        return
    stripes = _el(
        defs, "pattern", id=f"{chart_id}-red", width=8, height=8,
        patternUnits="userSpaceOnUse", patternTransform="rotate(-45)",
    )  # fmt: skip
    _el(stripes, "rect", width=8, height=8, fill=RATING_STYLE["red"][0])
    _el(stripes, "line", x1=0, y1=0, x2=0, y2=8, stroke="#ffffff", stroke_width=3)
    dots = _el(defs, "pattern", id=f"{chart_id}-yellow", width=8, height=8,
               patternUnits="userSpaceOnUse")  # fmt: skip
    _el(dots, "rect", width=8, height=8, fill=RATING_STYLE["yellow"][0])
    _el(dots, "circle", cx=4, cy=4, r=1.6, fill=INK)


def _fill(chart_id: str, rating: str) -> str:
    colour, pattern = RATING_STYLE[rating]
    return colour if pattern == "solid" else f"url(#{chart_id}-{rating})"


def _short(label: str) -> str:
    return label if len(label) <= LONGEST_LABEL else label[: LONGEST_LABEL - 1] + "…"


def _value_text(cell: Cell) -> str:
    if cell.hidden or cell.share is None:
        return cell.text
    return f"{cell.text} ({cell.share_text})"


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, Cell]], *, width: int = 720
) -> Markup:
    """Horizontal bars, one per category, its label above it and its number after it.
    Lengths are proportional to the shown counts; a hidden count gets the marker."""
    row_height, top = 46, 4
    room = width - 150  # the longest bar leaves room for "12 345 (100 %)"
    largest = max((cell.count or 0 for _, cell in bars), default=0)
    svg = _svg(width, top + row_height * len(bars), title)
    _patterns(svg, chart_id)
    for index, (label, cell) in enumerate(bars):
        y = top + index * row_height
        _el(svg, "text", _short(label), x=0, y=y + 14, font_size=LABEL_SIZE, fill=INK)
        if cell.count is None:
            length = float(HIDDEN_MARKER)
            _el(svg, "rect", x=0, y=y + 20, width=length, height=18, class_="marker",
                fill=f"url(#{chart_id}-hidden)", stroke=MUTED)  # fmt: skip
        else:
            length = room * cell.count / largest if largest else 0.0
            _el(svg, "rect", x=0, y=y + 20, width=float(length), height=18, class_="bar", fill=BAR)
        _el(svg, "text", _value_text(cell), x=length + 6, y=y + 34, font_size=LABEL_SIZE,
            fill=INK, class_="value")  # fmt: skip
    return _markup(svg)


def _nice_ceiling(value: int) -> int:
    """1, 2, 5, 10, 20, 50... at or above ``value``: round numbers on the axis."""
    if value <= 0:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def column_chart(
    chart_id: str,
    title: str,
    columns: Sequence[tuple[str, Cell]],
    *,
    width: int = 720,
    height: int = 240,
    most_labels: int = 12,
    scale: int | None = None,
) -> Markup:
    """Vertical columns over time (days, weeks or months), with a value axis.

    Every ``k``-th column is named under the axis so the names do not overlap; the
    numbers are written above the columns when there are few enough to read. ``scale``
    (at least the largest count) gives several charts the same axis."""
    left, right, top, bottom = 44, 8, 22, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    largest = max((cell.count or 0 for _, cell in columns), default=0)
    ceiling = _nice_ceiling(max(largest, scale or 0))
    svg = _svg(width, height, title)
    _patterns(svg, chart_id)
    for tick in (0, ceiling // 2, ceiling) if ceiling > 1 else (0, ceiling):
        y = base - plot_h * tick / ceiling
        _el(svg, "line", x1=left, y1=float(y), x2=width - right, y2=float(y), stroke="#c8c8c8")
        _el(svg, "text", f"{tick:,}".replace(",", "\u00a0"), x=left - 6, y=float(y + 4),
            font_size=12, fill=MUTED, text_anchor="end")  # fmt: skip
    slot = plot_w / max(len(columns), 1)
    every = max(1, math.ceil(len(columns) / most_labels))
    write_values = len(columns) <= 16
    for index, (label, cell) in enumerate(columns):
        x = left + index * slot + slot * 0.15
        bar_w = slot * 0.7
        if cell.count is None:
            _el(svg, "rect", x=x, y=float(base - 8), width=bar_w, height=8, class_="marker",
                fill=f"url(#{chart_id}-hidden)", stroke=MUTED)  # fmt: skip
        else:
            tall = plot_h * cell.count / ceiling
            _el(svg, "rect", x=x, y=float(base - tall), width=bar_w, height=float(tall),
                class_="bar", fill=BAR)  # fmt: skip
            if write_values:
                _el(svg, "text", cell.text, x=x + bar_w / 2, y=float(base - tall - 4),
                    font_size=11, fill=INK, text_anchor="middle", class_="value")  # fmt: skip
        if index % every == 0:
            _el(svg, "text", label, x=x + bar_w / 2, y=float(base + 16), font_size=11,
                fill=MUTED, text_anchor="middle")  # fmt: skip
    _el(svg, "line", x1=left, y1=float(base), x2=width - right, y2=float(base), stroke=INK)
    return _markup(svg)


def rating_bar(
    chart_id: str,
    title: str,
    segments: Sequence[tuple[str, str, Cell]],
    *,
    width: int = 560,
) -> Markup:
    """One place's ratings as a bar of 100 %: (rating, its name, its cell) in the order
    given. Segments are as wide as their shown shares; what hidden shares leave over is
    one hatched stretch marked "dolt", whose width is only the page's total minus the
    shown counts, which the table shows anyway."""
    bar_h, text_y = 30, 50
    svg = _svg(width, 58, title)
    _patterns(svg, chart_id, ratings=True)
    x = 0.0
    for rating, name, cell in segments:
        if cell.share is None:
            continue
        wide = width * cell.share
        _el(svg, "rect", x=x, y=0, width=wide, height=bar_h, fill=_fill(chart_id, rating),
            stroke="#ffffff", class_=f"segment {rating}")  # fmt: skip
        if wide >= 70:
            _el(svg, "text", f"{name} {cell.share_text}", x=x + 2, y=text_y, font_size=12,
                fill=INK)  # fmt: skip
        x += wide
    if width - x >= 1:
        _el(svg, "rect", x=x, y=0, width=width - x, height=bar_h, class_="marker",
            fill=f"url(#{chart_id}-hidden)", stroke=MUTED)  # fmt: skip
        if width - x >= 40:
            _el(svg, "text", "dolt", x=x + 2, y=text_y, font_size=12, fill=INK)
    return _markup(svg)


def rating_swatch(chart_id: str, rating: str) -> Markup:
    """A legend's square for one rating (or "hidden"): decoration beside its name."""
    svg = ET.Element(
        "svg",
        {"xmlns": "http://www.w3.org/2000/svg", "viewBox": "0 0 18 18", "width": "18",
         "height": "18", "aria-hidden": "true", "focusable": "false", "class": "swatch"},
    )  # fmt: skip
    _patterns(svg, chart_id, ratings=True)
    fill = f"url(#{chart_id}-hidden)" if rating == "hidden" else _fill(chart_id, rating)
    _el(svg, "rect", x=0.5, y=0.5, width=17, height=17, fill=fill, stroke=INK)
    return _markup(svg)
