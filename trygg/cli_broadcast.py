"""``trygg broadcast``: återkoppling to everyone who asked for a campaign's results.

The staff workflow: write the texts in a file, ``create`` a draft from it, look at it
with ``preview`` and ``test`` (to your own phone), see who gets what with ``dry-run``,
then ``send``; ``status`` reports during and after. The copies go through the outbox like
every other message, so the delivery worker (``trygg serve`` or ``trygg worker``) sends
them; ``send --deliver`` runs one in this process for sites where none runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dialog_flows.languages import english_name
from trygg import cli_broadcast_run as running
from trygg import cli_broadcast_views as views
from trygg.cli_broadcast_run import actor, err, fail, out, run
from trygg.cli_service import runtime_or_exit
from trygg.service.broadcast_reach import test_send
from trygg.service.broadcast_report import dry_run, preview, report
from trygg.service.broadcasts import Broadcasts
from trygg.service.runtime import Runtime

broadcast_app = typer.Typer(
    help="Återkoppling: send the results and the medborgarlöfte to everyone who asked.",
    no_args_is_help=True,
)

IdArgument = Annotated[
    int, typer.Argument(metavar="ID", help="The broadcast's number (`trygg broadcast list`)")
]
FileArgument = Annotated[
    Path, typer.Argument(help="YAML file: name, texts per language (docs/operations.md)")
]
CampaignOption = Annotated[
    str | None, typer.Option("--campaign", help="Campaign id, e.g. karlslund")
]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")]
DeliverOption = Annotated[
    bool,
    typer.Option(
        "--deliver/--no-deliver",
        help="Also send from this process, where no `trygg serve` or `trygg worker` runs",
    ),
]


# -- drafting --------------------------------------------------------------------------


@broadcast_app.command("create")
def create(file: FileArgument, campaign: CampaignOption = None) -> None:
    """Create a draft from a file of texts per language. Nothing is sent."""
    runtime = runtime_or_exit()
    spec = running.spec_from_file(runtime, file, campaign)

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        broadcast_id = await service.create(spec, actor())
        out.print(f"created broadcast {broadcast_id}: {spec.name}", highlight=False, markup=False)
        views.print_drafted(out, broadcast_id, await dry_run(service, broadcast_id))

    run(work, runtime)


@broadcast_app.command("update")
def update(broadcast_id: IdArgument, file: FileArgument, campaign: CampaignOption = None) -> None:
    """Replace a draft's name, texts and audience with the file's (to add translations)."""
    runtime = runtime_or_exit()
    spec = running.spec_from_file(runtime, file, campaign)

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        existing = await service.get(broadcast_id)
        if existing.campaign_id != spec.campaign_id:
            fail(
                f"broadcast {broadcast_id} is for campaign {existing.campaign_id}, not "
                f"{spec.campaign_id}; create a new one instead"
            )
        await service.update(broadcast_id, spec, actor())
        out.print(f"updated broadcast {broadcast_id}: {spec.name}", highlight=False, markup=False)
        if existing.state == "scheduled":
            out.print("it was scheduled and is a draft again: send it again to schedule it")
        views.print_drafted(out, broadcast_id, await dry_run(service, broadcast_id))

    run(work, runtime)


@broadcast_app.command("list")
def list_broadcasts(campaign: CampaignOption = None) -> None:
    """Every broadcast, newest first: number, name, state, audience and when created."""

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        if campaign is not None:
            running.campaign_of(runtime, campaign)
        broadcasts = await service.listed(campaign)
        if not broadcasts:
            out.print(
                "no broadcasts yet: write a file of texts and run `trygg broadcast create FILE`",
                highlight=False,
            )
            return
        sizes: dict[int, int] = {}
        async with runtime.database.sessions() as session:
            for broadcast in broadcasts:
                if broadcast.audience_size is None:  # not fixed yet: who would get it now
                    sizes[broadcast.id] = len(await service.audience(session, broadcast))
        out.print(views.broadcast_list(broadcasts, sizes))

    run(work)


@broadcast_app.command("preview")
def show_preview(
    broadcast_id: IdArgument,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Only this language (repeatable)")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel (repeatable)")
    ] = None,
) -> None:
    """The message as people will see it, per language and channel, with the SMS cost."""
    channels = [running.channel(name) for name in channel or ()]

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        broadcast = await service.get(broadcast_id)
        offered = service.languages_of(broadcast.campaign_id)
        languages = [running.language(name, offered) for name in language or ()]
        fallback = english_name(offered[0])
        for lang in languages:
            if lang not in broadcast.texts:
                out.print(
                    f"{lang}: no text. People in {lang} get nothing, or the {fallback} "
                    f"text if you send with --fallback {lang}",
                    highlight=False,
                )
        shown = await preview(service, broadcast_id, languages or None, channels or None)
        for item in shown:
            # Wrapped, not cropped: staff must see every word the person will get.
            out.print(views.preview_panel(item, runtime.settings.sms_currency), soft_wrap=False)

    run(work)


@broadcast_app.command("dry-run")
def show_dry_run(broadcast_id: IdArgument) -> None:
    """Who would get it if it were sent now, per channel and language, and the SMS cost.
    Nothing is sent or saved."""

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        broadcast = await service.get(broadcast_id)
        planned = await dry_run(service, broadcast_id)
        views.print_dry_run(out, planned, service.languages_of(broadcast.campaign_id)[0])
        out.print("nothing was sent or saved")

    run(work)


# -- sending ---------------------------------------------------------------------------


@broadcast_app.command("send")
def send(
    broadcast_id: IdArgument,
    fallback: Annotated[
        list[str] | None,
        typer.Option(
            "--fallback",
            metavar="LANG[,LANG]",
            help="Languages without a text that get the campaign language's text instead",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="ISO-TIME", help="Start then, e.g. 2026-11-30T18:00"),
    ] = None,
    yes: YesOption = False,
    deliver: DeliverOption = False,
) -> None:
    """Show the dry run, ask, then send (or schedule with --at) and follow it."""
    runtime = runtime_or_exit()
    when = running.parse_at(at, runtime.clock())
    wanted = [part.strip() for item in fallback or () for part in item.split(",") if part.strip()]

    async def plan(runtime: Runtime, service: Broadcasts) -> tuple[list[str], str]:
        broadcast = await service.get(broadcast_id)
        if broadcast.state not in ("draft", "scheduled"):
            fail(
                f"broadcast {broadcast_id} is {broadcast.state}: only a draft or a scheduled "
                f"one can be sent (`trygg broadcast status {broadcast_id}` shows it)"
            )
        offered = service.languages_of(broadcast.campaign_id)
        confirmed = [running.language(name, offered) for name in wanted]
        planned = await dry_run(service, broadcast_id)
        views.print_dry_run(out, planned, offered[0], confirmed)
        unconfirmed = {
            lang: n
            for lang, n in planned.missing.items()
            if lang not in {*planned.confirmed, *confirmed}
        }
        if unconfirmed:  # the service refuses too; said here before asking anything
            fail(views.refusal(broadcast_id, unconfirmed, english_name(offered[0])))
        if when is not None:
            return confirmed, f"Schedule broadcast {broadcast_id} for {views.local(when)}?"
        return confirmed, f"Send broadcast {broadcast_id} to {views.people(planned.people)} now?"

    confirmed, question = run(plan, runtime)
    # Asked between two database sessions, not inside one: a Ctrl-C here ends the
    # command at once instead of waiting on a thread blocked in input().
    if not yes and not typer.confirm(question):
        fail("nothing sent")
    started = False

    async def go(runtime: Runtime, service: Broadcasts) -> None:
        nonlocal started
        count = await service.send(broadcast_id, actor(), fallback=confirmed, at=when)
        started = True
        if when is not None:
            out.print(
                f"scheduled broadcast {broadcast_id} for {views.local(when)}: it starts "
                "then if `trygg serve` or `trygg worker` is running",
                highlight=False,
            )
            return
        out.print(f"sending broadcast {broadcast_id} to {views.people(count)}", highlight=False)
        await running.follow(runtime, service, broadcast_id, deliver)

    try:
        run(go)
    except KeyboardInterrupt:
        if not started:
            fail("stopped: nothing sent")
        also = " Sending from this computer stopped too." if deliver else ""
        err.print(
            f"Stopped watching; the broadcast goes on.{also} `trygg serve` or `trygg "
            f"worker` sends the rest; `trygg broadcast status {broadcast_id}` shows how "
            "far it got.",
            highlight=False,
        )


@broadcast_app.command("status")
def status(broadcast_id: IdArgument) -> None:
    """The report: per channel and language, how many were sent, delivered, failed,
    wait for the person to write, or were skipped, and why."""

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        broadcast = await service.get(broadcast_id)
        views.print_report(out, broadcast, await report(service, broadcast_id))

    run(work)


@broadcast_app.command("pause")
def pause(broadcast_id: IdArgument) -> None:
    """Hold the copies not yet sent; `trygg broadcast resume` goes on."""

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        await service.pause(broadcast_id, actor())
        out.print(
            f"paused broadcast {broadcast_id}; `trygg broadcast resume {broadcast_id}` "
            "sends the rest",
            highlight=False,
        )

    run(work)


@broadcast_app.command("resume")
def resume(broadcast_id: IdArgument) -> None:
    """Go on sending a paused broadcast."""

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        await service.resume(broadcast_id, actor())
        out.print(
            f"resumed broadcast {broadcast_id}; `trygg serve` or `trygg worker` sends the rest",
            highlight=False,
        )

    run(work)


@broadcast_app.command("cancel")
def cancel(broadcast_id: IdArgument, yes: YesOption = False) -> None:
    """Stop it for good: copies not yet sent are dropped."""

    async def name(runtime: Runtime, service: Broadcasts) -> str:
        return (await service.get(broadcast_id)).name

    question = (
        f"Cancel broadcast {broadcast_id} ({run(name)})? Copies not yet sent are dropped; "
        "this cannot be undone"
    )
    if not yes and not typer.confirm(question):
        fail("not cancelled")

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        dropped = await service.cancel(broadcast_id, actor())
        out.print(
            f"cancelled broadcast {broadcast_id}; {dropped} copies will not be sent",
            highlight=False,
        )

    run(work)


@broadcast_app.command("test")
def send_test(
    broadcast_id: IdArgument,
    channel: Annotated[str, typer.Option("--channel", help="sms, whatsapp, telegram, facebook")],
    to: Annotated[str, typer.Option("--to", help="Your own number, chat id or Messenger id")],
    language: Annotated[
        str | None, typer.Option("--language", help="Default: the campaign's language")
    ] = None,
    deliver: DeliverOption = False,
) -> None:
    """Send the message to your own address only, now, to see it on a real phone. It is
    not part of the broadcast nor of its report."""
    chosen = running.channel(channel)

    async def work(runtime: Runtime, service: Broadcasts) -> None:
        broadcast = await service.get(broadcast_id)
        offered = service.languages_of(broadcast.campaign_id)
        lang = running.language(language, offered) if language else offered[0]
        outbox_id = await test_send(service, broadcast_id, chosen, to, lang, actor())
        out.print(
            f"test of broadcast {broadcast_id} in {lang} queued for {to} on {chosen}",
            highlight=False,
            markup=False,
        )
        if not deliver:
            out.print(
                "it goes out within seconds if `trygg serve` or `trygg worker` is "
                "running; otherwise add --deliver",
                highlight=False,
            )
            return
        async with running.delivering(runtime, on=True):
            row = await running.wait_for(runtime, outbox_id)
        if row.status not in ("sent", "delivered"):
            fail(f"the test was not sent ({row.status}): {row.last_error or 'no reason given'}")
        out.print("sent")

    run(work)
