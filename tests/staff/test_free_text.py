"""The free-text page on SQLite and PostgreSQL: answers as written, filters, paging,
tags and their audit entries, the tag summary, and who may do what."""

from __future__ import annotations

import datetime as dt
import re

from tests.staff.answer_data import (
    ARABIC,
    Written,
    answers_in,
    audit_entries,
    dialog,
    tags_stored,
    write_answers,
)
from tests.staff.staff_helpers import anonymous_client, staff_client
from trygg.service.runtime import Runtime

PAGE = "/staff/campaigns/karlslund/free-text"
TAGS = PAGE + "/tags"
DAY = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def tag_form(
    respondent: str, tag: str, question: str = "problems", back: str = ""
) -> dict[str, str]:
    return {"respondent": respondent, "question": question, "tag": tag, "back": back}


async def test_answers_show_as_written_in_their_own_language_and_direction(
    runtime: Runtime,
) -> None:
    arabic = await dialog(runtime, "visitor-ar", [ARABIC], language="ar", source="badet")
    [swedish] = await write_answers(
        runtime, [Written('Rad ett\n   rad två <script>alert(1)</script> & "citat"')]
    )
    async with staff_client(runtime, "analyst") as client:
        answer = await client.http.get(PAGE)
    assert answer.status_code == 200
    page = answer.text
    assert f'<p class="written answer-text" lang="ar" dir="auto">{ARABIC}</p>' in page
    # Line breaks and spaces kept, markup escaped (never run), nothing else changed.
    escaped = "Rad ett\n   rad två &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;citat&#34;"
    assert f'lang="sv" dir="auto">{escaped}</p>' in page
    assert "<script>alert(1)" not in page
    assert {arabic, swedish} == {respondent for respondent, _ in answers_in(page)}
    # The question in Swedish beside the answer, the metadata, no contact details.
    assert "Vad gör att du känner dig otrygg i Karlslund" in page
    assert "Arabiska" in page and "Spontant möte vid Karlslundsbadet" in page
    assert "Webbchatt" in page and "visitor-ar" not in page


async def test_only_text_questions_are_listed_found_from_the_flows(runtime: Runtime) -> None:
    await dialog(runtime, "visitor-1", ["Mörkt vid kiosken", "1,3", "Vid gångtunneln"])
    async with staff_client(runtime, "analyst") as client:
        page = (await client.http.get(PAGE)).text
    listed = sorted(question for _, question in answers_in(page))
    assert listed == ["problems", "where_detail"]  # not "where", a multiple choice
    options = re.findall(
        r'<option value="([a-z_]+)"', page.split('name="step"')[1].split("</select>")[0]
    )
    assert options == ["problems", "where_detail", "told_why_not", "more"]


async def test_filters_narrow_the_answers(runtime: Runtime) -> None:
    later = DAY + dt.timedelta(days=3)
    ids = await write_answers(
        runtime,
        [
            Written("svenska badet"),
            Written(ARABIC, language="ar"),
            Written("ingen källa", source=None),
            Written("mer text", question="more", source="lss"),
            Written("senare", at=later),
        ],
    )
    sv_badet, arabic, no_source, more, late = ids
    async with staff_client(runtime, "analyst") as client:

        async def listed(query: str) -> set[str]:
            answer = await client.http.get(f"{PAGE}?{query}")
            assert answer.status_code == 200, answer.text
            return {respondent for respondent, _ in answers_in(answer.text)}

        assert await listed("") == set(ids)
        assert await listed("language=ar") == {arabic}
        assert await listed("step=more") == {more}
        assert await listed("source=lss") == {more}
        assert await listed("source=_ingen") == {no_source}
        assert await listed("from=2026-11-25") == {late}
        assert await listed("to=2026-11-24") == set(ids) - {late}
        assert await listed("from=2026-11-27&to=2026-11-27") == {late}
        assert await listed("language=sv&source=badet&to=2026-11-26") == {sv_badet}
        await client.post_form(TAGS, tag_form(arabic, "belysning"))
        assert await listed("tag=belysning") == {arabic}
        assert await listed("tag=_utan") == set(ids) - {arabic}
        assert await listed("tag=Belysning") == {arabic}  # normalised like a new tag
        assert await listed("tag=okänd") == set()


async def test_invalid_filters_get_a_message_not_an_error(runtime: Runtime) -> None:
    await write_answers(runtime, [Written("något")])
    async with staff_client(runtime, "analyst") as client:
        for query, words in [
            ("step=where", "ingen fritextfråga"),
            ("step=%27%3B+DROP+TABLE+answers", "ingen fritextfråga"),
            ("language=xx", "inget språk"),
            ("source=nowhere", "ingen källa"),
            ("from=24-11-2026", "ska vara ett datum"),
            ("from=2026-11-25&to=2026-11-24", "ligger efter"),
            ("tag=%3Cb%3E", "bara ha bokstäver"),
            ("page=0", "Sidan ska vara"),
            ("page=abc", "Sidan ska vara"),
        ]:
            answer = await client.http.get(f"{PAGE}?{query}")
            assert answer.status_code == 400, query
            assert words in answer.text, query
            assert answers_in(answer.text) == []
            assert 'class="filters"' in answer.text  # the form, to fix the value


