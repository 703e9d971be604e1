"""The återkoppling pages' words: states, channels, report columns and times in Swedish,
and the broadcast service's refusals put into Swedish.

The service speaks English (the CLI and the JSON API show its words as they are); the
dashboard is for municipal and police staff reading Swedish. Its messages are matched
here by their wording, and one the table does not know is shown as the service wrote
it, so a new refusal is never hidden, only left untranslated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

STATES = {
    "draft": "Utkast",
    "scheduled": "Schemalagt",
    "sending": "Skickas",
    "paused": "Pausat",
    "done": "Klart",
    "cancelled": "Avbrutet",
}
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook": "Messenger (Facebook)",
    "web": "Webbchatten",
}
# Report columns (broadcast_report.Tally's fields) in the order the table shows them.
COLUMNS = (
    ("queued", "Alla i mottagarlistan"),
    ("pending", "Pågår (inte skickat än)"),
    ("sent", "Skickat"),
    ("delivered", "Levererat"),
    ("failed", "Misslyckades"),
    ("waiting", "Väntar tills de skriver igen"),
    ("skipped", "Hoppades över"),
)
NOTICES = {
    "created": "Utkastet är sparat. Läs förhandsvisningen innan du skickar.",
    "updated": "Ändringarna är sparade.",
    "sent": "Utskicket har startat. Sidan visar hur det går.",
    "scheduled": "Utskicket är schemalagt.",
    "paused": "Utskicket är pausat. Inget mer skickas förrän du fortsätter.",
    "resumed": "Utskicket fortsätter.",
    "cancelled": "Utskicket är avbrutet. Det som inte hade skickats skickas inte.",
    "test_sent": "Testmeddelandet ligger i kön och skickas inom någon minut.",
}
REASONS = {
    "opted out": "har avregistrerat sig",
    "erased": "har bett att bli raderad",
    "unreachable: blocked the bot or opted out at the provider": (
        "nås inte (har blockerat boten eller avregistrerat sig hos leverantören)"
    ),
    "broadcast cancelled": "utskicket avbröts",
    "no text in their language": "ingen text på deras språk",
    "unknown": "okänd orsak",
}
PHONE_PROBLEMS = {
    "empty": "numret är tomt",
    "too long to be a phone number": "för långt för att vara ett telefonnummer",
    "not a phone number": "det är inte ett telefonnummer",
    "not a valid number (a digit missing or too many?)": (
        "det är inte ett giltigt nummer (en siffra för lite eller för mycket?)"
    ),
    "not a mobile number": "det är inte ett mobilnummer",
}
MOVES = {"paused": "pausas", "sending": "fortsätta", "cancelled": "avbrytas"}
SWEDISH = Locale("sv")


def _staff_zone() -> dt.tzinfo | None:
    """Swedish time; on a server without time zone data, the server's own (None)."""
    try:
        return ZoneInfo("Europe/Stockholm")
    except ZoneInfoNotFoundError:
        return None


STAFF_TIME = _staff_zone()


def language_word(code: str) -> str:
    """A language's Swedish name: "arabiska" (the code when Swedish has none)."""
    name = SWEDISH.languages.get(code.replace("-", "_")) or SWEDISH.languages.get(code)
    return name or code


def language_name(code: str) -> str:
    """A language as tables show it: "arabiska (ar)"."""
    word = language_word(code)
    return f"{word} ({code})" if word != code else code


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def state_name(state: str) -> str:
    return STATES.get(state, state)


def reason(text: str) -> str:
    return REASONS.get(text, text)


def people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} personer"


def money(amount: float, currency: str) -> str:
    """An estimated price as Swedish writes it: 0,14 USD."""
    return f"{amount:.2f} {currency}".replace(".", ",")


def local_time(moment: dt.datetime | None) -> str:
    """Swedish time to the minute, as staff read a clock."""
    if moment is None:
        return "–"
    return moment.astimezone(STAFF_TIME).strftime("%Y-%m-%d %H:%M")


