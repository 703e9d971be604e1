"""Tests for dialog_flows.yaml_source: YAML read with line numbers, hostile files refused."""

from __future__ import annotations

import textwrap
import threading
import time
from typing import Any

import pytest

from dialog_flows.loader import load_flow_text
from dialog_flows.problems import FlowError
from dialog_flows.yaml_source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlDocument,
    YamlSourceError,
    parse_yaml,
)


def refused(text: str | bytes) -> YamlSourceError:
    with pytest.raises(YamlSourceError) as info:
        parse_yaml(text)
    return info.value


def parse_within(text: str | bytes, seconds: float) -> BaseException | YamlDocument:
    """Parse in a daemon thread so a hang fails the test instead of stalling the run."""
    outcome: list[BaseException | YamlDocument] = []

    def run() -> None:
        try:
            outcome.append(parse_yaml(text))
        except BaseException as exc:  # the test inspects whatever happened
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"parsing did not finish within {seconds} s"
    return outcome[0]


# --- anchors and aliases ------------------------------------------------------------------


def test_an_anchor_on_a_scalar_is_refused_with_its_line() -> None:
    error = refused("title: Trygghet\nbase: &greeting Hej\n")
    assert error.line == 2
    assert "anchor '&greeting'" in error.message
    assert "not allowed" in error.message


def test_an_anchor_on_a_mapping_is_refused_with_its_line() -> None:
    error = refused("flow: demo\nsteps:\n  - &step\n    id: a\n")
    assert error.line == 3
    assert "anchor '&step'" in error.message


def test_an_alias_is_refused_with_its_line() -> None:
    # Without any anchor before it, the alias itself must be what is refused.
    error = refused("flow: demo\ntitle: x\nhelp: *greeting\n")
    assert error.line == 3
    assert "anchors and aliases (& and *)" in error.message


def test_an_alias_used_as_a_key_is_refused() -> None:
    error = refused("a: 1\n*name : 2\n")
    assert error.line == 2
    assert "aliases" in error.message


BILLION_LAUGHS = textwrap.dedent(
    """\
    flow: lol
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """
)


def test_a_billion_laughs_document_is_refused_quickly() -> None:
    started = time.perf_counter()
    outcome = parse_within(BILLION_LAUGHS, seconds=5)
    assert isinstance(outcome, YamlSourceError), outcome
    assert time.perf_counter() - started < 2
    assert outcome.line == 2  # the first anchor
    assert "anchor '&a'" in outcome.message


def test_a_billion_laughs_flow_file_is_a_problem_with_file_and_line() -> None:
    with pytest.raises(FlowError) as info:
        load_flow_text(BILLION_LAUGHS, "lol.yaml")
    [problem] = info.value.problems
    assert (problem.file, problem.line) == ("lol.yaml", 2)
    assert "anchor" in problem.message


# --- nesting -------------------------------------------------------------------------------


def nested_lists(levels: int) -> str:
    """A mapping (depth 0) whose value is ``levels`` nested lists (depths 1..levels)."""
    return "a: " + "[" * levels + "]" * levels + "\n"


def test_nesting_up_to_max_depth_is_accepted() -> None:
    data = parse_yaml(nested_lists(MAX_DEPTH)).data
    depth = 0
    value: Any = data["a"]
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    assert depth == MAX_DEPTH


def test_nesting_deeper_than_max_depth_is_refused() -> None:
    error = refused(nested_lists(MAX_DEPTH + 1))
    assert f"nested more than {MAX_DEPTH} levels" in error.message
    assert error.line == 1


def test_deep_block_nesting_is_refused_at_the_line_where_it_gets_too_deep() -> None:
    lines = ["  " * level + f"k{level}:" for level in range(MAX_DEPTH + 5)]
    lines.append("  " * (MAX_DEPTH + 5) + "leaf: x")
    error = refused("\n".join(lines) + "\n")
    # Line n holds key k(n-1) of the mapping at depth n-1; the entries of the mapping at
    # depth MAX_DEPTH, on line MAX_DEPTH + 1, are the first thing nested too deep.
    assert error.line == MAX_DEPTH + 1
    assert "nested" in error.message


