"""``trygg export``: real dialogs through the inbound path, then JSON, CSV, XLSX and stats."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from bots.contract import InboundMessage
from dialog_flows.library import Library
from dialog_flows.loader import load_flow_text
from storage import tags as tag_store
from storage.database import migrate
from trygg import export
from trygg.cli import app
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime, build_runtime
from trygg.settings import Settings

SECRET = "export-test-secret-0123456789abcdef"
START = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
INJECTION = '=HYPERLINK("https://example.invalid/?q=1","klicka")'

# The whole Karlslund flow: problems, where, where_detail, when, told, four places, more,
# then age group, gender and feedback (filled in per respondent).
SV = ["Mörkt vid kiosken", "1,3", "Vid gångtunneln", "2", "1", "2", "2", "3", "1", "Nej"]
AR = ["الظلام قرب الكشك", "١،٣", "قرب النفق", "٢", "١", "٢", "٢", "٣", "١", "لا"]
AGE = {"18_29": "3", "30_44": "4"}
GENDER = {"woman": "1", "man": "2"}
FEEDBACK_NO = "3"
FIXED = list(export.FIXED_COLUMNS)
KARLSLUND_QUESTIONS = [
    "problems",
    "where",
    "where_detail",
    "when",
    "told",
    "told_why_not",
    "place_1",
    "place_2",
    "place_3",
    "place_4",
    "more",
    "age_group",
    "gender",
    "feedback",
]
KARLSLUND_TEXT = {"problems", "where_detail", "told_why_not", "more"}
# Each free-text question is followed by the analysts' tags on it.
KARLSLUND_COLUMNS = [
    column
    for question in KARLSLUND_QUESTIONS
    for column in ([question, question + "_tags"] if question in KARLSLUND_TEXT else [question])
]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'x.db'}"


async def open_runtime(url: str, clock: Callable[[], dt.datetime] | None = None) -> Runtime:
    runtime = build_runtime(Settings(database_url=url, secret_key=SECRET), clock=clock or Clock())
    await migrate(runtime.database)
    return runtime


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def runtime(tmp_path: Path, clock: Clock) -> AsyncIterator[Runtime]:
    built = await open_runtime(sqlite_url(tmp_path), clock)
    try:
        yield built
    finally:
        await built.close()


async def dialog(
    runtime: Runtime,
    clock: Clock,
    address: str,
    answers: list[str],
    *,
    channel: str = "web",
    source: str | None = None,
    language: str = "sv",
) -> str | None:
    """One person's dialog, a second per message. Returns the state's status."""
    service = DialogService(runtime)
    handled = await service.handle(
        InboundMessage(
            channel=channel, address=address, start=True, start_source=source, language=language
        )
    )
    for text in answers:
        clock.now += dt.timedelta(seconds=1)
        handled = await service.handle(InboundMessage(channel=channel, address=address, text=text))
    clock.now += dt.timedelta(minutes=1)
    return handled.state.status if handled.state else None


def complete(base: list[str], age: str = "18_29", gender: str = "woman") -> list[str]:
    return [*base, AGE[age], GENDER[gender], FEEDBACK_NO]


async def two_respondents(runtime: Runtime, clock: Clock) -> None:
    """An Arabic web respondent from the pool who finishes, and a Swedish console
    respondent without a source who writes a formula and leaves after two answers."""
    status = await dialog(runtime, clock, "visitor-ar", complete(AR), source="badet", language="ar")
    assert status == "completed"
    status = await dialog(runtime, clock, "console-1", [INJECTION, "2"], channel="console")
    assert status == "active"


# -- JSON ----------------------------------------------------------------------------------


async def test_json_has_the_contract_fields_with_ids_not_labels(
    runtime: Runtime, clock: Clock
) -> None:
    await two_respondents(runtime, clock)
    rows = json.loads(export.to_json(await export.export_rows(runtime)))
    assert isinstance(rows, list) and len(rows) == 2
    arabic, console = rows
    contract = {
        "respondent",
        "campaign",
        "flow",
        "flow_version",
        "channel",
        "language",
        "source",
        "started_at",
        "completed_at",
        "answers",
    }
    for row in rows:
        assert contract <= set(row)
        assert {"status", "last_step"} <= set(row)
        assert len(row["respondent"]) == 32 and int(row["respondent"], 16) >= 0
    assert arabic["respondent"] != console["respondent"]
    assert (arabic["campaign"], arabic["flow"], arabic["flow_version"]) == (
        "karlslund",
        "karlslund",
        1,
    )
    assert (arabic["channel"], arabic["language"], arabic["source"]) == ("web", "ar", "badet")
    assert arabic["status"] == "completed"
    assert arabic["started_at"] == "2026-11-24T12:00:00Z"
    assert arabic["completed_at"] == "2026-11-24T12:00:13Z"
    assert arabic["answers"] == {
        "problems": "الظلام قرب الكشك",
        "where": ["kopparangen", "pilangen"],  # multiple choice: a list of ids
        "where_detail": "قرب النفق",
        "when": ["evening"],
        "told": "police",
        "place_1": "yellow",
        "place_2": "yellow",
        "place_3": "red",
        "place_4": "green",
        "more": "لا",
        "age_group": "18_29",
        "gender": "woman",
        "feedback": "no",
    }
    assert list(arabic["answers"]) == [q for q in KARLSLUND_QUESTIONS if q != "told_why_not"]
    assert (console["channel"], console["language"], console["source"]) == ("console", "sv", None)
    assert console["status"] == "active" and console["completed_at"] is None
    assert console["last_step"] == "where"
    assert console["started_at"] == "2026-11-24T12:01:13Z"
    assert console["answers"] == {"problems": INJECTION, "where": ["silverangen"]}  # raw in JSON
    assert arabic["tags"] == {} and console["tags"] == {}  # nobody has tagged them yet


async def test_nothing_about_contacts_is_exported(runtime: Runtime, clock: Clock) -> None:
    await dialog(runtime, clock, "+46701234567", ["Mörkt"], channel="sms", source="badet")
    text = export.to_json(await export.export_rows(runtime))
    assert "46701234567" not in text and "address" not in text
    [row] = json.loads(text)
    assert row["channel"] == "sms" and row["source"] == "badet"


async def test_an_empty_database_exports_an_empty_array(runtime: Runtime) -> None:
    assert export.to_json(await export.export_rows(runtime)).strip() == "[]"


# -- CSV -----------------------------------------------------------------------------------


async def test_csv_has_fixed_columns_then_questions_in_flow_order(
    runtime: Runtime, clock: Clock
) -> None:
    await two_respondents(runtime, clock)
    result = await export.collect(runtime.database, runtime.library)
    text = export.to_csv(result)
    assert not text.startswith("\ufeff")
    records = list(csv.reader(io.StringIO(text)))
    header, arabic, console = records
    # Main flow first, then the easy-read flow's ids that the main flow lacks (none).
    assert header == FIXED + KARLSLUND_COLUMNS
    cell = dict(zip(header, arabic, strict=True))
    assert cell["language"] == "ar" and cell["source"] == "badet" and cell["channel"] == "web"
    assert cell["where"] == "kopparangen;pilangen" and cell["when"] == "evening"
    assert cell["age_group"] == "18_29" and cell["told_why_not"] == ""
    assert cell["completed_at"] == "2026-11-24T12:00:13Z" and cell["flow_version"] == "1"
    cell = dict(zip(header, console, strict=True))
    assert cell["source"] == "" and cell["completed_at"] == "" and cell["status"] == "active"
    # A formula typed as free text stays text in a spreadsheet (OWASP: a leading quote).
    assert cell["problems"] == "'" + INJECTION
    assert cell["problems_tags"] == "" and cell["more_tags"] == ""


def test_the_formula_guard_covers_every_dangerous_start() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "＝1"):
        assert export.neutralise(text) == "'" + text
    for text in ("Mörkt", "1-2", "", "'quoted"):
        assert export.neutralise(text) == text


# -- XLSX ----------------------------------------------------------------------------------


async def test_xlsx_has_answers_and_swedish_labels(runtime: Runtime, clock: Clock) -> None:
    await two_respondents(runtime, clock)
    result = await export.collect(runtime.database, runtime.library)
    workbook = load_workbook(io.BytesIO(export.to_xlsx(result)))
    assert workbook.sheetnames == ["Svar", "Etiketter"]
    sheet = workbook["Svar"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == FIXED + KARLSLUND_COLUMNS
    assert len(rows) == 3
    arabic = dict(zip(rows[0], rows[1], strict=True))
    console = dict(zip(rows[0], rows[2], strict=True))
    assert arabic["language"] == "ar" and arabic["source"] == "badet"
    assert arabic["flow_version"] == 1  # a number, not text
    assert arabic["where"] == "kopparangen;pilangen" and arabic["problems"] == "الظلام قرب الكشك"
    assert console["completed_at"] is None and console["source"] is None
    assert console["problems"] == "'" + INJECTION
    problems_cell = sheet.cell(row=3, column=rows[0].index("problems") + 1)
    assert problems_cell.data_type == "s"  # text, never a formula
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 32  # the respondent id fits

    labels = workbook["Etiketter"]
    label_rows = [list(row) for row in labels.iter_rows(values_only=True)]
    assert label_rows[0] == list(export.LABEL_COLUMNS)
    assert labels.freeze_panes == "A2"
    by_key = {(row[0], row[2], row[4]): row for row in label_rows[1:]}
    assert by_key[("karlslund", "where", "kopparangen")][3] == "Var känner du dig otrygg?"
    assert by_key[("karlslund", "where", "kopparangen")][5] == "Kopparängen"
    assert by_key[("karlslund", "age_group", "18_29")][5] == "18-29 år"
    assert by_key[("karlslund", "place_1", "red")][5] == "Otryggt"
    assert "Emaljgatan" in by_key[("karlslund", "place_1", "red")][3]
    assert by_key[("karlslund", "problems", None)][3].startswith("Vad gör att du känner")
    # Every flow of the campaign, the easy-read one too, with its own wording.
    assert by_key[("karlslund-lattlast", "age_group", "65_plus")][5] == "65 år eller mer"
    flows = {row[0] for row in label_rows[1:]}
    assert flows == {"karlslund", "karlslund-lattlast"}


def test_xlsx_drops_characters_a_workbook_cannot_hold() -> None:
    rows = [
        {
            **dict.fromkeys(export.FIXED_COLUMNS),
            "respondent": "r1",
            "flow_version": 1,
            "answers": {"problems": "bell\x07 and\x00 nul", "when": ["day", "night"]},
        }
    ]
    result = export.ResponseExport(rows, ["problems", "when"], [])
    sheet = load_workbook(io.BytesIO(export.to_xlsx(result)))["Svar"]
    assert sheet["M2"].value == "bell and nul" and sheet["N2"].value == "day;night"


# -- tags --------------------------------------------------------------------------------


async def add_tags(runtime: Runtime, respondent: str, question: str, *tags: str) -> None:
    async with runtime.database.sessions() as session, session.begin():
        for tag in tags:
            await tag_store.add_tag(session, respondent, question, tag, created_by="t", now=START)


async def test_tags_go_with_their_answers_in_every_format(runtime: Runtime, clock: Clock) -> None:
    await two_respondents(runtime, clock)
    arabic, console = [row["respondent"] for row in await export.export_rows(runtime)]
    await add_tags(runtime, arabic, "more", "نعم")
    await add_tags(runtime, arabic, "problems", "mörker", "belysning")
    await add_tags(runtime, console, "problems", "-formel")
    result = await export.collect(runtime.database, runtime.library)
    rows = json.loads(export.to_json(result.rows))
    # Sorted tags, questions in flow order; raw in JSON, as the answers are.
    assert rows[0]["tags"] == {"problems": ["belysning", "mörker"], "more": ["نعم"]}
    assert list(rows[0]["tags"]) == ["problems", "more"]
    assert rows[1]["tags"] == {"problems": ["-formel"]}
    header, *records = list(csv.reader(io.StringIO(export.to_csv(result))))
    cells = [dict(zip(header, record, strict=True)) for record in records]
    assert cells[0]["problems_tags"] == "belysning; mörker" and cells[0]["more_tags"] == "نعم"
    assert cells[1]["problems_tags"] == "'-formel"  # the formula guard covers tags too
    sheet = load_workbook(io.BytesIO(export.to_xlsx(result)))["Svar"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == header
    assert dict(zip(header, values[1], strict=True))["problems_tags"] == "belysning; mörker"
    assert dict(zip(header, values[2], strict=True))["problems_tags"] == "'-formel"


# -- old versions --------------------------------------------------------------------------


async def test_ids_only_old_versions_had_come_last_and_keep_their_labels(
    runtime: Runtime, clock: Clock
) -> None:
    await dialog(runtime, clock, "early", complete(SV))
    # Version 2 renames the question 'more'; version 1 leaves the folder.
    library = runtime.library
    library.flows.pop(("karlslund", 1))
    source = library.sources.pop(("karlslund", 1))
    changed = source.replace("version: 1", "version: 2").replace("id: more", "id: anything_else")
    library.flows[("karlslund", 2)] = load_flow_text(changed, "karlslund.yaml")
    result = await export.collect(runtime.database, runtime.library)
    assert result.questions[-1] == "more"
    assert "anything_else" in result.questions
    assert result.rows[0]["answers"]["more"] == "Nej"
    labels = export.label_rows(result.flows)
    more = "Är det något mer du vill berätta om tryggheten i Karlslund?"
    assert ["karlslund", 1, "more", more, None, None] in labels  # from the stored version 1
    assert ["karlslund", 2, "anything_else", more, None, None] in labels


# -- statistics ----------------------------------------------------------------------------


def test_suppression_hides_small_cells_and_one_more() -> None:
    assert export.suppress([12, 7, 9], 28, 5) == ([False, False, False], False)
    # One small cell: the next smallest goes too, or 22 - 12 - 7 would give it away.
    assert export.suppress([12, 3, 7], 22, 5) == ([False, True, True], False)
    assert export.suppress([12, 3, 2, 7], 24, 5) == ([False, True, True, False], False)
    # A single category: hiding the total is the only way.
    assert export.suppress([3], 3, 5) == ([True], True)
    assert export.suppress([8, 0], 8, 5) == ([True, True], False)


def stat_rows(*people: tuple[str, str | None, str, bool]) -> export.ResponseExport:
    rows = []
    for index, (language, source, gender, completed) in enumerate(people):
        rows.append(
            {
                **dict.fromkeys(export.FIXED_COLUMNS),
                "respondent": f"r{index}",
                "channel": "web",
                "language": language,
                "source": source,
                "status": "completed" if completed else "active",
                "completed_at": "2026-11-24T12:00:00Z" if completed else None,
                "answers": {"gender": gender},
            }
        )
    return export.ResponseExport(rows, ["gender"], [])


def table(stats: export.Stats, name: str) -> export.StatTable:
    return next(item for item in stats.tables if item.name == name)


def test_stats_never_show_a_small_count_nor_let_a_total_reveal_it() -> None:
    people = (
        [("sv", "badet", "woman", True)] * 12
        + [("ar", "badet", "man", True)] * 6
        + [("ar", None, "man", False)]
        + [("en", None, "woman", True)] * 3
    )
    stats = export.build_stats(stat_rows(*people), Library(), min_cell=5)
    language = table(stats, "language")
    counts = {row.key: (row.respondents, row.completed) for row in language.rows}
    # en (3) is small; ar (7, of whom 6 completed) is the next smallest and hides with it,
    # as "x": it is not small, so "<5" would be untrue.
    assert counts == {"sv": (12, 12), "ar": ("x", "x"), "en": ("<5", "<5")}
    assert (language.total_respondents, language.total_completed) == (22, 21)
    source = table(stats, "source")
    counts = {row.key: (row.respondents, row.completed) for row in source.rows}
    # 4 without a source (3 completed) are few; so badet's 18 cannot be shown either.
    assert counts == {None: ("<5", "<5"), "badet": ("x", "x")}
    gender = table(stats, "gender")
    counts = {row.key: (row.respondents, row.completed) for row in gender.rows}
    # Nobody left gender unanswered: a lone hidden 0, so 'man' hides with it.
    assert counts == {None: ("<5", "<5"), "man": ("x", "x"), "woman": (15, 15)}
    text = json.dumps(stats.to_dict())
    for small in (0, 1, 3, 4, 6, 7, 18):
        assert f'"respondents": {small},' not in text and f'"completed": {small},' not in text
    assert '"respondents": 22' in text


def test_a_hidden_count_does_not_show_through_its_completed_count() -> None:
    people = (
        [("sv", None, "woman", True)] * 12
        + [("ar", None, "woman", True)] * 7
        + [("en", None, "woman", True)] * 3
        + [("pl", None, "woman", True)] * 2
        + [("pl", None, "woman", False)] * 18
    )
    stats = export.build_stats(stat_rows(*people), Library(), min_cell=5)
    counts = {row.key: (row.respondents, row.completed) for row in table(stats, "language").rows}
    # ar's 7 respondents hide with en's 3; its 7 completed would say at least 7, so they
    # hide too, although the completed column already hides two small counts (en, pl).
    assert counts == {"sv": (12, 12), "ar": ("x", "x"), "en": ("<5", "<5"), "pl": (20, "<5")}


async def test_stats_from_real_dialogs(runtime: Runtime, clock: Clock) -> None:
    for number in range(6):
        await dialog(runtime, clock, f"pool-{number}", complete(SV), source="badet")
    for number in range(2):
        await dialog(
            runtime, clock, f"term-{number}", complete(SV, "30_44", "man"), channel="console"
        )
    await dialog(runtime, clock, "young", ["Mörkt"], source="ungdomshuset", language="ar")
    # A person who starts over is one participant, though the export has both dialogs.
    await dialog(runtime, clock, "again", ["Mörkt", "BÖRJA OM"], channel="console")
    statuses = [row["status"] for row in await export.export_rows(runtime)]
    assert sorted(statuses)[-2:] == ["completed", "restarted"] and len(statuses) == 11
    stats = await export.participant_stats(runtime, min_cell=5)
    source = table(stats, "source")
    counts = {row.key: row.respondents for row in source.rows}
    assert counts["badet"] == 6 and counts["ungdomshuset"] == "<5" and counts[None] == "<5"
    assert source.total_respondents == 10 and source.total_completed == 8
    channel = {row.key: (row.respondents, row.completed) for row in table(stats, "channel").rows}
    assert channel["web"] == (7, 6) and channel["console"] == ("<5", "<5")
    assert table(stats, "channel").total_respondents == 10
    assert channel["sms"] == ("<5", "<5")  # nobody: hidden too, so "<5" does not mean "some"
    age = {row.key: row.respondents for row in table(stats, "age_group").rows}
    assert age["18_29"] == 6 and age["30_44"] == "<5" and age[None] == "<5"
    gender = {row.key: row.respondents for row in table(stats, "gender").rows}
    assert gender["woman"] == 6 and gender["man"] == "<5"
    assert "1" not in {str(row.respondents) for item in stats.tables for row in item.rows}
    looser = await export.participant_stats(runtime, min_cell=2)
    loose = {row.key: row.respondents for row in table(looser, "channel").rows}
    assert loose["console"] == 3 and loose["sms"] == "<2"


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", sqlite_url(tmp_path))
    monkeypatch.setenv("TRYGG_SECRET_KEY", SECRET)
    for name in ("TRYGG_FLOWS_DIR", "TRYGG_LOCALES_DIR", "TRYGG_EXPORT_MIN_CELL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def populate(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        runtime = await open_runtime(sqlite_url(tmp_path), clock)
        try:
            await two_respondents(runtime, clock)
        finally:
            await runtime.close()

    asyncio.run(run())


def test_cli_exports_json_to_stdout(cli: CliRunner, tmp_path: Path) -> None:
    populate(tmp_path)
    result = cli.invoke(app, ["export", "responses", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and [row["language"] for row in rows] == ["ar", "sv"]
    assert rows[0]["answers"]["where"] == ["kopparangen", "pilangen"]


def test_cli_exports_the_tags(cli: CliRunner, tmp_path: Path) -> None:
    populate(tmp_path)

    async def tag_first() -> str:
        runtime = await open_runtime(sqlite_url(tmp_path))
        try:
            first = (await export.export_rows(runtime))[0]["respondent"]
            await add_tags(runtime, first, "problems", "mörker", "belysning")
            return str(first)
        finally:
            await runtime.close()

    first = asyncio.run(tag_first())
    result = cli.invoke(app, ["export", "responses", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["respondent"] == first
    assert rows[0]["tags"] == {"problems": ["belysning", "mörker"]} and rows[1]["tags"] == {}
    result = cli.invoke(app, ["export", "responses", "--format", "csv"])
    header, arabic, _console = list(csv.reader(io.StringIO(result.stdout)))
    assert header == FIXED + KARLSLUND_COLUMNS
    assert dict(zip(header, arabic, strict=True))["problems_tags"] == "belysning; mörker"


def test_cli_on_a_new_database_migrates_and_exports_nothing(cli: CliRunner) -> None:
    result = cli.invoke(app, ["export", "responses", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_cli_writes_xlsx_and_csv_files(cli: CliRunner, tmp_path: Path) -> None:
    populate(tmp_path)
    target = tmp_path / "out" / "svar.xlsx"
    target.parent.mkdir()
    result = cli.invoke(app, ["export", "responses", "--format", "xlsx", "--out", str(target)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(target)
    assert workbook.sheetnames == ["Svar", "Etiketter"]
    assert workbook["Svar"].max_row == 3
    assert [p.name for p in target.parent.iterdir()] == ["svar.xlsx"]  # no temporary left
    result = cli.invoke(app, ["export", "responses", "-f", "csv", "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    header = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("respondent,campaign,flow,flow_version,channel,language,source")


def test_cli_refuses_an_unknown_format(cli: CliRunner) -> None:
    result = cli.invoke(app, ["export", "responses", "--format", "pdf"])
    assert result.exit_code == 2
    assert "pdf" in result.output and "json" in result.output
    result = cli.invoke(app, ["export", "stats", "--format", "csv"])
    assert result.exit_code == 2


def test_a_failed_write_keeps_the_old_file(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "svar.json"
    target.write_text("old", encoding="utf-8")

    def crash(_descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)  # the disk fills while the file is written
    result = cli.invoke(app, ["export", "responses", "--out", str(target)])
    assert result.exit_code == 1
    assert "No space left" in result.output
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".svar")) == []


def test_cli_stats_table_and_json(cli: CliRunner, tmp_path: Path) -> None:
    populate(tmp_path)
    result = cli.invoke(app, ["export", "stats"])
    assert result.exit_code == 0, result.output
    assert "Respondents per source" in result.output and "<5" in result.output
    result = cli.invoke(app, ["export", "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["min_cell"] == 5
    names = [item["name"] for item in data["tables"]]
    assert names == ["source", "channel", "language", "age_group", "gender"]
    total = data["tables"][0]["total"]
    assert total == {"respondents": "<5", "completed": "<5"}  # two people in all
    result = cli.invoke(
        app, ["export", "stats", "--format", "json"], env={"TRYGG_EXPORT_MIN_CELL": "1"}
    )
    data = json.loads(result.stdout)
    assert data["min_cell"] == 1 and data["tables"][0]["total"] == {
        "respondents": 2,
        "completed": 1,
    }
    result = cli.invoke(app, ["export", "stats", "--min-cell", "0"])
    assert result.exit_code == 2


def test_each_export_leaves_an_audit_entry(cli: CliRunner, tmp_path: Path) -> None:
    from sqlalchemy import select

    from storage.models import AuditEntry

    populate(tmp_path)
    assert cli.invoke(app, ["export", "responses", "--format", "csv"]).exit_code == 0
    assert cli.invoke(app, ["export", "stats", "--format", "json"]).exit_code == 0

    async def entries() -> list[AuditEntry]:
        runtime = await open_runtime(sqlite_url(tmp_path))
        try:
            async with runtime.database.sessions() as session:
                return list((await session.execute(select(AuditEntry))).scalars())
        finally:
            await runtime.close()

    logged = asyncio.run(entries())
    assert [entry.action for entry in logged] == ["export responses", "export stats"]
    assert logged[0].detail == {"format": "csv", "campaign": None, "respondents": 2}
    assert all(entry.actor.startswith("cli:") for entry in logged)
