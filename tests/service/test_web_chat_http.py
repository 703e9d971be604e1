"""The web chat through the whole HTTP stack (FastAPI, cookies, JSON), on both databases,
and the export of what was said."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from trygg.service.runtime import Runtime
from trygg.web.app import create_app

SWEDISH = ["Mörkt vid kiosken", "1,3", "Vid gångtunneln", "2", "3", "Man blir inte trodd",
           "1", "2", "3", "2", "hoppa över", "3", "1", "1"]  # fmt: skip
ARABIC = ["الظلام قرب الكشك", "١،٣", "قرب النفق", "٢", "٣", "لا أحد يصدقنا",
          "١", "٢", "٣", "٢", "تخطي", "٣", "١", "١"]  # fmt: skip


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def take_questionnaire(
    client: httpx.AsyncClient, language: str, answers: list[str]
) -> dict[str, object]:
    page = await client.get("/chat", params={"source": "badet", "lang": language})
    assert page.status_code == 200 and "trygg_chat" in page.cookies
    reply = (
        await client.post("/chat/api/start", json={"source": "badet", "language": language})
    ).json()
    assert reply["active"] and reply["messages"][0]["language"] == language
    for number, answer in enumerate(answers):
        response = await client.post(
            "/chat/api/send", json={"text": answer, "client_id": f"m{number}"}
        )
        assert response.status_code == 200, response.text
        reply = response.json()
    assert not reply["active"]
    return reply


@pytest.mark.parametrize(("language", "answers"), [("sv", SWEDISH), ("ar", ARABIC)])
async def test_a_whole_dialog_over_http_is_stored_by_id(
    client: httpx.AsyncClient, runtime: Runtime, language: str, answers: list[str]
) -> None:
    final = await take_questionnaire(client, language, answers)
    messages = final["messages"]
    assert isinstance(messages, list)
    assert all(
        message["direction"] == ("rtl" if language == "ar" else "ltr") for message in messages
    )
    from trygg.export import export_rows

    [row] = await export_rows(runtime)
    assert (row["channel"], row["language"], row["source"]) == ("web", language, "badet")
    assert row["completed_at"] is not None
    answers_by_id = row["answers"]
    assert answers_by_id["where"] == ["kopparangen", "pilangen"]
    assert answers_by_id["when"] == ["evening"] and answers_by_id["told"] == "no"
    assert [answers_by_id[f"place_{n}"] for n in (1, 2, 3, 4)] == [
        "green",
        "yellow",
        "red",
        "yellow",
    ]
    assert answers_by_id["age_group"] == "18_29" and answers_by_id["gender"] == "woman"
    assert answers_by_id["feedback"] == "here"


async def test_a_retried_message_is_not_answered_twice(client: httpx.AsyncClient) -> None:
    await client.get("/chat")
    await client.post("/chat/api/start", json={"language": "sv"})
    first = (
        await client.post("/chat/api/send", json={"text": "Mörkt", "client_id": "same"})
    ).json()
    again = (
        await client.post("/chat/api/send", json={"text": "Mörkt", "client_id": "same"})
    ).json()
    assert not first["duplicate"] and again["duplicate"]
    assert again["messages"][0]["step_id"] == first["messages"][0]["step_id"] == "where"


async def test_a_reloaded_page_gets_the_current_question(client: httpx.AsyncClient) -> None:
    await client.get("/chat")
    await client.post("/chat/api/start", json={"language": "ar"})
    current = (await client.get("/chat/api/current")).json()
    assert current["active"] and current["messages"][0]["step_id"] == "problems"
    assert current["messages"][0]["direction"] == "rtl"


async def test_health_and_body_limits(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    huge = await client.post("/chat/api/send", content=b"x" * 600_000,
                             headers={"content-type": "application/json"})  # fmt: skip
    assert huge.status_code == 413
    bad = await client.post("/chat/api/send", content=b"{not json",
                            headers={"content-type": "application/json"})  # fmt: skip
    assert bad.status_code == 422
    long_text = await client.post("/chat/api/start", json={"language": "sv"})
    assert long_text.status_code == 200
    reply = (await client.post("/chat/api/send", json={"text": "x" * 10_000})).json()
    assert "högst 2000 tecken" in reply["messages"][0]["text"]


async def test_health_answers_503_when_the_database_is_gone(runtime: Runtime) -> None:
    runtime.database.engine.url  # noqa: B018 (the engine exists)
    from storage.database import open_database

    broken = open_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    real = runtime.database
    runtime.database = broken
    try:
        app = create_app(runtime, run_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            response = await http.get("/healthz")
        assert response.status_code == 503
    finally:
        runtime.database = real
        await broken.dispose()


async def test_the_page_speaks_the_browsers_language_when_none_is_chosen(
    client: httpx.AsyncClient,
) -> None:
    arabic = await client.get("/chat", headers={"accept-language": "ar-SE,ar;q=0.9"})
    assert '<html lang="ar" dir="rtl"' in arabic.text
    chosen = await client.get("/chat?lang=en", headers={"accept-language": "ar"})
    assert '<html lang="en" dir="ltr"' in chosen.text
    unknown = await client.get("/chat", headers={"accept-language": "de-DE"})
    assert '<html lang="sv" dir="ltr"' in unknown.text