def test_pathologically_deep_nesting_is_refused_not_a_recursion_error() -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert len(text) < MAX_FILE_BYTES
    outcome = parse_within(text, seconds=10)
    assert isinstance(outcome, YamlSourceError), repr(outcome)
    assert "nested" in outcome.message


# --- size ----------------------------------------------------------------------------------


def test_a_file_of_exactly_max_file_bytes_is_accepted() -> None:
    text = b"a: " + b"x" * (MAX_FILE_BYTES - 3)
    assert len(text) == MAX_FILE_BYTES
    assert parse_yaml(text).data == {"a": "x" * (MAX_FILE_BYTES - 3)}


def test_a_file_over_max_file_bytes_is_refused_before_parsing() -> None:
    # Also invalid YAML: the size must be what is reported, before any parsing work.
    error = refused(b"[" * (MAX_FILE_BYTES + 1))
    assert error.message == f"the file is larger than {MAX_FILE_BYTES // 1024} KiB"
    assert error.line == 0


def test_text_is_measured_in_utf8_bytes_not_characters() -> None:
    text = "a: " + "ö" * (MAX_FILE_BYTES // 2)  # fewer characters than the limit ...
    assert len(text) < MAX_FILE_BYTES < len(text.encode())  # ... but more bytes
    error = refused(text)
    assert "larger than" in error.message
    assert "larger than" in refused(text.encode()).message


# --- keys ----------------------------------------------------------------------------------


def test_a_duplicate_top_level_key_is_reported_with_the_line_of_the_second() -> None:
    error = refused("flow: demo\ntitle: A\nversion: 1\ntitle: B\n")
    assert error.line == 4
    assert error.message == "key 'title' appears twice"


def test_a_duplicate_key_inside_a_step_is_reported_with_its_line() -> None:
    text = textwrap.dedent(
        """\
        flow: demo
        steps:
          - id: first
            type: text
            text: Hej
            id: second
        """
    )
    error = refused(text)
    assert error.line == 6
    assert "'id' appears twice" in error.message


def test_keys_that_read_the_same_are_duplicates() -> None:
    # 1 and "1" are one key once turned into text.
    error = refused("1: a\n'1': b\n")
    assert error.line == 2
    assert "appears twice" in error.message


def test_a_key_that_is_not_a_scalar_is_refused() -> None:
    error = refused("flow: demo\n? [a, b]\n: 1\n")
    assert error.line == 2
    assert "plain word" in error.message


# --- scalars -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "n"]
)
def test_yaml_11_boolean_words_stay_strings(word: str) -> None:
    data = parse_yaml(f"id: {word}\nlist: [{word}]\n").data
    assert data == {"id": word, "list": [word]}
    assert isinstance(data["id"], str)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False)],
)
def test_true_and_false_are_booleans(word: str, expected: bool) -> None:
    value = parse_yaml(f"optional: {word}\n").data["optional"]
    assert value is expected


def test_quoted_booleans_are_strings() -> None:
    assert parse_yaml('a: "true"\nb: "no"\n').data == {"a": "true", "b": "no"}


@pytest.mark.parametrize("word", ["30_44", "013", "1:30", "0x1f", "0o17", ".inf", ".nan", "1e3"])
def test_yaml_11_number_forms_other_than_plain_decimals_stay_strings(word: str) -> None:
    assert parse_yaml(f"id: {word}\n").data == {"id": word}


def test_plain_numbers_null_and_dates() -> None:
    data = parse_yaml("a: 42\nb: -3\nc: 1.5\nd: ~\ne:\nf: 2027-06-30\n").data
    assert data == {"a": 42, "b": -3, "c": 1.5, "d": None, "e": None, "f": "2027-06-30"}
    assert isinstance(data["a"], int)
    assert isinstance(data["f"], str)  # not a datetime.date


def test_tags_construct_nothing_but_plain_values() -> None:
    data = parse_yaml("a: !!python/object/apply:os.system [echo hi]\nb: !!binary aGk=\n").data
    assert data == {"a": ["echo hi"], "b": "aGk="}


