"""What keywords do, and what the passing of time does, to a dialog: the engine's
``Run`` handles the rest of a turn."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dialog_flows import keyword_replies, texts
from dialog_flows.keywords import Keyword
from dialog_flows.session import Event

if TYPE_CHECKING:
    from dialog_flows.engine import Run


def handle_keyword(run: Run, keyword: Keyword) -> None:
    """What a keyword does, at any point of a dialog (or before one)."""
    if keyword is Keyword.STOP:
        run.emit(Event("opted_out"))
        run.say(run.system(texts.STOPPED, start=run.keyword(texts.KEYWORD_START)))
        if run.state is not None and run.state.active:
            run.end("stopped")
    elif keyword is Keyword.ERASE:
        run.emit(Event("erase_requested"))
        run.say(run.system(texts.ERASED, start=run.keyword(texts.KEYWORD_START)))
        if run.state is not None:
            run.state = replace(run.state, answers={}, skipped=())
            if run.state.active:
                run.end("erased")
    elif keyword is Keyword.HELP:
        run.say(keyword_replies.help_text(run.flow, run.tr, run.language))
        run.ask_again()
    elif keyword is Keyword.LANGUAGE:
        if run.state is None or not run.state.active:
            run.new_session(None)
            if run.state is not None and run.state.awaiting != "language":
                run.show_language_menu()
            return
        run.show_language_menu()
    elif keyword is Keyword.RESTART:
        source = run.state.source if run.state else None
        language = run.state.language if run.state and run.state.language_explicit else None
        if run.state is not None:
            run.emit(Event("restarted"))
        run.say(run.system(texts.RESTARTED))
        run.state = None
        run.new_session(source, language)
    elif keyword is Keyword.RESULTS:
        run.emit(Event("results_requested"))
        feedback = run.ctx.feedback or {}
        run.say(keyword_replies.results_text(run.flow, run.tr, run.language, feedback))
        run.ask_again()


def tick(run: Run) -> None:
    """Time passed: one reminder after ``reminder_after``, the end after ``expire_after``."""
    state = run.state
    if state is None or not state.active:
        return
    idle_hours = (run.ctx.now - state.last_activity_at) / 3600
    if idle_hours >= run.flow.expire_after_hours:
        run.end("expired")
        run.emit(Event("expired"))
    elif idle_hours >= run.flow.reminder_after_hours and not state.reminded:
        run.state = replace(state, reminded=True)
        run.emit(Event("reminded"))
        remaining = remaining_questions(run)
        reminder = run.tr.system(run.language, texts.REMINDER, count=remaining)
        run.ask_again(prefix=reminder.format(count=remaining, stop=run.keyword(texts.KEYWORD_STOP)))


def remaining_questions(run: Run) -> int:
    step = run.current_step()
    start = run.flow.position(step.id) if step else 0
    return max(1, sum(1 for later in run.flow.steps[start:] if later.answers))
