"""Tests for the skip-logic expression language in dialog_flows.conditions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialog_flows.conditions import (
    Condition,
    ConditionError,
    Reference,
    parse_condition,
)


def ev(source: str, **answers: Any) -> bool:
    return parse_condition(source).evaluate(answers)


# --- operators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ('x == "yes"', {"x": "yes"}, True),
        ('x == "yes"', {"x": "no"}, False),
        ("x == 'yes'", {"x": "yes"}, True),
        ('x == "Yes"', {"x": "yes"}, False),  # values are case-sensitive
        ('x != "no"', {"x": "yes"}, True),
        ('x != "no"', {"x": "no"}, False),
        ("age < 18", {"age": 17}, True),
        ("age < 18", {"age": 18}, False),
        ("age <= 18", {"age": 18}, True),
        ("age <= 18", {"age": 19}, False),
        ("age > 18", {"age": 19}, True),
        ("age > 18", {"age": 18}, False),
        ("age >= 18", {"age": 18}, True),
        ("age >= 18", {"age": 17}, False),
        ("age > -5", {"age": -4}, True),
        ("age > -5", {"age": -5}, False),
        ("age == -5", {"age": -5}, True),
        ('x in ["a", "b"]', {"x": "b"}, True),
        ('x in ["a", "b"]', {"x": "c"}, False),
        ('x contains "a"', {"x": ["b", "a"]}, True),
        ('x contains "a"', {"x": ["b", "c"]}, False),
        ('x contains "a"', {"x": []}, False),
        ("answered(x)", {"x": "anything"}, True),
        ("answered(x)", {"y": "anything"}, False),
        ("not answered(x)", {}, True),
        ("not answered(x)", {"x": ""}, False),
        ('age-group == "13_17"', {"age-group": "13_17"}, True),
        ('X_1 == "a"', {"X_1": "a"}, True),
    ],
)
def test_operators(source: str, answers: dict[str, Any], expected: bool) -> None:
    assert parse_condition(source).evaluate(answers) is expected


def test_keywords_are_case_insensitive() -> None:
    source = 'NOT x == "a" AND y IN ["b"] Or z CONTAINS "c"'
    assert ev(source, x="q", y="b")
    assert ev(source, z=["c"])
    assert not ev(source, x="a", y="b")
    assert ev("Answered(x) and ANSWERED(y)", x="1", y="2")


def test_step_named_like_the_function_is_still_a_step() -> None:
    assert ev('answered == "x"', answered="x")


# --- precedence, parentheses, not ------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        ("1", "0", "0", True),  # a or (b and c): a alone is enough
        ("0", "2", "0", False),
        ("0", "2", "3", True),
        ("0", "0", "3", False),
    ],
)
def test_and_binds_tighter_than_or(a: str, b: str, c: str, expected: bool) -> None:
    source = 'a == "1" or b == "2" and c == "3"'
    assert ev(source, a=a, b=b, c=c) is expected


def test_parentheses_override_precedence() -> None:
    source = '(a == "1" or b == "2") and c == "3"'
    assert not ev(source, a="1", b="0", c="0")
    assert ev(source, a="1", b="0", c="3")
    assert ev(source, a="0", b="2", c="3")


def test_not_binds_tighter_than_and_or() -> None:
    # not a == "1" and b == "2"  ==  (not a == "1") and b == "2"
    assert not ev('not a == "1" and b == "2"', a="0", b="0")
    assert ev('not a == "1" and b == "2"', a="0", b="2")
    assert ev('not a == "1" or b == "2"', a="1", b="2")
    assert not ev('not (a == "1" or b == "2")', a="0", b="2")
    assert ev('not not a == "1"', a="1")
    assert ev('(a == "x" or b == "y") and not c == "z"', b="y", c="q")
    assert not ev('(a == "x" or b == "y") and not c == "z"', b="y", c="z")


def test_nested_parentheses_and_whitespace() -> None:
    assert ev('((( a=="1" )))and(b!="2")', a="1", b="3")
    assert ev('\ta == "1"\n  and\n b == "2" ', a="1", b="2")


# --- unanswered steps -----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ['x == "a"', 'x != "a"', "x < 1", "x >= 1", 'x in ["a"]', 'x contains "a"'],
)
def test_comparisons_with_unanswered_steps_are_false(source: str) -> None:
    assert parse_condition(source).evaluate({}) is False
    assert parse_condition(f"not {source}").evaluate({}) is True


def test_none_counts_as_unanswered() -> None:
    assert not ev("answered(x)", x=None)
    assert not ev('x != "a"', x=None)


# --- list answers and numbers -----------------------------------------------------------


def test_list_answers() -> None:
    answers: dict[str, Any] = {"p": ["lighting", "noise"]}
    assert parse_condition('p contains "noise"').evaluate(answers)
    assert parse_condition('p in ["dark", "lighting"]').evaluate(answers)
    assert not parse_condition('p in ["dark", "traffic"]').evaluate(answers)
    # a list never equals a single value
    assert not parse_condition('p == "lighting"').evaluate(answers)
    assert parse_condition('p != "lighting"').evaluate(answers)
    assert not parse_condition("p > 1").evaluate(answers)
    assert parse_condition('p contains "noise"').evaluate({"p": ("noise",)})


def test_contains_on_a_single_answer_means_equality() -> None:
    assert ev('x contains "light"', x="light")
    assert not ev('x contains "light"', x="lighting")  # not a substring test


def test_numbers_and_digit_strings_compare_as_numbers() -> None:
    assert ev('age == "18"', age=18)
    assert ev("age == 18", age="18")
    assert ev("age == 18", age="018")
    assert ev('age != "18"', age=17)
    assert not ev('age != "18"', age=18)
    assert ev('age in ["17", 18]', age=18)
    assert ev('age in ["17", 18]', age="17")
    assert ev("x contains 3", x=["1", "3"])
    assert ev("x == 0", x="-0")
    assert ev("x == -2", x="-02")
    assert not ev('age == "eighteen"', age=18)
    assert not ev('age == "18.0"', age=18)
    # two texts compare as text
    assert not ev('age == "018"', age="18")


def test_ordering_needs_a_number_answer() -> None:
    assert not ev("age >= 18", age="30")
    assert not ev("age >= 18", age=["30"])
    assert not ev("age >= 18", age=True)  # booleans are not numbers


def test_huge_numbers_do_not_raise() -> None:
    huge = 10**5000
    assert not ev('x == "18"', x=huge)
    assert ev("x > 18", x=huge)
    assert ev("x == 18", x="0" * 5000 + "18")
    assert not ev("x == 18", x="9" * 5000)


# --- references --------------------------------------------------------------------------


def test_references_in_source_order() -> None:
    condition = parse_condition(
        "unsafe != 'no' and (age >= 18 or not answered(where)) "
        'and problems contains "lighting" and age-group IN ["13_17", 18,]'
    )
    assert condition.references == (
        Reference("unsafe", ("no",), "!="),
        Reference("age", (18,), ">="),
        Reference("where", (), "answered"),
        Reference("problems", ("lighting",), "contains"),
        Reference("age-group", ("13_17", 18), "in"),
    )


def test_condition_is_hashable_and_keeps_source() -> None:
    a = parse_condition('x == "a"')
    assert a == Condition('x == "a"')
    assert hash(a) == hash(parse_condition('x == "a"'))
    assert a.source == 'x == "a"'
    assert len({a, parse_condition('x == "a"'), parse_condition('x == "b"')}) == 2
    with pytest.raises(AttributeError):
        a.source = "y"  # type: ignore[misc]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("", 1, "the condition is empty"),
        ("   ", 1, "the condition is empty"),
        ("unsafe == yes", 11, 'a text value needs quotes: "yes"'),
        ("x in [a]", 7, 'a text value needs quotes: "a"'),
        ("age_group == 13_17", 14, 'a text value needs quotes: "13_17"'),
        ("age => 18", 5, "unknown operator '=>' (did you mean '>='?)"),
        ("age =< 18", 5, "unknown operator '=<' (did you mean '<='?)"),
        ('x = "a"', 3, "unknown operator '=' (did you mean '=='?)"),
        ('x <> "a"', 3, "unknown operator '<>' (did you mean '!='?)"),
        ('x == "a" && y == "b"', 10, "unknown operator '&&' (did you mean 'and'?)"),
        ('x == "a" || y == "b"', 10, "unknown operator '||' (did you mean 'or'?)"),
        ('(a == "x" or b == "y"', 1, "unclosed parenthesis: add a ')'"),
        ('a == "x" and (b == "y" or (c == "z")', 14, "unclosed parenthesis: add a ')'"),
        ('a == "x")', 9, "there is a ')' without a matching '('"),
        ('a == "x" foo', 10, "expected and/or or the end, found 'foo'"),
        ('a == "x" "y"', 10, "expected and/or or the end, found '\"y\"'"),
        ('(a == "x" b)', 11, "expected and/or or ')', found 'b'"),
        ('a in "x"', 6, '\'in\' needs a list like ["a", "b"]'),
        ("a in 3", 6, '\'in\' needs a list like ["a", "b"]'),
        ('a == ["x"]', 6, "'==' takes one value; use 'in' for a list"),
        ('a contains ["x"]', 12, "'contains' takes one value; use 'in' for a list"),
        ('age >= "18"', 8, "'>=' needs a whole number, e.g. age >= 18"),
        ("unsafe ==", 10, "expected a value after '==', found the end"),
        ('a == "x" and', 13, "expected a step id at the start of a comparison, found the end"),
        ('"yes" == a', 1, "expected a step id at the start of a comparison, found '\"yes\"'"),
        ("a", 2, "expected ==, !=, <, <=, >, >=, in or contains after 'a', found the end"),
        ('a not in ["x"]', 3, "put 'not' before the step id: not a ..."),
        ('a == "x', 6, 'unclosed quote: add a closing "'),
        ("x in []", 6, "the list is empty"),
        ('x in ["a",', 6, "unclosed list: add a ']'"),
        ('x in ["a" "b"]', 11, "expected ',' or ']' in the list, found '\"b\"'"),
        ('x in [["a"]]', 7, "a list cannot contain another list"),
        ("answered(x", 11, "expected ')' after answered(x, found the end"),
        ("answered()", 10, "expected a step id inside answered(...), found ')'"),
        ("a == 1.5", 7, "unexpected character '.'"),
        ('område == "x"', 4, "unexpected character 'å' (step ids use only a-z, 0-9, _ and -)"),
        ("a == “x”", 6, "unexpected character '“' (use straight quotes \" or ')"),
        ('and == "x"', 1, "expected a step id at the start of a comparison, found 'and'"),
        ("x == not", 6, "expected a value after '==', found 'not'"),
    ],
)
def test_error_messages_and_columns(source: str, column: int, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(source)
    assert (info.value.message, info.value.column) == (message, column)
    assert str(info.value) == f"column {column}: {message}"
    assert isinstance(info.value, ValueError)


def test_nesting_limit() -> None:
    inner = 'a == "x"'
    assert ev("(" * 32 + inner + ")" * 32, a="x")
    with pytest.raises(ConditionError) as info:
        parse_condition("(" * 33 + inner + ")" * 33)
    assert info.value.column == 33
    assert "too deeply nested" in info.value.message

    assert ev("not " * 32 + inner, a="x")  # 32 nots: even count
    with pytest.raises(ConditionError) as info:
        parse_condition("not " * 33 + inner)
    assert info.value.column == 32 * 4 + 1

    # parentheses and nots add up
    with pytest.raises(ConditionError) as info:
        parse_condition("(not " * 17 + inner + ")" * 17)
    assert info.value.column == 16 * 5 + 1


def test_deep_nesting_never_hits_recursion_error() -> None:
    for text in ("(" * 999, "not " * 200 + 'a == "x"', "(" * 200 + 'a == "x"' + ")" * 200):
        with pytest.raises(ConditionError):
            parse_condition(text)


def test_length_limit() -> None:
    prefix = 'a == "'
    ok = prefix + "x" * (1000 - len(prefix) - 1) + '"'
    assert len(ok) == 1000
    assert parse_condition(ok).references[0].values == ("x" * 993,)
    with pytest.raises(ConditionError) as info:
        parse_condition(ok + " ")
    assert info.value.column == 1001
    assert info.value.message == "the condition is too long (1001 characters, the limit is 1000)"


# --- properties ---------------------------------------------------------------------------

ANSWER_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.lists(st.one_of(st.text(), st.integers(), st.none())),
    st.tuples(st.text()),
    st.dictionaries(st.text(), st.text(), max_size=2),
)


@given(st.text())
def test_parse_arbitrary_text_only_raises_condition_error(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError as error:
        assert 1 <= error.column <= len(text) + 1
        assert error.message
    else:
        assert isinstance(condition, Condition)
        condition.evaluate({})


@given(st.text(alphabet="abcxy()[]\"'=!<>,-18 notandorincontainsswered", max_size=60))
def test_parse_grammar_like_text_only_raises_condition_error(text: str) -> None:
    try:
        parse_condition(text).evaluate({"a": "x", "b": ["x", "1"], "c": 18})
    except ConditionError as error:
        assert 1 <= error.column <= len(text) + 1


# Generated expressions: a reference evaluator written directly from the documented rules.

STEPS = ["a", "age-group", "choice"]
TEXTS = ["x", "y", "18", "-3", "07", "x y"]
NUMBERS = [-3, 0, 7, 18]
KEYWORD_OPS = ["in", "contains"]
SYMBOL_OPS = ["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Cmp:
    step: str
    op: str
    value: Any  # str | int | tuple for "in"


@dataclass(frozen=True)
class Answered:
    step: str


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Any, ...]


literal_values = st.sampled_from(TEXTS) | st.sampled_from(NUMBERS)


@st.composite
def comparisons(draw: st.DrawFn) -> Cmp | Answered:
    step = draw(st.sampled_from(STEPS))
    op = draw(st.sampled_from([*SYMBOL_OPS, *KEYWORD_OPS, "answered"]))
    if op == "answered":
        return Answered(step)
    if op == "in":
        return Cmp(step, op, tuple(draw(st.lists(literal_values, min_size=1, max_size=3))))
    if op in {"<", "<=", ">", ">="}:
        return Cmp(step, op, draw(st.sampled_from(NUMBERS)))
    return Cmp(step, op, draw(literal_values))


expressions = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        children.map(Not),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: BoolOp(t[0], tuple(t[1]))
        ),
    ),
    max_leaves=8,
)


def precedence(node: Any) -> int:
    if isinstance(node, BoolOp):
        return 1 if node.op == "or" else 2
    return 3 if isinstance(node, Not) else 4


def nesting(node: Any) -> int:
    if isinstance(node, Not):
        return 1 + nesting(node.operand)
    if isinstance(node, BoolOp):
        return 1 + max(nesting(operand) for operand in node.operands)
    return 0


Draw = Callable[[st.SearchStrategy[Any]], Any]


def render(node: Any, draw: Draw, parent: int = 0) -> str:
    def keyword(word: str) -> str:
        return str(draw(st.sampled_from([word, word.upper(), word.capitalize()])))

    def literal(value: Any) -> str:
        if isinstance(value, tuple):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        if isinstance(value, int):
            return str(value)
        quote = draw(st.sampled_from(['"', "'"]))
        return f"{quote}{value}{quote}"

    if isinstance(node, Answered):
        text = f"{keyword('answered')}({node.step})"
    elif isinstance(node, Cmp):
        op = keyword(node.op) if node.op in KEYWORD_OPS else node.op
        text = f"{node.step} {op} {literal(node.value)}"
    elif isinstance(node, Not):
        text = f"{keyword('not')} " + render(node.operand, draw, precedence(node))
    else:
        joiner = f" {keyword(node.op)} "
        # operands that bind more loosely need brackets ("or" inside "and"); the same
        # operator nested without brackets is fine because and/or are associative
        text = joiner.join(render(o, draw, precedence(node)) for o in node.operands)
    needs_brackets = precedence(node) < parent or draw(st.booleans())
    return f"({text})" if needs_brackets and not isinstance(node, Cmp | Answered) else text


def as_number(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    return int(value) if re.fullmatch(r"-?[0-9]+", value) else None


def same(answer: Any, literal: Any) -> bool:
    if type(answer) is type(literal):
        return bool(answer == literal)
    a, b = as_number(answer), as_number(literal)
    return a is not None and a == b


def reference_eval(node: Any, answers: dict[str, Any]) -> bool:
    if isinstance(node, Not):
        return not reference_eval(node.operand, answers)
    if isinstance(node, BoolOp):
        results = [reference_eval(o, answers) for o in node.operands]
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Answered):
        return node.step in answers
    if node.step not in answers:
        return False
    answer = answers[node.step]
    is_list = isinstance(answer, list)
    elements = answer if is_list else [answer]
    if node.op == "==":
        return not is_list and same(answer, node.value)
    if node.op == "!=":
        return is_list or not same(answer, node.value)
    if node.op == "contains":
        return any(same(e, node.value) for e in elements)
    if node.op == "in":
        return any(same(e, v) for e in elements for v in node.value)
    if not isinstance(answer, int):
        return False
    limit: int = node.value
    return {"<": answer < limit, "<=": answer <= limit, ">": answer > limit, ">=": answer >= limit}[
        node.op
    ]


answer_dicts = st.dictionaries(
    st.sampled_from(STEPS),
    st.one_of(literal_values, st.lists(st.sampled_from(TEXTS), max_size=3)),
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), expressions, answer_dicts)
def test_generated_expressions_match_reference(
    data: st.DataObject, node: Any, answers: dict[str, Any]
) -> None:
    if nesting(node) > 16:  # each level adds at most one bracket and one not
        return
    source = render(node, data.draw)
    condition = parse_condition(source)
    assert condition.evaluate(answers) is reference_eval(node, answers), source


@given(st.data(), expressions, st.dictionaries(st.sampled_from(STEPS) | st.text(), ANSWER_VALUES))
def test_evaluate_never_raises_on_arbitrary_answers(
    data: st.DataObject, node: Any, answers: dict[str, Any]
) -> None:
    if nesting(node) > 16:
        return
    source = render(node, data.draw)
    assert isinstance(parse_condition(source).evaluate(answers), bool)
