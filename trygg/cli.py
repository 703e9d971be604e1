"""The ``trygg`` command line (commands named in shared/CONTRACT.md, and more)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dialog_flows.library import Library, load_library
from dialog_flows.lint import lint_library
from dialog_flows.problems import FlowError
from trygg import cli_service, i18n_catalogs
from trygg.cli_broadcast import broadcast_app
from trygg.cli_export import export_app
from trygg.cli_facebook import facebook_app
from trygg.cli_service import run_console_chat
from trygg.cli_sms import sms_app
from trygg.cli_staff import staff_app
from trygg.cli_telegram import telegram_app
from trygg.settings import Settings

app = typer.Typer(
    help="Trygg: citizen dialogues on trygghet, on every channel.", no_args_is_help=True
)
flows_app = typer.Typer(help="Check and inspect flow files.", no_args_is_help=True)
i18n_app = typer.Typer(help="Translation catalogs (gettext, via Babel).", no_args_is_help=True)
app.add_typer(flows_app, name="flows")
app.add_typer(i18n_app, name="i18n")
app.add_typer(export_app, name="export")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Flow files or folders; default: TRYGG_FLOWS_DIR or the shipped flows."),
]


def _library(paths: list[Path] | None = None) -> Library:
    settings = Settings()
    try:
        return load_library(paths or [settings.flows_dir], settings.locales_dir)
    except FlowError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False)
        err.print(f"{len(exc.problems)} problem(s) found.", style="bold red")
        raise typer.Exit(1) from None


@flows_app.command("validate")
def flows_validate(paths: PathsArgument = None) -> None:
    """Exit 0 when every flow is valid; otherwise name each error's file, line, step and field."""
    library = _library(paths)
    for flow in sorted(library.flows.values(), key=lambda flow: (flow.id, flow.version)):
        out.print(
            f"ok  {flow.source_file}: flow {flow.id} version {flow.version}, "
            f"{len(flow.steps)} steps, languages {', '.join(flow.languages)}",
            highlight=False,
        )
    for campaign in library.campaigns:
        out.print(
            f"ok  {campaign.source_file}: campaign {campaign.id}, keyword {campaign.keyword}, "
            f"{len(campaign.sources)} sources",
            highlight=False,
        )


@flows_app.command("lint")
def flows_lint(
    paths: PathsArgument = None,
    prompts: Annotated[
        bool, typer.Option("--prompts", help="List every prompt's SMS cost.")
    ] = False,
) -> None:
    """Translation coverage and the SMS cost of every prompt, per flow and language."""
    reports = lint_library(_library(paths))
    table = Table(title="Flows by language")
    for column in (
        "flow",
        "language",
        "status",
        "translated",
        "SMS segments (all prompts)",
        "UCS-2 prompts",
    ):
        table.add_column(column)
    failed = False
    for report in reports:
        ucs2 = sum(1 for prompt in report.prompts if prompt.cost.encoding == "UCS-2")
        status = (
            "draft"
            if report.draft
            else (
                "source"
                if report.coverage == 1 and not report.missing and report.language == "sv"
                else "complete"
                if report.coverage == 1
                else "incomplete"
            )
        )
        table.add_row(
            f"{report.flow_id} v{report.flow_version}",
            report.language,
            status,
            f"{report.coverage:.0%}",
            str(report.segments),
            f"{ucs2}/{len(report.prompts)}",
        )
        if report.errors or (status == "incomplete"):
            failed = True
    out.print(table)
    for report in reports:
        for error in report.errors:
            err.print(error, markup=False)
        if not report.draft and report.missing:
            err.print(
                f"{report.flow_id} {report.language}: {len(report.missing)} untranslated: "
                f"{', '.join(report.missing[:5])}{' ...' if len(report.missing) > 5 else ''}",
                markup=False,
            )
        if prompts:
            for prompt in report.prompts:
                cost = prompt.cost
                out.print(
                    f"  {report.flow_id} {report.language} {prompt.step_id}: {cost.encoding}, "
                    f"{cost.characters} characters, {cost.segments} segment(s)",
                    highlight=False,
                )
    if failed:
        raise typer.Exit(1)


def _root() -> Path:
    return Path.cwd()


@i18n_app.command("extract")
def i18n_extract() -> None:
    """Write locales/trygg.pot from the system texts and every flow."""
    settings = Settings()
    _library()  # refuse to extract from broken flows
    template = i18n_catalogs.build_template([settings.flows_dir], _root())
    path = settings.locales_dir / "trygg.pot"
    i18n_catalogs.write_catalog(template, path)
    out.print(f"wrote {path}: {len(template)} messages")


@i18n_app.command("update")
def i18n_update() -> None:
    """Merge the template into every language's catalog (changed texts become fuzzy)."""
    settings = Settings()
    template = i18n_catalogs.build_template([settings.flows_dir], _root())
    i18n_catalogs.write_catalog(template, settings.locales_dir / "trygg.pot")
    for path in i18n_catalogs.update_catalogs(template, settings.locales_dir):
        out.print(f"updated {path}")


@i18n_app.command("init")
def i18n_init(
    language: Annotated[str, typer.Argument(help="BCP 47 code, e.g. ti or fa-AF")],
    draft: Annotated[
        bool, typer.Option(help="Mark as a draft awaiting a native speaker's review.")
    ] = True,
) -> None:
    """Start a catalog for a new language, with CLDR's plural rules."""
    settings = Settings()
    template = i18n_catalogs.build_template([settings.flows_dir], _root())
    try:
        path = i18n_catalogs.init_catalog(template, settings.locales_dir, language, draft)
    except FileExistsError:
        err.print(f"{language} already has a catalog; use `trygg i18n update`")
        raise typer.Exit(1) from None
    out.print(f"wrote {path}")


@i18n_app.command("compile")
def i18n_compile() -> None:
    """Check every catalog and write .mo files for standard gettext tools."""
    problems = i18n_catalogs.compile_catalogs(Settings().locales_dir)
    for problem in problems:
        err.print(problem, markup=False)
    if problems:
        raise typer.Exit(1)
    out.print("catalogs compiled")


@app.command("chat")
def chat(
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language code, e.g. sv, en, ar.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Source id, e.g. badet.")] = None,
) -> None:
    """Take the questionnaire in the terminal."""
    library = _library()
    try:
        campaign = library.campaign()
    except KeyError:
        err.print("no campaign is defined; `trygg chat` takes a campaign's questionnaire")
        raise typer.Exit(2) from None
    if source and campaign.source(source) is None:
        known = ", ".join(s.id for s in campaign.sources)
        err.print(f"unknown source '{source}'; known sources: {known}")
        raise typer.Exit(2)
    flow = library.flow(campaign.flow_for(source))
    if lang and flow and lang not in flow.languages:
        err.print(f"flow {flow.id} does not speak '{lang}'; it speaks {', '.join(flow.languages)}")
        raise typer.Exit(2)
    run_console_chat(lang, source)


app.add_typer(telegram_app, name="telegram")
app.add_typer(sms_app, name="sms")
app.add_typer(facebook_app, name="facebook")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(staff_app, name="staff")
app.command("serve")(cli_service.serve)
app.command("worker")(cli_service.worker)
app.command("migrate")(cli_service.migrate_command)
app.command("retention")(cli_service.retention)


def main() -> None:
    app()
