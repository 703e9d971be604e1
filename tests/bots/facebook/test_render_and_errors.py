"""Messenger rendering (quick replies or a numbered text) and what each Graph API error
means for the delivery worker."""

from __future__ import annotations

import pytest

from bots.contract import Outcome
from bots.facebook.outbound import error_outcome, render
from dialog_flows.session import Option, Outgoing


def message(labels: list[str], text: str = "Var?", **fields: object) -> Outgoing:
    options = tuple(
        Option(id=f"c{n}", label=label, payload=f"where:c{n}", number=n)
        for n, label in enumerate(labels, start=1)
    )
    return Outgoing(text=text, language="sv", direction="ltr", options=options, **fields)  # type: ignore[arg-type]


def test_choices_become_quick_replies_with_our_payloads() -> None:
    [body] = render(message(["Kopparängen", "Silverängen"]))
    assert body["text"] == "Var?"
    assert body["quick_replies"] == [
        {"content_type": "text", "title": "Kopparängen", "payload": "where:c1"},
        {"content_type": "text", "title": "Silverängen", "payload": "where:c2"},
    ]


def test_thirteen_is_the_most_quick_replies() -> None:
    assert "quick_replies" in render(message([f"Plats {n}" for n in range(13)]))[0]
    [body] = render(message([f"Plats {n}" for n in range(14)]))
    assert "quick_replies" not in body
    assert "\n1 Plats 0\n" in body["text"] and "14 Plats 13" in body["text"]


def test_a_label_over_twenty_characters_is_listed_in_full_and_numbered_replies_stay() -> None:
    [body] = render(message(["Kort", "Någon annanstans i Landskrona"]))
    assert body["text"] == "Var?\n\n1 Kort\n2 Någon annanstans i Landskrona"
    assert [(r["title"], r["payload"]) for r in body["quick_replies"]] == [
        ("1 Kort", "where:c1"),
        ("2 Någon annanstans…", "where:c2"),
    ]
    assert all(len(r["title"]) <= 20 for r in body["quick_replies"])


def test_selected_choices_are_ticked() -> None:
    options = (
        Option(id="a", label="Parken", payload="where:a", number=1, selected=True),
        Option(id="b", label="Torget", payload="where:b", number=2),
    )
    out = Outgoing(text="Var?", language="sv", direction="ltr", options=options)
    titles = [r["title"] for r in render(out)[0]["quick_replies"]]
    assert titles == ["✅ Parken", "Torget"]


def test_symbols_go_into_the_title() -> None:
    options = (Option(id="green", label="Tryggt", payload="p1:green", symbol="🟢"),)
    out = Outgoing(text="Badet", language="sv", direction="ltr", options=options)
    assert render(out)[0]["quick_replies"][0]["title"] == "🟢 Tryggt"


def test_long_text_is_split_at_line_breaks_with_the_replies_on_the_last_part() -> None:
    text = "\n".join(f"Rad {n} " + "x" * 90 for n in range(40))
    bodies = render(message(["Ja", "Nej"], text=text))
    assert len(bodies) == 2 and all(len(body["text"]) <= 2000 for body in bodies)
    assert "\n".join(body["text"] for body in bodies) == text
    assert "quick_replies" in bodies[1] and "quick_replies" not in bodies[0]


def graph_error(code: int, subcode: int | None = None, **extra: object) -> dict[str, object]:
    error: dict[str, object] = {"message": "x", "type": "OAuthException", "code": code,
                                "fbtrace_id": "A1"}  # fmt: skip
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error | extra}


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [(400, graph_error(10, 2018278), Outcome.WAITING),
     (400, graph_error(551, 1545041), Outcome.UNREACHABLE),
     (400, graph_error(100, 2018001), Outcome.UNREACHABLE),
     (400, graph_error(613), Outcome.RETRY),
     (400, graph_error(4), Outcome.RETRY),
     (429, {}, Outcome.RETRY),
     (500, graph_error(2, is_transient=True), Outcome.RETRY),
     (400, graph_error(1200, is_transient=True), Outcome.RETRY),
     (400, graph_error(190), Outcome.RETRY),
     (400, graph_error(100), Outcome.FAILED),
     (400, "not json", Outcome.FAILED)],
)  # fmt: skip
def test_graph_errors_by_kind(status: int, body: object, outcome: Outcome) -> None:
    assert error_outcome(status, body).outcome is outcome
