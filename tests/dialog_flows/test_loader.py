"""Tests for dialog_flows.loader: one test per validation rule, each naming the exact place.

Flows are written inline. ``HEADER`` takes lines 1-5, so the first step starts on line 6;
``QUESTION`` is a valid single-choice step used wherever a flow needs a question.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from dialog_flows.limits import MAX_LABEL_CHARACTERS, MAX_PROMPT_CHARACTERS
from dialog_flows.loader import MAX_CHOICES, load_flow_text
from dialog_flows.model import Delivery, Flow, Place, StepKind
from dialog_flows.payloads import TELEGRAM_CALLBACK_BYTES
from dialog_flows.problems import FlowError, Problem

FILE = "flows/demo.yaml"

HEADER = """\
flow: demo
version: 1
title: Demo
languages: [sv, en]
steps:
"""

# Lines 6-13 when it is the first step.
QUESTION = """\
- id: q1
  type: single_choice
  text: Fråga?
  choices:
    - id: a
      label: A
    - id: b
      label: B
"""


def steps(*blocks: str) -> str:
    """Step blocks written at column 0, indented under ``steps:``."""
    return "".join(textwrap.indent(textwrap.dedent(block), "  ") for block in blocks)


def flow_text(*blocks: str, header: str = HEADER) -> str:
    return header + steps(*blocks)


def load(text: str) -> Flow:
    return load_flow_text(text, FILE)


def problems_in(text: str) -> list[Problem]:
    with pytest.raises(FlowError) as info:
        load(text)
    assert info.value.problems, "a FlowError must carry its problems"
    return info.value.problems


def the_problem(text: str) -> Problem:
    problems = problems_in(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def check(
    problem: Problem,
    *,
    line: int,
    message: str,
    flow: str | None = "demo",
    step: str | None = None,
    choice: str | None = None,
    field: str | None = None,
) -> None:
    """Every field of the problem is as given, and the message contains ``message``."""
    assert (problem.file, problem.line, problem.flow, problem.step) == (FILE, line, flow, step)
    assert (problem.choice, problem.field, problem.campaign) == (choice, field, None)
    assert message in problem.message, problem.message


def header_with(**values: str) -> str:
    """HEADER with some top-level lines replaced (value "" drops the line)."""
    lines = []
    for line in HEADER.splitlines(keepends=True):
        key = line.split(":", 1)[0]
        if key in values:
            if values[key]:
                lines.append(f"{key}: {values[key]}\n")
        else:
            lines.append(line)
    return "".join(lines)


def test_the_building_blocks_load() -> None:
    flow = load(flow_text(QUESTION))
    assert flow.id == "demo"
    assert [step.id for step in flow.steps] == ["q1"]


# --- unknown keys ---------------------------------------------------------------------------


def test_unknown_key_at_flow_level_suggests_the_right_one() -> None:
    text = HEADER.replace("steps:\n", "reminder: 20h\nsteps:\n") + steps(QUESTION)
    check(
        the_problem(text),
        line=5,
        field="reminder",
        message="unknown key 'reminder' in a flow (did you mean 'reminder_after'?)",
    )


def test_unknown_key_at_step_level_suggests_the_right_one() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", "  text: Fråga?\n  optinal: true\n"))
    problem = the_problem(text)
    check(
        problem,
        line=9,
        step="q1",
        field="optinal",
        message="unknown key 'optinal' in a single_choice step (did you mean 'optional'?)",
    )
    assert "allowed: choices, id, image, note, optional, show_skip, text, type, when" in (
        problem.message
    )


def test_a_key_of_another_step_type_is_unknown() -> None:
    text = flow_text("- id: hi\n  type: message\n  text: Hej\n  optional: true\n", QUESTION)
    check(
        the_problem(text),
        line=9,
        step="hi",
        field="optional",
        message="unknown key 'optional' in a message step",
    )


def test_unknown_key_at_choice_level_suggests_the_right_one() -> None:
    text = flow_text(QUESTION.replace("      label: B\n", "      label: B\n      lable: Bee\n"))
    check(
        the_problem(text),
        line=14,
        step="q1",
        choice="b",
        field="lable",
        message="unknown key 'lable' in a choice (did you mean 'label'?)",
    )


def test_feedback_keys_are_unknown_in_an_ordinary_choice() -> None:
    text = flow_text(QUESTION.replace("      label: A\n", "      label: A\n      deliver: here\n"))
    check(
        the_problem(text),
        line=12,
        step="q1",
        choice="a",
        field="deliver",
        message="unknown key 'deliver' in a choice",
    )


def test_unknown_key_at_place_level_suggests_the_right_one() -> None:
    place = """\
    - id: p1
      type: place_rating
      text: Hur trygg?
      place:
        number: 1
        name: Badet
        imag: badet.jpg
    """
    check(
        the_problem(flow_text(place)),
        line=12,
        step="p1",
        field="imag",
        message="unknown key 'imag' in a place (did you mean 'image'?); allowed: image, name, "
        "number",
    )


# --- required fields ------------------------------------------------------------------------


def test_missing_title_is_reported_on_the_first_line() -> None:
    text = header_with(title="") + steps(QUESTION)
    check(the_problem(text), line=1, field="title", message="'title' is missing")


def test_empty_title_is_reported_on_its_line() -> None:
    text = header_with(title='"   "') + steps(QUESTION)
    check(the_problem(text), line=3, field="title", message="'title' is empty")


def test_missing_version_is_reported() -> None:
    text = header_with(version="") + steps(QUESTION)
    check(the_problem(text), line=1, field="version", message="'version' is missing")


@pytest.mark.parametrize("version", ["0", "-1"])
def test_version_must_be_positive(version: str) -> None:
    text = header_with(version=version) + steps(QUESTION)
    check(the_problem(text), line=2, field="version", message="'version' must be 1 or more")


def test_missing_step_text_is_reported_on_the_step() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", ""))
    check(the_problem(text), line=6, step="q1", field="text", message="'text' is missing")


def test_empty_step_text_is_reported_on_its_line() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", '  text: ""\n'))
    check(the_problem(text), line=8, step="q1", field="text", message="'text' is empty")


def test_missing_choice_label_is_reported_on_the_choice() -> None:
    text = flow_text(QUESTION.replace("      label: B\n", ""))
    check(
        the_problem(text),
        line=12,
        step="q1",
        choice="b",
        field="label",
        message="'label' is missing",
    )


def test_missing_place_name_and_number_are_reported() -> None:
    place = "- id: p1\n  type: place_rating\n  text: Hur?\n  place:\n    image: a.jpg\n"
    problems = problems_in(flow_text(place))
    assert [(p.line, p.step, p.field, p.message) for p in problems] == [
        (9, "p1", "number", "'number' is missing"),
        (9, "p1", "name", "'name' is missing"),
    ]


def test_a_place_rating_without_a_place_is_reported() -> None:
    place = "- id: p1\n  type: place_rating\n  text: Hur?\n"
    check(
        the_problem(flow_text(place)),
        line=6,
        step="p1",
        field="place",
        message="'place' needs a number and a name",
    )


@pytest.mark.parametrize("value", ["", "[]", "{}"])
def test_steps_must_be_a_non_empty_list(value: str) -> None:
    text = HEADER.replace("steps:\n", f"steps: {value}\n")
    check(
        the_problem(text),
        line=5,
        field="steps",
        message="'steps' must be a list with at least one step",
    )


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    problem = the_problem("- just\n- a list\n")
    assert (problem.file, problem.line, problem.flow) == (FILE, 1, None)
    assert problem.message == "a flow file must be a mapping of keys"


def test_a_yaml_error_becomes_a_problem_with_file_and_line() -> None:
    problem = the_problem(HEADER + "  - id: a\n   type: text\n")
    assert (problem.file, problem.line) == (FILE, 7)
    assert problem.message.startswith("invalid YAML")


# --- types ----------------------------------------------------------------------------------


def test_text_must_be_text() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", "  text: [Fråga, Svar]\n"))
    check(the_problem(text), line=8, step="q1", field="text", message="'text' must be text")


def test_a_number_as_text_is_accepted_as_text() -> None:
    flow = load(flow_text(QUESTION.replace("  text: Fråga?\n", "  text: 42\n")))
    assert flow.steps[0].text == "42"


def test_yes_is_not_a_boolean() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", "  text: Fråga?\n  optional: yes\n"))
    check(
        the_problem(text),
        line=9,
        step="q1",
        field="optional",
        message="'optional' must be true or false",
    )


def test_show_skip_must_be_a_boolean() -> None:
    text = flow_text(QUESTION.replace("  text: Fråga?\n", "  text: Fråga?\n  show_skip: 1\n"))
    check(
        the_problem(text),
        line=9,
        step="q1",
        field="show_skip",
        message="'show_skip' must be true or false",
    )


@pytest.mark.parametrize("version", ["'1'", "1.5", "true"])
def test_version_must_be_a_whole_number(version: str) -> None:
    text = header_with(version=version) + steps(QUESTION)
    check(the_problem(text), line=2, field="version", message="'version' must be a whole number")


def test_when_must_be_a_string() -> None:
    text = flow_text(QUESTION, "- id: t\n  type: text\n  text: Hej\n  when: 5\n")
    check(
        the_problem(text),
        line=17,
        step="t",
        field="when",
        message="'when' must be a condition in quotes",
    )


def test_a_step_that_is_not_a_mapping_is_reported() -> None:
    text = flow_text(QUESTION) + "  - just text\n"
    check(the_problem(text), line=14, message="each step must be a mapping with id, type and text")


def test_a_choice_that_is_not_a_mapping_is_reported() -> None:
    text = flow_text(QUESTION.replace("    - id: b\n      label: B\n", "    - b\n    - c\n"))
    problems = problems_in(text)
    assert [(p.line, p.step, p.message) for p in problems] == [
        (12, "q1", "each choice must have an id and a label"),
        (13, "q1", "each choice must have an id and a label"),
    ]


def test_language_menu_must_be_one_of_three_words() -> None:
    text = HEADER.replace("steps:\n", "language_menu: sometimes\nsteps:\n") + steps(QUESTION)
    check(
        the_problem(text),
        line=5,
        field="language_menu",
        message="'language_menu' must be when_unknown, always or never",
    )


# --- step types -----------------------------------------------------------------------------


def test_a_bad_step_type_lists_the_valid_ones() -> None:
    text = flow_text(QUESTION.replace("single_choice", "singel_choice"))
    check(
        the_problem(text),
        line=7,
        step="q1",
        field="type",
        message="'type' must be one of: message, single_choice, multiple_choice, text, number, "
        "place_rating, feedback",
    )


def test_a_missing_step_type_is_reported() -> None:
    text = flow_text(QUESTION, "- id: t\n  text: Hej\n")
    check(the_problem(text), line=14, step="t", field="type", message="'type' must be one of")


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step_id", ["öppen", "Problems", "PROBLEMS", "1st", "a b", "_x", "a.b", "a" * 41, '""']
)
def test_invalid_step_ids(step_id: str) -> None:
    text = flow_text(QUESTION, f"- id: {step_id}\n  type: text\n  text: Hej\n")
    check(
        the_problem(text),
        line=14,
        field="id",
        message="must be 1-40 characters: lower-case a-z, digits, _ or -, starting with a letter",
    )


def test_a_numeric_step_id_is_invalid() -> None:
    text = flow_text(QUESTION, "- id: 12\n  type: text\n  text: Hej\n")
    check(the_problem(text), line=14, field="id", message="step id 12 must be 1-40 characters")


def test_a_missing_step_id_is_reported() -> None:
    text = flow_text(QUESTION, "- type: text\n  text: Hej\n")
    check(the_problem(text), line=14, field="id", message="step id None must be")


def test_the_longest_and_oddest_valid_step_ids_load() -> None:
    longest = "a" + "b" * 39
    text = flow_text(QUESTION, f"- id: {longest}\n  type: text\n  text: Hej\n")
    text += steps("- id: x_1-y\n  type: text\n  text: Hej\n")
    assert [step.id for step in load(text).steps] == ["q1", longest, "x_1-y"]


@pytest.mark.parametrize("choice_id", ["öppen", "Ja", "JA", "a b", "-x", "_x", "x" * 41, "a:b"])
def test_invalid_choice_ids(choice_id: str) -> None:
    text = flow_text(QUESTION.replace("- id: b\n", f"- id: '{choice_id}'\n"))
    check(
        the_problem(text),
        line=12,
        step="q1",
        field="id",
        message=f"choice id {choice_id!r} must be 1-40 characters: lower-case a-z, digits, _ or -",
    )


def test_choice_ids_may_be_numbers_and_yaml_11_words() -> None:
    block = QUESTION.replace("- id: a\n", "- id: 1\n").replace("- id: b\n", "- id: no\n")
    block += "    - id: 18_29\n      label: C\n    - id: off\n      label: D\n"
    choices = load(flow_text(block)).steps[0].choices
    assert [choice.id for choice in choices] == ["1", "no", "18_29", "off"]


@pytest.mark.parametrize("flow_id", ["öppen", "Demo", "1demo", "de mo", "a" * 41])
def test_invalid_flow_ids(flow_id: str) -> None:
    text = header_with(flow=f"'{flow_id}'") + steps(QUESTION)
    check(
        the_problem(text),
        line=1,
        flow=None,
        field="flow",
        message="'flow' must be an id of lower-case letters a-z, digits, _ or -, starting with a "
        "letter",
    )


def test_a_missing_flow_id_is_reported_and_other_problems_name_no_flow() -> None:
    text = header_with(flow="", title="") + steps(QUESTION)
    problems = problems_in(text)
    assert [(p.field, p.flow) for p in problems] == [("flow", None), ("title", None)]


def test_a_duplicate_step_id_names_the_first_line() -> None:
    text = flow_text(QUESTION, "- id: t\n  type: text\n  text: Hej\n", QUESTION)
    check(
        the_problem(text),
        line=17,
        step="q1",
        field="id",
        message="step id 'q1' is used twice (first on line 6)",
    )


def test_a_duplicate_choice_id_is_reported() -> None:
    text = flow_text(QUESTION.replace("- id: b\n", "- id: a\n"))
    check(
        the_problem(text),
        line=12,
        step="q1",
        choice="a",
        field="id",
        message="choice id 'a' is used twice",
    )


# --- choices --------------------------------------------------------------------------------


def test_one_choice_is_too_few() -> None:
    text = flow_text(QUESTION.replace("    - id: b\n      label: B\n", ""))
    check(
        the_problem(text),
        line=9,
        step="q1",
        field="choices",
        message="'choices' must list at least two choices",
    )


def test_missing_choices_are_reported_on_the_step() -> None:
    block = "- id: m\n  type: multiple_choice\n  text: Vilka?\n"
    check(
        the_problem(flow_text(block)),
        line=6,
        step="m",
        field="choices",
        message="'choices' must list at least two choices",
    )


def test_more_than_max_choices_is_reported() -> None:
    many = "".join(f"    - id: c{n}\n      label: C{n}\n" for n in range(MAX_CHOICES + 1))
    block = "- id: m\n  type: multiple_choice\n  text: Vilka?\n  choices:\n" + many
    check(
        the_problem(flow_text(block)),
        line=9,
        step="m",
        field="choices",
        message=f"more than {MAX_CHOICES} choices",
    )


def test_exactly_max_choices_load() -> None:
    many = "".join(f"    - id: c{n}\n      label: C{n}\n" for n in range(MAX_CHOICES))
    block = "- id: m\n  type: multiple_choice\n  text: Vilka?\n  choices:\n" + many
    assert len(load(flow_text(block)).steps[0].choices) == MAX_CHOICES


# --- number and text steps ------------------------------------------------------------------

NUMBER = """\
- id: age
  type: number
  text: Hur gammal är du?
  min: 10
  max: 120
