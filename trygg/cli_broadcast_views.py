"""What ``trygg broadcast`` shows staff: tables, previews and the words around them.

Staff are municipal and police staff, not engineers: every count says what it means and
every problem says what to do next. Texts from staff are printed as Rich ``Text``, never
as markup, so a ``[`` in a message is shown as written; right-to-left languages are
printed as they are (the terminal shapes them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dialog_flows.languages import english_name
from storage.models import Broadcast
from trygg.service.broadcast_report import DryRun, Preview, Report, Tally

COUNTS = ("queued", "sent", "delivered", "failed", "waiting", "skipped", "pending")
HEADERS = ("queued", "sent", "delivered", "failed", "waiting", "skipped", "in progress")


def local(moment: dt.datetime | None) -> str:
    """A time as staff read it: their own time zone, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


def people(count: int) -> str:
    return f"{count} person" if count == 1 else f"{count} people"


def broadcast_list(broadcasts: Sequence[Broadcast], sizes: Mapping[int, int]) -> Table:
    """``sizes``: who a broadcast not yet sent would reach now (its audience is not fixed)."""
    table = Table("id", "name", "campaign", "state", "audience", "created", "by")
    for broadcast in broadcasts:
        if broadcast.audience_size is not None:
            audience = str(broadcast.audience_size)
        else:
            audience = f"{sizes.get(broadcast.id, 0)} now"
        table.add_row(
            str(broadcast.id),
            Text(broadcast.name),
            broadcast.campaign_id,
            broadcast.state,
            audience,
            local(broadcast.created_at),
            Text(broadcast.created_by),
        )
    return table


def preview_panel(item: Preview, currency: str) -> Panel:
    details: list[str] = []
    if item.channel == "sms":
        details.append(f"{item.parts} SMS segment(s), {item.encoding}")
        if item.cost is not None:
            details.append(f"about {item.cost:.2f} {currency} a copy")
    elif item.parts > 1:
        details.append(f"{item.parts} messages")
    if item.note:
        details.append(item.note)
    name = english_name(item.language)
    return Panel(
        Text(item.text),
        title=f"{item.channel}, {item.language} ({name})",
        subtitle="; ".join(details) or None,
        title_align="left",
        subtitle_align="left",
        expand=False,
    )


def print_dry_run(
    console: Console, planned: DryRun, fallback: str, confirming: Collection[str] = ()
) -> None:
    """The dry run's table and what it means. ``fallback``: the campaign's language;
    ``confirming``: languages that ``send --fallback`` is about to confirm."""
    name = english_name(fallback)
    confirmed = {*planned.confirmed, *confirming}
    table = Table(
        "channel",
        "language",
        "people",
        "in their language",
        f"the {name} text instead",
        "nothing: no text yet",
        "SMS segments",
        title="Who would get it now",
    )
    for (channel, language), row in planned.rows.items():
        instead = row.fallback if language in confirmed else row.fallback - row.no_text
        table.add_row(
            channel,
            language,
            str(row.people),
            str(row.people - row.fallback),
            str(instead),
            str(row.fallback - instead),
            str(row.sms_segments) if channel == "sms" else "",
        )
    say = console.print
    if planned.rows:
        say(table)
        say(f"in all: {people(planned.people)}", highlight=False)
    else:
        say(
            "nobody would get it now: nobody who asked for the results can be reached on a "
            "channel that is on here"
        )
    for language, count in sorted(planned.missing.items()):
        if language in confirmed:
            say(f"{language}: no text; {people(count)} get the {name} text (confirmed)")
        else:
            say(
                f"{language}: no text; {people(count)} get nothing unless a text is added or "
                f"you send with --fallback {language}",
                highlight=False,
            )
    for channel, count in sorted(planned.disabled.items()):
        say(
            f"{channel} is switched off here: {people(count)} there get nothing (set its "
            "TRYGG_ settings to reach them; `trygg serve` lists what is missing)",
            highlight=False,
        )
    price = planned.segment_price
    say(
        f"SMS: {planned.sms_segments} segments, about {planned.sms_cost:.2f} {planned.currency} "
        f"at {price:g} {planned.currency} a segment (TRYGG_SMS_SEGMENT_PRICE)",
        highlight=False,
    )


