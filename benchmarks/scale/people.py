"""Made-up but realistic Karlslund respondents, as plain rows for a bulk insert.

The shapes are the ones the service stores (``trygg/service/outcomes.py``): a random
32-hex respondent id, ``{"v": ...}`` answers with choice ids, lists of ids for multiple
choice, free text in the person's language, ``green``/``yellow``/``red`` place ratings,
``None`` for a skipped step; a contact per person with a keyed-hash address, its
encrypted address only while a dialog runs or the person wants the återkoppling. The
mix (80% completed, most in Swedish, the sources of karlslund.campaign.yaml, 60 days)
follows the brief; the exact shares are ours. Everything comes from one seeded random
generator, so a run with the same offset gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dialog_flows.session import SessionState

CAMPAIGN = "karlslund"
DAYS = 60
CHANNELS = {"telegram": 30, "sms": 28, "facebook": 20, "web": 15, "whatsapp": 7}
LANGUAGES = {"sv": 60, "ar": 10, "en": 6, "so": 5, "fa": 5, "pl": 4, "tr": 4, "uk": 4, "bs": 2}
SOURCES: dict[str | None, int] = {
    "affisch": 20, "facebook": 15, "webb": 10, "medborgarpanel": 10, "trygghetsdagen": 8,
    "pilangskolan": 6, "ungdomshuset": 5, "forsamlingen": 4, "emaljgatan": 3, "badet": 3,
    "tellus": 3, "foretagare": 2, "hvb": 1, "lss": 1, None: 9,
}  # fmt: skip
# Not completed: still going (recent only), expired after 7 days, STOPP, started over.
STATUSES = {"completed": 80, "expired": 11, "stopped": 5, "restarted": 2, "active": 2}
RATINGS = ("green", "yellow", "red")
SWEDISH = (
    "Det är mörkt vid tunneln under järnvägen på kvällen.",
    "Gäng som hänger vid busshållplatsen och skriker åt folk.",
    "Belysningen i parken är trasig sedan flera veckor.",
    "Jag är orolig för narkotikaförsäljning nära skolan.",
    "Bilar som kör för fort på Emaljgatan.",
    "Nedskräpning och klotter gör att området känns övergivet.",
    "Inget särskilt, jag känner mig oftast trygg.",
)
ARABIC = (
    "الإضاءة ضعيفة في الحديقة في المساء.",
    "أشعر بعدم الأمان بالقرب من محطة الحافلات ليلاً.",
    "هناك مجموعات من الشباب تتجمع عند المدرسة.",
    "أخاف على أطفالي عندما يذهبون إلى المسبح.",
)
ENGLISH = (
    "The underpass is dark and people sell drugs there at night.",
    "Cars drive too fast near the school.",
    "I feel safe most of the time, but not at the bus stop.",
)
TEXTS = {"sv": SWEDISH, "ar": ARABIC, "en": ENGLISH}


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # text, single, multiple, rating, feedback
    choices: tuple[str, ...] = ()


MAIN = (
    Step("problems", "text"),
    Step("where", "multiple", ("kopparangen", "silverangen", "pilangen", "pilakern",
                               "elsewhere", "nowhere")),
    Step("where_detail", "text"),
    Step("when", "multiple", ("day", "evening", "night", "weekend", "always", "varies")),
    Step("told", "single", ("police", "someone_else", "no")),
    Step("told_why_not", "text"),
    Step("place_1", "rating"), Step("place_2", "rating"),
    Step("place_3", "rating"), Step("place_4", "rating"),
    Step("more", "text"),
    Step("age_group", "single", ("under_13", "13_17", "18_29", "30_44", "45_64", "65_plus",
                                 "no_answer")),
    Step("gender", "single", ("woman", "man", "other", "no_answer")),
    Step("feedback", "feedback", ("here", "sms", "no")),
)  # fmt: skip
EASY_READ = tuple(  # karlslund-lattlast: fewer questions, same ids where they match
    step for step in MAIN
    if step.id in ("problems", "when", "place_1", "place_2", "age_group", "gender", "feedback")
)  # fmt: skip


@dataclass
class Rows:
    respondents: list[tuple[Any, ...]] = field(default_factory=list)
    answers: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    dialogs: list[tuple[Any, ...]] = field(default_factory=list)


def _cumulative(weights: dict[Any, int]) -> tuple[list[Any], list[int]]:
    return list(weights), list(itertools.accumulate(weights.values()))


_CUMULATIVE = {id(w): _cumulative(w) for w in (CHANNELS, LANGUAGES, SOURCES, STATUSES)}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    keys, cumulative = _CUMULATIVE[id(weights)]
    return rng.choices(keys, cum_weights=cumulative)[0]


def _below(rng: random.Random, top: int) -> int:
    """randint(0, top - 1), at a third of its cost (it is called 12 million times)."""
    return int(rng.random() * top)


# SessionState.to_dict (dataclasses.asdict) is slow; the state only differs in these.
_STATE = SessionState("", 0, "", "", 0.0, 0.0).to_dict()


def _value(rng: random.Random, step: Step, language: str, answers: dict[str, Any]) -> Any:
    if step.id == "where_detail" and "nowhere" in (answers.get("where") or ()):
        return ...  # not asked
    if step.id == "told_why_not" and answers.get("told") != "no":
        return ...
    if step.kind == "text":
        if rng.random() < 0.35:
            return None  # skipped
        text = rng.choice(TEXTS.get(language, SWEDISH))
        return text if rng.random() < 0.5 else f"{text} {rng.choice(SWEDISH)}"
    if step.kind == "multiple":
        return rng.sample(step.choices[:-1], 1 + _below(rng, 3)) if rng.random() < 0.9 else None
    if step.kind == "rating":
        return rng.choices(RATINGS, weights=(5, 3, 2))[0]
    if step.kind == "feedback":
        return rng.choices(step.choices, weights=(3, 2, 5))[0]
    return step.choices[_below(rng, len(step.choices))] if rng.random() < 0.92 else None


def make_rows(
    count: int,
    *,
    offset: int,
    end: dt.datetime,
    encrypted: Sequence[str],
    first_contact_id: int,
) -> Rows:
    """``count`` respondents with their answers, a contact each (90%: some opted out or
    were erased) and a dialog row for those still going. ``offset`` seeds the generator,
    so batches differ; datetimes are aware UTC."""
    rng = random.Random(offset)
    rows = Rows()
    contact_id = first_contact_id
    for _ in range(count):
        rid = f"{rng.getrandbits(128):032x}"
        channel, language = _pick(rng, CHANNELS), _pick(rng, LANGUAGES)
        source, status = _pick(rng, SOURCES), _pick(rng, STATUSES)
        easy = source == "lss"
        if easy:
            language = "sv"
        recent = status == "active"  # still going: started in the last few hours
        back = rng.uniform(0, 0.4 if recent else DAYS * 86400 / 3600) * 3600
        started = end - dt.timedelta(seconds=back + 600)
        steps = EASY_READ if easy else MAIN
        answered = len(steps) if status == "completed" else _below(rng, len(steps))
        answers: dict[str, Any] = {}
        at = started
        last_step = None
        for step in steps[:answered]:
            value = _value(rng, step, language, answers)
            if value is ...:
                continue
            at += dt.timedelta(seconds=5 + _below(rng, 55))
            answers[step.id] = value
            last_step = step.id
            rows.answers.append((rid, step.id, {"v": value}, at))
        completed = at if status == "completed" else None
        expiry = dt.timedelta(days=7 * (status == "expired"))
        ended = None if status == "active" else min(end, at + expiry)
        flow = "karlslund-lattlast" if easy else "karlslund"
        rows.respondents.append(
            (rid, CAMPAIGN, flow, 1, channel, language, source, started, completed, ended,
             status, last_step)
        )  # fmt: skip
        if rng.random() >= 0.9 and status != "active":
            continue  # opted out or erased: no contact left
        wants = answers.get("feedback") in ("here", "sms")
        keep = wants or status == "active"
        state = _STATE | {
            "flow_id": flow, "flow_version": 1, "channel": channel, "language": language,
            "started_at": started.timestamp(), "last_activity_at": at.timestamp(),
            "status": status,
        }  # fmt: skip
        rows.contacts.append(
            (contact_id, channel, f"{rng.getrandbits(256):064x}",
             rng.choice(encrypted) if keep else None, CAMPAIGN, source, language, wants,
             False, at, started, None if status == "active" else state)
        )  # fmt: skip
        if status == "active":
            # Mid-dialog at its next question; the answers are in the answers table.
            live = state | {"source": source, "step_id": steps[answered].id}
            rows.dialogs.append((contact_id, rid, live, at))
        contact_id += 1
    return rows