"""


def test_number_min_larger_than_max() -> None:
    text = flow_text(NUMBER.replace("min: 10", "min: 121"))
    check(the_problem(text), line=9, step="age", field="min", message="'min' is larger than 'max'")


def test_number_min_equal_to_max_is_fine() -> None:
    step = load(flow_text(NUMBER.replace("min: 10", "min: 120"))).steps[0]
    assert (step.min_value, step.max_value) == (120, 120)


@pytest.mark.parametrize("bound", ["min", "max"])
def test_number_bounds_are_required(bound: str) -> None:
    block = "".join(line for line in NUMBER.splitlines(True) if not line.startswith(f"  {bound}:"))
    check(
        the_problem(flow_text(block)),
        line=6,
        step="age",
        field=bound,
        message=f"'{bound}' is missing",
    )


def test_number_bounds_must_be_whole_numbers() -> None:
    text = flow_text(NUMBER.replace("max: 120", "max: 12.5"))
    check(
        the_problem(text),
        line=10,
        step="age",
        field="max",
        message="'max' must be a whole number",
    )


TEXT_STEP = """\
- id: problems
  type: text
  text: Berätta!
  max_length: 500
"""


@pytest.mark.parametrize("length", [0, -1, 5001])
def test_text_max_length_out_of_range(length: int) -> None:
    text = flow_text(TEXT_STEP.replace("500", str(length)))
    check(
        the_problem(text),
        line=9,
        step="problems",
        field="max_length",
        message="'max_length' must be 1 to 5000",
    )


@pytest.mark.parametrize("length", [1, 5000])
def test_text_max_length_at_the_bounds_loads(length: int) -> None:
    assert load(flow_text(TEXT_STEP.replace("500", str(length)))).steps[0].max_length == length


def test_text_max_length_must_be_a_whole_number() -> None:
    text = flow_text(TEXT_STEP.replace("500", "many"))
    check(
        the_problem(text),
        line=9,
        step="problems",
        field="max_length",
        message="'max_length' must be a whole number",
    )


# --- feedback -------------------------------------------------------------------------------

FEEDBACK = """\
- id: feedback
  type: feedback
  text: Vill du veta resultatet?
  choices:
    - id: here
      label: Ja, här
      deliver: here
    - id: sms
      label: Ja, via sms
      deliver: sms
      ask_address: Skriv ditt nummer.
    - id: "no"
      label: Nej
      deliver: none
