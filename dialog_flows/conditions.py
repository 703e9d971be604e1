"""Skip-logic conditions for questionnaire flows ("ask this step only when ...").

Flows are YAML files written by staff, so a condition is untrusted text: it is parsed by a
small hand-written tokenizer and recursive-descent parser, never by ``eval``/``exec`` or the
``ast`` module, and it can only read answers. The authors are not programmers, so every
mistake raises :class:`ConditionError` with a 1-based column and a plain-language message.

Grammar (``or`` binds loosest, then ``and``, then ``not``; parentheses group)::

    unsafe == "yes"                      age >= 18 and problems contains "lighting"
    age_group in ["13_17", "18_24"]      not answered(where)

Evaluation never raises. A comparison with an unanswered step (missing key) is False, so
``not x == "a"`` is True when ``x`` is unanswered. A list answer (multiple choice) never
equals a single value (``==`` is False, ``!=`` True): use ``contains`` or ``in``.
``contains`` on a single answer means equality. ``<``, ``<=``, ``>``, ``>=`` need a number
answer, otherwise they are False. A number and a text of digits compare as numbers
(``"18" == 18``); two texts compare as text.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Answer", "Condition", "ConditionError", "Reference", "parse_condition"]

Answer = str | int | list[str] | tuple[str, ...]

MAX_LENGTH = 1000
MAX_DEPTH = 32

_KEYWORDS = frozenset({"and", "or", "not", "in", "contains"})
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_OPERATORS = frozenset({"==", "!=", *_ORDERING})
_HINTS = {"=": "'=='", "===": "'=='", "=>": "'>='", "=<": "'<='", "<>": "'!='", "!": "'!='"}
_HINTS |= {"&": "'and'", "&&": "'and'", "|": "'or'", "||": "'or'"}
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"[^"]*"|'[^']*')|(?P<op>[=!<>&|]+)|(?P<word>[A-Za-z0-9_-]+)|(?P<char>\S))"""
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?[0-9]+")


class ConditionError(ValueError):
    """A condition that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Reference:
    """One comparison: ``operator`` is ==, !=, <, <=, >, >=, in, contains or answered."""

    step: str
    values: tuple[str | int, ...]
    operator: str


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _Junction:
    is_and: bool
    operands: tuple[_Node, ...]


_Node = Reference | _Not | _Junction


class _Token(NamedTuple):
    kind: str  # name, word, str, int, op, end, or one of ()[],
    text: str  # as written in the source
    column: int


def _unexpected(expected: str, token: _Token) -> ConditionError:
    found = "the end" if token.kind == "end" else f"'{token.text}'"
    return ConditionError(f"expected {expected}, found {found}", token.column)


def _tokenize(source: str) -> Iterator[_Token]:
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "char"
        text, column = match.group(kind), match.start(kind) + 1
        if kind == "op" and text not in _OPERATORS:
            hint = f" (did you mean {_HINTS[text]}?)" if text in _HINTS else ""
            raise ConditionError(f"unknown operator '{text}'{hint}", column)
        if kind == "word":
            kind = "name" if _NAME.fullmatch(text) else "int" if _NUMBER.fullmatch(text) else kind
        elif kind == "char" and text in "()[],":
            kind = text
        elif kind == "char" and text in "\"'":
            raise ConditionError(f"unclosed quote: add a closing {text}", column)
        elif kind == "char":
            hint = " (step ids use only a-z, 0-9, _ and -)" if text.isalpha() else ""
            hint = " (use straight quotes \" or ')" if text in "“”„‘’«»" else hint
            raise ConditionError(f"unexpected character '{text}'{hint}", column)
        yield _Token(kind, text, column)
    yield _Token("end", "", len(source) + 1)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = list(_tokenize(source))
        self.pos = 0
        self.depth = 0
        self.references: list[Reference] = []

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text.lower() in words

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise ConditionError("the condition is empty", 1)
        node = self.junction(is_and=False)
        token = self.peek()
        if token.kind == ")":
            raise ConditionError("there is a ')' without a matching '('", token.column)
        if token.kind != "end":
            raise _unexpected("and/or or the end", token)
        return node

    def junction(self, *, is_and: bool) -> _Node:
        keyword = "and" if is_and else "or"
        operands = [self.negation() if is_and else self.junction(is_and=True)]
        while self.at_keyword(keyword):
            self.advance()
            operands.append(self.negation() if is_and else self.junction(is_and=True))
        return operands[0] if len(operands) == 1 else _Junction(is_and, tuple(operands))

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"too deeply nested: at most {MAX_DEPTH} levels of brackets and 'not'"
            raise ConditionError(message, token.column)

    def negation(self) -> _Node:
        if not self.at_keyword("not"):
            return self.primary()
        self.enter(self.advance())
        node = _Not(self.negation())
        self.depth -= 1
        return node

    def primary(self) -> _Node:
        if self.peek().kind != "(":
            return self.comparison()
        opening = self.advance()
        self.enter(opening)
        node = self.junction(is_and=False)
        token = self.advance()
        if token.kind == "end":
            raise ConditionError("unclosed parenthesis: add a ')'", opening.column)
        if token.kind != ")":
            raise _unexpected("and/or or ')'", token)
        self.depth -= 1
        return node

    def step_id(self, where: str) -> str:
        token = self.advance()
        if token.kind != "name" or token.text.lower() in _KEYWORDS:
            raise _unexpected(f"a step id {where}", token)
        return token.text

    def comparison(self) -> Reference:
        if self.at_keyword("answered") and self.tokens[self.pos + 1].kind == "(":
            self.pos += 2
            step = self.step_id("inside answered(...)")
            if (token := self.advance()).kind != ")":
                raise _unexpected(f"')' after answered({step}", token)
            return self.reference(step, (), "answered")
        step = self.step_id("at the start of a comparison")
        token = self.advance()
        op = token.text.lower()
        if token.kind == "name" and op == "not":
            raise ConditionError(f"put 'not' before the step id: not {step} ...", token.column)
        if token.kind != "op" and (token.kind != "name" or op not in {"in", "contains"}):
            raise _unexpected(f"==, !=, <, <=, >, >=, in or contains after '{step}'", token)
        value = self.peek()
        if op == "in":
            if value.kind != "[":
                raise ConditionError('\'in\' needs a list like ["a", "b"]', value.column)
            return self.reference(step, self.list_literal(), op)
        if value.kind == "[":
            raise ConditionError(f"'{op}' takes one value; use 'in' for a list", value.column)
        literal = self.literal(f"after '{token.text}'")
        if op in _ORDERING and not isinstance(literal, int):
            raise ConditionError(f"'{op}' needs a whole number, e.g. {step} {op} 18", value.column)
        return self.reference(step, (literal,), op)

    def reference(self, step: str, values: tuple[str | int, ...], op: str) -> Reference:
        self.references.append(Reference(step, values, op))
        return self.references[-1]

    def list_literal(self) -> tuple[str | int, ...]:
        opening = self.advance()
        values: list[str | int] = []
        while True:
            token = self.peek()
            if token.kind == "end":
                raise ConditionError("unclosed list: add a ']'", opening.column)
            if token.kind == "]":
                if not values:
                    raise ConditionError("the list is empty", opening.column)
                self.advance()
                return tuple(values)
            if token.kind == "[":
                raise ConditionError("a list cannot contain another list", token.column)
            values.append(self.literal("in the list"))
            token = self.peek()
            if token.kind == ",":
                self.advance()
            elif token.kind not in {"]", "end"}:
                raise _unexpected("',' or ']' in the list", token)

    def literal(self, where: str) -> str | int:
        token = self.advance()
        if token.kind == "str":
            return token.text[1:-1]
        if token.kind == "int":
            return int(token.text)
        if token.kind in {"name", "word"} and token.text.lower() not in _KEYWORDS:
            raise ConditionError(f'a text value needs quotes: "{token.text}"', token.column)
        raise _unexpected(f"a value {where}", token)


def _usable(value: object) -> str | int | tuple[str | int, ...] | None:
    """The answer in a comparable form, or None if it cannot be compared."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return value
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return None