async def test_pages_of_fifty_newest_first_without_repeats(runtime: Runtime) -> None:
    written = [
        Written(f"svar {index}", at=DAY + dt.timedelta(minutes=index)) for index in range(57)
    ]
    ids = await write_answers(runtime, written)
    async with staff_client(runtime, "analyst") as client:
        first = await client.http.get(PAGE)
        second = await client.http.get(f"{PAGE}?page=2")
        beyond = await client.http.get(f"{PAGE}?page=3")
    on_first = [respondent for respondent, _ in answers_in(first.text)]
    on_second = [respondent for respondent, _ in answers_in(second.text)]
    assert len(on_first) == 50 and len(on_second) == 7
    assert on_first + on_second == list(reversed(ids))  # newest first, none twice
    assert "57 svar, visar 1–50" in first.text and "visar 51–57" in second.text
    assert f'href="{PAGE}?page=2" rel="next"' in first.text
    assert f'href="{PAGE}" rel="prev"' in second.text
    assert beyond.status_code == 200 and answers_in(beyond.text) == []


async def test_tagging_round_trip_normalised_and_audited(runtime: Runtime) -> None:
    [respondent] = await write_answers(runtime, [Written(ARABIC, language="ar")])
    back = "language=ar&page=1"
    async with staff_client(runtime, "analyst") as client:
        added = await client.post_form(
            TAGS, tag_form(respondent, "  Dålig   Belysning ", back=back)
        )
        assert added.status_code == 303
        assert added.headers["location"] == f"{PAGE}?language=ar#svar-{respondent}-problems"
        await client.post_form(TAGS, tag_form(respondent, "إضاءة"))  # any script
        await client.post_form(TAGS, tag_form(respondent, "dålig belysning"))  # already there
        assert await tags_stored(runtime) == [
            (respondent, "problems", "dålig belysning"),
            (respondent, "problems", "إضاءة"),
        ]
        page = (await client.http.get(PAGE)).text
        assert "dålig belysning" in page.split(f'id="svar-{respondent}-problems"')[1]
        assert '<datalist id="tag-suggestions"><option value="dålig belysning">' in page
        removed = await client.post_form(
            TAGS + "/delete", tag_form(respondent, "dålig belysning", back=back)
        )
        assert removed.status_code == 303
        assert await tags_stored(runtime) == [(respondent, "problems", "إضاءة")]
    entries = await audit_entries(runtime, "free_text.")
    assert [entry.action for entry in entries] == [
        "free_text.tag_added",
        "free_text.tag_added",
        "free_text.tag_removed",
    ]
    assert entries[0].actor == "staff:analyst-user"
    assert entries[0].detail == {
        "campaign": "karlslund",
        "respondent": respondent,
        "question": "problems",
        "tag": "dålig belysning",
    }


async def test_bad_tags_and_answers_store_nothing(runtime: Runtime) -> None:
    [respondent] = await write_answers(runtime, [Written("Mörkt")])
    [elsewhere] = await write_answers(runtime, [Written("Annan kampanj", campaign="annan")])
    async with staff_client(runtime, "analyst") as client:
        for tag in ["", "   ", "<b>", "a" * 65, "=1+1", "--"]:
            answer = await client.post_form(TAGS, tag_form(respondent, tag))
            assert answer.status_code == 400, tag
            assert 'class="problem"' in answer.text
        missing = await client.post_form(TAGS, tag_form("0" * 32, "belysning"))
        assert missing.status_code == 404
        other_campaign = await client.post_form(TAGS, tag_form(elsewhere, "belysning"))
        assert other_campaign.status_code == 404
        not_text = await client.post_form(TAGS, tag_form(respondent, "belysning", "where"))
        assert not_text.status_code == 400
        unanswered = await client.post_form(TAGS, tag_form(respondent, "belysning", "more"))
        assert unanswered.status_code == 404
        no_token = await client.http.post(TAGS, data=tag_form(respondent, "belysning"))
        assert no_token.status_code == 403
    assert await tags_stored(runtime) == []
    assert await audit_entries(runtime, "free_text.") == []


async def test_viewers_and_strangers_are_refused(runtime: Runtime) -> None:
    [respondent] = await write_answers(runtime, [Written("Mörkt")])
    async with staff_client(runtime, "viewer") as client:
        assert (await client.http.get(PAGE)).status_code == 403
        refused = await client.post_form(TAGS, tag_form(respondent, "belysning"))
        assert refused.status_code == 403
    async with anonymous_client(runtime) as http:
        answer = await http.get(PAGE)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/login")
        assert (await http.post(TAGS, data=tag_form(respondent, "x"))).status_code == 401
    assert await tags_stored(runtime) == []


def summary_rows(page: str) -> dict[str, list[str]]:
    table = page.split('class="tag-summary"')[1].split("</table>", maxsplit=1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        tag = re.search(r'<th scope="row"><a [^>]*>([^<]+)</a>', row)
        if tag:
            rows[tag.group(1)] = re.findall(r'<td class="number">([^<]*)</td>', row)
    return rows


async def test_tag_summary_counts_per_language_with_small_counts_hidden(
    runtime: Runtime,
) -> None:
    swedish = await write_answers(runtime, [Written(f"sv {n}") for n in range(6)])
    arabic = await write_answers(runtime, [Written(f"ar {n}", language="ar") for n in range(7)])
    async with staff_client(runtime, "analyst") as client:
        for respondent in swedish + arabic[:2]:
            await client.post_form(TAGS, tag_form(respondent, "belysning"))
        for respondent in swedish[:5] + arabic[:5]:
            await client.post_form(TAGS, tag_form(respondent, "narkotika"))
        page = (await client.http.get(PAGE)).text
    header = page.split('class="tag-summary"')[1].split("</thead>")[0]
    assert re.findall(r'<th scope="col" class="number">([^<]+)</th>', header) == [
        "Alla språk",
        "Svenska",
        "Arabiska",
    ]
    rows = summary_rows(page)
    # 2 Arabic answers are too few to show; the 6 Swedish ones would give them away
    # (8 - 6), so they are hidden too.
    assert rows["belysning"] == ["8", "x", "färre än 5"]
    assert rows["narkotika"] == ["10", "5", "5"]
    assert "2" not in rows["belysning"]
