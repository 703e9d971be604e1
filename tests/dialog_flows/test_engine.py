"""The engine's behaviour, step by step, on a small inline flow (Swedish source only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dialog_flows.model import Flow
from dialog_flows.session import SessionState, UserMessage
from tests.dialog_flows.engine_helpers import SMALL_FLOW, Driver


@pytest.fixture
def flow(make_flow: Callable[[str], Flow]) -> Flow:
    return make_flow(SMALL_FLOW)


def started(flow: Flow, **kwargs: object) -> Driver:
    """A driver past the intro, at the first question, in Swedish."""
    driver = Driver(flow, **kwargs)  # type: ignore[arg-type]
    driver.start(language="sv")
    return driver


def test_unknown_language_opens_with_the_menu_in_several_languages(flow: Flow) -> None:
    driver = Driver(flow)
    turn = driver.start("badet")
    [menu] = turn.messages
    assert menu.input == "language"
    assert [option.label for option in menu.options] == ["Svenska", "English", "العربية"]
    assert [option.payload for option in menu.options] == ["_lang:sv", "_lang:en", "_lang:ar"]
    assert driver.state is not None and driver.state.awaiting == "language"
    assert driver.state.source == "badet"
    turn = driver.send("1")
    assert turn.messages[0].text == "Hej! Det här är en test."
    assert turn.messages[1].step_id == "safe"
    assert driver.state.language_explicit


def test_platform_hint_skips_the_menu_and_an_unoffered_hint_does_not(flow: Flow) -> None:
    hinted = Driver(flow, language_hint="en-GB")
    hinted.start()
    assert hinted.state is not None and hinted.state.language == "en"
    assert hinted.turns[-1].messages[-1].step_id == "safe"
    assert not hinted.state.language_explicit
    unknown = Driver(flow, language_hint="de")
    unknown.start()
    assert unknown.state is not None and unknown.state.awaiting == "language"


def test_choice_by_number_label_and_payload(flow: Flow) -> None:
    for answer, payload in (("1", None), ("  ja! ", None), ("JA", None), ("", "safe:yes")):
        driver = started(flow)
        driver.send(answer, payload=payload)
        assert driver.state is not None
        assert driver.state.answers["safe"] == "yes", answer


def test_label_matching_is_accent_and_case_insensitive(flow: Flow) -> None:
    driver = started(flow)
    driver.send("VET INTE RIKTIGT")
    assert driver.state is not None and driver.state.answers["safe"] == "unsure"
    driver.send("torget")  # multiple choice by one label
    assert driver.state.answers["where"] == ["square"]


def test_arabic_indic_digits_answer_numbers(flow: Flow) -> None:
    driver = started(flow)
    driver.send("٢")
    assert driver.state is not None and driver.state.answers["safe"] == "no"


def test_invalid_choice_reasks_with_the_range(flow: Flow) -> None:
    driver = started(flow)
    turn = driver.send("7")
    [message] = turn.messages
    assert "1 till 3" in message.text
    assert message.step_id == "safe"
    assert [option.id for option in message.options] == ["yes", "no", "unsure"]
    assert driver.state is not None and driver.state.attempts == 1
    assert "safe" not in driver.state.answers


def test_required_question_keeps_asking_optional_one_gives_up(flow: Flow) -> None:
    driver = started(flow)
    for _ in range(5):
        driver.send("banan")
    assert driver.state is not None and driver.state.step_id == "safe"
    driver.send("1")
    for _ in range(3):
        driver.send("banan")  # the optional multiple choice
    assert driver.state.step_id == "age"
    assert "where" in driver.state.skipped
    assert "Vi hoppar över den frågan." in [m.text for m in driver.turns[-1].messages]


def test_skip_logic_asks_why_only_after_no(flow: Flow) -> None:
    yes = started(flow)
    yes.send("1")
    assert yes.state is not None and yes.state.step_id == "where"
    no = started(flow)
    no.send("2")
    assert no.state is not None and no.state.step_id == "why"


def test_free_text_limits_and_unexpected_input(flow: Flow) -> None:
    driver = started(flow)
    driver.send("2")
    long_turn = driver.send("x" * 51)
    assert "högst 50 tecken" in long_turn.messages[0].text
    photo = driver.send(UserMessage("", has_attachment=True))
    assert photo.messages[0].text.startswith("Jag kan bara läsa text.")
    driver.send("Det är mörkt 🌙 och ١٢ lampor är trasiga\nrad två")
    assert driver.state is not None
    assert driver.state.answers["why"] == "Det är mörkt 🌙 och ١٢ lampor är trasiga\nrad två"


def test_empty_text_reasks(flow: Flow) -> None:
    driver = started(flow)
    driver.send("2")
    empty = driver.send("   ")
    assert empty.messages[0].text.startswith("Skriv ditt svar med ord.")
    assert driver.state is not None and driver.state.step_id == "why"


def test_skip_by_word_payload_and_number(flow: Flow) -> None:
    driver = started(flow)
    driver.send("2")
    driver.send("hoppa över")  # text step
    assert driver.state is not None and driver.state.skipped == ("why",)
    driver.send("4")  # the multiple choice's skip is numbered after its choices
    assert driver.state.skipped == ("why", "where")
    driver.tap("age:_skip")
    assert driver.state.skipped == ("why", "where", "age")
    assert [event.step_id for event in driver.events("step_skipped")] == ["why", "where", "age"]


def test_required_step_cannot_be_skipped(flow: Flow) -> None:
    driver = started(flow)
    driver.send("hoppa över")
    assert driver.state is not None and driver.state.step_id == "safe"
    driver.tap("safe:_skip")
    assert driver.state.step_id == "safe"
    assert "behöver ett svar" in driver.last_text


def test_number_bounds_and_scripts(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    driver.send("4")  # skip where
    too_old = driver.send("150")
    assert "från 10 till 99" in too_old.messages[0].text
    driver.send("۴۲")  # Persian digits
    assert driver.state is not None and driver.state.answers["age"] == 42


def test_multiple_choice_by_list_and_by_toggling(flow: Flow) -> None:
    listed = started(flow)
    listed.send("1")
    listed.send("3, 1")
    assert listed.state is not None and listed.state.answers["where"] == ["park", "station"]

    toggled = started(flow)
    toggled.send("1")
    toggled.tap("where:park")
    toggled.tap("where:square")
    turn = toggled.tap("where:park")  # untick
    assert [option.id for option in turn.messages[0].options if option.selected] == ["square"]
    toggled.tap("where:station")
    toggled.tap("where:_done")
    assert toggled.state is not None and toggled.state.answers["where"] == ["square", "station"]


def test_done_with_nothing_ticked_reasks(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    turn = driver.tap("where:_done")
    assert turn.messages[0].text.startswith("Välj minst ett alternativ först.")
    assert driver.state is not None and driver.state.step_id == "where"


def test_a_tap_on_an_old_question_reasks_the_current_one(flow: Flow) -> None:
    driver = started(flow)
    driver.tap("safe:yes")
    turn = driver.tap("safe:no")
    assert driver.state is not None and driver.state.answers["safe"] == "yes"
    assert turn.messages[0].text.startswith("Den frågan är redan besvarad.")
    assert turn.messages[0].step_id == "where"


def test_garbage_payloads_never_answer(flow: Flow) -> None:
    driver = started(flow)
    for payload in ("", ":", "safe:", "safe:maybe", "x" * 500, "_lang:xx"):
        driver.tap(payload)
        assert driver.state is not None and "safe" not in driver.state.answers


def test_place_rating_has_fixed_scale_and_image(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    driver.send("4")
    turn = driver.send("30")
    [question] = turn.messages
    assert question.text.startswith("Plats 1: Torget\n")
    assert question.image == "torget.jpg"
    assert [(o.id, o.label, o.symbol) for o in question.options] == [
        ("green", "Tryggt", "🟢"),
        ("yellow", "Ingen åsikt", "🟡"),
        ("red", "Otryggt", "🔴"),
    ]
    driver.send("otryggt")
    assert driver.state is not None and driver.state.answers["place_1"] == "red"


def finish_to_feedback(driver: Driver) -> None:
    for answer in ("1", "4", "30", "1"):
        driver.send(answer)
    assert driver.state is not None and driver.state.step_id == "feedback"


def test_feedback_by_sms_asks_for_a_number_that_never_becomes_an_answer(flow: Flow) -> None:
    driver = started(flow, channel="telegram")
    finish_to_feedback(driver)
    driver.send("2")
    assert driver.last_text == "Skriv ditt mobilnummer."
    driver.send("ring mig")
    assert "mobilnummer" in driver.last_text and driver.state is not None
    turn = driver.send("070-123 45 67")
    [opt_in] = driver.events("feedback_opt_in")
    assert (opt_in.deliver, opt_in.address) == ("sms", "+46701234567")
    assert driver.state is not None and driver.state.status == "completed"
    assert "+46701234567" not in repr(driver.state.answers)
    assert driver.state.answers["feedback"] == "sms"
    assert turn.event("completed") is not None


def test_feedback_on_sms_offers_sms_once_and_means_here(flow: Flow) -> None:
    driver = started(flow, channel="sms")
    finish_to_feedback(driver)
    options = [option.id for option in driver.turns[-1].messages[-1].options]
    assert options == ["here", "no"]
    driver.send("1")
    [opt_in] = driver.events("feedback_opt_in")
    assert opt_in.deliver == "here" and opt_in.address is None


@pytest.mark.parametrize("channel", ["facebook", "whatsapp"])
def test_feedback_here_on_a_windowed_channel_says_how_to_fetch_the_results(
    flow: Flow, channel: str
) -> None:
    driver = started(flow, channel=channel)
    finish_to_feedback(driver)
    turn = driver.send("1")
    assert turn.messages[-1].text == (
        "Här får vi bara skriva till dig inom ett dygn efter ditt senaste meddelande. "
        "Skriv RESULTAT när du vill, så får du det senaste resultatet."
    )
    assert driver.state is not None and driver.state.status == "completed"


@pytest.mark.parametrize(
    ("channel", "answer"), [("telegram", "1"), ("sms", "1"), ("facebook", "3")]
)
def test_no_window_note_elsewhere_or_without_feedback(
    flow: Flow, channel: str, answer: str
) -> None:
    driver = started(flow, channel=channel)
    finish_to_feedback(driver)
    turn = driver.send(answer)
    assert all("ett dygn" not in message.text for message in turn.messages)


def test_completion_and_messages_after_it(flow: Flow) -> None:
    driver = started(flow)
    finish_to_feedback(driver)
    turn = driver.send("2")
    assert [m.text for m in turn.messages] == ["Tack!"]
    assert driver.state is not None and driver.state.status == "completed"
    later = driver.send("hej igen")
    assert "redan svarat" in later.messages[0].text
    assert driver.state.status == "completed"


def test_keywords_at_any_point(flow: Flow) -> None:
    driver = started(flow)
    turn = driver.send("Hjälp")
    assert turn.messages[0].text.startswith("Polisen frågar.")
    assert "STOPP" in turn.messages[0].text and turn.messages[1].step_id == "safe"
    turn = driver.send("resultat")
    assert turn.messages[0].text.startswith("Inga resultat är publicerade ännu.")
    assert turn.event("results_requested") is not None
    turn = driver.send("STOPP")
    assert turn.event("opted_out") is not None
    assert driver.state is not None and driver.state.status == "stopped"


def test_stop_words_of_twilio_work_without_any_catalog(flow: Flow) -> None:
    for word in ("STOP", "unsubscribe", "Cancel", "/stop"):
        driver = started(flow)
        turn = driver.send(word)
        assert turn.event("opted_out") is not None, word


def test_keyword_inside_a_sentence_is_an_answer(flow: Flow) -> None:
    driver = started(flow)
    driver.send("2")
    turn = driver.send("stopp och belägg i parken")
    assert turn.event("opted_out") is None
    assert driver.state is not None and driver.state.answers["why"] == "stopp och belägg i parken"


def test_results_show_the_latest_feedback_in_the_persons_language(flow: Flow) -> None:
    driver = started(flow, feedback={"sv": "Vi tänder fler lampor i parken."})
    turn = driver.send("RESULTAT")
    assert "Vi tänder fler lampor i parken." in turn.messages[0].text


def test_stop_without_a_session_still_opts_out(flow: Flow) -> None:
    driver = Driver(flow)
    turn = driver.send("STOPP")
    assert turn.event("opted_out") is not None
    assert driver.state is None


def test_erase_clears_answers_and_ends(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    turn = driver.send("RADERA")
    assert turn.event("erase_requested") is not None
    assert driver.state is not None and driver.state.status == "erased"
    assert driver.state.answers == {}


def test_restart_keeps_source_and_chosen_language(flow: Flow) -> None:
    driver = Driver(flow)
    driver.start("badet", language="sv")
    driver.send("1")
    turn = driver.send("börja om")
    assert turn.event("restarted") is not None
    assert driver.state is not None
    assert driver.state.answers == {} and driver.state.source == "badet"
    assert driver.state.step_id == "safe"


def test_language_change_reasks_the_current_question(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    menu = driver.send("SPRÅK")
    assert menu.messages[0].input == "language"
    turn = driver.send("English")
    assert driver.state is not None and driver.state.language == "en"
    assert turn.event("language_changed") is not None
    assert turn.messages[-1].step_id == "where"
    assert driver.state.answers == {"safe": "yes"}


def test_start_during_a_dialog_resumes_it(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    turn = driver.start("badet")
    assert turn.messages[0].text.startswith("Välkommen tillbaka!")
    assert turn.messages[-1].step_id == "where"
    assert driver.state is not None and driver.state.answers == {"safe": "yes"}


def test_reminder_once_then_expiry(flow: Flow) -> None:
    driver = started(flow)
    assert driver.tick(10).messages == ()
    reminder = driver.tick(11)
    assert reminder.event("reminded") is not None
    assert reminder.messages[0].text.startswith("Hej igen! Du har 6 frågor kvar.")
    assert driver.tick(1).messages == ()  # only one reminder
    expired = driver.tick(7 * 24)
    assert expired.event("expired") is not None
    assert driver.state is not None and driver.state.status == "expired"


def test_an_answer_resets_the_idle_clock(flow: Flow) -> None:
    driver = started(flow)
    driver.now += 19 * 3600
    driver.send("1")
    assert driver.tick(2).messages == ()


def test_state_round_trips_through_json(flow: Flow) -> None:
    import json

    driver = started(flow)
    driver.send("2")
    driver.tap("why:_skip")
    driver.tap("where:park")
    assert driver.state is not None
    data = json.loads(json.dumps(driver.state.to_dict()))
    assert SessionState.from_dict(data) == driver.state


def test_ended_state_keeps_nothing_linkable(flow: Flow) -> None:
    driver = started(flow)
    driver.send("2")
    driver.send("mörkt")
    driver.send("STOPP")
    assert driver.state is not None
    ended = driver.state.ended()
    assert ended.answers == {} and ended.source is None and ended.status == "stopped"


def test_a_session_finishes_on_the_version_it_started(make_flow: Callable[[str], Flow]) -> None:
    version_1 = make_flow(SMALL_FLOW)
    version_2 = make_flow(
        SMALL_FLOW.replace("version: 1", "version: 2").replace("Känner du dig trygg?", "Ny fråga?")
    )
    driver = Driver(version_1)
    driver.start(language="sv")
    assert driver.state is not None and driver.state.flow_version == 1
    # The service looks the flow up by the state's id and version; version 2 is deployed,
    # but this person's next answers still run on version 1.
    driver.send("1")
    assert driver.state.flow_version == 1
    fresh = Driver(version_2)
    fresh.start(language="sv")
    assert fresh.turns[-1].messages[-1].text == "Ny fråga?"
    assert fresh.state is not None and fresh.state.flow_version == 2


def test_arabic_comma_separates_a_multiple_choice(flow: Flow) -> None:
    driver = started(flow)
    driver.send("1")
    driver.send("١، ٣")
    assert driver.state is not None and driver.state.answers["where"] == ["park", "station"]


def test_choice_ids_that_yaml_1_1_would_read_as_numbers_stay_as_written(
    make_flow: Callable[[str], Flow],
) -> None:
    flow = make_flow(
        SMALL_FLOW.replace('id: "yes"', "id: 30_44").replace('safe == "no"', 'safe == "30_44"')
    )
    assert flow.step("safe").choices[0].id == "30_44"
    driver = started(flow)
    driver.send("1")
    assert driver.state is not None and driver.state.answers["safe"] == "30_44"


def test_matching_folds_arabic_and_persian_letter_forms() -> None:
    from dialog_flows.matching import normalise

    assert normalise("كمك") == normalise("کمک")  # Arabic kaf vs Persian keheh
    assert normalise("زباني") == normalise("زبانی")  # Arabic yeh vs Persian yeh
    assert normalise("إيقاف") == normalise("ايقاف")  # hamza on alef
    assert normalise("اللغة") == normalise("اللغه")  # teh marbuta
    assert normalise("yardım") == normalise("YARDIM")  # Turkish dotless i