def _equal(answer: str | int, literal: str | int) -> bool:
    if isinstance(answer, str) == isinstance(literal, str):
        return answer == literal
    if isinstance(literal, str):  # a number answer; the literal is at most MAX_LENGTH long
        return _NUMBER.fullmatch(literal) is not None and int(literal) == answer
    if not isinstance(answer, str) or _NUMBER.fullmatch(answer) is None:
        return False
    # Compare digit strings rather than calling int(): answers may be arbitrarily long.
    digits = answer.lstrip("-").lstrip("0") or "0"
    sign = "-" if answer.startswith("-") and digits != "0" else ""
    return sign + digits == str(literal)


def _test(ref: Reference, answers: Mapping[str, object]) -> bool:
    value = answers.get(ref.step)
    if ref.operator == "answered":
        return value is not None
    answer = _usable(value)
    if answer is None:
        return False
    items = answer if isinstance(answer, tuple) else (answer,)
    literal = ref.values[0]
    if ref.operator in _ORDERING:
        compare = _ORDERING[ref.operator]
        return (
            isinstance(answer, int) and isinstance(literal, int) and bool(compare(answer, literal))
        )
    if ref.operator in {"in", "contains"}:
        return any(_equal(item, v) for item in items for v in ref.values)
    is_equal = not isinstance(answer, tuple) and _equal(answer, literal)
    return is_equal if ref.operator == "==" else not is_equal


def _evaluate(node: _Node, answers: Mapping[str, object]) -> bool:
    if isinstance(node, Reference):
        return _test(node, answers)
    if isinstance(node, _Not):
        return not _evaluate(node.operand, answers)
    results = (_evaluate(operand, answers) for operand in node.operands)
    return all(results) if node.is_and else any(results)


@dataclass(frozen=True)
class Condition:
    """A parsed condition; ``Condition(source)`` parses like :func:`parse_condition`."""

    source: str
    references: tuple[Reference, ...] = field(init=False, repr=False, compare=False)
    """Every comparison, in source order, for validating step ids and choice ids."""
    _root: _Node = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.source) > MAX_LENGTH:
            raise ConditionError(
                f"the condition is too long ({len(self.source)} characters, "
                f"the limit is {MAX_LENGTH})",
                MAX_LENGTH + 1,
            )
        parser = _Parser(self.source)
        object.__setattr__(self, "_root", parser.parse())
        object.__setattr__(self, "references", tuple(parser.references))

    def evaluate(self, answers: Mapping[str, Answer]) -> bool:
        """True if the step should be asked; a missing key means "not answered"."""
        return _evaluate(self._root, answers)


def parse_condition(source: str) -> Condition:
    """Parse ``source``; raises :class:`ConditionError` with a column on any mistake."""
    return Condition(source)