def print_drafted(console: Console, broadcast_id: int, planned: DryRun) -> None:
    """After create or update: who it would reach, what is missing, what to do next."""
    say = console.print
    say(f"it would go to {people(planned.people)} now", highlight=False)
    missing = {lang: n for lang, n in planned.missing.items() if lang not in planned.confirmed}
    if missing:
        listed = ", ".join(f"{lang} ({people(n)})" for lang, n in sorted(missing.items()))
        say(
            f"no text yet in: {listed}. Add them to the file and run `trygg broadcast update "
            f"{broadcast_id} FILE`, or send with --fallback {','.join(sorted(missing))} to give "
            "them the campaign language's text",
            highlight=False,
        )
    say("next:")
    say(f"  trygg broadcast preview {broadcast_id}", highlight=False)
    say(f"  trygg broadcast test {broadcast_id} --channel sms --to YOUR-NUMBER", highlight=False)
    say(f"  trygg broadcast dry-run {broadcast_id}", highlight=False)
    say(f"  trygg broadcast send {broadcast_id}", highlight=False)


def refusal(broadcast_id: int, unconfirmed: Mapping[str, int], fallback_name: str) -> str:
    listed = ", ".join(f"{lang} ({people(n)})" for lang, n in sorted(unconfirmed.items()))
    return (
        f"not sent: no text in {listed}. Add the translations (`trygg broadcast update "
        f"{broadcast_id} FILE`), or confirm that they get the {fallback_name} text instead: "
        f"--fallback {','.join(sorted(unconfirmed))}"
    )


def print_report(console: Console, broadcast: Broadcast, report: Report) -> None:
    say = console.print
    say(Text(f"broadcast {broadcast.id}: {broadcast.name}"))
    say(
        f"campaign {broadcast.campaign_id}; {broadcast.state}; created "
        f"{local(broadcast.created_at)} by {broadcast.created_by}; started "
        f"{local(broadcast.started_at)}; finished {local(broadcast.finished_at)}",
        highlight=False,
        markup=False,
    )
    if broadcast.state in ("draft", "scheduled"):
        when = f"scheduled for {local(broadcast.scheduled_at)}" if broadcast.scheduled_at else ""
        say(
            f"not sent yet{'; ' + when if when else ''}: `trygg broadcast dry-run {broadcast.id}` "
            "shows who would get it",
            highlight=False,
        )
        return
    table = Table("channel", "language", *HEADERS, title="Copies")
    for (channel, language), tally in report.rows.items():
        table.add_row(channel, language, *_counts(tally))
    table.add_row("all", "", *_counts(report.total), style="bold")
    say(table)
    say(
        "sent: the provider took it; delivered: their phone or page has it; waiting: goes "
        "when they next write (WhatsApp, Messenger); in progress: not sent yet",
        highlight=False,
    )
    for title, reasons in (("failed", report.total.failures), ("skipped", report.total.skips)):
        for reason, count in reasons.most_common():
            say(Text(f"{title}: {reason} ({count})"))
    if not report.total.adds_up():  # by construction it does; say so loudly if not
        say("the counts do not add up: tell the system administrator", style="red")


def _counts(tally: Tally) -> list[str]:
    return [str(getattr(tally, name)) for name in COUNTS]


def summary(report: Report) -> str:
    total = report.total
    line = (
        f"broadcast {report.broadcast_id} is {report.state}: {total.sent} sent, "
        f"{total.delivered} delivered, {total.failed} failed, {total.waiting} waiting for "
        f"the person to write, {total.skipped} skipped, {total.pending} still to go"
    )
    if total.failed or total.skipped:
        line += f". `trygg broadcast status {report.broadcast_id}` says why"
    return line


def stalled(broadcast_id: int, deliver: bool, seconds: float) -> str:
    if deliver:
        return (
            f"Nothing has moved for {seconds:g} seconds: the provider may be refusing or "
            "slowing us, and each retry waits longer. Ctrl-C stops here; `trygg worker` "
            "sends the rest later."
        )
    return (
        f"Nothing has been sent for {seconds:g} seconds. The copies go out only while a "
        "delivery worker runs: start `trygg serve` or `trygg worker` (it sends the rest). "
        f"The broadcast is started; follow it with `trygg broadcast status {broadcast_id}`."
    )
