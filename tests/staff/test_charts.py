"""The results page's pieces on their own: SVG charts, small-cell suppression, stored
answer values, filter dates."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from trygg.staff.aggregates import choice_ids
from trygg.staff.charts import bar_chart, column_chart, rating_bar, rating_swatch
from trygg.staff.crossed_cells import Breakdown, CrossedCells, hide_crossed
from trygg.staff.local_days import utc_offsets
from trygg.staff.result_filters import local_midnight
from trygg.staff.small_cells import Cell, hide_each, hide_line

SVG = "{http://www.w3.org/2000/svg}"
SMALL = Cell(None, small=True)


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def rects(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if kind in rect.get("class", "").split()]


def texts(svg: ET.Element) -> list[str]:
    return [text.text or "" for text in svg.iter(f"{SVG}text")]


# -- charts --------------------------------------------------------------------------------


def test_bars_are_as_long_as_their_counts_and_a_hidden_count_gets_only_a_marker() -> None:
    bars = [("Ett", Cell(40, share=0.5)), ("Två", Cell(20)), ("Tre", SMALL), ("Fyra", Cell(None))]
    svg = parsed(bar_chart("c-x", "Deltagare per källa", bars))
    assert svg.get("role") == "img" and svg.findtext(f"{SVG}title") == "Deltagare per källa"
    first, second = (float(rect.get("width", "")) for rect in rects(svg, "bar"))
    assert first == pytest.approx(2 * second) and first > 100
    markers = rects(svg, "marker")
    assert [marker.get("width") for marker in markers] == ["28", "28"]
    assert all(marker.get("fill") == "url(#c-x-hidden)" for marker in markers)
    assert svg.find(f"{SVG}defs/{SVG}pattern[@id='c-x-hidden']") is not None
    assert texts(svg) == ["Ett", "40 (50\u00a0%)", "Två", "20", "Tre", "färre än 5", "Fyra", "dold"]


def test_columns_share_a_scale_and_hidden_columns_are_only_stubs() -> None:
    columns = [("1/11", Cell(10)), ("2/11", SMALL), ("3/11", Cell(5))]
    svg = parsed(column_chart("c-t", "cap-t", columns, width=400, height=200))
    tall, short = (float(rect.get("height", "")) for rect in rects(svg, "bar"))
    assert tall == pytest.approx(2 * short)
    [stub] = rects(svg, "marker")
    assert stub.get("height") == "8"
    assert "färre än 5" not in texts(svg)  # the table says so; a column has no room
    shared = parsed(column_chart("c-u", "cap-u", columns, width=400, height=200, scale=20))
    assert float(rects(shared, "bar")[0].get("height", "")) == pytest.approx(tall / 2)
    assert "20" in texts(shared) and "10" in texts(shared)  # the axis goes to 20


def test_many_columns_name_every_kth_and_write_no_values() -> None:
    columns = [(f"{day}/11", Cell(day + 5)) for day in range(1, 31)]
    svg = parsed(column_chart("c-m", "cap-m", columns, most_labels=6))
    names = [text for text in texts(svg) if "/11" in text]
    assert names == ["1/11", "6/11", "11/11", "16/11", "21/11", "26/11"]
    assert len(rects(svg, "bar")) == 30 and not any(
        text.get("class") == "value" for text in svg.iter(f"{SVG}text")
    )


def test_a_rating_bar_draws_shown_shares_with_patterns_and_hides_the_rest() -> None:
    segments = [
        ("red", "Otryggt", Cell(30, share=0.6)),
        ("yellow", "Ingen åsikt", SMALL),
        ("green", "Tryggt", Cell(None)),
    ]
    svg = parsed(rating_bar("c-p", "Plats 1: Otryggt 60 %", segments, width=500))
    [red] = rects(svg, "red")
    assert float(red.get("width", "")) == pytest.approx(300)
    assert red.get("fill") == "url(#c-p-red)"  # stripes, not only a colour
    assert not rects(svg, "yellow") and not rects(svg, "green")
    [rest] = rects(svg, "marker")
    assert float(rest.get("x", "")) == pytest.approx(300)
    assert float(rest.get("width", "")) == pytest.approx(200)
    assert texts(svg) == ["Otryggt 60\u00a0%", "dolt"]
    assert svg.findtext(f"{SVG}title") == "Plats 1: Otryggt 60 %"


def test_all_three_ratings_differ_in_pattern_not_only_in_colour() -> None:
    segments = [
        ("red", "Otryggt", Cell(10, share=0.25)),
        ("yellow", "Ingen åsikt", Cell(10, share=0.25)),
        ("green", "Tryggt", Cell(20, share=0.5)),
    ]
    svg = parsed(rating_bar("c-q", "h-q", segments, width=400))
    fills = [rect.get("fill") for rect in rects(svg, "segment")]
    assert fills == ["url(#c-q-red)", "url(#c-q-yellow)", "#1b7837"]
    assert not rects(svg, "marker")
    swatch = parsed(rating_swatch("legend-yellow", "yellow"))
    assert swatch.get("aria-hidden") == "true"


def test_labels_are_escaped() -> None:
    markup = str(bar_chart("c-e", "cap-e", [("<script>&", Cell(5))]))
    assert "<script>" not in markup and "&lt;script&gt;&amp;" in markup


# -- suppression ---------------------------------------------------------------------------


def shown(cells: list[Cell]) -> list[int | str]:
    return [cell.count if cell.count is not None else cell.text for cell in cells]


def test_one_small_cell_takes_the_next_smallest_with_it() -> None:
    assert shown(hide_line([19, 6, 3], None)) == [19, "dold", "färre än 5"]


def test_small_cells_that_together_hold_fewer_than_five_take_another_with_them() -> None:
    # 0 and 3 are hidden; 28 - 12 - 7 - 6 would still say "3 people", so 6 goes too.
    assert shown(hide_line([12, 7, 6, 0, 3], None)) == [12, 7, "dold", "färre än 5", "färre än 5"]
    # Hidden cells that hold 0 or 5 or more people together are enough.
    assert shown(hide_line([12, 7, 0, 0], None)) == [12, 7, "färre än 5", "färre än 5"]
    assert shown(hide_line([12, 7, 3, 2], None)) == [12, 7, "färre än 5", "färre än 5"]


def test_under_a_hidden_total_only_small_cells_are_hidden() -> None:
    assert shown(hide_line([6, 3], Cell(None))) == [6, "färre än 5"]
    assert shown(hide_each([4, 5, 0])) == ["färre än 5", 5, "färre än 5"]


def crossed(times: list[int], **parts: tuple[list[int], list[list[int]]]) -> CrossedCells:
    return hide_crossed(times, {name: Breakdown(*part) for name, part in parts.items()})


def test_a_grid_hides_inside_until_no_line_gives_a_small_cell_away() -> None:
    # Rows: two days (totals 12, 9); columns: two sources (totals 13, 8).
    hidden = crossed([12, 9], source=([13, 8], [[9, 3], [4, 5]]))
    assert [shown(row) for row in hidden.grids["source"]] == [
        ["dold", "färre än 5"],
        ["färre än 5", "dold"],
    ]
    assert shown(hidden.times) == [12, 9] and shown(hidden.keys["source"]) == [13, 8]


def test_a_grid_leaves_lines_of_zeros_and_big_counts_alone() -> None:
    hidden = crossed([12, 7], source=([12, 7], [[12, 0], [0, 7]]))
    assert [shown(row) for row in hidden.grids["source"]] == [[12, "färre än 5"], ["färre än 5", 7]]


def test_a_row_with_nothing_left_to_hide_hides_its_total_in_every_breakdown() -> None:
    # Four days; languages sv, en, ar. The 3 Swedish on day 3 take day 1's 12 with them;
    # then day 1 would show 12 - 0 - 0 = 12 Swedish, so day 1's total is hidden.
    language = ([15, 6, 7], [[12, 0, 0], [0, 0, 7], [3, 0, 0], [0, 6, 0]])
    channel = ([12, 16], [[12, 0], [0, 7], [0, 3], [0, 6]])
    hidden = crossed([12, 7, 3, 6], language=language, channel=channel)
    assert shown(hidden.times) == ["dold", 7, "färre än 5", "dold"]
    assert [row[0].hidden for row in hidden.grids["language"]] == [True] * 4
    assert shown(hidden.keys["language"]) == [15, 6, 7]
    # The channels' grid has the same time totals, whatever the page shows.
    assert shown(hidden.grids["channel"][0]) == [12, "färre än 5"]


def test_a_column_with_nothing_left_to_hide_hides_its_key_total() -> None:
    # Two weeks; the 3 Swedish in week 2 hide week 1's 12 Swedish, which hides week 1's
    # 7 Arabic, which leaves Arabic with nothing shown: its total is hidden, and with it
    # English, so that the hidden totals are not one.
    hidden = crossed([19, 9], language=([15, 6, 7], [[12, 0, 7], [3, 6, 0]]))
    assert shown(hidden.keys["language"]) == [15, "dold", "dold"]
    assert all(cell.hidden for row in hidden.grids["language"] for cell in row)
    assert shown(hidden.times) == [19, 9]


def test_shares_only_between_shown_counts() -> None:
    assert Cell(5).with_share_of(Cell(20)).share_text == "25\u00a0%"
    assert Cell(5).with_share_of(Cell(None)).share is None
    assert SMALL.with_share_of(Cell(20)).share is None
    assert Cell(12345).text == "12\u00a0345"


# -- stored values and dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "ids"),
    [
        ('{"v": "green"}', ["green"]),
        ('{"v": ["day", "night", "day"]}', ["day", "night"]),
        ('{"v": []}', []),
        ('{"v": null}', []),
        ('{"v": 3}', ["3"]),
        (None, []),
    ],
)
def test_stored_answers_become_choice_ids(stored: str | None, ids: list[str]) -> None:
    assert choice_ids(stored) == ids


def test_a_filter_date_is_a_swedish_day() -> None:
    assert local_midnight(dt.date(2026, 11, 10)) == dt.datetime(2026, 11, 9, 23, tzinfo=dt.UTC)
    assert local_midnight(dt.date(2026, 7, 1)) == dt.datetime(2026, 6, 30, 22, tzinfo=dt.UTC)


def test_summer_time_periods_are_found_to_the_hour() -> None:
    first = dt.datetime(2026, 10, 20, 9, 41, tzinfo=dt.UTC)
    last = dt.datetime(2026, 10, 30, 12, tzinfo=dt.UTC)
    assert utc_offsets(first, last) == [
        (dt.datetime(2026, 10, 20, 9, tzinfo=dt.UTC), dt.timedelta(hours=2)),
        (dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC), dt.timedelta(hours=1)),
    ]
    assert len(utc_offsets(first, first)) == 1
