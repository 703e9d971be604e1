"""The Karlslund questionnaire in Swedish, hard-coded the way a team writing its own bot
would: texts, choice ids and labels copied from dialog_flows/flows/karlslund.yaml (and
the engine's Swedish system texts: "Hoppa över", "Klar", the rating labels). Branching
lives in the bot's handlers, not here. Choice ids are the flow's, so the same button
payloads (``STEP:CHOICE``) drive both the peer and Trygg.
"""

from __future__ import annotations

INTRO = (
    "Hej! Polisen och Landskrona stad vill veta hur du upplever tryggheten i Karlslund. "
    "Dina svar hjälper oss att bestämma vad vi ska göra, och vi berättar sedan vad vi "
    "kommit fram till. Det är frivilligt och anonymt, så skriv inte ditt namn. Du kan "
    "hoppa över frågor och skriva STOPP när du vill sluta. Det tar ungefär 5 minuter."
)
PLACES_INTRO = (
    "Nu kommer fyra platser i Karlslund. Svara för varje plats hur trygg du känner dig "
    "där: tryggt, ingen åsikt eller otryggt."
)
ABOUT_YOU = "Till sist två frågor om dig, för vår statistik. Du väljer själv om du vill svara."
THANKS = "Tack för dina svar! De hjälper polisen och Landskrona stad att göra Karlslund tryggare."
THANKS_FEEDBACK = "Vi hör av oss när resultatet är klart. Du kan också skriva RESULTAT när du vill."
ASK_PHONE = (
    "Skriv ditt mobilnummer. Vi använder det bara för att skicka resultatet, och raderar det "
    "när dialogen är slut."
)
STOPPED = "Du får inga fler frågor. Skriv /start om du vill börja om."
MULTIPLE_HINT = "Du kan välja flera."
PICK_ONE = "Välj minst ett alternativ, eller Hoppa över."
TOO_LONG = "Svaret är för långt. Skriv högst 2000 tecken."
SKIP = "Hoppa över"
DONE = "Klar"
MAX_TEXT = 2000

# Free-text questions (all optional).
TEXTS = {
    "problems": "Vad gör att du känner dig otrygg i Karlslund, om något? Skriv med egna ord.",
    "where_detail": (
        "Beskriv gärna platsen närmare, till exempel en gata, en park eller en busshållplats."
    ),
    "told_why_not": "Vill du berätta varför inte?",
    "more": "Är det något mer du vill berätta om tryggheten i Karlslund?",
    "phone": ASK_PHONE,
}

RATING = [("green", "🟢 Tryggt"), ("yellow", "🟡 Ingen åsikt"), ("red", "🔴 Otryggt")]
PLACE_QUESTION = "Hur trygg känner du dig här?"
PLACES = {
    "place_1": "Plats 1: Korsningen Emaljgatan och Koppargården",
    "place_2": "Plats 2: Karlslundsbadet",
    "place_3": "Plats 3: Pilängskolans skolgård",
    "place_4": "Plats 4: Ungdomshuset i Karlslund",
}

# Choice questions: text, (id, label) choices, whether "Hoppa över" is shown.
Choices = list[tuple[str, str]]
CHOICES: dict[str, tuple[str, Choices, bool]] = {
    "where": (
        f"Var känner du dig otrygg?\n{MULTIPLE_HINT}",
        [
            ("kopparangen", "Kopparängen"),
            ("silverangen", "Silverängen"),
            ("pilangen", "Pilängen"),
            ("pilakern", "Pilåkern"),
            ("elsewhere", "Någon annanstans i Landskrona"),
            ("nowhere", "Ingenstans"),
        ],
        True,
    ),
    "when": (
        f"När känner du dig otrygg?\n{MULTIPLE_HINT}",
        [
            ("day", "På dagen"),
            ("evening", "På kvällen"),
            ("night", "På natten"),
            ("weekend", "På helgen"),
            ("always", "Hela tiden"),
            ("varies", "Det varierar"),
        ],
        True,
    ),
    "told": (
        "Om något händer som gör dig otrygg, brukar du berätta det för någon?",
        [("police", "Ja, för polisen"), ("someone_else", "Ja, för någon annan"), ("no", "Nej")],
        True,
    ),
    **{step: (f"{heading}\n{PLACE_QUESTION}", RATING, False) for step, heading in PLACES.items()},
    "age_group": (
        "Hur gammal är du?",
        [
            ("under_13", "Under 13 år"),
            ("13_17", "13-17 år"),
            ("18_29", "18-29 år"),
            ("30_44", "30-44 år"),
            ("45_64", "45-64 år"),
            ("65_plus", "65 år eller äldre"),
            ("no_answer", "Vill inte svara"),
        ],
        False,
    ),
    "gender": (
        "Vilket kön har du?",
        [("woman", "Kvinna"), ("man", "Man"), ("other", "Annat"), ("no_answer", "Vill inte svara")],
        False,
    ),
    "feedback": (
        "Vill du få veta vad vi kommer fram till, och vad polisen och kommunen lovar att göra "
        "(ett medborgarlöfte)?",
        [("here", "Ja, här"), ("sms", "Ja, via sms"), ("no", "Nej tack")],
        False,
    ),
}
MULTIPLE = frozenset({"where", "when"})