def test_an_empty_document_has_no_data() -> None:
    assert parse_yaml("").data is None
    assert parse_yaml("# only a comment\n").data is None


# --- broken files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "detail"),
    [
        ("flow: demo\ntitle: a: b\n", 2, "mapping values are not allowed"),
        ("flow: demo\nlanguages: [sv, en\nsteps: []\n", 3, "expected ',' or ']'"),
        ("flow: demo\nsteps:\n\t- id: a\n", 3, "cannot start any token"),
        ("flow: demo\n---\nflow: other\n", 2, "another document"),
        ('flow: demo\ntitle: "unclosed\n', 3, "unexpected end of stream"),
    ],
)
def test_invalid_yaml_is_reported_with_a_line(text: str, line: int, detail: str) -> None:
    error = refused(text)
    assert error.line == line
    assert error.message.startswith("invalid YAML: ")
    assert detail in error.message


def test_invalid_utf8_is_a_clear_error() -> None:
    error = refused("title: Tröst\n".encode("latin-1"))
    assert error.message == "the file is not UTF-8 (byte 9)"


def test_stray_bytes_are_reported_as_not_utf8() -> None:
    error = refused(b"flow: demo\n\xff\xfe")
    assert "not UTF-8" in error.message
    assert "byte 11" in error.message


def test_utf8_with_a_byte_order_mark_is_fine() -> None:
    assert parse_yaml("\ufefftitle: Tröst\n".encode()).data == {"title": "Tröst"}


@pytest.mark.parametrize("text", ["flow: demo\ntitle: a\x00b\n", b"flow: demo\ntitle: a\x07b\n"])
def test_control_characters_are_a_yaml_error_with_a_line(text: str | bytes) -> None:
    error = refused(text)  # not PyYAML's own ReaderError
    assert error.line == 2
    assert "invalid YAML" in error.message
    assert "not allowed" in error.message


def test_a_control_character_in_a_flow_file_becomes_a_problem() -> None:
    with pytest.raises(FlowError) as info:
        load_flow_text("flow: demo\n\nx: \x00\n", "bad.yaml")
    [problem] = info.value.problems
    assert (problem.file, problem.line) == ("bad.yaml", 3)


# --- line numbers --------------------------------------------------------------------------

FLOW = textwrap.dedent(
    """\
    # A comment on line 1.
    flow: demo
    version: 1

    help: >-
      Folded text over
      two lines.
    languages: [sv, en]
    steps:
      - id: intro
        type: message
        text: Hej

      - id: where
        type: single_choice
        text: Var?
        choices:
          - id: park
            label: Parken
          - id: "no"
            label: Ingenstans
    """
)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 2),
        (("flow",), 2),
        (("version",), 3),
        (("help",), 5),  # the key's line, not where the folded text starts
        (("languages",), 8),
        (("languages", 1), 8),
        (("steps",), 9),
        (("steps", 0), 10),
        (("steps", 0, "id"), 10),
        (("steps", 0, "text"), 12),
        (("steps", 1), 14),
        (("steps", 1, "type"), 15),
        (("steps", 1, "choices"), 17),
        (("steps", 1, "choices", 0), 18),
        (("steps", 1, "choices", 1, "id"), 20),
        (("steps", 1, "choices", 1, "label"), 21),
    ],
)
def test_lines_of_keys_and_items(path: tuple[str | int, ...], line: int) -> None:
    document = parse_yaml(FLOW)
    assert document.lines[path] == line
    assert document.line_of(path) == line


def test_values_are_plain_python_data() -> None:
    data = parse_yaml(FLOW).data
    assert data["help"] == "Folded text over two lines."
    assert data["steps"][1]["choices"][1] == {"id": "no", "label": "Ingenstans"}


def test_line_of_a_missing_path_is_that_of_its_nearest_ancestor() -> None:
    document = parse_yaml(FLOW)
    assert document.line_of(("steps", 1, "choices", 0, "note")) == 18
    assert document.line_of(("steps", 1, "max_length")) == 14
    assert document.line_of(("nothing", "here")) == 2
    assert YamlDocument(data=None).line_of(("a",)) == 0
