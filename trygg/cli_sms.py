"""``trygg sms invite``: invite a list of people who agreed to be contacted, by SMS.

The list is checked first and every bad line reported; then the plan (how many, what it
costs) is shown. ``--dry-run`` stops there. A send above TRYGG_SMS_INVITE_CONFIRM_ABOVE
messages asks for confirmation (``--yes`` answers it, for scripts). The invitations go
to the outbox; the delivery worker (``trygg serve`` or ``trygg worker``) sends them
within the sender's throughput, behind replies to live dialogs.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dialog_flows.campaigns import Entry
from storage.database import migrate
from trygg.cli_service import runtime_or_exit
from trygg.invitation_list import InvitationList, InvitationListError, read_invitation_list
from trygg.service.channels import sms_enabled
from trygg.service.invitations import InvitationPlan, plan_invitations, send_invitations
from trygg.service.runtime import Runtime

sms_app = typer.Typer(help="SMS through Twilio: invitations.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
MAX_LISTED = 50  # bad lines shown on screen; --report FILE has them all


@sms_app.command("invite")
def invite(
    file: Annotated[Path, typer.Argument(help="CSV with a phone column (and optionally language)")],
    campaign: Annotated[str, typer.Option("--campaign", help="Campaign id, e.g. karlslund")],
    source: Annotated[
        str | None, typer.Option("--source", help="Record this source, e.g. medborgarpanel")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="For people the list gives no language")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the list and show the cost; send nothing")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write every rejected line to this CSV")
    ] = None,
) -> None:
    """Send the campaign's opening prompt to every number on a list, by SMS."""
    runtime = runtime_or_exit()
    entry = _entry(runtime, campaign, source)
    flow = runtime.library.flow(entry.campaign.flow_for(entry.source.id if entry.source else None))
    assert flow is not None  # the library checks campaigns against flows at load
    if language is not None and language not in flow.languages:
        err.print(
            f"flow {flow.id} does not speak '{language}'; it speaks {', '.join(flow.languages)}"
        )
        raise typer.Exit(2)
    try:
        listed = read_invitation_list(file, flow.languages)
    except InvitationListError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    _show_problems(listed, report)
    if not dry_run and not sms_enabled(runtime.settings):
        err.print(
            "SMS is off: set TRYGG_TWILIO_ACCOUNT_SID, TRYGG_TWILIO_AUTH_TOKEN and "
            "TRYGG_TWILIO_FROM (or use --dry-run to see the plan)",
            markup=False,
        )
        raise typer.Exit(2)
    asyncio.run(_plan_and_send(runtime, listed, entry, language, dry_run=dry_run, yes=yes))


def _entry(runtime: Runtime, campaign_id: str, source_id: str | None) -> Entry:
    try:
        campaign = runtime.library.campaign(campaign_id)
    except KeyError:
        known = ", ".join(c.id for c in runtime.library.campaigns)
        err.print(f"no campaign '{campaign_id}'; there is: {known}", markup=False)
        raise typer.Exit(2) from None
    if source_id is None:
        return Entry(campaign, None)
    source = campaign.source(source_id)
    if source is None:
        known = ", ".join(s.id for s in campaign.sources)
        err.print(f"campaign {campaign.id} has no source '{source_id}'; it has: {known}")
        raise typer.Exit(2)
    return Entry(campaign, source)


def _show_problems(listed: InvitationList, report: Path | None) -> None:
    problems = [("rejected", r) for r in listed.rejected] + [
        ("duplicate", d) for d in listed.duplicates
    ]
    problems.sort(key=lambda item: item[1].line)
    if problems:
        table = Table("line", "value", "what", "why", title="Lines that will not be invited")
        for kind, problem in problems[:MAX_LISTED]:
            table.add_row(str(problem.line), problem.value, kind, problem.reason)
        err.print(table)
        if len(problems) > MAX_LISTED:
            err.print(f"... and {len(problems) - MAX_LISTED} more (see --report FILE)")
    if report is not None:
        with report.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "value", "what", "why"])
            for kind, problem in problems:
                writer.writerow([problem.line, _safe_cell(problem.value), kind, problem.reason])
        err.print(f"wrote {len(problems)} line(s) to {report}", markup=False)


def _safe_cell(value: str) -> str:
    """A cell Excel will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


async def _plan_and_send(
    runtime: Runtime,
    listed: InvitationList,
    entry: Entry,
    language: str | None,
    *,
    dry_run: bool,
    yes: bool,
) -> None:
    try:
        await migrate(runtime.database)
        plan = await plan_invitations(runtime, listed.invitees, entry, language)
        _show_plan(plan, listed)
        if dry_run or not plan.invite:
            return
        threshold = runtime.settings.sms_invite_confirm_above
        if len(plan.invite) > threshold and not yes:
            question = f"Send {len(plan.invite)} invitations (about {_money(plan)})?"
            if not await asyncio.to_thread(typer.confirm, question):
                err.print("nothing sent")
                raise typer.Exit(1)
        columns = (TextColumn("inviting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("invite", total=len(plan.invite))
            result = await send_invitations(runtime, plan, lambda: progress.advance(task))
        counts = result.counts
        out.print(
            f"queued {counts['invited']} invitation(s)"
            + (f"; {counts['opted_out']} opted out meanwhile" if counts["opted_out"] else "")
            + (f"; {counts['known']} started meanwhile" if counts["known"] else ""),
            highlight=False,
        )
        rate = runtime.settings.twilio_segments_per_second
        out.print(
            f"the delivery worker sends them in about {plan.segments / rate / 60:.0f} minute(s) "
            f"at {rate:g} segments a second",
            highlight=False,
        )
    finally:
        await runtime.close()


def _money(plan: InvitationPlan) -> str:
    return f"{plan.cost:.2f} {plan.currency}"


def _show_plan(plan: InvitationPlan, listed: InvitationList) -> None:
    source = plan.entry.source.id if plan.entry.source else "none"
    out.print(f"campaign {plan.entry.campaign.id}, source {source}", highlight=False)
    out.print(
        f"to invite: {len(plan.invite)}; on the opt-out list (never invited): {plan.opted_out}; "
        f"already taking part or took part: {plan.known}; rejected lines: "
        f"{len(listed.rejected)}; duplicates skipped: {len(listed.duplicates)}",
        highlight=False,
    )
    table = Table("language", "people", "segments each", "segments", title="Estimated cost")
    for lang, people in sorted(plan.by_language().items()):
        each = plan.segments_per_invitation[lang]
        table.add_row(lang, str(people), str(each), str(each * people))
    out.print(table)
    out.print(
        f"total: {plan.segments} segments, about {_money(plan)} at {plan.segment_price:g} "
        f"{plan.currency} a segment (TRYGG_SMS_SEGMENT_PRICE); replies and reminders come on top",
        highlight=False,
    )
