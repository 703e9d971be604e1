"""People answering the Karlslund questionnaire through the real web chat API of a
running server, with seeded choices, so a dashboard test has data to look at.

Each person is one cookie jar (one visitor). Buttons are pressed by their payloads, as
the page's script sends them; free text is typed in the person's language.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx

TEXTS = {
    "sv": "Det är mörkt i gångtunneln på kvällen.",
    "en": "The underpass is dark in the evening.",
    "ar": "النفق مظلم في المساء.",
}


@dataclass(frozen=True)
class Person:
    source: str | None
    language: str
    complete: bool = True  # False: stops after the first answers


def answer_questionnaire(url: str, person: Person, seed: int) -> dict[str, Any]:
    """Take the questionnaire; return the answers given, by step id."""
    rng = random.Random(seed)
    given: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=30) as http:
        reply = http.post(
            "/chat/api/start", json={"source": person.source, "language": person.language}
        ).json()
        for _ in range(80):
            asking = [m for m in reply["messages"] if m["input"] != "none" or m["options"]]
            if not reply["active"] or not asking:
                return given
            if not person.complete and len(given) >= 3:
                return given
            message = asking[-1]
            step = message["step_id"]
            payloads = [o["payload"] for o in message["options"]]
            real = [p for p in payloads if not p.endswith((":_skip", ":_done"))]
            if message["input"] == "multiple":
                if step in given:
                    body: dict[str, Any] = {"payload": f"{step}:_done"}
                else:
                    choice = rng.choice(real)
                    given[step] = [choice.split(":", 1)[1]]
                    body = {"payload": choice}
            elif real:
                choice = rng.choice(real)
                given[step] = choice.split(":", 1)[1]
                body = {"payload": choice}
            else:
                text = TEXTS.get(person.language, TEXTS["sv"])
                given[step] = text
                body = {"text": text}
            reply = http.post("/chat/api/send", json=body).json()
    raise AssertionError(f"the questionnaire did not end for {person}")
