"""Tests for the ``trygg`` command line (trygg.cli), through typer's CliRunner.

Commands that write files get TRYGG_FLOWS_DIR / TRYGG_LOCALES_DIR pointing at copies in
tmp_path; the shipped folders are only read.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from dialog_flows import texts
from dialog_flows.library import DEFAULT_FLOWS_DIR, DEFAULT_LOCALES_DIR, Library
from trygg.cli import app

ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # Wide and deterministic tables; nothing written next to the repository.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TRYGG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    for name in ("TRYGG_FLOWS_DIR", "TRYGG_LOCALES_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


# -- flows validate -----------------------------------------------------------------------


def test_validate_accepts_the_shipped_flows(runner: CliRunner, library: Library) -> None:
    result = runner.invoke(app, ["flows", "validate"])
    assert result.exit_code == 0, result.output
    for flow in library.flows.values():
        assert f"flow {flow.id} version {flow.version}" in result.output
        assert flow.source_file in result.output
    assert "campaign karlslund, keyword TRYGG" in result.output


def test_validate_accepts_an_explicit_path(runner: CliRunner) -> None:
    result = runner.invoke(app, ["flows", "validate", str(DEFAULT_FLOWS_DIR)])
    assert result.exit_code == 0, result.output
    assert "flow karlslund version 1" in result.output


BROKEN = textwrap.dedent(
    """\
    flow: broken
    version: 1
    title: Trasig
    languages: [sv]
    steps:
      - id: where
        type: single_choice
        text: Var känner du dig otrygg?
        choices:
          - id: here
            label: Här
      - id: age
        type: number
        text: Hur gammal är du?
        min: 10
        max: 5
    """
)


def test_validate_names_every_error_with_file_line_step_and_field(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    path = folder / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    lines = BROKEN.splitlines()
    choices_line = lines.index("    choices:") + 1
    min_line = lines.index("    min: 10") + 1

    result = runner.invoke(app, ["flows", "validate", str(folder)])

    assert result.exit_code != 0
    printed = result.output.splitlines()
    choices = [line for line in printed if "'choices' must list at least two" in line]
    assert choices == [f"{path}:{choices_line}, flow broken, step 'where', field 'choices': "
                       "'choices' must list at least two choices"]  # fmt: skip
    minimum = [line for line in printed if "larger than" in line]
    assert len(minimum) == 1
    assert minimum[0].startswith(f"{path}:{min_line}, ")
    assert "step 'age'" in minimum[0]
    assert "field 'min'" in minimum[0]
    assert "2 problem(s) found." in result.output
    assert "ok  " not in result.output


# -- flows lint ---------------------------------------------------------------------------


def table_rows(output: str) -> list[list[str]]:
    rows = []
    for line in output.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def test_lint_prints_a_table_with_english_and_arabic_complete(runner: CliRunner) -> None:
    result = runner.invoke(app, ["flows", "lint"])
    assert "Flows by language" in result.output
    rows = table_rows(result.output)
    karlslund = {row[1]: row for row in rows if row[0] == "karlslund v1"}
    assert {"sv", "en", "ar"} <= set(karlslund), result.output
    for language in ("en", "ar"):
        assert karlslund[language][2] == "complete", karlslund[language]
        assert karlslund[language][3] == "100%"
    assert karlslund["sv"][2] == "source"
    assert sum(1 for row in karlslund.values() if row[2] == "draft") >= 4
    for row in rows:
        assert re.fullmatch(r"\d+", row[4]), row  # SMS segments of all prompts
        assert re.fullmatch(r"\d+/\d+", row[5]), row  # UCS-2 prompts
    assert karlslund["sv"][5].startswith("0/")
    assert result.exit_code == 0, result.output


def test_lint_prompts_lists_the_cost_of_each_prompt(runner: CliRunner) -> None:
    result = runner.invoke(app, ["flows", "lint", "--prompts"])
    assert re.search(r"karlslund sv where: GSM-7, \d+ characters, \d+ segment\(s\)", result.output)
    assert re.search(r"karlslund ar where: UCS-2, \d+ characters, \d+ segment\(s\)", result.output)


# -- i18n ---------------------------------------------------------------------------------


@pytest.fixture
def copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    flows = tmp_path / "flows"
    locales = tmp_path / "locales"
    shutil.copytree(DEFAULT_FLOWS_DIR, flows)
    shutil.copytree(DEFAULT_LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo", "*.py"))
    (locales / "trygg.pot").unlink(missing_ok=True)
    monkeypatch.setenv("TRYGG_FLOWS_DIR", str(flows))
    monkeypatch.setenv("TRYGG_LOCALES_DIR", str(locales))
    return flows, locales


def test_i18n_extract_writes_the_template(runner: CliRunner, copies: tuple[Path, Path]) -> None:
    flows, locales = copies
    flow_file = flows / "karlslund.yaml"
    source = flow_file.read_text(encoding="utf-8")
    flow_file.write_text(
        source.replace("text: Var känner du dig otrygg?", "text: Var känner du dig mest otrygg?"),
        encoding="utf-8",
    )
    shipped = DEFAULT_LOCALES_DIR / "trygg.pot"
    shipped_before = shipped.read_bytes() if shipped.exists() else None

    result = runner.invoke(app, ["i18n", "extract"])

    assert result.exit_code == 0, result.output
    pot = locales / "trygg.pot"
    assert pot.is_file()
    assert str(pot) in result.output
    with pot.open("rb") as handle:
        template = read_po(handle)
    assert f"{len(template)} messages" in result.output
    where = template.get("Var känner du dig mest otrygg?", "karlslund/where:text")
    assert where is not None
    assert where.locations[0][0] == "flows/karlslund.yaml"  # relative to the working dir
    assert template.get("Var känner du dig otrygg?", "karlslund/where:text") is None
    for text in texts.ALL_TEXTS:
        assert template.get(text.source, text.context) is not None, text.context
    assert (shipped.read_bytes() if shipped.exists() else None) == shipped_before


def test_i18n_extract_refuses_broken_flows(
    runner: CliRunner, copies: tuple[Path, Path], tmp_path: Path
) -> None:
    flows, locales = copies
    (flows / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = runner.invoke(app, ["i18n", "extract"])
    assert result.exit_code != 0
    assert "step 'where', field 'choices'" in result.output
    assert not (locales / "trygg.pot").exists()


def test_i18n_init_refuses_an_existing_language(
    runner: CliRunner, copies: tuple[Path, Path]
) -> None:
    _, locales = copies
    before = (locales / "ar" / "LC_MESSAGES" / "trygg.po").read_bytes()
    result = runner.invoke(app, ["i18n", "init", "ar"])
    assert result.exit_code == 1
    assert "ar already has a catalog" in result.output
    assert (locales / "ar" / "LC_MESSAGES" / "trygg.po").read_bytes() == before

    result = runner.invoke(app, ["i18n", "init", "ti"])
    assert result.exit_code == 0, result.output
    created = locales / "ti" / "LC_MESSAGES" / "trygg.po"
    assert created.read_text(encoding="utf-8").startswith("# DRAFT")


# -- chat ---------------------------------------------------------------------------------


def test_chat_in_arabic_ends_when_the_person_writes_stopp(
    runner: CliRunner, library: Library
) -> None:
    flow = library.flow("karlslund")
    assert flow is not None
    intro = flow.step("intro").text
    arabic_intro = library.translations.text("ar", "karlslund/intro:text", intro)
    assert arabic_intro != intro
    answer = "الإضاءة سيئة في الحديقة"

    result = runner.invoke(
        app, ["chat", "--lang", "ar"], input=f"{answer}\nSTOPP\nDETTA LÄSES INTE\n"
    )

    assert result.exit_code == 0, result.output
    assert arabic_intro in result.output
    assert intro not in result.output
    stopped = library.translations.system("ar", texts.STOPPED).format(start="START")
    assert stopped in result.output
    assert len(ARABIC_LETTER.findall(result.output)) > 200
    assert '"status": "stopped"' in result.output
    assert '"language": "ar"' in result.output
    assert f'"problems": "{answer}"' in result.output
    assert "DETTA LÄSES INTE" not in result.output


def test_chat_records_the_source(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "--source", "badet", "--lang", "en"], input="STOPP\n")
    assert result.exit_code == 0, result.output
    assert '"source": "badet"' in result.output
    assert '"language": "en"' in result.output


def test_chat_with_an_unknown_source_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "--source", "nosuch"])
    assert result.exit_code == 2
    assert "unknown source 'nosuch'" in result.output
    assert "badet" in result.output  # the known sources are listed
    assert '"status"' not in result.output


def test_chat_with_a_language_the_flow_does_not_speak_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "--lang", "xx"])
    assert result.exit_code == 2
    assert "'xx'" in result.output
    assert "sv, en, ar" in result.output
    assert '"status"' not in result.output


def test_chat_without_a_campaign_exits_2(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "only-a-flow"
    folder.mkdir()
    shutil.copy(DEFAULT_FLOWS_DIR / "karlslund-lattlast.yaml", folder)
    monkeypatch.setenv("TRYGG_FLOWS_DIR", str(folder))
    result = runner.invoke(app, ["chat"], input="STOPP\n")
    assert result.exit_code == 2
    assert "no campaign is defined" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
