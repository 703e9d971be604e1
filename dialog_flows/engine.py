"""The dialog engine: (flow, state, inbound event, context) -> (new state, messages, events).

Pure by design, like goflow's: no clock, no database, no network. The service hands in
the time and the translations, stores the state, and acts on the events (an answer to
store, an opt-out to honour, an erasure to carry out). That keeps the engine cheap to
test with golden transcripts and safe to run anywhere.

Every input leads to a state that either waits for an answer or has ended: there is no
input, however odd, that leaves a session stuck or raises.
"""

from __future__ import annotations

from dataclasses import replace

from dialog_flows import language_menu, payloads, texts
from dialog_flows.engine_actions import handle_keyword, tick
from dialog_flows.flow_texts import choice_context
from dialog_flows.keywords import detect_keyword
from dialog_flows.languages import direction, match_language
from dialog_flows.matching import first_keyword
from dialog_flows.model import Delivery, Flow, Step, StepKind
from dialog_flows.phone import parse_phone
from dialog_flows.questions import ask, interpret, is_keyword, reask_values, visible_choices
from dialog_flows.session import (
    Answer,
    Awaiting,
    Context,
    Event,
    Inbound,
    InputKind,
    Option,
    Outgoing,
    SessionState,
    Start,
    Status,
    Tick,
    Turn,
    UserMessage,
)

# Channels where we may write only within a day of the person's last message.
WINDOWED_CHANNELS = frozenset({"facebook", "whatsapp"})
MAX_ATTEMPTS = 3  # invalid answers before an optional question is skipped for the person


def respond(flow: Flow, state: SessionState | None, event: Inbound, ctx: Context) -> Turn:
    """Run one inbound event. ``flow`` must be the version the state was started on."""
    run = Run(flow, state, ctx)
    if isinstance(event, Tick):
        tick(run)
    elif isinstance(event, Start):
        run.start_or_resume(event.source, event.language)
    else:
        run.message(event)
    return Turn(run.state, tuple(run.messages), tuple(run.events))


def current_prompt(flow: Flow, state: SessionState, ctx: Context) -> tuple[Outgoing, ...]:
    """The question a session waits on, asked again without changing anything: for a web
    chat page that was reloaded."""
    run = Run(flow, state, ctx)
    run.ask_again()
    return tuple(run.messages)


