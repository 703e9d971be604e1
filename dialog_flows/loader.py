"""Turn a flow file into a validated ``Flow``, or report every problem in it at once.

Modelled on goflow: a flow is checked completely at load, and each problem names the
file, line, step, choice and field, in words a staff member can act on. Nothing here
reads files; ``library`` does that.
"""

from __future__ import annotations

import re
from typing import Any

from dialog_flows.conditions import ConditionError, parse_condition
from dialog_flows.field_reader import FieldReader
from dialog_flows.limits import check_step_limits
from dialog_flows.model import (
    CHOICE_KINDS,
    PLACE_RATINGS,
    Choice,
    Delivery,
    Flow,
    Place,
    Step,
    StepKind,
)
from dialog_flows.problems import FlowError, Problem
from dialog_flows.yaml_source import Path, YamlDocument, YamlSourceError, parse_yaml

# Ids end up in Telegram callback data (64 bytes) and in exports, so they are short
# ASCII. Step ids start with a letter so conditions can name them.
STEP_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
CHOICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FLOW_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")

_FLOW_KEYS = {
    "flow", "version", "title", "languages", "language_menu", "reminder_after",
    "expire_after", "steps", "note", "help",
}  # fmt: skip
_COMMON_STEP_KEYS = {"id", "type", "text", "optional", "show_skip", "when", "note", "image"}
_STEP_KEYS: dict[StepKind, set[str]] = {
    StepKind.MESSAGE: {"id", "type", "text", "when", "note", "image"},
    StepKind.SINGLE_CHOICE: _COMMON_STEP_KEYS | {"choices"},
    StepKind.MULTIPLE_CHOICE: _COMMON_STEP_KEYS | {"choices"},
    StepKind.TEXT: _COMMON_STEP_KEYS | {"max_length"},
    StepKind.NUMBER: _COMMON_STEP_KEYS | {"min", "max"},
    StepKind.PLACE_RATING: _COMMON_STEP_KEYS | {"place"},
    StepKind.FEEDBACK: _COMMON_STEP_KEYS | {"choices"},
}
_CHOICE_KEYS = {"id", "label", "note"}
_FEEDBACK_CHOICE_KEYS = _CHOICE_KEYS | {"deliver", "ask_address"}
_PLACE_KEYS = {"number", "name", "image"}
MAX_CHOICES = 30


def load_flow_text(text: str | bytes, file: str) -> Flow:
    """Parse and validate one flow file's text. Raises ``FlowError`` with every problem."""
    try:
        document = parse_yaml(text)
    except YamlSourceError as exc:
        raise FlowError([Problem(file, exc.line, exc.message)]) from None
    return FlowReader(document, file).read()


