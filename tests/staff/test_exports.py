"""The exports page on SQLite and PostgreSQL: every file parses, holds this campaign's
respondents and their tags, is logged before it is sent, and only analysts get it."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.staff.answer_data import ARABIC, Written, audit_entries, dialog, write_answers
from tests.staff.staff_helpers import StaffClient, anonymous_client, staff_client
from trygg.service.runtime import Runtime

PAGE = "/staff/campaigns/karlslund/exports"
TAGS = "/staff/campaigns/karlslund/free-text/tags"
KINDS = ("responses-xlsx", "responses-csv", "responses-json", "stats-json")


async def tagged_campaign(runtime: Runtime, client: StaffClient) -> tuple[str, str, str]:
    """An Arabic respondent with two tags on 'problems', a Swedish one whose tag starts
    like a formula, and a respondent of another campaign that must not be exported."""
    arabic = await dialog(runtime, "visitor-ar", [ARABIC], language="ar", source="badet")
    [swedish, other] = await write_answers(
        runtime, [Written("Mörkt"), Written("Annan", campaign="annan")]
    )
    for respondent, tag in [(arabic, "mörker"), (arabic, "belysning"), (swedish, "-kvällar")]:
        form = {"respondent": respondent, "question": "problems", "tag": tag}
        assert (await client.post_form(TAGS, form)).status_code == 303
    return arabic, swedish, other


async def test_the_page_offers_each_export_as_a_form_with_its_token(runtime: Runtime) -> None:
    await write_answers(runtime, [Written("Mörkt"), Written("Annan", campaign="annan")])
    async with staff_client(runtime, "analyst") as client:
        answer = await client.http.get(PAGE)
    assert answer.status_code == 200
    for kind in KINDS:
        action = f'<form method="post" action="{PAGE}/{kind}">'
        assert action in answer.text
        form = answer.text.split(action)[1].split("</form>")[0]
        assert f'name="csrf_token" value="{client.csrf}"' in form
    assert "som har 1\nsvarande" in answer.text  # this campaign's respondents only


async def test_each_format_parses_and_holds_the_campaign_and_its_tags(runtime: Runtime) -> None:
    async with staff_client(runtime, "analyst") as client:
        arabic, swedish, other = await tagged_campaign(runtime, client)
        files = {kind: await client.post_form(f"{PAGE}/{kind}") for kind in KINDS}
    for kind, answer in files.items():
        assert answer.status_code == 200, (kind, answer.text)
        extension = kind.split("-")[1]
        name = "statistik" if kind.startswith("stats") else "svar"
        disposition = f'attachment; filename="karlslund-{name}-2026-11-24.{extension}"'
        assert answer.headers["content-disposition"] == disposition

    data = files["responses-json"]
    assert data.headers["content-type"] == "application/json; charset=utf-8"
    rows = {row["respondent"]: row for row in json.loads(data.text)}
    assert set(rows) == {arabic, swedish}
    assert rows[arabic]["answers"]["problems"] == ARABIC and rows[arabic]["language"] == "ar"
    assert rows[arabic]["tags"] == {"problems": ["belysning", "mörker"]}
    assert rows[swedish]["tags"] == {"problems": ["-kvällar"]}

    table = files["responses-csv"]
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    header, *records = list(csv.reader(io.StringIO(table.text)))
    assert header[header.index("problems") + 1] == "problems_tags"
    assert "where_tags" not in header  # a multiple choice question: no tag column
    cells = {record[0]: dict(zip(header, record, strict=True)) for record in records}
    assert set(cells) == {arabic, swedish}
    assert cells[arabic]["problems_tags"] == "belysning; mörker"
    assert cells[swedish]["problems_tags"] == "'-kvällar"  # a formula start, neutralised
    assert cells[swedish]["more_tags"] == ""

    workbook = load_workbook(io.BytesIO(files["responses-xlsx"].content))
    assert (
        files["responses-xlsx"]
        .headers["content-type"]
        .startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    sheet = [list(row) for row in workbook["Svar"].iter_rows(values_only=True)]
    assert sheet[0] == header
    by_id = {row[0]: dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]}
    assert by_id[arabic]["problems_tags"] == "belysning; mörker"
    assert by_id[swedish]["problems_tags"] == "'-kvällar"
    assert other not in by_id

    stats = json.loads(files["stats-json"].text)
    assert stats["campaign"] == "karlslund" and stats["min_cell"] == 5
    assert [table["name"] for table in stats["tables"]] == [
        "source",
        "channel",
        "language",
        "age_group",
        "gender",
    ]
    assert stats["tables"][0]["total"]["respondents"] == "<5"  # two people: hidden


async def test_every_download_is_logged_before_it_is_sent(runtime: Runtime) -> None:
    async with staff_client(runtime, "analyst") as client:
        await tagged_campaign(runtime, client)
        for kind in KINDS:
            assert (await client.post_form(f"{PAGE}/{kind}")).status_code == 200
    entries = await audit_entries(runtime, "export.")
    assert [entry.action for entry in entries] == ["export.downloaded"] * 4
    assert all(entry.actor == "staff:analyst-user" for entry in entries)
    assert [entry.detail for entry in entries] == [
        {"campaign": "karlslund", "kind": kind, "format": kind.split("-")[1], "rows": 2}
        for kind in KINDS
    ]


async def test_refusals_send_no_file_and_log_nothing(runtime: Runtime) -> None:
    await write_answers(runtime, [Written("Mörkt")])
    async with staff_client(runtime, "analyst") as client:
        unknown = await client.post_form(f"{PAGE}/responses-pdf")
        assert unknown.status_code == 404 and "responses-pdf" in unknown.text
        no_token = await client.http.post(f"{PAGE}/responses-json")
        assert no_token.status_code == 403 and "Mörkt" not in no_token.text
        wrong_token = await client.http.post(
            f"{PAGE}/responses-json", data={"csrf_token": "not-the-token"}
        )
        assert wrong_token.status_code == 403
        assert (await client.http.get(f"{PAGE}/responses-json")).status_code == 405
        no_campaign = await client.post_form("/staff/campaigns/nowhere/exports/responses-json")
        assert no_campaign.status_code == 404
    async with staff_client(runtime, "viewer") as client:
        assert (await client.http.get(PAGE)).status_code == 403
        refused = await client.post_form(f"{PAGE}/responses-json")
        assert refused.status_code == 403 and "Mörkt" not in refused.text
    async with anonymous_client(runtime) as http:
        assert (await http.post(f"{PAGE}/responses-csv")).status_code == 401
    assert await audit_entries(runtime, "export.") == []