class Run:
    """One turn's work, accumulating messages and events."""

    def __init__(self, flow: Flow, state: SessionState | None, ctx: Context) -> None:
        self.flow = flow
        self.state = state
        self.ctx = ctx
        self.tr = ctx.translations
        self.messages: list[Outgoing] = []
        self.events: list[Event] = []

    # -- output helpers ------------------------------------------------------------------

    @property
    def language(self) -> str:
        if self.state is not None:
            return self.state.language
        return (
            match_language(self.ctx.language_hint, self.flow.languages) or self.ctx.default_language
        )

    def say(
        self,
        text: str,
        *,
        options: tuple[Option, ...] = (),
        input: InputKind = "none",
        step_id: str | None = None,
        text_hint: str | None = None,
    ) -> None:
        language = self.language
        self.messages.append(
            Outgoing(
                text=text,
                language=language,
                direction=direction(language),
                options=options,
                input=input,
                step_id=step_id,
                text_hint=text_hint,
            )
        )

    def system(self, text: texts.SystemText, **values: object) -> str:
        return self.tr.system(self.language, text).format(**values)

    def keyword(self, listing: texts.SystemText) -> str:
        return first_keyword(self.tr.system(self.language, listing))

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def current_step(self) -> Step | None:
        state = self.state
        if state is None or state.step_id is None or not self.flow.has_step(state.step_id):
            return None
        return self.flow.step(state.step_id)

    # -- lifecycle -----------------------------------------------------------------------

    def new_session(self, source: str | None, language: str | None = None) -> None:
        hinted = match_language(self.ctx.language_hint, self.flow.languages)
        chosen = language or hinted
        self.state = SessionState(
            flow_id=self.flow.id,
            flow_version=self.flow.version,
            channel=self.ctx.channel,
            language=chosen or self.ctx.default_language,
            language_explicit=language is not None,
            source=source,
            started_at=self.ctx.now,
            last_activity_at=self.ctx.now,
        )
        self.emit(Event("session_started", language=self.state.language))
        menu = self.flow.language_menu
        if len(self.flow.languages) > 1 and (
            menu == "always" or (menu == "when_unknown" and chosen is None)
        ):
            self.show_language_menu()
        else:
            self.advance(0)

    def start_or_resume(self, source: str | None, language: str | None) -> None:
        chosen = language if language in self.flow.languages else None
        if self.state is not None and self.state.active:
            self.touch()
            if chosen and chosen != self.state.language:
                self.state = replace(self.state, language=chosen, language_explicit=True)
                self.emit(Event("language_changed", language=chosen))
            self.say(self.system(texts.WELCOME_BACK))
            self.ask_again()
            return
        if chosen is None and self.state is not None and self.state.language_explicit:
            chosen = self.state.language
        self.new_session(source, chosen)

    def touch(self) -> None:
        if self.state is not None:
            self.state = replace(self.state, last_activity_at=self.ctx.now, reminded=False)

    def end(self, status: Status) -> None:
        assert self.state is not None
        self.state = replace(self.state, status=status, step_id=None, awaiting=None, selection=())

    def advance(self, position: int) -> None:
        """Emit message steps from ``position`` on, and stop at the next question."""
        assert self.state is not None
        for step in self.flow.steps[position:]:
            if step.when is not None and not step.when.evaluate(self.state.answers):
                continue
            if not step.answers:
                self.messages.append(ask(self.flow, step, self.state, self.tr))
                continue
            self.state = replace(
                self.state, step_id=step.id, awaiting="answer", attempts=0, selection=()
            )
            self.messages.append(ask(self.flow, step, self.state, self.tr))
            return
        self.end("completed")
        self.emit(Event("completed"))

    def advance_after(self, step: Step) -> None:
        self.advance(self.flow.position(step.id) + 1)

    def ask_again(self, prefix: str | None = None) -> None:
        state = self.state
        if state is None or not state.active:
            return
        if state.awaiting == "language":
            self.show_language_menu(prefix)
            return
        step = self.current_step()
        if step is None:
            return
        if state.awaiting == "address":
            self.ask_address(step, prefix)
            return
        self.messages.append(ask(self.flow, step, state, self.tr, prefix=prefix))

    # -- inbound -------------------------------------------------------------------------

    def message(self, message: UserMessage) -> None:
        keyword = detect_keyword(message.text, self.tr) if message.payload is None else None
        if keyword is not None:
            self.touch()
            handle_keyword(self, keyword)
            return
        if self.state is None:
            self.new_session(None)
            return
        if self.state.status == "completed":
            restart, results = (
                self.keyword(texts.KEYWORD_RESTART),
                self.keyword(texts.KEYWORD_RESULTS),
            )
            self.say(self.system(texts.ALREADY_DONE, restart=restart, results=results))
            return
        if not self.state.active:  # stopped, erased or expired: they are writing to us again
            language = self.state.language if self.state.language_explicit else None
            self.new_session(None, language)
            return
        self.touch()
        payload = payloads.decode(message.payload) if message.payload else None
        if payload is not None and payload[0] == payloads.LANGUAGE_MENU:
            self.choose_language(payload[1])  # a tap on any language menu, old or new
        elif self.state.awaiting == "language":
            self.choose_language(message.text)
        elif self.state.awaiting == "address":
            self.receive_address(message)
        else:
            self.answer(message)

    def answer(self, message: UserMessage) -> None:
        assert self.state is not None
        step = self.current_step()
        if step is None:  # a state from a flow version we cannot place: start cleanly
            self.new_session(self.state.source, self.state.language)
            return
        if message.payload is not None:
            decoded = payloads.decode(message.payload)
            if decoded is None or decoded[0] != step.id:
                self.messages.append(
                    ask(
                        self.flow, step, self.state, self.tr, prefix=self.system(texts.STALE_BUTTON)
                    )
                )
                return
        result = interpret(self.flow, step, self.state, message, self.tr)
        if result.selection is not None:
            self.state = replace(self.state, selection=result.selection)
            self.messages.append(ask(self.flow, step, self.state, self.tr))
        elif result.skip:
            self.skip(step)
        elif result.value is not None:
            self.record(step, result.value)
        else:
            self.invalid(step, result.reask or texts.REASK_CHOICE)

    def invalid(self, step: Step, reask: texts.SystemText) -> None:
        assert self.state is not None
        attempts = self.state.attempts + 1
        self.state = replace(self.state, attempts=attempts)
        if attempts >= MAX_ATTEMPTS and step.optional:
            self.say(self.system(texts.SKIPPED_AFTER_ATTEMPTS))
            self.skip(step)
            return
        hint = self.tr.system(self.language, reask).format(
            **reask_values(step, self.state, self.tr)
        )
        self.messages.append(ask(self.flow, step, self.state, self.tr, prefix=hint))

    def skip(self, step: Step) -> None:
        assert self.state is not None
        self.state = replace(self.state, skipped=(*self.state.skipped, step.id))
        self.emit(Event("step_skipped", step_id=step.id))
        if step.kind is StepKind.FEEDBACK:
            self.emit(Event("feedback_opt_in", step_id=step.id, deliver=Delivery.NONE.value))
        self.advance_after(step)

    def record(self, step: Step, value: Answer) -> None:
        assert self.state is not None
        answers = {**self.state.answers, step.id: value}
        self.state = replace(self.state, answers=answers, selection=())
        self.emit(Event("answer_recorded", step_id=step.id, value=value))
        if step.kind is StepKind.FEEDBACK:
            choice = step.choice(str(value))
            deliver = choice.deliver if choice and choice.deliver else Delivery.NONE
            if deliver is Delivery.SMS and self.state.channel != "sms":
                self.state = replace(self.state, awaiting="address", attempts=0)
                self.ask_address(step)
                return
            if deliver is Delivery.SMS:
                deliver = Delivery.HERE  # on SMS, "by SMS" is here
            self.emit(Event("feedback_opt_in", step_id=step.id, deliver=deliver.value))
            if deliver is Delivery.HERE and self.state.channel in WINDOWED_CHANNELS:
                self.advance_after(step)
                self.say(
                    self.system(texts.WINDOW_NOTE, results=self.keyword(texts.KEYWORD_RESULTS))
                )
                return
        self.advance_after(step)

    # -- återkoppling by SMS: a number that is contact data, never an answer ---------------

    def ask_address(self, step: Step, prefix: str | None = None) -> None:
        assert self.state is not None
        choice = step.choice(str(self.state.answers.get(step.id)))
        source = choice.ask_address if choice and choice.ask_address else step.text
        context = choice_context(self.flow, step, choice, "ask_address") if choice else None
        text = self.tr.text(self.language, context, source)
        if prefix:
            text = f"{prefix}\n\n{text}"
        skip = Option(
            payloads.SKIP, self.system(texts.SKIP_LABEL), payloads.encode(step.id, payloads.SKIP)
        )
        hint = self.system(texts.SKIP_HINT, skip=self.keyword(texts.KEYWORD_SKIP))
        self.say(text, options=(skip,), input="text", step_id=step.id, text_hint=hint)

    def receive_address(self, message: UserMessage) -> None:
        assert self.state is not None
        step = self.current_step()
        if step is None:
            return
        skipping = message.payload is not None and message.payload.endswith(payloads.SKIP)
        if skipping or is_keyword(message.text, texts.KEYWORD_SKIP, self.tr):
            self.emit(Event("feedback_opt_in", step_id=step.id, deliver=Delivery.NONE.value))
            self.state = replace(self.state, awaiting="answer")
            self.advance_after(step)
            return
        number = parse_phone(message.text)
        if number is None:
            attempts = self.state.attempts + 1
            self.state = replace(self.state, attempts=attempts)
            if attempts >= MAX_ATTEMPTS:
                self.emit(Event("feedback_opt_in", step_id=step.id, deliver=Delivery.NONE.value))
                self.say(self.system(texts.SKIPPED_AFTER_ATTEMPTS))
                self.state = replace(self.state, awaiting="answer")
                self.advance_after(step)
                return
            self.ask_address(
                step, prefix=self.system(texts.REASK_PHONE, skip=self.keyword(texts.KEYWORD_SKIP))
            )
            return
        self.emit(
            Event("feedback_opt_in", step_id=step.id, deliver=Delivery.SMS.value, address=number)
        )
        self.state = replace(self.state, awaiting="answer")
        self.advance_after(step)

    # -- languages -----------------------------------------------------------------------

    def show_language_menu(self, prefix: str | None = None) -> None:
        assert self.state is not None
        self.state = replace(self.state, awaiting="language")
        text = language_menu.menu_text(self.flow, self.tr)
        text = f"{prefix}\n\n{text}" if prefix else text
        self.say(text, options=language_menu.menu_options(self.flow), input="language")

    def choose_language(self, answer: str) -> None:
        assert self.state is not None
        code = language_menu.match_answer(self.flow, answer)
        if code is None:
            self.show_language_menu(prefix=self.system(texts.REASK_LANGUAGE))
            return
        was_menu_first = self.state.awaiting == "language" and self.state.step_id is None
        awaiting: Awaiting | None = "answer" if self.state.step_id is not None else None
        self.state = replace(self.state, language=code, language_explicit=True, awaiting=awaiting)
        self.emit(Event("language_changed", language=code))
        if was_menu_first:
            self.advance(0)
        else:
            self.ask_again(prefix=self.system(texts.LANGUAGE_CHANGED))


__all__ = ["current_prompt", "respond", "visible_choices"]