class FlowReader(FieldReader):
    def __init__(self, document: YamlDocument, file: str) -> None:
        super().__init__(document, file)
        self.all_step_ids: set[str] = set()

    # -- the flow ------------------------------------------------------------------------

    def read(self) -> Flow:
        data = self.document.data
        if not isinstance(data, dict):
            raise FlowError([Problem(self.file, 1, "a flow file must be a mapping of keys")])
        flow_id = data.get("flow")
        if isinstance(flow_id, str) and FLOW_ID.match(flow_id):
            self.flow_id = flow_id
        else:
            self.problem(
                ("flow",),
                "'flow' must be an id of lower-case letters a-z, digits, _ or -, "
                "starting with a letter",
                field="flow",
            )
        self.check_keys(data, _FLOW_KEYS, (), "a flow")
        version = self.integer(data, "version", (), required=True)
        if version is not None and version < 1:
            self.problem(("version",), "'version' must be 1 or more", field="version")
        title = self.text(data, "title", ()) or ""
        help_text = self.text(data, "help", (), required=False)
        languages = self.languages(data.get("languages"))
        menu = data.get("language_menu", "when_unknown")
        if menu not in ("when_unknown", "always", "never"):
            self.problem(
                ("language_menu",),
                "'language_menu' must be when_unknown, always or never",
                field="language_menu",
            )
        reminder = self.hours(data, "reminder_after", 48.0)
        expire = self.hours(data, "expire_after", 7 * 24.0)
        if reminder >= expire and reminder != float("inf"):
            self.problem(
                ("reminder_after",),
                "the reminder must come before the session expires",
                field="reminder_after",
            )
        steps = self.steps(data.get("steps"))
        if self.problems:
            raise FlowError(self.problems)
        return Flow(
            id=self.flow_id or "",
            version=version or 1,
            title=title,
            help=help_text,
            languages=languages,
            steps=tuple(steps),
            language_menu=str(menu),
            reminder_after_hours=reminder,
            expire_after_hours=expire,
            source_file=self.file,
        )

    def languages(self, value: Any) -> tuple[str, ...]:
        from dialog_flows.languages import is_known_language  # noqa: PLC0415 (cycle-free)

        if not isinstance(value, list) or not value:
            self.problem(
                ("languages",),
                "'languages' must list language codes, Swedish first: [sv, en, ar]",
                field="languages",
            )
            return ("sv",)
        codes: list[str] = []
        for index, code in enumerate(value):
            if not isinstance(code, str) or not is_known_language(code):
                self.problem(
                    ("languages", index),
                    f"'{code}' is not a language code CLDR knows (e.g. sv, en, ar, so, fa)",
                    field="languages",
                )
            elif code in codes:
                self.problem(("languages", index), f"'{code}' is listed twice", field="languages")
            else:
                codes.append(code)
        return tuple(codes) or ("sv",)

    def steps(self, value: Any) -> list[Step]:
        if not isinstance(value, list) or not value:
            self.problem(("steps",), "'steps' must be a list with at least one step", field="steps")
            return []
        self.all_step_ids = {
            raw["id"] for raw in value if isinstance(raw, dict) and isinstance(raw.get("id"), str)
        }
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(value):
            step = self.step(raw, ("steps", index), steps)
            if step is None:
                continue
            if step.id in seen:
                self.problem(
                    ("steps", index, "id"),
                    f"step id '{step.id}' is used twice (first on line {seen[step.id]})",
                    step=step.id,
                    field="id",
                )
                continue
            seen[step.id] = step.line
            steps.append(step)
        if steps and not any(step.answers for step in steps):
            self.problem(("steps",), "the flow asks no questions", field="steps")
        feedback = [step for step in steps if step.kind is StepKind.FEEDBACK]
        if len(feedback) > 1:
            # Point at the second feedback step itself, not at the 'steps:' line.
            self.problems.append(
                Problem(
                    self.file,
                    feedback[1].line,
                    f"a flow may have only one feedback step; the first is '{feedback[0].id}' "
                    f"on line {feedback[0].line}",
                    flow=self.flow_id,
                    step=feedback[1].id,
                    field="type",
                )
            )
        return steps

    def step(self, raw: Any, path: Path, earlier: list[Step]) -> Step | None:
        if not isinstance(raw, dict):
            self.problem(path, "each step must be a mapping with id, type and text")
            return None
        step_id = raw.get("id")
        if not isinstance(step_id, str) or not STEP_ID.match(step_id):
            self.problem(
                (*path, "id"),
                f"step id {step_id!r} must be 1-40 characters: lower-case a-z, digits, _ or -, "
                "starting with a letter (ids go into button data and exports)",
                field="id",
            )
            return None
        where: dict[str, Any] = {"step": step_id}
        try:
            kind = StepKind(str(raw.get("type")))
        except ValueError:
            kinds = ", ".join(kind.value for kind in StepKind)
            self.problem((*path, "type"), f"'type' must be one of: {kinds}", field="type", **where)
            return None
        self.check_keys(raw, _STEP_KEYS[kind], path, f"a {kind.value} step", **where)
        text = self.text(raw, "text", path, **where) or ""
        optional = self.boolean(raw, "optional", path, False, **where)
        show_skip = self.boolean(raw, "show_skip", path, True, **where)
        note = self.text(raw, "note", path, required=False, **where)
        image = self.text(raw, "image", path, required=False, **where)
        when = self.condition(raw, path, earlier, step_id)
        fields: dict[str, Any] = {}
        if kind in (StepKind.SINGLE_CHOICE, StepKind.MULTIPLE_CHOICE, StepKind.FEEDBACK):
            fields["choices"] = self.choices(raw.get("choices"), (*path, "choices"), kind, step_id)
        elif kind is StepKind.PLACE_RATING:
            fields["place"] = self.place(raw.get("place"), (*path, "place"), step_id)
            fields["choices"] = tuple(Choice(id=rating, label=rating) for rating in PLACE_RATINGS)
        elif kind is StepKind.NUMBER:
            low = self.integer(raw, "min", path, required=True, **where)
            high = self.integer(raw, "max", path, required=True, **where)
            if low is not None and high is not None and low > high:
                self.problem((*path, "min"), "'min' is larger than 'max'", field="min", **where)
            fields["min_value"], fields["max_value"] = low, high
        elif kind is StepKind.TEXT:
            max_length = self.integer(raw, "max_length", path, **where)
            if max_length is not None:
                if not 1 <= max_length <= 5000:
                    self.problem(
                        (*path, "max_length"),
                        "'max_length' must be 1 to 5000",
                        field="max_length",
                        **where,
                    )
                else:
                    fields["max_length"] = max_length
        step = Step(
            id=step_id,
            kind=kind,
            text=text,
            optional=optional,
            show_skip=show_skip,
            when=when,
            note=note,
            image=image,
            line=self.document.line_of(path),
            **fields,
        )
        raw_choices = raw.get("choices") if kind is not StepKind.PLACE_RATING else None
        for field, message, choice_id in check_step_limits(step):
            where_path: Path = (*path, field)
            if choice_id is not None and isinstance(raw_choices, list):
                # Name the choice and point at its line: the label or id to shorten is there.
                index = next(
                    (
                        i
                        for i, c in enumerate(raw_choices)
                        if isinstance(c, dict) and str(c.get("id")) == choice_id
                    ),
                    None,
                )
                if index is not None:
                    where_path = (*path, "choices", index, field)
            self.problem(where_path, message, field=field, choice=choice_id, **where)
        return step

    def condition(self, raw: dict[str, Any], path: Path, earlier: list[Step], step_id: str) -> Any:
        source = raw.get("when")
        if source is None:
            return None
        where = {"step": step_id, "field": "when"}
        if not isinstance(source, str):
            self.problem((*path, "when"), "'when' must be a condition in quotes", **where)
            return None
        try:
            condition = parse_condition(source)
        except ConditionError as exc:
            self.problem((*path, "when"), f"condition {source!r}: {exc}", **where)
            return None
        known = {step.id: step for step in earlier}
        for reference in condition.references:
            target = known.get(reference.step)
            if target is None:
                if reference.step == step_id:
                    why = "this step itself; a condition may only name steps before it"
                elif reference.step in self.all_step_ids:
                    why = "a later step; a condition may only name steps before it"
                else:
                    why = "not a step in this flow"
                self.problem((*path, "when"), f"condition names '{reference.step}', {why}", **where)
                continue
            if not target.answers:
                self.problem(
                    (*path, "when"),
                    f"condition names '{reference.step}', a message step, which has no answer",
                    **where,
                )
            elif target.kind in CHOICE_KINDS:
                valid = {choice.id for choice in target.choices}
                for value in reference.values:
                    if str(value) not in valid:
                        self.problem(
                            (*path, "when"),
                            f"condition compares '{reference.step}' with '{value}', which is not "
                            f"one of its choices ({', '.join(sorted(valid))})",
                            **where,
                        )
        return condition

    def choices(self, value: Any, path: Path, kind: StepKind, step_id: str) -> tuple[Choice, ...]:
        where = {"step": step_id}
        if not isinstance(value, list) or len(value) < 2:
            self.problem(path, "'choices' must list at least two choices", field="choices", **where)
            return ()
        if len(value) > MAX_CHOICES:
            self.problem(path, f"more than {MAX_CHOICES} choices", field="choices", **where)
        choices: list[Choice] = []
        for index, raw in enumerate(value):
            item_path = (*path, index)
            if not isinstance(raw, dict):
                self.problem(item_path, "each choice must have an id and a label", **where)
                continue
            choice_id = raw.get("id")
            if isinstance(choice_id, int) and not isinstance(choice_id, bool):
                choice_id = str(choice_id)
            if not isinstance(choice_id, str) or not CHOICE_ID.match(choice_id):
                self.problem(
                    (*item_path, "id"),
                    f"choice id {choice_id!r} must be 1-40 characters: lower-case a-z, digits, "
                    "_ or - (ids go into button data and exports)",
                    field="id",
                    **where,
                )
                continue
            here: dict[str, Any] = {"step": step_id, "choice": choice_id}
            allowed = _FEEDBACK_CHOICE_KEYS if kind is StepKind.FEEDBACK else _CHOICE_KEYS
            self.check_keys(raw, allowed, item_path, "a choice", **here)
            if any(choice.id == choice_id for choice in choices):
                self.problem(
                    (*item_path, "id"), f"choice id '{choice_id}' is used twice", field="id", **here
                )
                continue
            label = self.text(raw, "label", item_path, **here) or ""
            note = self.text(raw, "note", item_path, required=False, **here)
            deliver, ask_address = None, None
            if kind is StepKind.FEEDBACK:
                try:
                    deliver = Delivery(str(raw.get("deliver")))
                except ValueError:
                    self.problem(
                        (*item_path, "deliver"),
                        "'deliver' must be here, sms or none",
                        field="deliver",
                        **here,
                    )
                ask_address = self.text(
                    raw, "ask_address", item_path, required=deliver is Delivery.SMS, **here
                )
            choices.append(Choice(choice_id, label, note, deliver, ask_address))
        return tuple(choices)

    def place(self, value: Any, path: Path, step_id: str) -> Place | None:
        where: dict[str, Any] = {"step": step_id}
        if not isinstance(value, dict):
            self.problem(path, "'place' needs a number and a name", field="place", **where)
            return None
        self.check_keys(value, _PLACE_KEYS, path, "a place", **where)
        number = self.integer(value, "number", path, required=True, **where)
        name = self.text(value, "name", path, **where)
        image = self.text(value, "image", path, required=False, **where)
        if number is None or name is None:
            return None
        return Place(number=number, name=name, image=image)
