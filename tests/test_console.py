"""`trygg chat`: the whole Karlslund questionnaire in the terminal, in three languages,
stored through the same inbound path and database as every channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Answer, Respondent
from trygg.console import ConsoleChat
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime

# Every question answered: text, choices by number, place ratings, demographics, feedback.
ANSWERS = {
    "sv": [
        "Mörkt vid kiosken",
        "1,3",
        "Vid gångtunneln",
        "2",
        "1",
        "2",
        "2",
        "3",
        "1",
        "Nej",
        "3",
        "1",
        "1",
    ],
    "en": [
        "Dark by the kiosk",
        "1,3",
        "By the underpass",
        "2",
        "1",
        "2",
        "2",
        "3",
        "1",
        "No",
        "3",
        "1",
        "1",
    ],
    "ar": [
        "الظلام قرب الكشك",
        "١،٣",
        "قرب النفق",
        "٢",
        "١",
        "٢",
        "٢",
        "٣",
        "١",
        "لا",
        "٣",
        "١",
        "١",
    ],
}


@pytest.mark.parametrize("language", ["sv", "en", "ar"])
async def test_whole_questionnaire_in_the_terminal(runtime: Runtime, language: str) -> None:
    inputs = iter(ANSWERS[language])
    printed: list[str] = []

    async def read() -> str:
        return next(inputs)

    chat = ConsoleChat(
        DialogService(runtime), language=language, source="badet", read=read, write=printed.append
    )
    state = await chat.run()
    assert state is not None and state.status == "completed"
    assert state.language == language and state.source == "badet"
    answers = chat.answers
    assert answers["where"] == ["kopparangen", "pilangen"]
    assert answers["when"] == ["evening"] and answers["told"] == "police"
    assert [answers[f"place_{n}"] for n in (1, 2, 3, 4)] == ["yellow", "yellow", "red", "green"]
    assert answers["age_group"] == "18_29" and answers["gender"] == "woman"
    assert answers["feedback"] == "here"
    transcript = "\n".join(printed)
    expected_thanks = {
        "sv": "Tack för dina svar!",
        "en": "Thank you for your answers!",
        "ar": "شكرًا",
    }
    assert expected_thanks[language] in transcript
    assert '"status": "completed"' in printed[-1]
    async with runtime.database.sessions() as session:
        [respondent] = (await session.execute(select(Respondent))).scalars().all()
        stored = {
            row.question_id: row.value["v"]
            for row in (await session.execute(select(Answer))).scalars()
        }
    assert (respondent.channel, respondent.language, respondent.source) == (
        "console",
        language,
        "badet",
    )
    assert respondent.status == "completed"
    assert stored == answers
