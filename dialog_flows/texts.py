"""What the bot itself says, outside any flow: re-asks, keyword replies, menus.

Each text is written in Swedish, the source language, and marked with ``T`` (or ``NT``
for texts with a plural) so Babel extracts it with its message context (``trygg:help``),
the name translators see. Tone, from the brief: short, respectful, neutral.

Keyword lists are texts too, so translators add the words people of their language
would type ("STOPP, AVSLUTA" in Swedish). The first word of each list is the one the
bot shows in its help.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemText:
    context: str
    source: str
    plural: str | None = None


def T(context: str, source: str) -> SystemText:  # noqa: N802 (a gettext-style marker)
    return SystemText(context, source)


def NT(context: str, singular: str, plural: str) -> SystemText:  # noqa: N802
    return SystemText(context, singular, plural)


# -- keywords (whole message, any case, at any point) ------------------------------------
# Translators: keyword lists are comma-separated words that people of your language would
# type as a whole message. Write them in capitals; the first word is the one the bot shows
# in its help. Keep the Swedish/English meaning exactly (stop, help, language, start over,
# delete my data, results, skip, done).
KEYWORD_STOP = T("trygg:keyword_stop", "STOPP, AVSLUTA, SLUTA")
KEYWORD_HELP = T("trygg:keyword_help", "HJÄLP")
KEYWORD_LANGUAGE = T("trygg:keyword_language", "SPRÅK")
KEYWORD_RESTART = T("trygg:keyword_restart", "BÖRJA OM, OMSTART")
KEYWORD_ERASE = T("trygg:keyword_erase", "RADERA, RADERA MINA UPPGIFTER")
KEYWORD_RESULTS = T("trygg:keyword_results", "RESULTAT")
KEYWORD_SKIP = T("trygg:keyword_skip", "HOPPA ÖVER, HOPPA")
KEYWORD_DONE = T("trygg:keyword_done", "KLAR, FÄRDIG")
# Translators: the words that opt back in after STOPP. Keep START in the list: it is what
# SMS services use everywhere, and what the opt-out confirmation tells people to write.
KEYWORD_START = T("trygg:keyword_start", "START")

# -- menus and labels --------------------------------------------------------------------
# Translators: the heading of the language menu, shown next to the Swedish and English one.
LANGUAGE_MENU = T("trygg:language_menu", "Välj språk")
SKIP_LABEL = T("trygg:skip_label", "Hoppa över")
DONE_LABEL = T("trygg:done_label", "Klar")
# Translators: the three ratings of a place: green (safe), yellow (no opinion), red (unsafe).
RATING_GREEN = T("trygg:rating_green", "Tryggt")
RATING_YELLOW = T("trygg:rating_yellow", "Ingen åsikt")
RATING_RED = T("trygg:rating_red", "Otryggt")
PLACE_HEADING = T("trygg:place_heading", "Plats {number}: {name}")
MULTIPLE_HINT = T("trygg:multiple_hint", "Du kan välja flera.")
MULTIPLE_TEXT_HINT = T(
    "trygg:multiple_text_hint", "Svara med en eller flera siffror, till exempel 1,3."
)
SKIP_HINT = T("trygg:skip_hint", "Vill du hoppa över frågan? Skriv {skip}.")

# -- re-asks -----------------------------------------------------------------------------
REASK_CHOICE = T(
    "trygg:reask_choice", "Jag förstod inte svaret. Svara med en siffra från 1 till {count}."
)
REASK_MULTIPLE = T(
    "trygg:reask_multiple",
    "Jag förstod inte svaret. Svara med en eller flera siffror, till exempel 1,3.",
)
REASK_MULTIPLE_EMPTY = T("trygg:reask_multiple_empty", "Välj minst ett alternativ först.")
REASK_NUMBER = T("trygg:reask_number", "Svara med ett tal från {min} till {max}.")
REASK_TEXT_EMPTY = T("trygg:reask_text_empty", "Skriv ditt svar med ord.")
REASK_TEXT_LONG = T(
    "trygg:reask_text_long", "Svaret är för långt. Skriv högst {max} tecken, gärna kortare."
)
REASK_NOT_TEXT = T("trygg:reask_not_text", "Jag kan bara läsa text. Skriv ditt svar, tack.")
REASK_PHONE = T(
    "trygg:reask_phone",
    "Det ser inte ut som ett mobilnummer. Skriv till exempel 070 123 45 67, eller {skip}.",
)
REASK_LANGUAGE = T("trygg:reask_language", "Svara med en siffra från listan.")
REASK_REQUIRED = T(
    "trygg:reask_required", "Den här frågan behöver ett svar för att vi ska kunna gå vidare."
)
SKIPPED_AFTER_ATTEMPTS = T("trygg:skipped_after_attempts", "Vi hoppar över den frågan.")
STALE_BUTTON = T("trygg:stale_button", "Den frågan är redan besvarad. Här är frågan vi är på nu:")

# -- keyword replies and session events --------------------------------------------------
HELP = T(
    "trygg:help",
    "Du svarar anonymt och kan sluta när du vill. Skriv {stop} för att sluta, {language} för "
    "att byta språk, {restart} för att börja om, {erase} för att ta bort dina uppgifter och "
    "{results} för att se resultatet.",
)
# The opt-out confirmations fit one SMS: keep them short, and keep {start}.
STOPPED = T(
    "trygg:stopped",
    "Du har avslutat och får inga fler meddelanden från oss. Dina svar sparas anonymt. "
    "Skriv {start} om du vill vara med igen.",
)
ERASED = T(
    "trygg:erased",
    "Dina kontaktuppgifter och svaren i den pågående enkäten är raderade. Du får inga fler "
    "meddelanden från oss. Skriv {start} om du vill vara med igen.",
)
# To someone on the opt-out list who writes something other than {start} (at most daily).
OPTED_OUT_NOTICE = T(
    "trygg:opted_out_notice",
    "Du har avslutat och får inga meddelanden från oss. Skriv {start} om du vill vara med igen.",
)
OPTED_IN = T(
    "trygg:opted_in",
    "Välkommen tillbaka! Du kan få meddelanden från oss igen. Skriv {stop} när du vill sluta.",
)
RESTARTED = T("trygg:restarted", "Vi börjar om från början.")
RESULTS_NONE = T(
    "trygg:results_none",
    "Inga resultat är publicerade ännu. Om du har bett om det skickar vi dem till dig.",
)
RESULTS_INTRO = T("trygg:results_intro", "Det senaste från dialogen:")
ALREADY_DONE = T(
    "trygg:already_done",
    "Tack, du har redan svarat. Skriv {restart} om du vill svara igen, "
    "eller {results} för att se resultatet.",
)
WELCOME_BACK = T("trygg:welcome_back", "Välkommen tillbaka! Vi fortsätter där du slutade.")
# Translators: say "in <your language>", e.g. "We will continue in English."
LANGUAGE_CHANGED = T("trygg:language_changed", "Nu fortsätter vi på svenska.")
REMINDER = NT(
    "trygg:reminder",
    "Hej igen! Du har {count} fråga kvar. Svara när du vill, eller skriv {stop} för att sluta.",
    "Hej igen! Du har {count} frågor kvar. Svara när du vill, eller skriv {stop} för att sluta.",
)

# After someone on Messenger or WhatsApp asks for the results here: those channels let us
# write only within a day of the person's last message, so say how to fetch them.
WINDOW_NOTE = T(
    "trygg:window_note",
    "Här får vi bara skriva till dig inom ett dygn efter ditt senaste meddelande. Skriv "
    "{results} när du vill, så får du det senaste resultatet.",
)

# -- the Messenger page's persistent menu (trygg facebook setup); at most 30 characters --
MENU_TAKE_PART = T("trygg:menu_take_part", "Delta i dialogen")
MENU_RESULTS = T("trygg:menu_results", "Se resultatet")
MENU_LANGUAGE = T("trygg:menu_language", "Byt språk")
MENU_STOP = T("trygg:menu_stop", "Sluta få meddelanden")

# -- printed posters (the staff dashboard's poster per source and language) ----------------
# Translators: above the poster's QR codes (Telegram, Messenger, the web chat).
POSTER_SCAN = T("trygg:poster_scan", "Skanna en kod med mobilens kamera för att svara.")
# Translators: {keyword} is what to type, e.g. TRYGG BADET; {number} is the phone number.
POSTER_SMS = T("trygg:poster_sms", "Eller skicka ett SMS med texten {keyword} till {number}.")

ALL_TEXTS: tuple[SystemText, ...] = tuple(
    value for value in globals().copy().values() if isinstance(value, SystemText)
)
