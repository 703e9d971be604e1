"""The live results page over HTTP, on SQLite and PostgreSQL: the numbers in its tables,
small counts hidden, filters, the ranking of places, refusals and the empty campaign.

The data set (respondents written straight into the tables, so the counts are exact):

| group | n  | source       | channel  | lang | status    | started (UTC) | answers               |
| A     | 12 | badet        | telegram | sv   | completed | 2026-11-10    | place_1 red, 2 green  |
| B     | 7  | pilangskolan | sms      | ar   | completed | 2026-11-12    | place_1 red, 2 yellow |
| C     | 3  | lss          | web      | sv   | stopped   | 2026-11-20    | problems (text)       |
| E     | 6  | affisch      | facebook | en   | active    | 2026-11-21    | place_1 green, 2 red  |
| D     | 2  | badet        | telegram | sv   | restarted | 2026-11-10    | (never counted)       |

28 counted: 19 completed, 6 active, 3 ended.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import dialog_flows
from tests.staff.results_data import add_group, rows_by_label, tables
from tests.staff.staff_helpers import anonymous_client, staff_client
from trygg.service.runtime import Runtime

PAGE = "/staff/campaigns/karlslund/results"
SMALL = "färre än 5"
TOLD = "Om något händer som gör dig otrygg, brukar du berätta det för någon?"


def day(number: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, number, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
async def answered(runtime: Runtime) -> Runtime:
    a = {"place_1": "red", "place_2": "green", "age_group": "18_29", "gender": "woman",
         "where": ["kopparangen", "pilangen"], "told": "police"}  # fmt: skip
    b = {"place_1": "red", "place_2": "yellow", "age_group": "13_17", "gender": "man",
         "where": ["kopparangen"], "told": "no"}  # fmt: skip
    await add_group(runtime, 12, started=day(10), last_step="gender", answers=a)
    await add_group(runtime, 7, started=day(12), source="pilangskolan", channel="sms",
                    language="ar", last_step="gender", answers=b)  # fmt: skip
    await add_group(runtime, 3, started=day(20), source="lss", channel="web",
                    flow="karlslund-lattlast", status="stopped", last_step="problems",
                    answers={"problems": "Mörkt vid kiosken"})  # fmt: skip
    await add_group(runtime, 6, started=day(21), source="affisch", channel="facebook",
                    language="en", status="active", last_step="place_2",
                    answers={"place_1": "green", "place_2": "red"})  # fmt: skip
    await add_group(runtime, 2, started=day(10), status="restarted", answers={"place_1": "green"})
    return runtime


async def page_of(runtime: Runtime, query: str = "", role: str = "viewer") -> tuple[int, str]:
    # A new account each time, so a test may open several pages.
    async with staff_client(runtime, role, f"{role}-{uuid.uuid4().hex[:8]}") as client:
        response = await client.http.get(PAGE + query)
    return response.status_code, response.text


def without_tags(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_viewer_sees_participation_with_small_counts_hidden(answered: Runtime) -> None:
    status, html = await page_of(answered)
    assert status == 200, html
    found = tables(html)
    by_status = rows_by_label(found["Deltagare efter hur långt de kom"])
    assert by_status["Svarade klart"] == ["19", "68 %"]
    assert by_status["Slutade innan de var klara"] == [SMALL, ""]  # 3 ended
    # Only one small cell: the next smallest (6 active) is hidden too, or 28-19-6 gives 3.
    assert by_status["Svarar fortfarande"] == ["dold", ""]
    assert by_status["Totalt"][0] == "28"  # the two restarted dialogs are not counted
    sources = rows_by_label(found["Deltagare per källa"])
    assert sources["Spontant möte vid Karlslundsbadet"] == ["12", "43 %"]
    assert sources["Dialogdag på Pilängskolan"] == ["7", "25 %"]
    assert sources["Samråd på LSS Koppargården"] == [SMALL, ""]
    # The hidden sources hold 3 people together (LSS); 28 - 12 - 7 - 6 would say so, so
    # the next smallest source is hidden too.
    assert sources["Affischer i Karlslund"] == ["dold", ""]
    channels = rows_by_label(found["Deltagare per kanal"])
    assert channels["Telegram"] == ["12", "43 %"] and channels["SMS"] == ["7", "25 %"]
    assert channels["Webbchatt"] == [SMALL, ""] and channels["WhatsApp"] == [SMALL, ""]
    assert channels["Messenger"] == ["dold", ""]
    languages = rows_by_label(found["Deltagare per språk"])
    assert (languages["Svenska"][0], languages["Arabiska"][0], languages["Engelska"][0]) == (
        "15", "7", "6",
    )  # fmt: skip
    assert "68 %" in without_tags(html.split("<h2>Deltagande</h2>")[1].split("</dl>")[0])


async def test_choices_demographics_and_steps_are_counted_among_those_who_answered(
    answered: Runtime,
) -> None:
    _, html = await page_of(answered)
    found = tables(html)
    age = rows_by_label(found["Hur gammal är du?"])
    assert age["18-29 år"] == ["12", "63 %"] and age["13-17 år"] == ["7", "37 %"]
    assert age["Under 13 år"] == [SMALL, ""] and age["Svarade på frågan"][0] == "19"
    gender = rows_by_label(found["Vilket kön har du?"])
    assert gender["Kvinna"] == ["12", "63 %"] and gender["Man"] == ["7", "37 %"]
    where = rows_by_label(found["Var känner du dig otrygg?"])  # multiple choice
    assert where["Kopparängen"] == ["19", "100 %"] and where["Pilängen"] == ["12", "63 %"]
    told = rows_by_label(found[TOLD])
    # "Ja, för någon annan" is 0 (small); "Nej" (7) is hidden with it so it cannot be
    # worked out as 19 - 12 - 7.
    assert told["Ja, för polisen"] == ["12", "63 %"]
    assert told["Ja, för någon annan"] == [SMALL, ""] and told["Nej"] == ["dold", ""]
    steps = rows_by_label(found["Svar och avhopp per fråga"])
    assert steps["Plats 1: Korsningen Emaljgatan och Koppargården"] == ["25", SMALL, SMALL]
    assert steps["Plats 2: Karlslundsbadet"] == ["25", SMALL, "6"]
    problems = "Vad gör att du känner dig otrygg i Karlslund, om något? Skriv med egna ord."
    assert steps[problems] == [SMALL, SMALL, SMALL]  # 3 answered, 3 stopped there


async def test_places_are_ranked_most_unsafe_first(answered: Runtime) -> None:
    _, html = await page_of(answered)
    places = tables(html)["Bedömningen av varje plats, otryggast först"]
    assert places[0][:4] == ["Plats", "Plats i ordningen", "Otryggt", "Otryggt, andel"]
    body = places[1:]
    assert [row[0] for row in body][:2] == [
        "Plats 1: Korsningen Emaljgatan och Koppargården",  # 19 of 25 unsafe
        "Plats 2: Karlslundsbadet",  # 6 of 25 unsafe
    ]
    # place 1: red 19, yellow 0 (small), green 6 hidden with it.
    assert body[0][1:] == ["1", "19", "76 %", SMALL, "", "dold", "", "25"]
    assert body[1][1:] == ["2", "6", "24 %", "7", "28 %", "12", "48 %", "25"]
    # Nobody rated places 3 and 4: they cannot be ranked.
    assert [row[1] for row in body[2:]] == ["–", "–"]
    assert 'class="segment red"' in html and "url(#c-place-place_1-red)" in html


async def test_a_hidden_count_has_no_number_and_no_share(answered: Runtime) -> None:
    _, html = await page_of(answered)
    found = tables(html)
    checked = 0
    for rows in found.values():
        header = rows[0]
        for row in rows[1:]:
            for index, name in enumerate(header):
                share = f"{name}, andel" if name != "Antal" else "Andel"
                if row[index] in (SMALL, "dold") and share in header:
                    assert row[header.index(share)] == "", row
                    checked += 1
    assert checked > 20
    ended = rows_by_label(found["Deltagare efter hur långt de kom"])
    assert ended["Slutade innan de var klara"] == [SMALL, ""]  # not 3
    assert ended["Svarar fortfarande"] == ["dold", ""]  # not 6
    # Hidden bars are not drawn to scale: the status chart has one bar, two markers.
    chart = html.split('id="c-status-hidden"')[1].split("</svg>")[0]
    assert chart.count('class="bar"') == 1 and chart.count('class="marker"') == 2


@pytest.mark.parametrize(
    ("query", "label", "expected"),
    [
        ("?source=pilangskolan", "Dialogdag på Pilängskolan", "7"),
        ("?channel=telegram", "Telegram", "12"),
        ("?language=en", "Engelska", "6"),
        ("?from=2026-11-12&to=2026-11-21", "Dialogdag på Pilängskolan", "7"),
    ],
)
async def test_filters_narrow_the_counts(
    answered: Runtime, query: str, label: str, expected: str
) -> None:
    status, html = await page_of(answered, query)
    assert status == 200
    found = tables(html)
    rows: dict[str, list[str]] = {}
    for caption in ("Deltagare per källa", "Deltagare per kanal", "Deltagare per språk"):
        rows |= rows_by_label(found[caption])
    assert rows[label][0] == expected
    total = rows_by_label(found["Deltagare per källa"])["Totalt"][0]
    assert total == {"?source=pilangskolan": "7", "?channel=telegram": "12",
                     "?language=en": "6"}.get(query, "16")  # fmt: skip
    if query == "?source=pilangskolan":
        place = tables(html)["Bedömningen av varje plats, otryggast först"][1]
        assert place[:4] == ["Plats 1: Korsningen Emaljgatan och Koppargården", "1", "7", "100 %"]
        assert 'value="pilangskolan" selected' in html  # the form keeps the filter


async def test_too_few_with_the_filters_shows_only_that(answered: Runtime) -> None:
    status, html = await page_of(answered, "?source=lss")
    assert status == 200
    assert "Färre än 5 svar med de här filtren" in html
    assert tables(html) == {} and "<svg" not in html


async def test_days_are_swedish_days(runtime: Runtime) -> None:
    """23:30 UTC on 9 November is 00:30 on 10 November in Stockholm."""
    await add_group(runtime, 5, started=day(9, 23, 30))
    await add_group(runtime, 5, started=day(9, 22, 30))  # 23:30 on the 9th, local
    _, html = await page_of(runtime, "?from=2026-11-10&to=2026-11-10")
    found = tables(html)
    assert rows_by_label(found["Deltagare per källa"])["Totalt"][0] == "5"
    by_day = rows_by_label(found["Deltagare per dag, uppdelat per källa"])
    assert list(by_day) == ["2026-11-10", "Totalt"]


async def test_days_follow_summer_time_too(runtime: Runtime) -> None:
    """Summer time ends at 01:00 UTC on 25 October 2026: before it Stockholm is UTC+2,
    after it UTC+1. SQLite has no time zones; the page works the offsets out itself."""
    october = dt.datetime(2026, 10, 24, 22, 30, tzinfo=dt.UTC)  # 00:30 on the 25th, +2
    await add_group(runtime, 5, started=october)
    await add_group(runtime, 6, started=october + dt.timedelta(days=1, hours=1))  # +1
    await add_group(runtime, 7, started=dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC))
    _, html = await page_of(runtime, "?from=2026-10-25&to=2026-10-26")
    by_day = rows_by_label(tables(html)["Deltagare per dag, uppdelat per källa"])
    assert (by_day["2026-10-25"][-1], by_day["2026-10-26"][-1]) == ("5", "6")
    _, html = await page_of(runtime, "?from=2026-07-02&to=2026-07-02")
    by_day = rows_by_label(tables(html)["Deltagare per dag, uppdelat per källa"])
    assert list(by_day) == ["2026-07-02", "Totalt"] and by_day["2026-07-02"][-1] == "7"
    _, html = await page_of(runtime, "?by=language")  # July to October: per week
    weeks = rows_by_label(tables(html)["Deltagare per vecka, uppdelat per språk"])
    # Sunday 25 October ends week 43; Monday the 26th starts week 44.
    assert [weeks[week][-1] for week in ("v. 27 2026", "v. 43 2026", "v. 44 2026")] == [
        "7", "5", "6",
    ]  # fmt: skip


async def test_a_long_range_is_counted_per_week_and_split_per_channel(answered: Runtime) -> None:
    _, html = await page_of(answered, "?from=2026-09-01&to=2026-12-31&by=channel")
    found = tables(html)
    weeks = found["Deltagare per vecka, uppdelat per kanal"]
    # Messenger (6) is hidden beside the web chat (3): only Telegram and SMS have columns.
    assert weeks[0] == ["Vecka", "Telegram", "SMS", "Totalt"]
    by_week = rows_by_label(weeks)
    assert by_week["v. 46 2026"] == ["12", "7", "19"]  # 10 and 12 November
    assert by_week["v. 47 2026"] == [SMALL, SMALL, "9"]  # 20 and 21 November
    assert by_week["Totalt"] == ["12", "7", "28"]
    weeks_shown = list(by_week)[:-1]  # 1 September to 31 December: ISO weeks 36 to 53
    assert (weeks_shown[0], weeks_shown[-1], len(weeks_shown)) == ("v. 36 2026", "v. 53 2026", 18)
    assert 'aria-current="page">Per kanal' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?channel=pigeon", "Kanalen &#39;pigeon&#39; finns inte."),
        ("?from=2026-13-01", "Från-datumet &#39;2026-13-01&#39; är inte ett datum"),
        ("?to=igår", "Till-datumet &#39;igår&#39; är inte ett datum"),
        ("?from=0001-01-01", "Från-datumet måste vara mellan år 2000 och 2099."),
        ("?from=2026-12-01&to=2026-11-01", "Från-datumet är efter till-datumet."),
        ("?source=nowhere", "Källan &#39;nowhere&#39; finns inte i kampanjen."),
        ("?language=xx", "Språket &#39;xx&#39; finns inte"),
        ("?by=weekday", "Det går inte att dela upp per &#39;weekday&#39;."),
    ],
)
async def test_a_bad_filter_gives_the_form_back_with_a_message(
    answered: Runtime, query: str, message: str
) -> None:
    status, html = await page_of(answered, query)
    assert status == 400
    assert message in html and 'role="alert"' in html
    assert '<form class="filters" method="get"' in html and tables(html) == {}


async def test_an_empty_campaign_says_so(runtime: Runtime) -> None:
    status, html = await page_of(runtime)
    assert status == 200
    assert "Kampanjen har inga svar än." in html and tables(html) == {}


async def test_anonymous_is_sent_to_log_in(answered: Runtime) -> None:
    async with anonymous_client(answered) as http:
        response = await http.get(PAGE + "?source=badet")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
    assert "/results" in response.headers["location"]


async def test_an_unknown_campaign_is_not_found(runtime: Runtime) -> None:
    async with staff_client(runtime, "viewer") as client:
        response = await client.http.get("/staff/campaigns/nowhere/results")
    assert response.status_code == 404


async def test_dialogs_taken_over_the_web_chat_are_counted(runtime: Runtime) -> None:
    """Five people answer through the real web chat (the service stores the answers);
    the page reads them back by id."""
    import httpx

    from tests.service.test_web_chat_http import SWEDISH, take_questionnaire
    from trygg.web.app import create_app

    app = create_app(runtime, run_worker=False)
    for _ in range(5):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await take_questionnaire(http, "sv", SWEDISH)
    _, html = await page_of(runtime)
    found = tables(html)
    assert rows_by_label(found["Deltagare efter hur långt de kom"])["Svarade klart"] == [
        "5", "100 %",
    ]  # fmt: skip
    sources = rows_by_label(found["Deltagare per källa"])
    assert sources["Spontant möte vid Karlslundsbadet"] == ["5", "100 %"]
    places = found["Bedömningen av varje plats, otryggast först"][1:]
    # Everyone rated place 3 unsafe (red), places 2 and 4 "no opinion", place 1 safe.
    assert places[0][:4] == ["Plats 3: Pilängskolans skolgård", "1", "5", "100 %"]
    assert [row[1] for row in places[1:]] == ["–", "–", "–"]
    where = rows_by_label(found["Var känner du dig otrygg?"])
    assert where["Kopparängen"] == ["5", "100 %"] and where["Pilängen"] == ["5", "100 %"]
    assert rows_by_label(found["Hur gammal är du?"])["18-29 år"] == ["5", "100 %"]
    assert rows_by_label(found["Vilket kön har du?"])["Kvinna"] == ["5", "100 %"]


@pytest.fixture
async def with_photo(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The shipped flows, with a photo of place 2 (Karlslundsbadet) beside them."""
    from tests.service_helpers import Clock, drop_runtime, make_runtime

    flows = tmp_path / "flows"
    shutil.copytree(Path(dialog_flows.__file__).parent / "flows", flows)
    main = flows / "karlslund.yaml"
    text = main.read_text()
    assert text.count("name: Karlslundsbadet\n") == 1
    main.write_text(
        text.replace("name: Karlslundsbadet\n", "name: Karlslundsbadet\n      image: badet.png\n")
    )
    (flows / "badet.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    built = await make_runtime(database_url, Clock(), flows_dir=flows)
    try:
        yield built
    finally:
        await drop_runtime(built)


async def test_a_place_photo_is_shown_beside_its_rating(with_photo: Runtime) -> None:
    await add_group(with_photo, 5, started=day(10), answers={"place_2": "red"})
    _, html = await page_of(with_photo)
    assert html.count('<img src="/media/badet.png" alt="Foto av platsen"') == 1
    photo_item = html.split('<img src="/media/badet.png"')[1].split("</li>")[0]
    assert "Plats 2: Karlslundsbadet" in photo_item and "Nummer 1 i ordningen." in photo_item
    async with anonymous_client(with_photo) as http:
        assert (await http.get("/media/badet.png")).status_code == 200


async def test_a_range_of_decades_is_cut_to_the_data(answered: Runtime) -> None:
    _, html = await page_of(answered, "?from=2000-01-01&to=2099-12-31")
    by_day = list(rows_by_label(tables(html)["Deltagare per dag, uppdelat per källa"]))
    assert (by_day[0], by_day[-2], len(by_day)) == ("2026-11-10", "2026-11-21", 13)