"""


def test_the_feedback_block_loads() -> None:
    step = load(flow_text(FEEDBACK)).steps[0]
    assert [(c.id, c.deliver, c.ask_address) for c in step.choices] == [
        ("here", Delivery.HERE, None),
        ("sms", Delivery.SMS, "Skriv ditt nummer."),
        ("no", Delivery.NONE, None),
    ]


def test_feedback_choice_with_a_bad_deliver() -> None:
    text = flow_text(FEEDBACK.replace("deliver: here", "deliver: email"))
    check(
        the_problem(text),
        line=12,
        step="feedback",
        choice="here",
        field="deliver",
        message="'deliver' must be here, sms or none",
    )


def test_feedback_choice_without_deliver() -> None:
    text = flow_text(FEEDBACK.replace("      deliver: none\n", ""))
    check(
        the_problem(text),
        line=17,
        step="feedback",
        choice="no",
        field="deliver",
        message="'deliver' must be here, sms or none",
    )


def test_deliver_sms_needs_ask_address() -> None:
    text = flow_text(FEEDBACK.replace("      ask_address: Skriv ditt nummer.\n", ""))
    check(
        the_problem(text),
        line=13,
        step="feedback",
        choice="sms",
        field="ask_address",
        message="'ask_address' is missing",
    )


def test_more_than_one_feedback_step() -> None:
    second = FEEDBACK.replace("id: feedback", "id: feedback_again")
    text = flow_text(FEEDBACK, second)
    check(
        the_problem(text),
        line=20,
        step="feedback_again",
        field="type",
        message="a flow may have only one feedback step; the first is 'feedback' on line 6",
    )


# --- the flow as a whole --------------------------------------------------------------------


def test_a_flow_with_no_questions() -> None:
    text = flow_text("- id: hi\n  type: message\n  text: Hej\n")
    check(the_problem(text), line=5, field="steps", message="the flow asks no questions")


@pytest.mark.parametrize("code", ["xx", "klingon", "sv_XX_YY_ZZ", "123"])
def test_languages_unknown_to_cldr(code: str) -> None:
    text = header_with(languages=f"[sv, '{code}']") + steps(QUESTION)
    check(
        the_problem(text),
        line=4,
        field="languages",
        message=f"'{code}' is not a language code CLDR knows",
    )


def test_a_language_listed_twice_is_reported_on_its_own_line() -> None:
    text = header_with(languages="").replace(
        "steps:\n", "languages:\n  - sv\n  - en\n  - sv\nsteps:\n"
    )
    text += steps(QUESTION)
    check(the_problem(text), line=7, field="languages", message="'sv' is listed twice")


@pytest.mark.parametrize("value", ["", "[]", "sv"])
def test_languages_must_be_a_non_empty_list(value: str) -> None:
    text = header_with(languages=value or '""') + steps(QUESTION)
    check(
        the_problem(text),
        line=4,
        field="languages",
        message="'languages' must list language codes, Swedish first",
    )


@pytest.mark.parametrize("key", ["reminder_after", "expire_after"])
@pytest.mark.parametrize("value", ["2 days", "48", "soon", "-1h", "7w", "true"])
def test_bad_durations(key: str, value: str) -> None:
    text = HEADER.replace("steps:\n", f"{key}: {value}\nsteps:\n") + steps(QUESTION)
    check(
        the_problem(text),
        line=5,
        field=key,
        message=f"'{key}' must look like 48h or 7d, or be never",
    )


@pytest.mark.parametrize(("reminder", "expire"), [("8d", "7d"), ("7d", "168h"), ("25h", "1d")])
def test_a_reminder_after_expiry(reminder: str, expire: str) -> None:
    text = HEADER.replace(
        "steps:\n", f"reminder_after: {reminder}\nexpire_after: {expire}\nsteps:\n"
    )
    check(
        the_problem(text + steps(QUESTION)),
        line=5,
        field="reminder_after",
        message="the reminder must come before the session expires",
    )


@pytest.mark.parametrize(
    ("reminder", "expire", "hours"),
    [
        ("20h", "7d", (20.0, 168.0)),
        ("1.5d", "48h", (36.0, 48.0)),
        ("never", "7d", (float("inf"), 168.0)),
        ("48h", "never", (48.0, float("inf"))),
        (None, None, (48.0, 168.0)),
    ],
)
def test_durations(reminder: str | None, expire: str | None, hours: tuple[float, float]) -> None:
    extra = "".join(
        f"{key}: {value}\n"
        for key, value in (("reminder_after", reminder), ("expire_after", expire))
        if value is not None
    )
    flow = load(HEADER.replace("steps:\n", extra + "steps:\n") + steps(QUESTION))
    assert (flow.reminder_after_hours, flow.expire_after_hours) == hours


# --- conditions -----------------------------------------------------------------------------


def with_condition(condition: str) -> str:
    """q1, then a message step, a place rating and a text step with ``when`` on line 24."""
    return flow_text(
        QUESTION,
        "- id: intro\n  type: message\n  text: Hej\n",
        "- id: p1\n  type: place_rating\n  text: Hur?\n  place: {number: 1, name: Badet}\n",
        f"- id: t\n  type: text\n  text: Berätta\n  when: '{condition}'\n",
        "- id: later\n  type: text\n  text: Mer?\n",
    )


def test_valid_conditions_load() -> None:
    flow = load(with_condition('q1 == "a" and p1 in ["green", "red"]'))
    condition = flow.step("t").when
    assert condition is not None
    assert condition.evaluate({"q1": "a", "p1": "red"})
    assert not condition.evaluate({"q1": "b", "p1": "red"})


def test_a_condition_syntax_error_gives_the_column() -> None:
    check(
        the_problem(with_condition('q1 = "a"')),
        line=24,
        step="t",
        field="when",
        message="condition 'q1 = \"a\"': column 4: unknown operator '='",
    )


def test_a_condition_naming_an_unknown_step() -> None:
    check(
        the_problem(with_condition('nope == "a"')),
        line=24,
        step="t",
        field="when",
        message="condition names 'nope', not a step in this flow",
    )


def test_a_condition_naming_a_later_step() -> None:
    check(
        the_problem(with_condition("answered(later)")),
        line=24,
        step="t",
        field="when",
        message="condition names 'later', a later step; a condition may only name steps before it",
    )


def test_a_condition_naming_its_own_step() -> None:
    check(
        the_problem(with_condition('t == "x"')),
        line=24,
        step="t",
        field="when",
        message="condition names 't', this step itself; a condition may only name steps before it",
    )


def test_a_condition_naming_a_message_step() -> None:
    check(
        the_problem(with_condition("answered(intro)")),
        line=24,
        step="t",
        field="when",
        message="condition names 'intro', a message step, which has no answer",
    )


def test_a_condition_comparing_a_choice_step_with_a_value_that_is_not_a_choice() -> None:
    check(
        the_problem(with_condition('q1 == "c"')),
        line=24,
        step="t",
        field="when",
        message="condition compares 'q1' with 'c', which is not one of its choices (a, b)",
    )


def test_every_bad_value_in_a_list_is_reported() -> None:
    problems = problems_in(with_condition('p1 in ["green", "blue", "pink"]'))
    assert [p.message.split(",")[0] for p in problems] == [
        "condition compares 'p1' with 'blue'",
        "condition compares 'p1' with 'pink'",
    ]
    assert "(green, red, yellow)" in problems[0].message


def test_a_text_step_may_be_compared_with_anything() -> None:
    block = '- id: t2\n  type: text\n  text: Mer\n  when: t == "anything"\n'
    text = flow_text(QUESTION, "- id: t\n  type: text\n  text: Berätta\n", block)
    assert load(text).step("t2").when is not None


# --- channel limits -------------------------------------------------------------------------


def test_a_prompt_of_max_prompt_characters_loads() -> None:
    text = flow_text(QUESTION.replace("Fråga?", "x" * MAX_PROMPT_CHARACTERS))
    assert len(load(text).steps[0].text) == MAX_PROMPT_CHARACTERS


def test_a_prompt_longer_than_max_prompt_characters() -> None:
    length = MAX_PROMPT_CHARACTERS + 1
    text = flow_text(QUESTION.replace("Fråga?", "x" * length))
    check(
        the_problem(text),
        line=8,
        step="q1",
        field="text",
        message=f"the text has {length} characters; at most {MAX_PROMPT_CHARACTERS}",
    )


def test_a_label_of_max_label_characters_loads() -> None:
    text = flow_text(QUESTION.replace("label: B", "label: " + "y" * MAX_LABEL_CHARACTERS))
    assert len(load(text).steps[0].choices[1].label) == MAX_LABEL_CHARACTERS


def test_a_label_longer_than_max_label_characters() -> None:
    length = MAX_LABEL_CHARACTERS + 1
    text = flow_text(QUESTION.replace("label: B", "label: " + "y" * length))
    check(
        the_problem(text),
        line=13,
        step="q1",
        choice="b",
        field="label",
        message=f"the label has {length} characters; at most {MAX_LABEL_CHARACTERS}",
    )


def test_step_and_choice_ids_whose_payload_exceeds_telegrams_64_bytes() -> None:
    step_id, choice_id = "s" * 40, "c" * 40
    text = flow_text(
        QUESTION.replace("id: q1", f"id: {step_id}").replace("id: b", f"id: {choice_id}")
    )
    check(
        the_problem(text),
        line=12,
        step=step_id,
        choice=choice_id,
        field="id",
        message=f"together take 81 bytes as button data; Telegram allows {TELEGRAM_CALLBACK_BYTES}",
    )


def test_a_payload_of_exactly_64_bytes_loads() -> None:
    step_id, choice_id = "s" * 40, "c" * 23  # 40 + ":" + 23 = 64
    text = flow_text(
        QUESTION.replace("id: q1", f"id: {step_id}").replace("id: b", f"id: {choice_id}")
    )
    assert load(text).steps[0].choices[1].id == choice_id


# --- reporting ------------------------------------------------------------------------------


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = header_with(title="", languages="[sv, xx]") + steps(
        QUESTION.replace("label: B", "lable: B"),
        "- id: Bad\n  type: text\n  text: Hej\n",
        NUMBER.replace("min: 10", "min: 200"),
        "- id: t\n  type: text\n  text: Hej\n  when: 'nope == \"x\"'\n",
    )
    problems = problems_in(text)
    assert [(p.line, p.step, p.choice, p.field) for p in problems] == [
        (1, None, None, "title"),
        (3, None, None, "languages"),
        (12, "q1", "b", "lable"),
        (11, "q1", "b", "label"),
        (13, None, None, "id"),
        (19, "age", None, "min"),
        (24, "t", None, "when"),
    ]
    assert all(p.file == FILE and p.flow == "demo" for p in problems)


def test_flow_error_message_lists_every_problem() -> None:
    text = header_with(title="") + steps(QUESTION.replace("single_choice", "bad"))
    with pytest.raises(FlowError) as info:
        load(text)
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]
    assert len(info.value.problems) == 2


def test_str_of_a_problem_names_file_line_flow_step_choice_and_field() -> None:
    length = MAX_LABEL_CHARACTERS + 1
    text = flow_text(QUESTION.replace("label: B", "label: " + "y" * length))
    assert str(the_problem(text)) == (
        f"{FILE}:13, flow demo, step 'q1', choice 'b', field 'label': "
        f"the label has {length} characters; at most {MAX_LABEL_CHARACTERS}"
    )


def test_str_of_a_problem_leaves_out_what_it_does_not_know() -> None:
    assert str(Problem("a.yaml", 0, "broken")) == "a.yaml: broken"
    assert str(Problem("a.yaml", 3, "broken", flow="f")) == "a.yaml:3, flow f: broken"
    problem = Problem("c.yaml", 2, "bad", campaign="k", field="keyword")
    assert str(problem) == "c.yaml:2, campaign k, field 'keyword': bad"


# --- a valid flow ---------------------------------------------------------------------------

FULL = """\
flow: full-demo
version: 3
title: Trygghet
help: Polisen frågar.
languages: [sv, en, ar]
language_menu: always
reminder_after: 20h
expire_after: 2d
note: for staff
steps:
  - id: intro
    type: message
    text: Hej!
    image: intro.png
    note: The greeting.
  - id: problems
    type: text
    optional: true
    max_length: 300
    text: Vad gör dig otrygg?
  - id: where
    type: multiple_choice
    show_skip: false
    text: Var?
    choices:
      - id: park
        label: Parken
        note: Any park.
      - id: nowhere
        label: Ingenstans
  - id: place_1
    type: place_rating
    optional: true
    text: Hur trygg?
    place:
      number: 7
      name: Badet
      image: https://example.org/badet.jpg
  - id: age
    type: number
    when: not where contains "nowhere"
    text: Ålder?
    min: 0
    max: 120
  - id: told
    type: single_choice
    text: Berättar du?
    choices:
      - id: "yes"
        label: Ja
      - id: no
        label: Nej
  - id: feedback
    type: feedback
    text: Resultat?
    choices:
      - id: sms
        label: Sms
        deliver: sms
        ask_address: Ditt nummer?
      - id: none
        label: Nej
        deliver: none
