"""The Telegram updates of many people answering the Karlslund questionnaire.

Both bots get exactly these updates. Each person arrives by ``/start SOURCE``, writes the
free-text answers and taps the buttons (``STEP:CHOICE``, the payloads both bots put on
their buttons): 16 updates, 13 of which give an answer (a tick on a multiple choice
does not; its "Klar" does). Choices vary by person but never change the path, so the
message a button sits on has a known id: the n-th message the bot sent to that chat,
as the fake Bot API numbers them. The peer edits that message (to take its buttons off);
Trygg's webhook does not look at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FIRST_USER = 6_200_000_000
# Sources of the campaign that lead to the karlslund flow (lss leads to the easy-read one).
SOURCES = ("ungdomshuset", "pilangskolan", "trygghetsdagen", "badet")
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Trygg"}
DATE = 1_760_000_000
AGES = ("18_29", "30_44", "45_64")
GENDERS = ("woman", "man", "no_answer")


@dataclass(frozen=True)
class Step:
    text: str | None = None  # a message ...
    payload: str | None = None  # ... or a tapped button
    on_message: int = 0  # the id of the message the button is on
    answer: bool = False  # whether it completes an answer


def script(person: int) -> list[Step]:
    """One person's inputs, in order."""
    where = ("kopparangen", "silverangen", "pilangen", "pilakern", "elsewhere")[person % 5]
    when = ("day", "evening", "night", "weekend", "always", "varies")[person % 6]
    rating = ("green", "yellow", "red")
    return [
        Step(text=f"/start {SOURCES[person % len(SOURCES)]}"),
        Step(text="Mörkt vid tunneln och ingen belysning på gångvägen.", answer=True),
        Step(payload=f"where:{where}", on_message=3),
        Step(payload="where:_done", on_message=3, answer=True),
        Step(text="Vid busshållplatsen på Emaljgatan.", answer=True),
        Step(payload=f"when:{when}", on_message=5),
        Step(payload="when:_done", on_message=5, answer=True),
        Step(payload=f"told:{('police', 'someone_else')[person % 2]}", on_message=6, answer=True),
        *[
            Step(payload=f"place_{n}:{rating[(person + n) % 3]}", on_message=7 + n, answer=True)
            for n in range(1, 5)
        ],
        Step(text="Fler vuxna ute på kvällarna vore bra.", answer=True),
        Step(payload=f"age_group:{AGES[person % 3]}", on_message=14, answer=True),
        Step(payload=f"gender:{GENDERS[person % 3]}", on_message=15, answer=True),
        Step(payload=f"feedback:{('no', 'here')[person % 2]}", on_message=16, answer=True),
    ]


ANSWERS_PER_PERSON = sum(step.answer for step in script(0))
UPDATES_PER_PERSON = len(script(0))


def update(person: int, number: int, update_id: int, step: Step) -> dict[str, Any]:
    """The Update JSON Telegram would POST for this step."""
    user_id = FIRST_USER + person
    user = {"id": user_id, "is_bot": False, "first_name": "Person", "language_code": "sv"}
    chat = {"id": user_id, "type": "private", "first_name": "Person"}
    if step.payload is not None:
        message = {"message_id": step.on_message, "from": BOT_USER, "chat": chat,
                   "date": DATE, "text": "Fråga"}  # fmt: skip
        query = {"id": f"{user_id}{number:03d}", "from": user, "message": message,
                 "chat_instance": f"ci{user_id}", "data": step.payload}  # fmt: skip
        return {"update_id": update_id, "callback_query": query}
    text = step.text or ""
    message = {"message_id": 1000 + number, "from": user, "chat": chat, "date": DATE + number,
               "text": text}  # fmt: skip
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": update_id, "message": message}


def bodies(people: int) -> list[list[tuple[bytes, bool]]]:
    """Per person, each update as the bytes to POST and whether it completes an answer."""
    found: list[list[tuple[bytes, bool]]] = []
    for person in range(people):
        steps = script(person)
        found.append(
            [
                (json.dumps(update(person, n, person * 100 + n + 1, s)).encode(), s.answer)
                for n, s in enumerate(steps)
            ]
        )
    return found