def parse_local(text: str) -> dt.datetime | None:
    """A ``datetime-local`` field's value (Swedish time, no zone) as an aware time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STAFF_TIME) if STAFF_TIME else moment.astimezone()
    return moment.astimezone(dt.UTC)


def _languages(listed: str) -> str:
    """ "so (1 people), fa (2 people)" -> "somaliska (so): 1 person, persiska (fa): ..." """
    found = re.findall(r"([\w-]+) \((\d+) people\)", listed)
    if not found:
        return listed
    return ", ".join(f"{language_name(code)}: {people(int(n))}" for code, n in found)


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
RULES: list[Rule] = [
    (re.compile(r"the broadcast needs a name$"), lambda m: "Utskicket behöver ett namn."),
    (re.compile(r"text ([\w-]+): missing;"), lambda m: (
        f"Texten på {language_name(m[1])} krävs: den går också till dem som inte har "
        "någon text på sitt eget språk."
    )),
    (re.compile(r"text ([\w-]+): the text is empty$"), lambda m: "Texten är tom."),
    (re.compile(r"text ([\w-]+): the text still holds a placeholder \((.*)\)$"), lambda m: (
        f"Texten innehåller fortfarande en platshållare ({m[2]}). Skriv färdigt texten "
        "eller ta bort den."
    )),
    (re.compile(r"text ([\w-]+): the text has (\d+) characters; at most (\d+)$"), lambda m: (
        f"Texten har {m[2]} tecken; den får ha högst {m[3]}."
    )),
    (re.compile(r"text ([\w-]+): the campaign has no such language"), lambda m: (
        f"Kampanjen har inte språket {m[1]}."
    )),
    (re.compile(r"link .*: must start with https://$"), lambda m: (
        "Länken ska börja med https:// (en hel webbadress)."
    )),
    (re.compile(r"image .*: must be an https:// address"), lambda m: (
        "Bilden ska vara en https://-adress eller namnet på en bildfil i flödesmappen."
    )),
    (re.compile(r"audience (source|channel|language) '(.*)'"), lambda m: (
        f"Mottagarna: '{m[2]}' finns inte att välja."
    )),
    (re.compile(r"campaign '(.*)' is not known"), lambda m: f"Kampanjen '{m[1]}' finns inte."),
    (re.compile(r"no text in (.*)\. Add the translations"), lambda m: (
        f"Ingen text på {_languages(m[1])}. Lägg till texten på deras språk, eller kryssa "
        "i att de ska få den svenska texten."
    )),
    (re.compile(r"broadcast \d+ is (\w+): too late$"), lambda m: (
        f"Utskicket är {state_name(m[1]).lower()}: det går inte längre att ändra."
    )),
    (re.compile(r"broadcast \d+ is (\w+); it cannot be (\w+)$"), lambda m: (
        f"Utskicket är {state_name(m[1]).lower()}: det kan inte {MOVES.get(m[2], m[2])} nu."
    )),
    (re.compile(r"broadcast \d+ is (\w+)$"), lambda m: (
        f"Utskicket är {state_name(m[1]).lower()}: det kan inte skickas en gång till."
    )),
    (re.compile(r"broadcast \d+ was started by someone else$"), lambda m: (
        "Någon annan startade utskicket samtidigt."
    )),
    (re.compile(r"there is no broadcast \d+$"), lambda m: "Utskicket finns inte."),
    (re.compile(r"the web chat has no address"), lambda m: (
        "Webbchatten har ingen adress att skicka ett test till. Förhandsvisningen visar "
        "hur meddelandet ser ut där."
    )),
    (re.compile(r"'(.*)' cannot get a test: (.*)$"), lambda m: (
        f"'{m[1]}' kan inte få ett test: {PHONE_PROBLEMS.get(m[2], m[2])}."
    )),
    (re.compile(r"give the address to send the test to"), lambda m: (
        "Skriv adressen som testet ska skickas till."
    )),
    (re.compile(r"cannot go out on (\w+) here; it goes out on (.*)\. A channel"), lambda m: (
        f"{channel_name(m[1])} är inte påslagen här; utskicket går ut via "
        f"{', '.join(channel_name(c) for c in m[2].split(', '))}."
    )),
    (re.compile(r"has no text in ([\w-]+);"), lambda m: (
        f"Utskicket har ingen text på {language_name(m[1])}."
    )),
    (re.compile(r"SMS carries no image$"), lambda m: "SMS visar ingen bild."),
    (re.compile(r"longer than a photo caption \((\d+)\): sent without"), lambda m: (
        f"Längre än en bildtext ({m[1]} tecken): skickas utan bilden."
    )),
    (re.compile(r"longer than Telegram's (\d+) characters"), lambda m: (
        f"Längre än de {m[1]} tecken Telegram tar."
    )),
    (re.compile(r"(.*) has opted out on (\w+)"), lambda m: (
        f"{m[1]} har avregistrerat sig på {channel_name(m[2])}. Skicka testet till en "
        "annan adress."
    )),
]  # fmt: skip


def swedish(problem: str) -> str:
    """One of the service's messages in Swedish, or as it is when it is not known here."""
    for pattern, words in RULES:
        found = pattern.search(problem)
        if found:
            return words(found)
    return problem