"""


@pytest.fixture
def full(make_flow: Callable[..., Flow]) -> Flow:
    return make_flow(FULL, "flows/full.yaml")


def test_a_valid_flow_loads_its_header(full: Flow) -> None:
    assert (full.id, full.version, full.title, full.help) == (
        "full-demo",
        3,
        "Trygghet",
        "Polisen frågar.",
    )
    assert full.languages == ("sv", "en", "ar")
    assert full.source_language == "sv"
    assert full.language_menu == "always"
    assert (full.reminder_after_hours, full.expire_after_hours) == (20.0, 48.0)
    assert full.source_file == "flows/full.yaml"


def test_a_valid_flow_loads_its_steps_in_order_with_kinds_and_lines(full: Flow) -> None:
    assert [(s.id, s.kind, s.line) for s in full.steps] == [
        ("intro", StepKind.MESSAGE, 11),
        ("problems", StepKind.TEXT, 16),
        ("where", StepKind.MULTIPLE_CHOICE, 21),
        ("place_1", StepKind.PLACE_RATING, 31),
        ("age", StepKind.NUMBER, 39),
        ("told", StepKind.SINGLE_CHOICE, 45),
        ("feedback", StepKind.FEEDBACK, 53),
    ]
    assert [full.position(s.id) for s in full.steps] == list(range(7))
    assert full.has_step("age")
    assert not full.has_step("nope")


def test_a_valid_flow_loads_step_details(full: Flow) -> None:
    intro = full.step("intro")
    assert (intro.text, intro.image, intro.note, intro.answers) == (
        "Hej!",
        "intro.png",
        "The greeting.",
        False,
    )
    problems = full.step("problems")
    assert (problems.optional, problems.show_skip, problems.max_length) == (True, True, 300)
    where = full.step("where")
    assert (where.optional, where.show_skip) == (False, False)
    assert [(c.id, c.label, c.note) for c in where.choices] == [
        ("park", "Parken", "Any park."),
        ("nowhere", "Ingenstans", None),
    ]
    age = full.step("age")
    assert (age.min_value, age.max_value) == (0, 120)
    assert [c.id for c in full.step("told").choices] == ["yes", "no"]


def test_a_valid_flow_loads_the_place_and_its_rating_choices(full: Flow) -> None:
    place = full.step("place_1")
    assert place.place == Place(number=7, name="Badet", image="https://example.org/badet.jpg")
    assert [(c.id, c.label) for c in place.choices] == [
        ("green", "green"),
        ("yellow", "yellow"),
        ("red", "red"),
    ]


def test_a_valid_flow_loads_conditions(full: Flow) -> None:
    when = full.step("age").when
    assert when is not None
    assert [(r.step, r.values, r.operator) for r in when.references] == [
        ("where", ("nowhere",), "contains"),
    ]
    assert when.evaluate({"where": ["park"]})
    assert not when.evaluate({"where": ["nowhere"]})
    assert full.step("told").when is None


def test_a_valid_flow_loads_feedback_choices(full: Flow) -> None:
    feedback = full.step("feedback")
    assert feedback.choice("sms") is not None
    assert feedback.choice("missing") is None
    assert [(c.id, c.deliver, c.ask_address) for c in feedback.choices] == [
        ("sms", Delivery.SMS, "Ditt nummer?"),
        ("none", Delivery.NONE, None),
    ]


def test_defaults_of_a_minimal_flow() -> None:
    flow = load(flow_text(QUESTION))
    step = flow.steps[0]
    assert (flow.version, flow.language_menu, flow.help) == (1, "when_unknown", None)
    assert (step.optional, step.show_skip, step.when, step.note, step.image) == (
        False,
        True,
        None,
        None,
        None,
    )
    assert step.max_length == 2000
